/**
 * Webhook signatures used by Switchboard's channels: `X-Signature: sha256=<hex HMAC(secret, timestamp + "." + body)>`
 * with the Unix timestamp (seconds) in `X-Timestamp`. Plugins use these helpers to verify
 * inbound webhooks and to sign outbound ones the same way.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function hmacHex(secret: string, data: string): string {
  return createHmac('sha256', secret).update(data, 'utf8').digest('hex');
}

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

export function signBody(secret: string, timestamp: number | string, body: string): string {
  return `sha256=${hmacHex(secret, `${timestamp}.${body}`)}`;
}

/** Headers for a signed request at `now` (ms). */
export function signatureHeaders(secret: string, body: string, now = Date.now()): { 'x-timestamp': string; 'x-signature': string } {
  const timestamp = String(Math.floor(now / 1000));
  return { 'x-timestamp': timestamp, 'x-signature': signBody(secret, timestamp, body) };
}

export type SignatureProblem = 'signature_missing' | 'signature_invalid' | 'timestamp_invalid' | 'timestamp_stale';

/**
 * Checks a signed request. Returns null when valid, else the problem. Tolerance applies both
 * ways (clock skew); replay protection beyond the window is the caller's job (remember the
 * signature in `ctx.kv.setIfAbsent` for the window's length).
 */
export function verifySignature(
  secret: string,
  headers: Record<string, string | undefined>,
  body: string,
  options: { toleranceSeconds?: number; now?: number } = {},
): SignatureProblem | null {
  const signature = headers['x-signature'];
  const timestamp = headers['x-timestamp'];
  if (!signature || !timestamp) return 'signature_missing';
  if (!/^\d{9,11}$/.test(timestamp)) return 'timestamp_invalid';
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > (options.toleranceSeconds ?? 300)) return 'timestamp_stale';
  return safeEqual(signature, signBody(secret, timestamp, body)) ? null : 'signature_invalid';
}
