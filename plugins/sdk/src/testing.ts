/**
 * The plugin test kit: boots a real Switchboard core (embedded mode: SQLite + in-process bus, or
 * MariaDB + NATS) with your plugin loaded from source, so a test drives it end to end:
 *
 * ```ts
 * import { startTestCore } from '@switchboard/plugin-sdk/testing';
 * const core = await startTestCore({ plugins: [new URL('..', import.meta.url)] });
 * const inbox = await core.createInbox({ name: 'Shop', channel: 'api' });
 * await core.addInstance('api', { inboxId: inbox.id, config: { secret: 's3cret' } });
 * const res = await core.request('POST', `/plugins/api/${inbox.id}/messages`, { body: '...' });
 * await core.close();
 * ```
 * Runs under the core's Jest setup (`core/jest.config.js` picks up `plugins/<name>/test/*.spec.ts`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TestActor {
  roles: Array<'admin' | 'supervisor' | 'agent' | 'auditor' | 'integrator'>;
  teamIds?: string[];
  sub?: string;
  name?: string;
}

export interface TestCoreOptions {
  /** Plugin package directories (`new URL('..', import.meta.url)` from a test in `test/`). */
  plugins: Array<string | URL>;
  /** `sqlite` (embedded, default) or `mariadb+nats` (needs the test servers of the core's Jest setup). */
  backend?: 'sqlite' | 'mariadb+nats';
  /** Extra core environment (e.g. `SWITCHBOARD_PLUGIN_ISOLATION: 'process'`). */
  env?: Record<string, string>;
  /** Also discover the workspace's bundled plugins. Default false: only yours. */
  workspacePlugins?: boolean;
}

export interface TestResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** Parsed JSON body (undefined when the body is not JSON). */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface RequestOptions {
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Authenticate as this actor (default: none, as a webhook caller). */
  as?: TestActor;
}

export interface InstanceInfo {
  id: string;
  pluginId: string;
  inboxId: string | null;
  enabled: boolean;
  status: string;
  lastError: string | null;
  restarts: number;
  config: Record<string, unknown>;
  version: number;
  [key: string]: unknown;
}

export interface MessageInfo {
  id: string;
  conversationId: string;
  seq: number;
  direction: 'in' | 'out';
  authorType: string;
  text: string;
  content: Record<string, unknown> | null;
  attachments: unknown[] | null;
  [key: string]: unknown;
}

export interface TestCore {
  url: string;
  config: unknown;
  /** The Nest application, for `core.app.get(SomeService)` in advanced tests. */
  app: { get<T = unknown>(token: unknown, options?: { strict?: boolean }): T };
  authHeaders(actor: TestActor): Promise<Record<string, string>>;
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  createInbox(input: { name: string; channel: string; teamId?: string; settings?: Record<string, unknown> }): Promise<{ id: string; [key: string]: unknown }>;
  /** Creates (and by default enables) an instance through the admin API; waits until it runs. */
  addInstance(
    pluginId: string,
    input: {
      config: Record<string, unknown>;
      inboxId?: string;
      id?: string;
      enabled?: boolean;
      delivery?: { maxAttempts: number; backoffMs: number[] };
      wait?: boolean;
    },
  ): Promise<InstanceInfo>;
  instance(id: string): Promise<InstanceInfo>;
  waitForInstance(id: string, status: string, timeoutMs?: number): Promise<InstanceInfo>;
  /** Messages of a conversation, in seq order. */
  messages(conversationId: string): Promise<MessageInfo[]>;
  /** Conversations of an inbox, newest first. */
  conversations(inboxId: string): Promise<Array<{ id: string; contactId: string; threadKey: string | null; [key: string]: unknown }>>;
  /** Posts an agent reply (goes out through the channel plugin). */
  reply(conversationId: string, text: string, options?: { private?: boolean }): Promise<MessageInfo>;
  /** The bytes of an attachment a plugin stored with `ctx.storeAttachment`. */
  readAttachment(storageKey: string): Buffer;
  waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs?: number, what?: string): Promise<T>;
  close(): Promise<void>;
}

const ADMIN: TestActor = { roles: ['admin'], sub: 'plugin-test-admin', name: 'Plugin Test Admin' };

interface Harness {
  startTestApp(options: { env?: Record<string, string> }): Promise<{
    app: TestCore['app'];
    config: unknown;
    url: string;
    authHeaders(actor: TestActor): Promise<Record<string, string>>;
    close(): Promise<void>;
  }>;
  SQLITE_BACKEND: { env(): Promise<Record<string, string>> };
  MYSQL_BACKEND: { env(): Promise<Record<string, string>> };
  waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs?: number, what?: string): Promise<T>;
}

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'core', 'test', 'harness', 'test-app.ts'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('startTestCore runs inside a Switchboard checkout (core/test/harness) under the core Jest config');
}

async function loadHarness(): Promise<Harness> {
  const path = join(repoRoot(), 'core', 'test', 'harness', 'test-app.ts');
  return (await import(path)) as Harness;
}

/** Boots a real core with the given plugin packages loaded (from their TypeScript source). */
export async function startTestCore(options: TestCoreOptions): Promise<TestCore> {
  const harness = await loadHarness();
  const backend = options.backend === 'mariadb+nats' ? harness.MYSQL_BACKEND : harness.SQLITE_BACKEND;
  const paths = options.plugins.map((plugin) => resolve(plugin instanceof URL ? fileURLToPath(plugin) : plugin));
  const app = await harness.startTestApp({
    env: {
      ...(await backend.env()),
      SWITCHBOARD_PLUGINS_WORKSPACE: options.workspacePlugins ? 'true' : 'false',
      SWITCHBOARD_PLUGIN_PATHS: paths.join(','),
      SWITCHBOARD_PLUGINS_FROM_SOURCE: 'true',
      SWITCHBOARD_PLUGIN_BACKOFF_MS: '100,200,400',
      SWITCHBOARD_PLUGIN_HEARTBEAT_MS: '500',
      SWITCHBOARD_PLUGIN_CALL_TIMEOUT_MS: '10000',
      ...(options.env ?? {}),
    },
  });

  const request = async (method: string, path: string, init: RequestOptions = {}): Promise<TestResponse> => {
    const headers: Record<string, string> = { ...(init.as ? await app.authHeaders(init.as) : {}), ...(init.headers ?? {}) };
    let body: string | undefined;
    if (init.body !== undefined) {
      body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
      if (!Object.keys(headers).some((key) => key.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${app.url}${path}`, { method, headers, body });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      responseHeaders[key] = value;
    });
    return { status: response.status, headers: responseHeaders, text, json };
  };

  const expectOk = (response: TestResponse, what: string): TestResponse => {
    if (response.status >= 300) throw new Error(`${what} failed with ${response.status}: ${response.text}`);
    return response;
  };

  const core: TestCore = {
    url: app.url,
    config: app.config,
    app: app.app,
    authHeaders: (actor) => app.authHeaders(actor),
    request,
    async createInbox(input) {
      return expectOk(await request('POST', '/api/v1/inboxes', { body: input, as: ADMIN }), 'createInbox').json;
    },
    async addInstance(pluginId, input) {
      const { wait = true, ...body } = input;
      const created = expectOk(await request('POST', `/api/v1/plugins/${pluginId}/instances`, { body, as: ADMIN }), 'addInstance').json as InstanceInfo;
      if (!wait || body.enabled === false) return created;
      return core.waitForInstance(created.id, 'running');
    },
    async instance(id) {
      return expectOk(await request('GET', `/api/v1/plugins/instances/${id}`, { as: ADMIN }), 'instance').json;
    },
    async waitForInstance(id, status, timeoutMs = 15_000) {
      let last: InstanceInfo | undefined;
      try {
        return await harness.waitFor(
          async () => {
            last = await core.instance(id);
            return last.status === status ? last : undefined;
          },
          timeoutMs,
          `instance ${id} to be ${status}`,
        );
      } catch (error) {
        throw new Error(`${(error as Error).message} (now ${last?.status}${last?.lastError ? `: ${last.lastError}` : ''})`, { cause: error });
      }
    },
    async messages(conversationId) {
      return expectOk(await request('GET', `/api/v1/conversations/${conversationId}/messages?limit=500`, { as: ADMIN }), 'messages').json.items;
    },
    async conversations(inboxId) {
      return expectOk(await request('GET', `/api/v1/conversations?inboxId=${encodeURIComponent(inboxId)}&limit=100`, { as: ADMIN }), 'conversations').json
        .items;
    },
    async reply(conversationId, text, replyOptions = {}) {
      const body = { text, private: replyOptions.private ?? false };
      return expectOk(
        await request('POST', `/api/v1/conversations/${conversationId}/messages`, { body, as: { roles: ['admin'], sub: 'plugin-test-agent', name: 'Agent' } }),
        'reply',
      ).json;
    },
    readAttachment: (storageKey) => readFileSync(join((app.config as { dataDir: string }).dataDir, 'attachments', storageKey)),
    waitFor: (check, timeoutMs, what) => harness.waitFor(check, timeoutMs, what),
    close: () => app.close(),
  };
  return core;
}
