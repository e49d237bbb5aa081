import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, Module, NotFoundException, Param, Post, Query } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { AccessPolicy } from '../../src/identity/access-policy.js';
import { Authenticator } from '../../src/identity/authenticator.js';
import { Roles } from '../../src/identity/decorators/roles.decorator.js';
import { RequireScopes } from '../../src/identity/decorators/require-scopes.decorator.js';
import { CurrentActor } from '../../src/identity/decorators/current-actor.decorator.js';
import type { Actor } from '../../src/identity/actor.js';
import { createLocalAdmin } from '../../src/identity/local-accounts.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import type { DataSource } from 'typeorm';

interface Widget {
  id: string;
  teamId: string | null;
}

const WIDGETS: Widget[] = [
  { id: 'w-a', teamId: 'team-a' },
  { id: 'w-b', teamId: 'team-b' },
  { id: 'w-none', teamId: null },
];
const notFound = () => new NotFoundException('No such widget.');

/** A test-only slice that uses the identity helpers the way every module must. */
@Controller('test/widgets')
class WidgetsController {
  constructor(private readonly policy: AccessPolicy) {}

  @Get()
  @Roles('admin', 'supervisor', 'agent')
  @RequireScopes('widgets:read')
  list(@CurrentActor() actor: Actor, @Query('teamId') teamId?: string): { items: Widget[] } {
    this.policy.assertTeamFilter(actor, teamId, notFound);
    return { items: WIDGETS.filter((widget) => this.policy.canSee(actor, widget) && (!teamId || widget.teamId === teamId)) };
  }

  @Get(':id')
  @Roles('admin', 'supervisor', 'agent')
  @RequireScopes('widgets:read')
  get(@CurrentActor() actor: Actor, @Param('id') id: string): Widget {
    return this.policy.assertCanSee(
      actor,
      WIDGETS.find((widget) => widget.id === id),
      notFound,
      'widget',
    );
  }

  @Post()
  @Roles('admin', 'agent')
  @RequireScopes('widgets:write')
  create(@Body() body: Record<string, unknown>): { ok: true; size: number } {
    return { ok: true, size: Object.keys(body ?? {}).length };
  }
}

@Module({ controllers: [WidgetsController] })
class WidgetsTestModule {}

describe.each(backends().map((backend) => [backend.name, backend] as const))('authorization on %s', (_name, backend) => {
  let app: TestApp;
  let admin: Record<string, string>;
  let agentA: Record<string, string>;
  let auditor: Record<string, string>;
  let teamB: string;

  beforeAll(async () => {
    app = await startTestApp({ env: await backend.env(), imports: [WidgetsTestModule] });
    admin = await app.authHeaders({ roles: ['admin'], sub: 'authz-admin' });
    agentA = await app.authHeaders({ roles: ['agent'], teamIds: ['team-a'], sub: 'authz-agent-a' });
    auditor = await app.authHeaders({ roles: ['auditor'], sub: 'authz-auditor' });
    const created = await fetch(`${app.url}/api/v1/teams`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Team B', id: 'team-b' }),
    });
    expect(created.status).toBe(201);
    teamB = ((await created.json()) as { id: string }).id;
    await fetch(`${app.url}/api/v1/teams`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Team A', id: 'team-a' }),
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${app.url}${path}`, { headers });
  const post = (path: string, headers: Record<string, string>, body: unknown = {}) =>
    fetch(`${app.url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  async function denials(): Promise<Array<{ actorId: string | null; objectType: string; objectId: string; details: { reason: string } }>> {
    const response = await get('/api/v1/audit?action=access.denied&limit=1000', auditor);
    expect(response.status).toBe(200);
    return ((await response.json()) as { items: Array<{ actorId: string | null; objectType: string; objectId: string; details: { reason: string } }> }).items;
  }

  it('answers 401 without credentials on every non-public route', async () => {
    for (const path of ['/api/v1/teams', '/api/v1/users', '/api/v1/api-keys', '/api/v1/audit', '/api/v1/auth/me', '/test/widgets']) {
      const response = await get(path);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="switchboard"/);
    }
    expect((await get('/health/ready')).status).toBe(200);
  });

  it('gives an agent 403 on admin routes, and audits it', async () => {
    expect((await post('/api/v1/teams', agentA, { name: 'Sneaky' })).status).toBe(403);
    expect((await get('/api/v1/api-keys', agentA)).status).toBe(403);
    expect((await get('/api/v1/audit', agentA)).status).toBe(403);
    await waitFor(
      async () => (await denials()).some((entry) => entry.objectId === 'POST /api/v1/teams' && entry.details.reason === 'forbidden'),
      5000,
      'the audited 403',
    );
  });

  it('hides team-B objects from a team-A agent: 404 by id and by list filter, filtered lists, all audited', async () => {
    expect((await get(`/api/v1/teams/${teamB}`, agentA)).status).toBe(404);
    expect((await get('/api/v1/teams/team-a', agentA)).status).toBe(200);
    expect((await get(`/api/v1/teams/${teamB}/members`, agentA)).status).toBe(404);
    const teams = (await (await get('/api/v1/teams', agentA)).json()) as { items: Array<{ id: string }> };
    expect(teams.items.map((team) => team.id)).toEqual(['team-a']);

    expect((await get('/test/widgets/w-b', agentA)).status).toBe(404);
    expect((await get('/test/widgets/w-a', agentA)).status).toBe(200);
    expect((await get('/test/widgets/w-none', agentA)).status).toBe(200);
    expect((await get('/test/widgets?teamId=team-b', agentA)).status).toBe(404);
    const list = (await (await get('/test/widgets', agentA)).json()) as { items: Widget[] };
    expect(list.items.map((widget) => widget.id)).toEqual(['w-a', 'w-none']);
    // Admins see everything.
    expect((await get('/test/widgets/w-b', admin)).status).toBe(200);

    await waitFor(
      async () => {
        const entries = await denials();
        return (
          entries.some((entry) => entry.objectType === 'widget' && entry.objectId === 'w-b' && entry.details.reason === 'team_scope') &&
          entries.some((entry) => entry.objectType === 'team' && entry.objectId === 'team-b' && entry.details.reason === 'team_filter') &&
          entries.some((entry) => entry.objectType === 'team' && entry.objectId === teamB && entry.details.reason === 'team_scope')
        );
      },
      5000,
      'the audited team-scope denials',
    );
  });

  it('limits API keys to their scopes; revoked and expired keys get 401; the key is shown once and stored hashed', async () => {
    const created = await post('/api/v1/api-keys', admin, { name: 'reader', scopes: ['widgets:read', 'conversations:read'] });
    expect(created.status).toBe(201);
    const { key, apiKey } = (await created.json()) as { key: string; apiKey: { id: string; prefix: string } };
    expect(key).toMatch(/^sbk_[a-f0-9]{16}_/);
    const asKey = { 'x-api-key': key };

    expect((await get('/test/widgets', asKey)).status).toBe(200);
    expect((await get('/test/widgets', { authorization: `Bearer ${key}` })).status).toBe(200);
    const write = await post('/test/widgets', asKey, { name: 'x' });
    expect(write.status).toBe(403);
    expect(((await write.json()) as { error: { code: string } }).error.code).toBe('insufficient_scope');
    expect(write.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    // Routes that declare no scope are closed to API keys.
    expect((await get('/api/v1/teams', asKey)).status).toBe(403);
    expect((await get('/api/v1/api-keys', asKey)).status).toBe(403);

    const writer = (await (await post('/api/v1/api-keys', admin, { name: 'writer', scopes: ['widgets:write'] })).json()) as { key: string };
    expect((await post('/test/widgets', { 'x-api-key': writer.key }, { name: 'y' })).status).toBe(201);

    const listed = (await (await get(`/api/v1/api-keys/${apiKey.id}`, admin)).json()) as Record<string, unknown>;
    // The secret is base64url and may itself contain '_': take everything after the prefix.
    const secret = key.slice(key.indexOf('_', 4) + 1);
    expect(secret.length).toBeGreaterThan(20);
    expect(JSON.stringify(listed)).not.toContain(secret);
    expect(listed.lastUsedAt).not.toBeNull();

    const revoke = await fetch(`${app.url}/api/v1/api-keys/${apiKey.id}`, { method: 'DELETE', headers: admin });
    expect(revoke.status).toBe(200);
    const revoked = await get('/test/widgets', asKey);
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toContain('error="invalid_token"');

    const expiring = (await (
      await post('/api/v1/api-keys', admin, { name: 'old', scopes: ['widgets:read'], expiresAt: new Date(Date.now() - 1000).toISOString() })
    ).json()) as { key: string };
    expect((await get('/test/widgets', { 'x-api-key': expiring.key })).status).toBe(401);
    const guessed = `${key.slice(0, -4)}AAAA`;
    expect((await get('/test/widgets', { 'x-api-key': guessed })).status).toBe(401);

    const audit = (await (await get('/api/v1/audit?objectType=api_key', auditor)).json()) as { items: Array<{ action: string }> };
    const actions = audit.items.map((item) => item.action);
    expect(actions).toEqual(expect.arrayContaining(['api_key.created', 'api_key.used', 'api_key.revoked']));
    await waitFor(
      async () => (await denials()).some((entry) => entry.actorId === apiKey.id && entry.details.reason === 'insufficient_scope'),
      5000,
      'the audited scope denial',
    );
  });

  it('never takes identity from X-Forwarded-User and similar headers', async () => {
    const spoof = { 'x-forwarded-user': 'authz-admin', 'x-remote-user': 'admin', 'x-forwarded-roles': 'admin', 'x-forwarded-groups': 'team-b' };
    expect((await get('/api/v1/teams', spoof)).status).toBe(401);
    expect((await post('/api/v1/teams', { ...agentA, ...spoof }, { name: 'Spoofed' })).status).toBe(403);
    expect((await get('/test/widgets/w-b', { ...agentA, ...spoof })).status).toBe(404);
  });

  it('authenticates WebSocket handshakes by token, API key or same-origin session cookie', async () => {
    const authenticator = app.app.get(Authenticator);
    const handshake = (headers: Record<string, string>, url = '/ws') =>
      ({ headers, url, socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage;
    const token = agentA.authorization!.replace('Bearer ', '');
    expect((await authenticator.authenticateHandshake(handshake(agentA))).actor.teamIds).toEqual(['team-a']);
    expect((await authenticator.authenticateHandshake(handshake({}, `/ws?access_token=${token}`))).actor.roles).toEqual(['agent']);
    await expect(authenticator.authenticateHandshake(handshake({ 'x-forwarded-user': 'admin' }))).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(authenticator.authenticateHandshake(handshake({ authorization: 'Bearer not.a.token' }))).rejects.toMatchObject({ code: 'invalid_token' });

    const apiKey = (await (await post('/api/v1/api-keys', admin, { name: 'ws', scopes: ['conversations:read'] })).json()) as { key: string };
    expect((await authenticator.authenticateHandshake(handshake({ 'x-api-key': apiKey.key }))).actor.kind).toBe('api_key');

    await createLocalAdmin(app.app.get<DataSource>(DATA_SOURCE), { username: `ws-${backend.name.length}`, password: 'a long enough password' });
    const login = await post('/api/v1/auth/local/login', {}, { username: `ws-${backend.name.length}`, password: 'a long enough password' });
    const cookie = login.headers
      .getSetCookie()
      .find((line) => line.startsWith('sb_session='))!
      .split(';')[0]!;
    const host = new URL(app.url).host;
    expect((await authenticator.authenticateHandshake(handshake({ cookie, host, origin: app.url }))).via).toBe('session');
    await expect(authenticator.authenticateHandshake(handshake({ cookie, host, origin: 'https://evil.example' }))).rejects.toMatchObject({
      code: 'csrf_failed',
    });

    // Refused handshakes are audited like refused routes.
    await waitFor(
      async () => {
        const reasons = (await denials()).filter((entry) => entry.objectType === 'websocket' && entry.objectId === '/ws').map((entry) => entry.details.reason);
        return ['unauthenticated', 'malformed token', 'cross_origin'].every((reason) => reasons.includes(reason));
      },
      5000,
      'the audited WebSocket handshake denials',
    );
  });
});
