/**
 * `ctx.fetch` (createSafeFetch) against real HTTP servers on loopback addresses: the address policy,
 * one DNS answer checked and pinned for the connection, and every redirect hop checked again.
 *
 * The servers listen on 127.0.0.1 ("the public internet", allowed by the test's address policy),
 * 127.0.0.2 ("the internal network", refused) and 127.0.0.3 (another allowed origin). Host names
 * resolve through the test's resolver, which answers like a hostile DNS server would.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSafeFetch, isPrivateAddress, SsrfBlockedError, targetAllowed, type SafeFetchOptions } from '@switchboard/plugin-sdk';

interface Hit {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

interface Site {
  server: Server;
  port: number;
  hits: Hit[];
}

async function site(
  host: string,
  handle: (hit: Hit, respond: (status: number, headers?: Record<string, string>, body?: string) => void) => void,
): Promise<Site> {
  const hits: Hit[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const hit = { method: request.method ?? '', path: request.url ?? '', headers: request.headers, body };
      hits.push(hit);
      handle(hit, (status, headers = {}, text = '') => response.writeHead(status, headers).end(text));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

let outside: Site; // 127.0.0.1: allowed
let internal: Site; // 127.0.0.2: refused
let other: Site; // 127.0.0.3: allowed, another origin
const lookups: string[] = [];
let rebindAnswers = 0;

const INTERNAL = '127.0.0.2';
const policy: SafeFetchOptions = {
  isBlocked: (address) => address === INTERNAL || address === '10.1.2.3',
  resolve: async (hostname) => {
    lookups.push(hostname);
    const v4 = (address: string) => ({ address, family: 4 });
    switch (hostname) {
      case 'public.test':
        return [v4('127.0.0.1')];
      case 'internal.test':
        return [v4(INTERNAL)];
      case 'mixed.test':
        return [v4('127.0.0.1'), v4(INTERNAL)];
      case 'rebind.test':
        // A rebinding DNS server: a harmless answer for the check, the internal one for any later lookup.
        return [v4(rebindAnswers++ === 0 ? '127.0.0.1' : INTERNAL)];
      case 'private.test':
        return [v4('10.1.2.3')];
      default:
        return [];
    }
  },
};

beforeAll(async () => {
  internal = await site(INTERNAL, (_hit, respond) => respond(200, {}, 'internal secret'));
  other = await site('127.0.0.3', (hit, respond) => respond(200, { 'content-type': 'application/json' }, JSON.stringify({ got: hit.path })));
  outside = await site('127.0.0.1', (hit, respond) => {
    const path = hit.path;
    if (path === '/to-internal-ip') return respond(302, { location: `http://${INTERNAL}:${internal.port}/secret` });
    if (path === '/to-internal-name') return respond(301, { location: `http://internal.test:${internal.port}/secret` });
    if (path === '/to-rebind') return respond(307, { location: `http://rebind.test:${internal.port}/secret` });
    if (path === '/to-other') return respond(302, { location: `http://127.0.0.3:${other.port}/landing` });
    if (path === '/post-then-see-other') return respond(303, { location: '/landing' });
    if (path === '/relative') return respond(302, { location: '/landing?from=relative' });
    if (path === '/loop') return respond(302, { location: '/loop' });
    if (path === '/to-file') return respond(302, { location: 'file:///etc/passwd' });
    return respond(200, { 'content-type': 'text/plain' }, `outside ${hit.method} ${path} host=${hit.headers.host}`);
  });
});

afterAll(async () => {
  await Promise.all([outside, internal, other].map((s) => new Promise((resolve) => s?.server.close(resolve))));
});

const blocked = async (promise: Promise<unknown>): Promise<SsrfBlockedError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SsrfBlockedError);
  expect((error as SsrfBlockedError).code).toBe('ssrf_blocked');
  return error as SsrfBlockedError;
};

describe('the default address policy', () => {
  it('classifies loopback, private, link-local, CGNAT and IPv4-in-IPv6 forms as private, and public unicast as not', () => {
    for (const address of [
      '127.0.0.1',
      '127.255.0.9',
      '10.0.0.1',
      '172.16.5.5',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:a9fe:a9fe',
      '64:ff9b::10.0.0.1',
      'not-an-ip',
    ]) {
      expect([address, isPrivateAddress(address)]).toEqual([address, true]);
    }
    for (const address of ['93.184.216.34', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect([address, isPrivateAddress(address)]).toEqual([address, false]);
    }
  });

  it('refuses loopback and private targets in every spelling before connecting, unless allowPrivate is set', async () => {
    const fetch = createSafeFetch();
    const before = outside.hits.length;
    for (const url of [
      `http://127.0.0.1:${outside.port}/`,
      `http://localhost:${outside.port}/`,
      `http://[::1]:${outside.port}/`,
      `http://[::ffff:127.0.0.1]:${outside.port}/`,
      `http://0x7f000001:${outside.port}/`,
      `http://2130706433:${outside.port}/`,
      `http://127.1:${outside.port}/`,
      'http://169.254.169.254/latest/meta-data/',
    ]) {
      const error = await blocked(fetch(url, { timeoutMs: 2000 }));
      expect(error.message).toMatch(/loopback, private and link-local addresses are blocked; set allowPrivateNetwork/);
    }
    expect(outside.hits.length).toBe(before);
    // A DNS name with a private answer is refused the same way.
    expect((await blocked(createSafeFetch({ resolve: policy.resolve })('http://private.test/'))).address).toBe('10.1.2.3');

    const allowed = await createSafeFetch({ allowPrivate: true })(`http://127.0.0.1:${outside.port}/ok`);
    expect([allowed.status, allowed.text()]).toEqual([200, `outside GET /ok host=127.0.0.1:${outside.port}`]);
  });

  it('allows only http and https, without credentials in the URL', async () => {
    const fetch = createSafeFetch({ allowPrivate: true });
    expect((await blocked(fetch('file:///etc/passwd'))).message).toMatch(/Only http and https/);
    expect((await blocked(fetch('ftp://127.0.0.1/'))).message).toMatch(/Only http and https/);
    expect((await blocked(fetch(`http://user:pw@127.0.0.1:${outside.port}/`))).message).toMatch(/credentials/);
  });
});

describe('DNS answers are checked once and pinned', () => {
  it('connects to the address it checked: a rebinding DNS server cannot swap in an internal address', async () => {
    const fetch = createSafeFetch(policy);
    lookups.length = 0;
    rebindAnswers = 0;
    const response = await fetch(`http://rebind.test:${outside.port}/pinned`);
    expect(response.status).toBe(200);
    expect(response.remoteAddress).toBe('127.0.0.1');
    // The request still names the host it asked for.
    expect(response.text()).toBe(`outside GET /pinned host=rebind.test:${outside.port}`);
    expect(lookups).toEqual(['rebind.test']);
    expect(internal.hits).toHaveLength(0);

    // The next lookup of the same name answers the internal address: refused, not connected.
    expect((await blocked(fetch(`http://rebind.test:${internal.port}/secret`))).address).toBe(INTERNAL);
    expect(internal.hits).toHaveLength(0);
  });

  it('refuses a name when any of its answers is blocked (a mixed answer is a rebinding setup)', async () => {
    const fetch = createSafeFetch(policy);
    expect((await blocked(fetch(`http://mixed.test:${outside.port}/`))).address).toBe(INTERNAL);
    expect((await blocked(fetch(`http://internal.test:${internal.port}/`))).address).toBe(INTERNAL);
    expect(await blocked(fetch(`http://nowhere.test:${outside.port}/`))).toHaveProperty('message', expect.stringMatching(/does not resolve/));
    expect(internal.hits).toHaveLength(0);
  });
});

describe('redirects', () => {
  it('checks every hop again: a redirect to an internal address or name is refused before connecting', async () => {
    const fetch = createSafeFetch(policy);
    expect((await blocked(fetch(`http://public.test:${outside.port}/to-internal-ip`))).address).toBe(INTERNAL);
    expect((await blocked(fetch(`http://public.test:${outside.port}/to-internal-name`))).address).toBe(INTERNAL);
    rebindAnswers = 1; // the name now answers the internal address
    expect((await blocked(fetch(`http://public.test:${outside.port}/to-rebind`))).address).toBe(INTERNAL);
    expect((await blocked(fetch(`http://public.test:${outside.port}/to-file`))).message).toMatch(/Only http and https/);
    expect(internal.hits).toHaveLength(0);
  });

  it('follows allowed redirects, dropping credentials on a change of origin and the body after a 303', async () => {
    const fetch = createSafeFetch(policy);
    const crossOrigin = await fetch(`http://public.test:${outside.port}/to-other`, {
      headers: { authorization: 'Bearer top-secret', 'x-signature': 'sha256=abc', 'x-trace': 'kept' },
    });
    expect([crossOrigin.status, crossOrigin.url, crossOrigin.remoteAddress]).toEqual([200, `http://127.0.0.3:${other.port}/landing`, '127.0.0.3']);
    const landed = other.hits.at(-1)!;
    expect(landed.headers.authorization).toBeUndefined();
    expect(landed.headers['x-signature']).toBeUndefined();
    expect(landed.headers['x-trace']).toBe('kept');

    const sameOrigin = await fetch(`http://public.test:${outside.port}/relative`, { headers: { authorization: 'Bearer same-origin' } });
    expect(sameOrigin.text()).toBe(`outside GET /landing?from=relative host=public.test:${outside.port}`);
    expect(outside.hits.at(-1)!.headers.authorization).toBe('Bearer same-origin');

    const seeOther = await fetch(`http://public.test:${outside.port}/post-then-see-other`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(seeOther.text()).toBe(`outside GET /landing host=public.test:${outside.port}`);
    const followed = outside.hits.at(-1)!;
    expect([followed.method, followed.body, followed.headers['content-type']]).toEqual(['GET', '', undefined]);
  });

  it('returns the 3xx itself with maxRedirects 0 and gives up after too many hops', async () => {
    const fetch = createSafeFetch(policy);
    const raw = await fetch(`http://public.test:${outside.port}/to-internal-ip`, { maxRedirects: 0 });
    expect([raw.status, raw.headers.location]).toEqual([302, `http://${INTERNAL}:${internal.port}/secret`]);
    expect((await blocked(fetch(`http://public.test:${outside.port}/loop`, { maxRedirects: 3 }))).message).toMatch(/Too many redirects \(more than 3\)/);
    expect(internal.hits).toHaveLength(0);
  });
});

describe('declared network targets (capabilities.network)', () => {
  it('matches scheme, host (exact or *.domain) and port, and ignores patterns of other schemes', () => {
    const targets = ['https://api.example.com', 'https://*.partner.example', 'http://erp.local:8080', 'imap:*', 'opc.tcp://*'];
    expect(targetAllowed(new URL('https://api.example.com/v1'), targets)).toBe(true);
    expect(targetAllowed(new URL('https://eu.partner.example/x'), targets)).toBe(true);
    expect(targetAllowed(new URL('http://erp.local:8080/orders'), targets)).toBe(true);
    expect(targetAllowed(new URL('http://api.example.com/v1'), targets)).toBe(false); // scheme
    expect(targetAllowed(new URL('https://evil-api.example.com'), targets)).toBe(false); // host
    expect(targetAllowed(new URL('https://partner.example.evil.test'), targets)).toBe(false);
    expect(targetAllowed(new URL('http://erp.local:9090/'), targets)).toBe(false); // port
    expect(targetAllowed(new URL('https://imap.example.com'), ['imap:*', 'opc.tcp://*'])).toBe(false);
    expect(targetAllowed(new URL('https://anything.test'), ['https://*'])).toBe(true);
  });

  it('refuses an undeclared target, and an undeclared redirect hop, before connecting', async () => {
    const onlyOther = createSafeFetch({ ...policy, allowedTargets: [`http://127.0.0.3:${other.port}`] });
    const before = outside.hits.length;
    expect((await blocked(onlyOther(`http://127.0.0.1:${outside.port}/plain`))).message).toContain('declared network targets');
    expect(outside.hits.length).toBe(before);
    // Declared origin, redirecting to one that is not declared.
    const onlyOutside = createSafeFetch({ ...policy, allowedTargets: [`http://127.0.0.1:${outside.port}`] });
    const otherBefore = other.hits.length;
    await blocked(onlyOutside(`http://127.0.0.1:${outside.port}/to-other`));
    expect(other.hits.length).toBe(otherBefore);
    // Both declared: the redirect is followed.
    const both = createSafeFetch({ ...policy, allowedTargets: [`http://127.0.0.1:${outside.port}`, 'http://127.0.0.3'.concat(`:${other.port}`)] });
    expect((await both(`http://127.0.0.1:${outside.port}/to-other`)).status).toBe(200);
    // Nothing declared: nothing reachable.
    await blocked(createSafeFetch({ ...policy, allowedTargets: [] })(`http://127.0.0.1:${outside.port}/plain`));
  });
});

describe('limits', () => {
  it('bounds the response body and the time', async () => {
    const big = await site('127.0.0.1', (_hit, respond) => respond(200, {}, 'x'.repeat(64 * 1024)));
    const slow = await site('127.0.0.1', () => undefined);
    try {
      const fetch = createSafeFetch({ allowPrivate: true });
      await expect(fetch(`http://127.0.0.1:${big.port}/`, { maxBodyBytes: 1024 })).rejects.toThrow(/larger than 1024 bytes/);
      const started = Date.now();
      await expect(fetch(`http://127.0.0.1:${slow.port}/`, { timeoutMs: 300 })).rejects.toThrow(/timed out|socket hang up/);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      slow.server.closeAllConnections();
      await Promise.all([big, slow].map((s) => new Promise((resolve) => s.server.close(resolve))));
    }
  });
});
