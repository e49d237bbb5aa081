import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT, exportSPKI, importJWK, type KeyObject } from 'jose';
import { backends, accessTokenFor, startTestApp, startTestIssuer, type TestApp, type TestIssuer } from '../harness/test-app.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe.each(backends().map((backend) => [backend.name, backend] as const))('bearer token matrix (resource server) on %s', (_name, backend) => {
  let issuer: TestIssuer;
  let app: TestApp;
  const user = { sub: 'matrix-user', roles: ['agent'], groups: ['team-a'] };

  beforeAll(async () => {
    issuer = await startTestIssuer();
    app = await startTestApp({ env: await backend.env(), oidc: issuer });
  });

  afterAll(async () => {
    await app?.close();
    await issuer?.close();
  });

  const call = (token: string) => fetch(`${app.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });

  async function expectRejected(token: string, reason: RegExp): Promise<void> {
    const response = await call(token);
    expect(response.status).toBe(401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain('error="invalid_token"');
    expect(challenge).toMatch(reason);
    const body = (await response.json()) as { error: { code: string } };
    expect(body.error.code).toBe('invalid_token');
  }

  it('accepts a valid access token and maps realm roles and groups', async () => {
    const response = await call(await issuer.accessToken(user));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { actor: { kind: string; roles: string[]; teamIds: string[] } };
    expect(body.actor).toMatchObject({ kind: 'user', roles: ['agent'], teamIds: ['team-a'] });
  });

  it('refuses alg "none"', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: issuer.url, aud: issuer.audience, azp: issuer.clientId, sub: 'x', exp: now + 300, typ: 'Bearer', realm_access: { roles: ['admin'] } })}.`;
    await expectRejected(token, /algorithm|malformed/);
  });

  it('refuses HS256 signed with the RSA public key as the HMAC secret', async () => {
    const publicKey = (await importJWK(issuer.currentKey().publicJwk, 'RS256', { extractable: true })) as KeyObject;
    const pem = await exportSPKI(publicKey as never);
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({
      iss: issuer.url,
      aud: issuer.audience,
      azp: issuer.clientId,
      sub: 'x',
      exp: now + 300,
      typ: 'Bearer',
      realm_access: { roles: ['admin'] },
    })
      .setProtectedHeader({ alg: 'HS256', kid: issuer.currentKey().kid })
      .sign(new TextEncoder().encode(pem));
    await expectRejected(token, /algorithm not allowed/);
  });

  it('refuses a wrong issuer', async () => {
    await expectRejected(await issuer.accessToken(user, { claims: { iss: issuer.url.replace('/switchboard', '/other') } }), /iss/);
    await expectRejected(await issuer.accessToken(user, { claims: { iss: `${issuer.url}/` } }), /iss/);
  });

  it('refuses a token without aud', async () => {
    await expectRejected(await issuer.accessToken(user, { claims: { aud: undefined } }), /aud/);
  });

  it("refuses another client's audience", async () => {
    await expectRejected(await issuer.accessToken(user, { claims: { aud: ['other-api', 'account'] } }), /aud/);
  });

  it('refuses a token issued to a client that is not allowed (azp)', async () => {
    await expectRejected(await issuer.accessToken(user, { claims: { azp: 'some-other-client' } }), /azp/);
  });

  it('refuses an expired token (beyond the leeway) and accepts one inside it', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRejected(await issuer.accessToken(user, { claims: { exp: now - 120, iat: now - 420 } }), /expired/);
    expect((await call(await issuer.accessToken(user, { claims: { exp: now - 5 } }))).status).toBe(200);
  });

  it('refuses a token whose nbf is in the future', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRejected(await issuer.accessToken(user, { claims: { nbf: now + 600 } }), /not yet valid/);
  });

  it('refuses a tampered signature and a tampered payload', async () => {
    const token = await issuer.accessToken(user);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    await expectRejected(`${header}.${payload}.${flipped}`, /signature/);
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const escalated = b64({ ...claims, realm_access: { roles: ['admin'] } });
    await expectRejected(`${header}.${escalated}.${signature}`, /signature/);
  });

  it('refuses a token signed by an unknown key', async () => {
    await expectRejected(await issuer.accessToken(user, { key: await issuer.foreignKey() }), /unknown signing key|signature/);
  });

  it('refuses an ID token used as an access token (even with the API audience)', async () => {
    await expectRejected(await issuer.idToken(user, { claims: { aud: [issuer.clientId, issuer.audience] } }), /not an access token/);
  });

  it('never takes identity from X-Forwarded-User, X-Remote-User or similar headers', async () => {
    for (const name of ['x-forwarded-user', 'x-remote-user', 'remote-user', 'x-auth-request-user', 'x-forwarded-email', 'x-user', 'x-webauth-user']) {
      const response = await fetch(`${app.url}/api/v1/auth/me`, { headers: { [name]: 'admin', 'x-forwarded-groups': 'admin' } });
      expect(response.status).toBe(401);
    }
  });

  it('audits every refused token', async () => {
    const auditor = await accessTokenFor(issuer, { roles: ['auditor'], sub: 'matrix-auditor' });
    const response = await fetch(`${app.url}/api/v1/audit?action=access.denied&limit=1000`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { items: Array<{ outcome: string; objectId: string; details: { reason: string } }> };
    const reasons = body.items.map((item) => item.details.reason);
    for (const reason of ['token expired', 'token not yet valid', 'signature verification failed', 'not an access token', 'signing algorithm not allowed']) {
      expect(reasons).toContain(reason);
    }
    expect(body.items.every((item) => item.outcome === 'denied' && item.objectId === 'GET /api/v1/auth/me')).toBe(true);
  });
});

describe.each(backends().map((backend) => [backend.name, backend] as const))('signing key rotation on %s', (_name, backend) => {
  let issuer: TestIssuer;
  let app: TestApp;
  const user = { sub: 'rotation-user', roles: ['agent'], groups: ['team-a'] };

  beforeAll(async () => {
    issuer = await startTestIssuer();
    app = await startTestApp({ env: await backend.env(), oidc: issuer });
  });

  afterAll(async () => {
    await app?.close();
    await issuer?.close();
  });

  const call = (token: string) => fetch(`${app.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });

  it('accepts a rotated signing key after exactly one JWKS refetch, with no storm of 401s', async () => {
    expect((await call(await issuer.accessToken(user))).status).toBe(200);
    const before = issuer.jwksFetches;
    await issuer.rotate();
    const tokens = await Promise.all(Array.from({ length: 25 }, (_, index) => issuer.accessToken({ ...user, sub: `rotated-${index % 3}` })));
    const statuses = await Promise.all(tokens.map(async (token) => (await call(token)).status));
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(issuer.jwksFetches).toBe(before + 1);
    // Unknown kids inside the cooldown do not trigger more downloads.
    const foreign = await issuer.foreignKey();
    for (let index = 0; index < 5; index++) {
      expect((await call(await issuer.accessToken(user, { key: foreign }))).status).toBe(401);
    }
    expect(issuer.jwksFetches).toBe(before + 1);
  });
});
