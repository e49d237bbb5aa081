import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';

describe.each(backends().map((backend) => [backend.name, backend] as const))('settings on %s', (_name, backend) => {
  let first: TestApp;
  let second: TestApp;
  let admin: Record<string, string>;
  let json: Record<string, string>;

  beforeAll(async () => {
    const env = await backend.env();
    first = await startTestApp({ env });
    // A second instance on the same store: in embedded mode this is only meaningful for MySQL.
    if (backend.name === 'mariadb+nats') second = await startTestApp({ env });
    admin = await first.authHeaders({ roles: ['admin'], sub: 'settings-admin' });
    json = { ...admin, 'content-type': 'application/json' };
  });

  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('refuses anonymous callers with 401 and agents on admin routes with 403', async () => {
    const anonymous = await fetch(`${first.url}/api/v1/settings`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const agent = await first.authHeaders({ roles: ['agent'], teamIds: ['team-a'] });
    const denied = await fetch(`${first.url}/api/v1/settings/general.timezone`, {
      method: 'PUT',
      headers: { ...agent, 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'UTC' }),
    });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('forbidden');
  });

  it('lists settings with defaults', async () => {
    const response = await fetch(`${first.url}/api/v1/settings`, { headers: admin });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { items: Array<{ key: string; version: number }> };
    expect(body.items.find((item) => item.key === 'general.timezone')).toMatchObject({ version: 0 });
  });

  it('validates and stores a change, bumping the version', async () => {
    const bad = await fetch(`${first.url}/api/v1/settings/general.timezone`, { method: 'PUT', headers: json, body: JSON.stringify({ value: 'Mars/Olympus' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('setting_invalid');

    const good = await fetch(`${first.url}/api/v1/settings/general.timezone`, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ value: 'Asia/Shanghai' }),
    });
    expect(good.status).toBe(200);
    expect(await good.json()).toMatchObject({ key: 'general.timezone', value: 'Asia/Shanghai', version: 1 });
  });

  it('rejects unknown fields by name, unknown keys with 404 and stale versions with 409', async () => {
    const unknownField = await fetch(`${first.url}/api/v1/settings/general.timezone`, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ value: 'UTC', colour: 'red' }),
    });
    expect(unknownField.status).toBe(400);
    const body = (await unknownField.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.message).toContain('colour');

    const unknownKey = await fetch(`${first.url}/api/v1/settings/no.such.key`, { headers: admin });
    expect(unknownKey.status).toBe(404);

    const stale = await fetch(`${first.url}/api/v1/settings/general.timezone`, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ value: 'UTC', expectedVersion: 0 }),
    });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe('setting_version_conflict');
  });

  it('round-trips Chinese text and emoji', async () => {
    const name = '客服中心 🎧 Support';
    const put = await fetch(`${first.url}/api/v1/settings/general.organizationName`, { method: 'PUT', headers: json, body: JSON.stringify({ value: name }) });
    expect(put.status).toBe(200);
    const get = await fetch(`${first.url}/api/v1/settings/general.organizationName`, { headers: admin });
    expect(((await get.json()) as { value: string }).value).toBe(name);
  });

  it('is seen by every core instance through sb.evt.settings.changed', async () => {
    if (!second) return;
    const put = await fetch(`${first.url}/api/v1/settings/general.defaultLocale`, { method: 'PUT', headers: json, body: JSON.stringify({ value: 'zh-CN' }) });
    expect(put.status).toBe(200);
    await waitFor(
      async () => {
        const response = await fetch(`${second.url}/api/v1/settings/general.defaultLocale`, { headers: admin });
        const body = (await response.json()) as { value: string };
        return body.value === 'zh-CN';
      },
      10_000,
      'the second instance to see the change',
    );
  });
});
