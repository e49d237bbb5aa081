/**
 * An HTTP client that plugins use for every outbound call, hardened against SSRF:
 * - only http: and https:;
 * - the host name is resolved once, every resolved address is checked, and the connection is
 *   pinned to the checked address (no second lookup an attacker's DNS could answer differently);
 * - loopback, private, link-local, CGNAT, multicast and other special ranges are refused unless
 *   `allowPrivate` is set (the instance config's `allowPrivateNetwork`);
 * - redirects are followed by hand, and every hop is checked again;
 * - bodies and time are bounded.
 */
import http from 'node:http';
import https from 'node:https';
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

export interface SafeFetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Whole request, including redirects. Default 10 s. */
  timeoutMs?: number;
  /** Default 5; 0 returns the 3xx response itself. */
  maxRedirects?: number;
  /** Largest response body read, in bytes. Default 5 MB. */
  maxBodyBytes?: number;
}

export interface SafeResponse {
  status: number;
  ok: boolean;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** The final URL after redirects. */
  url: string;
  /** The address actually connected to. */
  remoteAddress: string;
  text(): string;
  json<T = unknown>(): T;
  bytes(): Uint8Array;
}

export type SafeFetch = (url: string, init?: SafeFetchInit) => Promise<SafeResponse>;

export interface SafeFetchOptions {
  /** Allow loopback, private (RFC 1918, ULA) and link-local targets. Off by default. */
  allowPrivate?: boolean;
  /** Resolver, replaceable in tests. */
  resolve?: (hostname: string) => Promise<Array<{ address: string; family: number }>>;
  /**
   * Which resolved addresses are refused when `allowPrivate` is off. Default `isPrivateAddress`;
   * replaceable in tests, so redirects and DNS answers can be checked on loopback addresses alone.
   */
  isBlocked?: (address: string) => boolean;
  /**
   * The plugin's declared `capabilities.network` targets. When given, a URL (and every redirect hop) must
   * match one of its http(s) patterns: `https://*`, `https://api.example.com`, `https://*.example.com`,
   * optionally with a port (`http://erp.local:8080`). Other schemes in the list (`imap:*`, `opc.tcp://*`)
   * are for the plugin's own clients and allow nothing here. Undefined: any http(s) target.
   */
  allowedTargets?: string[];
}

/** Whether `url` matches one of the declared network targets (see `SafeFetchOptions.allowedTargets`). */
export function targetAllowed(url: URL, targets: string[]): boolean {
  for (const target of targets) {
    const match = /^(https?):\/\/(\*|(?:\*\.)?[a-z0-9.-]+)(?::(\d+))?\/?$/i.exec(target.trim());
    if (!match) continue;
    const [, scheme, host, port] = match;
    if (`${scheme!.toLowerCase()}:` !== url.protocol) continue;
    const hostname = url.hostname.toLowerCase();
    const wanted = host!.toLowerCase();
    const hostMatches = wanted === '*' || (wanted.startsWith('*.') ? hostname.endsWith(wanted.slice(1)) : hostname === wanted);
    const portMatches = !port || port === (url.port || (url.protocol === 'https:' ? '443' : '80'));
    if (hostMatches && portMatches) return true;
  }
  return false;
}

export class SsrfBlockedError extends Error {
  readonly code = 'ssrf_blocked';
  constructor(
    message: string,
    readonly address?: string,
  ) {
    super(message);
    this.name = 'SsrfBlockedError';
  }
}

const blocked = new BlockList();
// IPv4 special-purpose ranges (RFC 6890 and friends).
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['100::', 64],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** The IPv4 address embedded in an IPv4-mapped, -compatible or NAT64 IPv6 address, if any. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const high = parseInt(hex[1]!, 16);
    const low = parseInt(hex[2]!, 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return undefined;
}

/** True when the address is loopback, private, link-local or otherwise not a public unicast address. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const inner = embeddedIpv4(address);
    if (inner) return blocked.check(inner, 'ipv4');
    return blocked.check(address, 'ipv6');
  }
  return true;
}

const defaultResolve = async (hostname: string) => dnsLookup(hostname, { all: true, verbatim: true });

async function resolveChecked(hostname: string, options: SafeFetchOptions): Promise<{ address: string; family: number }> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(bare);
  const addresses = literal ? [{ address: bare, family: literal }] : await (options.resolve ?? defaultResolve)(bare);
  if (addresses.length === 0) throw new SsrfBlockedError(`${hostname} does not resolve`);
  if (!options.allowPrivate) {
    // Every answer must be public: a mixed answer is a classic DNS-rebinding setup.
    const isBlocked = options.isBlocked ?? isPrivateAddress;
    const bad = addresses.find((entry) => isBlocked(entry.address));
    if (bad) {
      throw new SsrfBlockedError(
        `Refusing to connect to ${hostname} (${bad.address}): loopback, private and link-local addresses are blocked; set allowPrivateNetwork in the plugin's config to allow them`,
        bad.address,
      );
    }
  }
  return addresses[0]!;
}

function once(url: URL, init: SafeFetchInit, pinned: { address: string; family: number }, deadline: number): Promise<SafeResponse> {
  const client = url.protocol === 'https:' ? https : http;
  const lookup: LookupFunction = (_hostname, options, callback) => {
    // Pin: whatever the socket asks for, it gets the address we checked.
    if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
  const maxBody = init.maxBodyBytes ?? 5 * 1024 * 1024;
  return new Promise<SafeResponse>((resolve, reject) => {
    const remaining = Math.max(1, deadline - Date.now());
    const request = client.request(
      url,
      {
        method: init.method ?? 'GET',
        headers: { 'user-agent': 'Switchboard-Plugin/1', ...(init.headers ?? {}) },
        lookup,
        timeout: remaining,
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBody) {
            request.destroy(new Error(`response body larger than ${maxBody} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () => {
          const body = Buffer.concat(chunks);
          const headers: Record<string, string> = {};
          for (const [key, value] of Object.entries(response.headers)) {
            if (value !== undefined) headers[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
          }
          const status = response.statusCode ?? 0;
          resolve({
            status,
            ok: status >= 200 && status < 300,
            headers,
            url: url.toString(),
            remoteAddress: response.socket?.remoteAddress ?? pinned.address,
            text: () => body.toString('utf8'),
            json: <T>() => JSON.parse(body.toString('utf8')) as T,
            bytes: () => new Uint8Array(body),
          });
        });
      },
    );
    const timer = setTimeout(() => request.destroy(new Error(`request timed out after ${init.timeoutMs ?? 10_000} ms`)), remaining);
    request.on('close', () => clearTimeout(timer));
    request.on('timeout', () => request.destroy(new Error(`request timed out after ${init.timeoutMs ?? 10_000} ms`)));
    request.on('error', reject);
    if (init.body !== undefined) request.write(init.body);
    request.end();
  });
}

/** Creates the SSRF-safe fetch. The host gives every plugin one as `ctx.fetch`. */
export function createSafeFetch(options: SafeFetchOptions = {}): SafeFetch {
  return async (input, init = {}) => {
    const deadline = Date.now() + (init.timeoutMs ?? 10_000);
    const maxRedirects = init.maxRedirects ?? 5;
    let url = new URL(input);
    let current: SafeFetchInit = init;
    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SsrfBlockedError(`Only http and https URLs are allowed, not ${url.protocol}`);
      if (url.username || url.password) throw new SsrfBlockedError('URLs with credentials are not allowed; send an Authorization header instead');
      if (options.allowedTargets && !targetAllowed(url, options.allowedTargets))
        throw new SsrfBlockedError(`${url.origin} is not among the plugin's declared network targets (switchboard.capabilities.network)`);
      const pinned = await resolveChecked(url.hostname, options);
      const response = await once(url, current, pinned, deadline);
      const location = response.headers.location;
      if (response.status < 300 || response.status >= 400 || !location || maxRedirects === 0) return response;
      if (hop >= maxRedirects) throw new SsrfBlockedError(`Too many redirects (more than ${maxRedirects})`);
      const next = new URL(location, url);
      if (next.origin !== url.origin) {
        // Credentials never follow a redirect to another origin.
        const headers = { ...(current.headers ?? {}) };
        for (const key of Object.keys(headers)) if (/^(authorization|cookie|x-signature|x-api-key)$/i.test(key)) delete headers[key];
        current = { ...current, headers };
      }
      url = next;
      // 303, and 301/302 after a POST, become a GET without a body (as browsers do).
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && (current.method ?? 'GET').toUpperCase() === 'POST')) {
        const headers = { ...(current.headers ?? {}) };
        for (const key of Object.keys(headers)) if (/^content-/i.test(key)) delete headers[key];
        current = { ...current, method: 'GET', body: undefined, headers };
      }
    }
  };
}
