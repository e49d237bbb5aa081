import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { backends, startTestApp, startTestIssuer, waitFor, type TestApp, type TestIssuer } from '../harness/test-app.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { createLocalAdmin } from '../../src/identity/local-accounts.js';
import { Browser } from './browser.js';

interface Me {
  actor: { kind: string; id: string; roles: string[]; teamIds: string[]; displayName?: string; sessionId?: string };
  csrfToken: string | null;
}

describe.each(backends().map((backend) => [backend.name, backend] as const))(
  'console login: authorization code + PKCE, sessions, CSRF, logout on %s',
  (_name, backend) => {
    let issuer: TestIssuer;
    let app: TestApp;

    beforeAll(async () => {
      issuer = await startTestIssuer();
      app = await startTestApp({ env: await backend.env(), oidc: issuer });
    });

    afterAll(async () => {
      await app?.close();
      await issuer?.close();
    });

    const isApp = (url: URL) => url.origin === app.url;

    async function signIn(browser: Browser, returnTo = '/inbox'): Promise<string> {
      const { response, url } = await browser.navigate(`${app.url}/api/v1/auth/login?returnTo=${encodeURIComponent(returnTo)}`, {
        stopAt: (next) => isApp(next) && !next.pathname.startsWith('/api/v1/auth/'),
      });
      expect(response.status).toBe(302);
      return url;
    }

    const me = async (browser: Browser) => browser.request(`${app.url}/api/v1/auth/me`);

    it('signs in through the IdP with PKCE and lands on the return path with an HttpOnly SameSite session cookie', async () => {
      issuer.loginUser = { sub: 'alice', roles: ['admin'], groups: ['/teams/team-a'], name: 'Alice Admin', email: 'alice@example.test' };
      const browser = new Browser();
      const landed = await signIn(browser, '/inbox?view=mine');
      expect(landed).toBe(`${app.url}/inbox?view=mine`);
      // The authorization request carried PKCE S256, state and nonce.
      const authorize = new URL(browser.visited.find((url) => url.includes('/protocol/openid-connect/auth'))!);
      expect(authorize.pathname).toBe('/realms/switchboard/protocol/openid-connect/auth');
      expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(authorize.searchParams.get('state')).toBeTruthy();
      expect(authorize.searchParams.get('nonce')).toBeTruthy();

      const response = await me(browser);
      expect(response.status).toBe(200);
      const body = (await response.json()) as Me;
      expect(body.actor).toMatchObject({ kind: 'user', roles: ['admin'], teamIds: ['team-a'], displayName: 'Alice Admin' });
      expect(body.csrfToken).toBe(browser.cookie(app.url, 'sb_csrf'));
    });

    it('sets the session cookie HttpOnly and SameSite (Secure is configurable; off in this plain-HTTP test)', async () => {
      const browser = new Browser();
      await browser.request(`${app.url}/api/v1/auth/login`);
      const response = await browser.navigate(`${app.url}/api/v1/auth/login`, { stopAt: (next) => isApp(next) && next.pathname === '/api/v1/auth/callback' });
      const callback = await fetch(response.url, { redirect: 'manual', headers: { cookie: '' } });
      const cookies = callback.headers.getSetCookie();
      const session = cookies.find((line) => line.startsWith('sb_session='))!;
      expect(session).toMatch(/HttpOnly/);
      expect(session).toMatch(/SameSite=Lax/);
      expect(session).not.toMatch(/Secure/);
    });

    it('requires the CSRF token on state-changing requests authenticated by the cookie', async () => {
      issuer.loginUser = { sub: 'alice', roles: ['admin'], groups: [], name: 'Alice Admin' };
      const browser = new Browser();
      await signIn(browser);
      const csrf = browser.cookie(app.url, 'sb_csrf')!;
      const json = { 'content-type': 'application/json' };
      const without = await browser.request(`${app.url}/api/v1/teams`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'No CSRF' }) });
      expect(without.status).toBe(403);
      expect(((await without.json()) as { error: { code: string } }).error.code).toBe('csrf_failed');
      const wrong = await browser.request(`${app.url}/api/v1/teams`, {
        method: 'POST',
        headers: { ...json, 'x-csrf-token': 'forged' },
        body: JSON.stringify({ name: 'Bad CSRF' }),
      });
      expect(wrong.status).toBe(403);
      const good = await browser.request(`${app.url}/api/v1/teams`, {
        method: 'POST',
        headers: { ...json, 'x-csrf-token': csrf },
        body: JSON.stringify({ name: 'With CSRF' }),
      });
      expect(good.status).toBe(201);
    });

    it('refuses a replayed callback (state is single-use) and audits the failed login', async () => {
      const browser = new Browser();
      const { url } = await browser.navigate(`${app.url}/api/v1/auth/login`, { stopAt: (next) => isApp(next) && next.pathname === '/api/v1/auth/callback' });
      const first = await browser.request(url);
      expect(first.status).toBe(302);
      const replay = await new Browser().request(url);
      expect(replay.status).toBe(401);
      expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('login_failed');
      const auditor = await app.authHeaders({ roles: ['auditor'], sub: 'login-auditor' });
      const audit = await fetch(`${app.url}/api/v1/audit?action=auth.login&outcome=failure`, { headers: auditor });
      const { items } = (await audit.json()) as { items: Array<{ details: { reason: string } }> };
      expect(items.map((item) => item.details.reason)).toContain('unknown_state');
    });

    it('logs out: ends the session and sends the browser through RP-initiated logout at the IdP', async () => {
      issuer.loginUser = { sub: 'bob', roles: ['agent'], groups: ['team-b'], name: 'Bob' };
      const browser = new Browser();
      await signIn(browser);
      const sid = [...issuer.sessions.keys()].at(-1)!;
      const csrf = browser.cookie(app.url, 'sb_csrf')!;
      const logout = await browser.request(`${app.url}/api/v1/auth/logout`, { method: 'POST', headers: { 'x-csrf-token': csrf } });
      expect(logout.status).toBe(200);
      const { redirectTo } = (await logout.json()) as { redirectTo: string };
      const endSession = new URL(redirectTo);
      expect(endSession.pathname).toBe('/realms/switchboard/protocol/openid-connect/logout');
      expect(endSession.searchParams.get('id_token_hint')).toBeTruthy();
      expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${app.url}/`);
      const { url } = await browser.navigate(redirectTo, { stopAt: isApp });
      expect(url).toBe(`${app.url}/`);
      expect(issuer.sessions.has(sid)).toBe(false);
      expect(browser.cookie(app.url, 'sb_session')).toBeUndefined();
      // The old cookie value is dead server-side too.
      expect((await me(browser)).status).toBe(401);
    });

    it('back-channel logout ends every session of the sid, and refuses forged logout tokens', async () => {
      issuer.loginUser = { sub: 'carol', roles: ['supervisor'], groups: ['team-a'], name: 'Carol' };
      const browser = new Browser();
      await signIn(browser);
      const firstCookie = browser.cookie(app.url, 'sb_session')!;
      await signIn(browser); // same IdP session (SSO), second console session
      const secondCookie = browser.cookie(app.url, 'sb_session')!;
      expect(secondCookie).not.toBe(firstCookie);
      const other = new Browser();
      issuer.loginUser = { sub: 'dave', roles: ['agent'], groups: ['team-a'] };
      await signIn(other);
      const sid = [...issuer.sessions.entries()].find(([, user]) => user.sub === 'carol')![0];
      const withCookie = (cookie: string) => fetch(`${app.url}/api/v1/auth/me`, { headers: { cookie: `sb_session=${cookie}` } });
      expect((await withCookie(firstCookie)).status).toBe(200);

      const post = (token: string) =>
        fetch(`${app.url}/api/v1/auth/backchannel-logout`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ logout_token: token }),
        });
      const forged = await post(await issuer.logoutToken({ sid }, { key: await issuer.foreignKey() }));
      expect(forged.status).toBe(400);
      const notLogout = await post(await issuer.accessToken({ sub: 'carol' }, { claims: { sid, aud: issuer.clientId } }));
      expect(notLogout.status).toBe(400);
      expect((await withCookie(firstCookie)).status).toBe(200);

      const response = await post(await issuer.logoutToken({ sid }));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ended: 2 });
      expect((await withCookie(firstCookie)).status).toBe(401);
      expect((await withCookie(secondCookie)).status).toBe(401);
      expect((await me(other)).status).toBe(200);

      // A logout token with only `sub` ends every session of that user.
      const bySubject = await post(await issuer.logoutToken({ sub: 'dave' }));
      expect(bySubject.status).toBe(200);
      expect(await bySubject.json()).toEqual({ ended: 1 });
      expect((await me(other)).status).toBe(401);
    });

    it('refuses deactivated users, by token and by session', async () => {
      issuer.loginUser = { sub: 'erin', roles: ['agent'], groups: ['team-a'] };
      const browser = new Browser();
      await signIn(browser);
      const erin = ((await (await me(browser)).json()) as Me).actor;
      const admin = await app.authHeaders({ roles: ['admin'], sub: 'deactivating-admin' });
      const patch = await fetch(`${app.url}/api/v1/users/${erin.id}`, {
        method: 'PATCH',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({ active: false }),
      });
      expect(patch.status).toBe(200);
      expect((await me(browser)).status).toBe(401);
      const token = await issuer.accessToken({ sub: 'erin', roles: ['agent'], groups: ['team-a'] });
      const byToken = await fetch(`${app.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(byToken.status).toBe(403);
      expect(((await byToken.json()) as { error: { code: string } }).error.code).toBe('user_deactivated');
      const again = new Browser();
      const callback = await again.navigate(`${app.url}/api/v1/auth/login`, { stopAt: (next) => isApp(next) && !next.pathname.startsWith('/api/v1/auth/') });
      expect(callback.response.status).toBe(403);
    });

    it('creates users on first login keyed by (issuer, subject), with name and email from the claims', async () => {
      const admin = await app.authHeaders({ roles: ['admin'], sub: 'listing-admin' });
      const response = await fetch(`${app.url}/api/v1/users`, { headers: admin });
      const { items } = (await response.json()) as { items: Array<{ issuer: string; subject: string; email: string | null; displayName: string | null }> };
      const alice = items.filter((user) => user.subject === 'alice');
      expect(alice).toHaveLength(1);
      expect(alice[0]).toMatchObject({ issuer: issuer.url, email: 'alice@example.test', displayName: 'Alice Admin' });
    });
  },
);

describe.each(backends().map((backend) => [backend.name, backend] as const))('embedded local admin login on %s', (_name, backend) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ env: await backend.env(), oidc: false });
  });

  afterAll(async () => {
    await app?.close();
  });

  const login = (username: string, password: string) =>
    fetch(`${app.url}/api/v1/auth/local/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });

  it('logs in with an argon2id password, refuses wrong ones, and audits both', async () => {
    await createLocalAdmin(app.app.get<DataSource>(DATA_SOURCE), { username: 'root', password: 'correct horse battery staple' });
    expect((await login('root', 'wrong password!!')).status).toBe(401);
    expect((await login('nobody', 'wrong password!!')).status).toBe(401);
    const ok = await login('root', 'correct horse battery staple');
    expect(ok.status).toBe(200);
    const cookie = ok.headers
      .getSetCookie()
      .find((line) => line.startsWith('sb_session='))!
      .split(';')[0]!;
    const me = await fetch(`${app.url}/api/v1/auth/me`, { headers: { cookie } });
    expect(((await me.json()) as Me).actor.roles).toEqual(['admin']);
    const audit = await fetch(`${app.url}/api/v1/audit?action=auth.login`, { headers: { cookie } });
    const { items } = (await audit.json()) as { items: Array<{ outcome: string; details: { method: string } }> };
    expect(items.map((item) => item.outcome)).toEqual(['failure', 'failure', 'success']);
    // Bearer tokens are refused without an IdP.
    expect((await fetch(`${app.url}/api/v1/auth/me`, { headers: { authorization: 'Bearer abc.def.ghi' } })).status).toBe(401);
  });

  it('generates the first admin password at first start and prints it once', async () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    const env = await backend.env();
    let first: TestApp | undefined;
    let second: TestApp | undefined;
    try {
      first = await startTestApp({ env: { ...env, LOCAL_ADMIN_GENERATE_AT_START: 'true' }, oidc: false });
      // Closing an instance the instant it has started can hang in a bus consumer's close on
      // MariaDB + NATS (not an identity matter): let it settle first.
      await waitFor(async () => (await fetch(`${first!.url}/health/ready`)).status === 200, 10_000, 'the first instance to be ready');
      await first.close();
      second = await startTestApp({ env: { ...env, LOCAL_ADMIN_GENERATE_AT_START: 'true' }, oidc: false });
    } finally {
      spy.mockRestore();
    }
    const printed = writes.join('').match(/password: (\S+)/g) ?? [];
    expect(printed).toHaveLength(1);
    const password = printed[0]!.replace('password: ', '');
    const ok = await fetch(`${second.url}/api/v1/auth/local/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    expect(ok.status).toBe(200);
    await second.close();
  });

  it('can be disabled', async () => {
    const disabled = await startTestApp({ env: { ...(await backend.env()), LOCAL_LOGIN_ENABLED: 'false' }, oidc: false });
    try {
      const response = await fetch(`${disabled.url}/api/v1/auth/local/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'x' }),
      });
      expect(response.status).toBe(404);
    } finally {
      await disabled.close();
    }
  });
});
