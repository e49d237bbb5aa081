import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';

/**
 * API key rows are cached per instance (ApiKeysService). A revocation must still take effect
 * everywhere at once: locally by eviction, on other instances by the revocation broadcast.
 */
describe.each(backends().map((backend) => [backend.name, backend] as const))('API key cache on %s', (name, backend) => {
  const cores: TestApp[] = [];
  let admin: Record<string, string>;

  beforeAll(async () => {
    const env = await backend.env();
    cores.push(await startTestApp({ env }));
    // Two instances need a shared store: MariaDB + NATS.
    if (name === 'mariadb+nats') cores.push(await startTestApp({ env }));
    admin = await cores[0]!.authHeaders({ roles: ['admin'], sub: 'key-cache-admin' });
  });

  afterAll(async () => {
    for (const core of cores.reverse()) await core.close();
  });

  const listConversations = (core: TestApp, key: string) => fetch(`${core.url}/api/v1/conversations`, { headers: { 'x-api-key': key } });

  it('serves a key from its cache on every instance, and a revocation ends it on every instance', async () => {
    const created = await fetch(`${cores[0]!.url}/api/v1/api-keys`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cached', scopes: ['conversations:read'] }),
    });
    expect(created.status).toBe(201);
    const { key, apiKey } = (await created.json()) as { key: string; apiKey: { id: string } };
    // Warm every instance's cache.
    for (const core of cores) for (let i = 0; i < 3; i++) expect((await listConversations(core, key)).status).toBe(200);

    const revoked = await fetch(`${cores[0]!.url}/api/v1/api-keys/${apiKey.id}`, { method: 'DELETE', headers: admin });
    expect(revoked.status).toBe(200);
    // The instance that revoked it: at once.
    expect((await listConversations(cores[0]!, key)).status).toBe(401);
    // Any other instance: as soon as the broadcast arrives (milliseconds), far inside the cache's 30 s expiry.
    for (const core of cores.slice(1)) {
      const started = Date.now();
      await waitFor(async () => (await listConversations(core, key)).status === 401, 5_000, 'revocation on the other instance');
      expect(Date.now() - started).toBeLessThan(5_000);
    }
  });

  it('does not cache unknown keys, and a wrong secret for a cached prefix is refused', async () => {
    const created = await fetch(`${cores[0]!.url}/api/v1/api-keys`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cached-2', scopes: ['conversations:read'] }),
    });
    const { key } = (await created.json()) as { key: string };
    expect((await listConversations(cores[0]!, key)).status).toBe(200);
    const forged = key.slice(0, -4) + (key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await listConversations(cores[0]!, forged)).status).toBe(401);
    expect((await listConversations(cores[0]!, `sbk_${'0'.repeat(16)}_${'A'.repeat(43)}`)).status).toBe(401);
  });
});
