import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/**
 * Webhook targets must be public: loopback, private, link-local, CGNAT, unique-local,
 * multicast and unspecified addresses are refused unless the host is on the allow-list
 * (setting `automation.webhookAllowedHosts`). Checked on every call after DNS resolution;
 * redirects are not followed.
 */
export function isPrivateAddress(address: string): boolean {
  if (isIP(address) === 4) {
    const [a, b] = address.split('.').map(Number);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 192 && b === 0) ||
      (a === 198 && (b === 18 || b === 19)) ||
      a >= 224
    );
  }
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return isPrivateAddress(mapped[1]);
  return (
    lower === '::' ||
    lower === '::1' ||
    lower.startsWith('fc') ||
    lower.startsWith('fd') ||
    /^fe[89ab]/.test(lower) ||
    lower.startsWith('ff') ||
    lower.startsWith('64:ff9b:') ||
    lower.startsWith('2001:db8')
  );
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

export async function checkWebhookUrl(raw: string, allowedHosts: string[], resolve = lookup): Promise<UrlCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'only http and https are allowed' };
  if (url.username || url.password) return { ok: false, reason: 'credentials in the URL are not allowed' };
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (allowedHosts.map((h) => h.toLowerCase()).includes(host)) return { ok: true, url };
  const addresses = isIP(host) ? [host] : (await resolve(host, { all: true, verbatim: true }).catch(() => [])).map((entry) => entry.address);
  if (!addresses.length) return { ok: false, reason: 'the host does not resolve' };
  if (host === 'localhost' || addresses.some(isPrivateAddress)) return { ok: false, reason: 'the host is on a private or loopback network' };
  return { ok: true, url };
}
