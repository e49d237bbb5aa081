import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { backends, startTestApp, testConfig, waitFor, type TestApp } from '../harness/test-app.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { createLocalAdmin } from '../../src/identity/local-accounts.js';
import { cli } from './cli.js';

interface Actor {
  id: string;
  kind: string;
  roles: string[];
  teamIds: string[];
}

interface AuditItem {
  action: string;
  actorId: string | null;
  objectId: string | null;
  outcome: string;
  details: Record<string, unknown> | null;
}

describe.each(backends().map((backend) => [backend.name, backend] as const))('users, teams, roles and the admin CLI on %s', (_name, backend) => {
  let env: Record<string, string>;
  let app: TestApp;
  let admin: Record<string, string>;
  let adminId: string;
  let auditor: Record<string, string>;

  const call = (path: string, headers: Record<string, string>, method = 'GET', body?: unknown) =>
    fetch(`${app.url}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const me = async (headers: Record<string, string>): Promise<Actor> => {
    const response = await call('/api/v1/auth/me', headers);
    expect(response.status).toBe(200);
    return ((await response.json()) as { actor: Actor }).actor;
  };
  const bearer = async (user: Parameters<NonNullable<TestApp['issuer']>['accessToken']>[0]) => ({
    authorization: `Bearer ${await app.issuer!.accessToken(user)}`,
  });
  const audited = async (query: string): Promise<AuditItem[]> => {
    const response = await call(`/api/v1/audit?${query}&limit=1000`, auditor);
    expect(response.status).toBe(200);
    return ((await response.json()) as { items: AuditItem[] }).items;
  };
  const db = () => app.app.get<DataSource>(DATA_SOURCE);

  beforeAll(async () => {
    env = await backend.env();
    app = await startTestApp({ env });
    admin = await app.authHeaders({ roles: ['admin'], sub: 'uta-admin' });
    adminId = (await me(admin)).id;
    auditor = await app.authHeaders({ roles: ['auditor'], sub: 'uta-auditor' });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('maps resource_access[<client>].roles of the API and console clients, never another client’s', async () => {
    const viaApiClient = await me(await bearer({ sub: 'client-role-user', clientRoles: { 'switchboard-api': ['auditor'] } }));
    expect(viaApiClient.roles).toEqual(['auditor']);
    const viaConsole = await me(await bearer({ sub: 'console-role-user', clientRoles: { 'switchboard-console': ['supervisor'] }, roles: ['agent'] }));
    expect(viaConsole.roles).toEqual(['supervisor', 'agent']);
    const foreign = await me(await bearer({ sub: 'foreign-role-user', clientRoles: { 'some-other-app': ['admin'] } }));
    expect(foreign.roles).toEqual([]);
    // A user with no Switchboard role is signed in but may use no role-guarded route.
    expect((await call('/api/v1/teams', await bearer({ sub: 'foreign-role-user', clientRoles: { 'some-other-app': ['admin'] } }))).status).toBe(403);
  });

  it('applies a configured role mapping (OIDC_ROLE_MAPPING) to realm and client roles', async () => {
    const mapped = await startTestApp({
      env: { ...(await backend.env()), OIDC_ROLE_MAPPING: 'realm:cs-leads=supervisor,client:switchboard-api:support=agent' },
    });
    try {
      const token = await mapped.issuer!.accessToken({ sub: 'mapped-user', roles: ['cs-leads', 'admin'], clientRoles: { 'switchboard-api': ['support'] } });
      const response = await fetch(`${mapped.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      // Once rules are set only they apply: the same-named realm role `admin` is not mapped.
      expect(((await response.json()) as { actor: Actor }).actor.roles).toEqual(['supervisor', 'agent']);
    } finally {
      await mapped.close();
    }
  });

  it('assigns teams inside Switchboard as well as from the group claim; supervisors manage only their teams; all audited', async () => {
    for (const team of [
      { id: 'uta-a', name: 'A' },
      { id: 'uta-c', name: 'C' },
    ]) {
      expect((await call('/api/v1/teams', admin, 'POST', team)).status).toBe(201);
    }
    const agent = await bearer({ sub: 'uta-agent', roles: ['agent'], groups: ['/teams/uta-a'] });
    const agentActor = await me(agent);
    expect(agentActor.teamIds).toEqual(['uta-a']);
    expect((await call('/api/v1/teams/uta-c', agent)).status).toBe(404);

    expect((await call(`/api/v1/teams/uta-c/members/${agentActor.id}`, admin, 'PUT')).status).toBe(204);
    expect((await me(agent)).teamIds.sort()).toEqual(['uta-a', 'uta-c']);
    expect((await call('/api/v1/teams/uta-c', agent)).status).toBe(200);
    const members = (await (await call('/api/v1/teams/uta-c/members', agent)).json()) as { items: Array<{ id: string }> };
    expect(members.items.map((user) => user.id)).toContain(agentActor.id);

    const supervisor = await bearer({ sub: 'uta-supervisor', roles: ['supervisor'], groups: ['uta-a'] });
    const target = await me(await bearer({ sub: 'uta-newcomer', roles: ['agent'] }));
    expect((await call(`/api/v1/teams/uta-c/members/${target.id}`, supervisor, 'PUT')).status).toBe(404);
    expect((await call(`/api/v1/teams/uta-a/members/${target.id}`, supervisor, 'PUT')).status).toBe(204);
    expect((await call(`/api/v1/teams/uta-a/members/${target.id}`, agent, 'PUT')).status).toBe(403);
    // Supervisors see the users of their teams only.
    const visible = (await (await call('/api/v1/users', supervisor)).json()) as { items: Array<{ id: string }> };
    expect(visible.items.map((user) => user.id)).toContain(target.id);
    expect((await call('/api/v1/users?teamId=uta-c', supervisor)).status).toBe(404);

    expect((await call(`/api/v1/teams/uta-c/members/${agentActor.id}`, admin, 'DELETE')).status).toBe(204);
    expect((await me(agent)).teamIds).toEqual(['uta-a']);

    const teamEntries = await audited('objectType=team');
    const summary = teamEntries.map((entry) => `${entry.action} ${entry.objectId} ${(entry.details?.userId as string | undefined) ?? ''}`.trim());
    expect(summary).toEqual(
      expect.arrayContaining([
        'team.created uta-c',
        `team.member_added uta-c ${agentActor.id}`,
        `team.member_added uta-a ${target.id}`,
        `team.member_removed uta-c ${agentActor.id}`,
      ]),
    );
    expect(teamEntries.find((entry) => entry.action === 'team.created' && entry.objectId === 'uta-c')?.actorId).toBe(adminId);
    await waitFor(
      async () => (await audited('action=access.denied&objectType=team')).some((entry) => entry.objectId === 'uta-c' && entry.details?.reason === 'team_scope'),
      5000,
      'the supervisor’s audited denial',
    );
  });

  it('audits role changes from the IdP and by an admin; SSO users’ roles come only from the IdP; deactivation is audited', async () => {
    const before = await me(await bearer({ sub: 'uta-promoted', roles: ['agent'] }));
    const after = await me(await bearer({ sub: 'uta-promoted', roles: ['supervisor'] }));
    expect(after.id).toBe(before.id);
    expect(after.roles).toEqual(['supervisor']);
    const fromIdp = (await audited(`action=user.roles_changed&objectId=${before.id}`)).map((entry) => entry.details);
    expect(fromIdp).toEqual([{ from: ['agent'], to: ['supervisor'], source: 'idp' }]);

    const refused = await call(`/api/v1/users/${before.id}`, admin, 'PATCH', { roles: ['admin'] });
    expect(refused.status).toBe(403);

    const localUsername = `uta-local-${backend.name.length}`;
    const { userId: localId } = await createLocalAdmin(db(), { username: localUsername, password: 'a long enough password' });
    const changed = await call(`/api/v1/users/${localId}`, admin, 'PATCH', { roles: ['admin', 'auditor'] });
    expect(changed.status).toBe(200);
    const byAdmin = await audited(`action=user.roles_changed&objectId=${localId}`);
    expect(byAdmin).toEqual([expect.objectContaining({ actorId: adminId, details: { from: ['admin'], to: ['admin', 'auditor'], source: 'admin' } })]);

    expect((await call(`/api/v1/users/${before.id}`, admin, 'PATCH', { active: false })).status).toBe(200);
    expect(await audited(`action=user.deactivated&objectId=${before.id}`)).toEqual([expect.objectContaining({ actorId: adminId, outcome: 'success' })]);
    // A deactivated local user cannot sign in with the right password either; the attempt is audited.
    expect((await call(`/api/v1/users/${localId}`, admin, 'PATCH', { active: false })).status).toBe(200);
    const refusedLogin = await call('/api/v1/auth/local/login', {}, 'POST', { username: localUsername, password: 'a long enough password' });
    expect(refusedLogin.status).toBe(403);
    expect(((await refusedLogin.json()) as { error: { code: string } }).error.code).toBe('user_deactivated');
    expect((await audited(`action=auth.login&objectId=${localId}`)).map((entry) => entry.outcome)).toEqual(['denied']);
    // Admin routes refuse other roles, and the refusal is audited.
    expect((await call(`/api/v1/users/${localId}`, await bearer({ sub: 'uta-sneaky', roles: ['supervisor'] }), 'PATCH', { active: false })).status).toBe(403);
  });

  it('lets only admins create API keys, and stores only a hash of the key', async () => {
    const agent = await bearer({ sub: 'uta-key-agent', roles: ['agent', 'supervisor', 'auditor'] });
    expect((await call('/api/v1/api-keys', agent, 'POST', { name: 'mine', scopes: ['tickets:write'] })).status).toBe(403);
    const created = await call('/api/v1/api-keys', admin, 'POST', { name: 'hashed', scopes: ['tickets:write', 'telemetry:write'] });
    expect(created.status).toBe(201);
    const { key, apiKey } = (await created.json()) as { key: string; apiKey: { id: string } };
    const rows = (await db().query('SELECT * FROM identity_api_keys WHERE id = ?', [apiKey.id])) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.secret_hash).toBe(createHash('sha256').update(key).digest('hex'));
    const secret = key.slice(key.indexOf('_', 4) + 1);
    expect(JSON.stringify(rows[0])).not.toContain(secret);
  });

  it('`switchboard admin create` makes an argon2id local admin that can sign in (password printed once)', async () => {
    const username = `cli-admin-${backend.name.length}`;
    const { code, stdout } = await cli(env, ['admin', 'create', '--username', username]);
    expect(code).toBe(0);
    const password = /password: (\S+)/.exec(stdout)?.[1];
    expect(password).toBeDefined();
    const stored = (await db().query('SELECT password_hash FROM identity_local_credentials WHERE username = ?', [username])) as Array<{
      password_hash: string;
    }>;
    expect(stored[0]!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(stored[0]!.password_hash).not.toContain(password!);

    const login = await call('/api/v1/auth/local/login', {}, 'POST', { username, password });
    expect(login.status).toBe(200);
    const cookie = login.headers
      .getSetCookie()
      .find((line) => line.startsWith('sb_session='))!
      .split(';')[0]!;
    const actor = await me({ cookie });
    expect(actor.roles).toEqual(['admin']);
    expect(await audited(`action=local_admin.created&objectId=${actor.id}`)).toEqual([expect.objectContaining({ outcome: 'success', actorId: 'cli' })]);

    // Running it again resets the password: the old one stops working.
    const again = await cli(env, ['admin', 'create', '--username', username]);
    expect(again.code).toBe(0);
    expect((await call('/api/v1/auth/local/login', {}, 'POST', { username, password })).status).toBe(401);
  });

  it('marks the session cookie Secure unless configured off', async () => {
    expect(testConfig({}).identity.session.cookieSecure).toBe(true);
    const secure = await startTestApp({ env: { ...(await backend.env()), SESSION_COOKIE_SECURE: 'true' }, oidc: false });
    try {
      await createLocalAdmin(secure.app.get<DataSource>(DATA_SOURCE), { username: 'secure-admin', password: 'a long enough password' });
      const login = await fetch(`${secure.url}/api/v1/auth/local/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'secure-admin', password: 'a long enough password' }),
      });
      expect(login.status).toBe(200);
      const session = login.headers.getSetCookie().find((line) => line.startsWith('sb_session='))!;
      expect(session).toMatch(/; HttpOnly/);
      expect(session).toMatch(/; Secure/);
      expect(session).toMatch(/; SameSite=Lax/);
    } finally {
      await secure.close();
    }
  });
});
