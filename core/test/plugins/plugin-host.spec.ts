import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { secretPaths, validateManifest, ManifestError } from '@switchboard/plugin-sdk';
import type { DataSource } from 'typeorm';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { PluginKvStore } from '../../src/platform/plugin-host/plugin-kv.store.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { runNatsConfig } from './nats-config-cli.js';

const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures');
const fixture = (name: string) => join(FIXTURES, name);
const ADMIN = { roles: ['admin' as const], sub: 'plugin-admin' };

async function call(app: TestApp, method: string, path: string, body?: unknown, auth = true) {
  const headers: Record<string, string> = auth ? await app.authHeaders(ADMIN) : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${app.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text, headers: response.headers };
}

const pluginEnv = (names: string[], extra: Record<string, string> = {}) => ({
  SWITCHBOARD_PLUGINS_WORKSPACE: 'false',
  SWITCHBOARD_PLUGIN_PATHS: names.map(fixture).join(','),
  SWITCHBOARD_PLUGINS_FROM_SOURCE: 'true',
  SWITCHBOARD_PLUGIN_BACKOFF_MS: '100,200',
  SWITCHBOARD_PLUGIN_CRASH_LOOP_RESTARTS: '3',
  SWITCHBOARD_PLUGIN_HEARTBEAT_MS: '300',
  SWITCHBOARD_PLUGIN_CALL_TIMEOUT_MS: '8000',
  ...extra,
});

describe('plugin manifest validation (SDK)', () => {
  const base = {
    id: 'demo',
    kind: 'channel',
    sdkApi: 1,
    typeVersion: 1,
    capabilities: {},
    configSchema: { type: 'object', additionalProperties: false, properties: {} },
  };

  it('accepts a valid manifest', () => {
    expect(validateManifest(base).id).toBe('demo');
  });

  it('rejects an unknown key with a hint', () => {
    expect(() => validateManifest({ ...base, capabilites: {} })).toThrow(/unknown key "capabilites" \(did you mean "capabilities"\?\)/);
    expect(() => validateManifest({ ...base, capabilities: { htp: [] } })).toThrow(/switchboard.capabilities: unknown key "htp"/);
  });

  it('explains an incompatible sdkApi', () => {
    expect(() => validateManifest({ ...base, sdkApi: 99 })).toThrow(/sdkApi 99 is newer than this Switchboard supports \(1\): upgrade Switchboard/);
    expect(() => validateManifest({ ...base, sdkApi: 0 })).toThrow(/sdkApi 0 is no longer supported/);
  });

  it('refuses "x-secret" where the host could not encrypt it', () => {
    const schema = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, properties });
    const problems = (properties: Record<string, unknown>) => {
      try {
        validateManifest({ ...base, configSchema: schema(properties) });
        return [];
      } catch (error) {
        return (error as ManifestError).problems;
      }
    };
    const unencrypted = /"x-secret" only works on a string property reached through "properties" of objects .*: this value would be stored unencrypted/;
    expect(problems({ tokens: { type: 'array', items: { type: 'string', 'x-secret': true } } })).toEqual([
      expect.stringMatching(new RegExp(`^configSchema.properties.tokens.items: ${unencrypted.source}`)),
    ]);
    expect(problems({ outer: { properties: { pw: { type: 'string', 'x-secret': true } } } })).toEqual([expect.stringMatching(unencrypted)]);
    expect(problems({ auth: { anyOf: [{ type: 'string', 'x-secret': true }, { type: 'null' }] } })).toEqual([expect.stringMatching(unencrypted)]);
    expect(problems({ extra: { type: 'object', additionalProperties: { type: 'string', 'x-secret': true } } })).toEqual([expect.stringMatching(unencrypted)]);
    // Nested objects with "type": "object" are sealed, so a secret there is fine.
    const nested = schema({ imap: { type: 'object', properties: { password: { type: 'string', 'x-secret': true } } } });
    expect(secretPaths(validateManifest({ ...base, configSchema: nested }).configSchema)).toEqual(['imap.password']);
  });

  it('lists every problem at once', () => {
    try {
      validateManifest({ ...base, id: 'Bad Id', kind: 'robot', configSchema: { type: 'object', properties: { pw: { type: 'number', 'x-secret': true } } } });
      throw new Error('should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(ManifestError);
      const problems = (error as ManifestError).problems.join('\n');
      expect(problems).toMatch(/switchboard.id/);
      expect(problems).toMatch(/switchboard.kind must be one of channel, connector, device/);
      expect(problems).toMatch(/additionalProperties": false/);
      expect(problems).toMatch(/"x-secret" is only allowed on properties of type "string"/);
    }
  });
});

describe.each(backends())('plugin host on $name', (backend) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ env: { ...(await backend.env()), ...pluginEnv(['fx-echo', 'fx-bad-key', 'fx-bad-sdk', 'fx-bad-schema']) } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('lists installed plugins and explains the ones that failed to load', async () => {
    const response = await call(app, 'GET', '/api/v1/plugins');
    expect(response.status).toBe(200);
    expect(response.json.items.map((plugin: { id: string }) => plugin.id)).toEqual(['fx-echo']);
    const problems = response.json.problems.map((problem: { message: string }) => problem.message).join('\n');
    expect(problems).toMatch(/unknown key "capabilites"/);
    expect(problems).toMatch(/sdkApi 99 is newer than this Switchboard supports/);
    // A config schema ajv rejects is found at discovery, not when an admin first configures an instance.
    expect(problems).toMatch(/switchboard.configSchema is not a valid JSON Schema: strict mode: unknown keyword: "minLenght"/);
    for (const id of ['fx-bad-sdk', 'fx-bad-schema']) {
      const bad = await call(app, 'POST', `/api/v1/plugins/${id}/instances`, { config: {} });
      expect([bad.status, bad.json.error.code]).toEqual([422, 'plugin_invalid']);
    }
  });

  it('rejects an invalid config with every problem named', async () => {
    const response = await call(app, 'POST', '/api/v1/plugins/fx-echo/instances', { config: { greeting: '', apiKey: 'short', colour: 'red' } });
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe('plugin_config_invalid');
    const problems: string[] = response.json.error.details.problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        'config: unknown key "colour"',
        expect.stringMatching(/^config.greeting must NOT have fewer than 1 characters/),
        expect.stringMatching(/^config.apiKey must NOT have fewer than 8 characters/),
      ]),
    );
    expect((await call(app, 'POST', '/api/v1/plugins/fx-echo/instances', { config: {} }, false)).status).toBe(401);
  });

  it('runs an instance: routes, kv, decrypted secrets, encrypted at rest, test action, health', async () => {
    const created = await call(app, 'POST', '/api/v1/plugins/fx-echo/instances', { id: 'echo-1', config: { greeting: 'hi', apiKey: 'key-12345678' } });
    expect(created.status).toBe(201);
    expect(created.json.config).toEqual({ greeting: 'hi', apiKey: '********', retries: 2 });
    await waitFor(async () => (await call(app, 'GET', '/api/v1/plugins/instances/echo-1')).json.status === 'running', 15_000, 'echo running');

    const hello = await call(app, 'GET', '/plugins/fx-echo/hello?name=Ann', undefined, false);
    expect(hello.status).toBe(200);
    expect(hello.json).toEqual({ greeting: 'hi', name: 'Ann', count: 1, apiKeyLength: 12, retries: 2 });
    expect((await call(app, 'GET', '/plugins/fx-echo/hello', undefined, false)).json.count).toBe(2);
    const echo = await fetch(`${app.url}/plugins/fx-echo/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'raw ✓ body' });
    expect(echo.status).toBe(201);
    expect(echo.headers.get('x-echo')).toBe('yes');
    expect(await echo.text()).toBe('raw ✓ body');
    expect((await call(app, 'GET', '/plugins/fx-echo/nope', undefined, false)).status).toBe(404);
    // The manifest declares no network targets, so ctx.fetch reaches nothing, not even a public address.
    const fetched = await call(app, 'GET', `/plugins/fx-echo/fetch?url=${encodeURIComponent('https://93.184.215.14/')}`, undefined, false);
    expect(fetched.json).toMatchObject({ refused: 'ssrf_blocked' });
    expect(fetched.json.message).toContain('declared network targets');

    const dataSource = app.app.get<DataSource>(DATA_SOURCE);
    const [row] = await dataSource.query('SELECT config FROM plugin_instances WHERE id = ?', ['echo-1']);
    expect(row.config).not.toContain('key-12345678');
    expect(JSON.parse(row.config).apiKey.$secret).toMatch(/^v1:/);

    // Secrets sent back masked keep their value; the test action sees the decrypted secret.
    const updated = await call(app, 'PUT', '/api/v1/plugins/instances/echo-1', { config: { greeting: 'hello', apiKey: '********' } });
    expect(updated.status).toBe(200);
    await waitFor(
      async () => (await call(app, 'GET', '/plugins/fx-echo/hello', undefined, false)).json?.greeting === 'hello',
      15_000,
      'restart with new config',
    );
    expect((await call(app, 'POST', '/api/v1/plugins/instances/echo-1/test', {})).json).toEqual({ ok: true, detail: 'key accepted' });
    expect((await call(app, 'POST', '/api/v1/plugins/instances/echo-1/test', { config: { greeting: 'x', apiKey: 'wrong-key' } })).json).toEqual({
      ok: false,
      detail: 'key rejected',
    });

    const health = await call(app, 'GET', '/health/ready', undefined, false);
    expect(health.json.components['plugin:echo-1']).toEqual({ status: 'up', detail: 'echoing' });
    const metrics = await call(app, 'GET', '/metrics');
    expect(metrics.text).toMatch(/sb_plugin_up\{plugin="fx-echo",instance="echo-1"\} 1/);

    const disabled = await call(app, 'POST', '/api/v1/plugins/instances/echo-1/disable');
    expect(disabled.json.status).toBe('disabled');
    expect((await call(app, 'GET', '/plugins/fx-echo/hello', undefined, false)).status).toBe(404);
  });
});

describe('a plugin in its own process (IPC, no NATS)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ env: pluginEnv(['fx-echo'], { SWITCHBOARD_PLUGIN_ISOLATION: 'process' }) });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('serves routes, kv, decrypted secrets, the test action and health exactly as in a worker thread', async () => {
    const created = await call(app, 'POST', '/api/v1/plugins/fx-echo/instances', { id: 'echo-proc', config: { greeting: 'ni hao', apiKey: 'key-12345678' } });
    expect(created.status).toBe(201);
    const view = await waitFor(
      async () => {
        const current = (await call(app, 'GET', '/api/v1/plugins/instances/echo-proc')).json;
        return current.status === 'running' ? current : undefined;
      },
      15_000,
      'echo running in its own process',
    );
    expect(view.isolation).toBe('process');
    const hello = await call(app, 'GET', '/plugins/fx-echo/hello?name=Bo', undefined, false);
    expect(hello.json).toEqual({ greeting: 'ni hao', name: 'Bo', count: 1, apiKeyLength: 12, retries: 2 });
    expect((await call(app, 'GET', '/plugins/fx-echo/hello', undefined, false)).json.count).toBe(2);
    expect((await call(app, 'POST', '/api/v1/plugins/instances/echo-proc/test', {})).json).toEqual({ ok: true, detail: 'key accepted' });
    expect((await call(app, 'GET', '/health/ready', undefined, false)).json.components['plugin:echo-proc']).toEqual({ status: 'up', detail: 'echoing' });
  });
});

describe('plugin supervision', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ env: pluginEnv(['fx-echo', 'fx-throws', 'fx-spin', 'fx-exits', 'fx-hangs']) });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('restarts crashing, spinning, hanging and exiting plugins with backoff, then disables them; the core and other plugins stay up', async () => {
    expect((await call(app, 'POST', '/api/v1/plugins/fx-echo/instances', { id: 'echo', config: { greeting: 'hi', apiKey: 'key-12345678' } })).status).toBe(201);
    for (const name of ['throws', 'spin', 'exits', 'hangs']) {
      expect((await call(app, 'POST', `/api/v1/plugins/fx-${name}/instances`, { id: name, config: {} })).status).toBe(201);
    }
    const seen = new Set<number>();
    const final = await waitFor(
      async () => {
        // While the bad plugins crash and restart, the core and the healthy plugin keep answering.
        const [ready, hello] = await Promise.all([
          call(app, 'GET', '/health/ready', undefined, false),
          call(app, 'GET', '/plugins/fx-echo/hello', undefined, false),
        ]);
        seen.add(ready.status);
        seen.add(hello.status);
        const views = await Promise.all(
          ['throws', 'spin', 'exits', 'hangs'].map(async (id) => (await call(app, 'GET', `/api/v1/plugins/instances/${id}`)).json),
        );
        return views.every((view) => view.status === 'crash_loop') ? views : undefined;
      },
      // fx-hangs needs three start timeouts of 8 s (SWITCHBOARD_PLUGIN_CALL_TIMEOUT_MS) before its crash loop.
      75_000,
      'all four bad plugins disabled after a crash loop',
    );
    expect([...seen]).toEqual([200]);
    const byId = Object.fromEntries(
      (final as Array<{ id: string; enabled: boolean; disabledReason: string; lastError: string }>).map((view) => [view.id, view]),
    );
    for (const id of ['throws', 'spin', 'exits', 'hangs']) {
      expect(byId[id].enabled).toBe(false);
      expect(byId[id].disabledReason).toBe('crash_loop');
    }
    expect(byId.throws.lastError).toMatch(/crash loop: start failed: cannot reach the moon/);
    expect(byId.spin.lastError).toMatch(/hung or spinning/);
    expect(byId.exits.lastError).toMatch(/exited with code 7/);
    expect(byId.hangs.lastError).toMatch(/crash loop: start failed: start did not answer within 8000 ms/);

    // Restarts wait for the backoff (SWITCHBOARD_PLUGIN_BACKOFF_MS=100,200): 100 ms after the first failure, 200 ms after the second.
    const attempts = (await app.app.get(PluginKvStore).get('throws', 'attempts')) as number[];
    expect(attempts).toHaveLength(3);
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(100);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(200);

    const health = await call(app, 'GET', '/health/ready', undefined, false);
    expect(health.status).toBe(200);
    expect(health.json.components['plugin:spin'].status).toBe('down');
    expect(health.json.components['plugin:hangs'].status).toBe('down');
    expect(health.json.components['plugin:echo'].status).toBe('up');
    const metrics = await call(app, 'GET', '/metrics');
    expect(metrics.text).toMatch(/sb_plugin_restarts_total\{plugin="fx-throws",instance="throws"\} 2/);
    expect(metrics.text).toMatch(/sb_plugin_crash_loops_total\{plugin="fx-spin",instance="spin"\} 1/);

    // An admin re-enables after fixing: it gets a fresh start (and fails again here).
    const enabled = await call(app, 'POST', '/api/v1/plugins/instances/throws/enable');
    expect(enabled.json.enabled).toBe(true);
  }, 120_000);
});

describe('out-of-process plugins on NATS', () => {
  let app: TestApp;
  let nats: { url: string; stop(): Promise<void> } | undefined;
  let pluginsDir: string | undefined;

  afterAll(async () => {
    await app?.close();
    await nats?.stop();
    if (pluginsDir) rmSync(pluginsDir, { recursive: true, force: true });
  });

  it('runs a third-party plugin in its own process with its own NATS user, and nats-server refuses it another plugin’s subjects', async () => {
    if (!process.env.SB_TEST_NATS_URL && process.env.CI !== 'true') return;
    const { NatsServer } = await import('../harness/servers.mjs');
    const key = 'ab'.repeat(32);
    // fx-evil is installed like a third-party plugin: in the plugins directory, without an isolation of its own.
    pluginsDir = mkdtempSync(join(tmpdir(), 'sb-plugins-dir-'));
    symlinkSync(fixture('fx-evil'), join(pluginsDir, 'fx-evil'), 'dir');
    const env = pluginEnv(['fx-echo', 'fx-device'], {
      SWITCHBOARD_PLUGINS_DIR: pluginsDir,
      NATS_USER: 'core',
      NATS_PASSWORD: 'core-secret',
      SWITCHBOARD_ENCRYPTION_KEY: key,
    });
    // What the operator does before the core starts: `switchboard plugins nats-config` → nats-server.conf.
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-nats-config-'));
    const cli = await runNatsConfig([], { ...env, SWITCHBOARD_DATA_DIR: dataDir, NATS_URL: 'nats://127.0.0.1:4222' });
    rmSync(dataDir, { recursive: true, force: true });
    expect(cli.error).toBeUndefined();
    nats = await NatsServer.create({ config: cli.stdout });
    app = await startTestApp({ env: { ...env, NATS_URL: nats.url } });
    // The running host generates exactly the same authorization block.
    const generated = (await import('../../src/platform/plugin-host/plugin-host.service.js')).PluginHostService;
    expect(app.app.get(generated).natsAuthorization({ user: 'core', password: 'core-secret' })).toBe(cli.stdout);
    // Discovery: the directory's plugin is third-party and defaults to its own process on NATS, as does
    // a hardware (device) plugin; a plugin that ships with the core (here given by path) stays in a worker thread.
    const plugins = (await call(app, 'GET', '/api/v1/plugins')).json.items as Array<{
      id: string;
      source: string;
      thirdParty: boolean;
      defaultIsolation: string;
    }>;
    const sorted = [...plugins].sort((a, b) => a.id.localeCompare(b.id));
    expect(sorted.map(({ id, source, thirdParty, defaultIsolation }) => ({ id, source, thirdParty, defaultIsolation }))).toEqual([
      { id: 'fx-device', source: 'path', thirdParty: false, defaultIsolation: 'nats' },
      { id: 'fx-echo', source: 'path', thirdParty: false, defaultIsolation: 'worker' },
      { id: 'fx-evil', source: 'directory', thirdParty: true, defaultIsolation: 'nats' },
    ]);

    expect((await call(app, 'POST', '/api/v1/plugins/fx-echo/instances', { id: 'victim', config: { greeting: 'hi', apiKey: 'key-12345678' } })).status).toBe(
      201,
    );
    expect((await call(app, 'POST', '/api/v1/plugins/fx-evil/instances', { id: 'evil', config: {} })).status).toBe(201);
    const kv = app.app.get(PluginKvStore);
    const result = (await waitFor(() => kv.get('evil', 'nats-result'), 20_000, 'the evil plugin to report')) as {
      user: string;
      errors: string[];
      sdkRefusal: string | null;
      hasDatabaseUrl: boolean;
    };
    expect((await call(app, 'GET', '/api/v1/plugins/instances/evil')).json.isolation).toBe('nats');
    expect((await call(app, 'GET', '/api/v1/plugins/instances/victim')).json.isolation).toBe('worker');
    expect(result.user).toBe('plugin-fx-evil');
    expect(result.sdkRefusal).toMatch(/topic "pwn" is not declared in the manifest's capabilities.bus \(ok\)/);
    expect(result.hasDatabaseUrl).toBe(false);
    expect(result.errors.join('\n')).toMatch(/Permissions Violation for Publish to "?sb\.plugin\.fx-echo\.evt\.pwn/);
    expect(result.errors.join('\n')).toMatch(/Permissions Violation for Publish to "?sb\.evt\.conversation\.message_created/);
    expect(result.errors.join('\n')).not.toMatch(/fx-evil\.evt\.ok/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await kv.get('victim', 'pwned')).toBeUndefined();
  });
});
