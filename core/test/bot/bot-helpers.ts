/* eslint-disable @typescript-eslint/no-explicit-any -- JSON from the API in tests */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { signatureHeaders } from '@switchboard/plugin-sdk';
import { afterAll, beforeAll } from '@jest/globals';
import { SQLITE_BACKEND, startTestApp, waitFor, type Backend, type TestApp, type TestActor } from '../harness/test-app.js';
import type { Clock } from '../../src/platform/clock/clock.js';

export const ADMIN: TestActor = { roles: ['admin'], sub: 'bot-test-admin', name: 'Bot Test Admin' };
export const SECRET = 'bot-test-inbound-secret-0123';
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const FAQ = JSON.parse(readFileSync(`${fixtures}faq.json`, 'utf8')) as {
  entries: Array<{ id: string; questions: string[]; answer: string; language: string }>;
};
export const FLOW_YAML = readFileSync(`${fixtures}order-status.flow.yaml`, 'utf8');
export const LOYALTY_FLOW_YAML = readFileSync(`${fixtures}loyalty.flow.yaml`, 'utf8');
const CHANNEL_API = fileURLToPath(new URL('../../../plugins/channel-api', import.meta.url));
/** A connector plugin fixture (id `fx-crm`) whose `lookupCustomer` plays a CRM with loyalty points. */
export const CRM_CONNECTOR = `${fixtures}crm-connector`;

export function pluginEnv(extraPlugins: string[] = []): Record<string, string> {
  return {
    SWITCHBOARD_PLUGINS_WORKSPACE: 'false',
    SWITCHBOARD_PLUGIN_PATHS: [CHANNEL_API, ...extraPlugins].join(','),
    SWITCHBOARD_PLUGINS_FROM_SOURCE: 'true',
    SWITCHBOARD_PLUGIN_BACKOFF_MS: '100,200,400',
    SWITCHBOARD_PLUGIN_HEARTBEAT_MS: '500',
  };
}

export async function startBotApp(env: Record<string, string>, options: { clock?: Clock; plugins?: string[] } = {}): Promise<TestApp> {
  return startTestApp({ env: { ...pluginEnv(options.plugins), ...env }, clock: options.clock });
}

export type Erp = Awaited<ReturnType<typeof startErp>>;

/** What `withBotApp` fills in before the suite's tests run. */
export interface BotApp {
  app: TestApp;
  erp: Erp;
  /** The API-channel inbox with the bot (unset with `setup: false`). */
  inboxId: string;
  call: Http;
}

/**
 * The bot test setup shared by the bot, assist and knowledge suites: registers beforeAll/afterAll
 * that start the local ERP, a real core with the API channel (plus `plugins`), and (unless
 * `setup: false`) an API inbox with the bot, the published FAQ and the order-status flow.
 */
export function withBotApp(
  options: {
    backend?: Backend;
    env?: Record<string, string>;
    orders?: Record<string, Record<string, unknown>>;
    clock?: Clock;
    plugins?: string[];
    setup?: boolean;
  } = {},
): BotApp {
  const ctx = {} as BotApp;
  beforeAll(async () => {
    ctx.erp = await startErp(options.orders ?? {});
    ctx.app = await startBotApp({ ...(await (options.backend ?? SQLITE_BACKEND).env()), ...(options.env ?? {}) }, options);
    ctx.call = http(ctx.app);
    if (options.setup !== false) ({ inboxId: ctx.inboxId } = await setupBot(ctx.app, ctx.erp.url));
  });
  afterAll(async () => {
    await ctx.app?.close();
    await ctx.erp?.close();
  });
  return ctx;
}

export interface Http {
  (method: string, path: string, body?: unknown, actor?: TestActor): Promise<{ status: number; json: any; text: string }>;
}

export function http(app: TestApp): Http {
  return async (method, path, body, actor = ADMIN) => {
    const headers: Record<string, string> = { ...(await app.authHeaders(actor)) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${app.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text };
  };
}

export const ok = <T extends { status: number; text: string }>(r: T, what: string): T => {
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
  return r;
};

/** A local HTTP server playing the ERP: GET /orders/:id. */
export async function startErp(orders: Record<string, Record<string, unknown>>): Promise<{ url: string; calls: string[]; close(): Promise<void> }> {
  const calls: string[] = [];
  const server: Server = createServer((request, response) => {
    calls.push(request.url ?? '');
    const id = decodeURIComponent(/^\/orders\/([^/?]+)/.exec(request.url ?? '')?.[1] ?? '');
    const order = orders[id];
    response.writeHead(order ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(order ?? { error: 'not_found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Sets up an API-channel inbox with the bot, the FAQ (published) and the order-status flow. */
export async function setupBot(app: TestApp, erpUrl: string, options: { importFaq?: boolean } = {}): Promise<{ inboxId: string }> {
  const call = http(app);
  const inbox = ok(await call('POST', '/api/v1/inboxes', { name: 'Shop bot', channel: 'api' }), 'inbox').json;
  ok(
    await call('POST', '/api/v1/plugins/api/instances', { id: `api-${inbox.id.slice(0, 8)}`, inboxId: inbox.id, config: { secret: SECRET } }),
    'plugin instance',
  );
  await waitFor(
    async () => (await call('GET', `/api/v1/plugins/instances/api-${inbox.id.slice(0, 8)}`)).json?.status === 'running',
    20_000,
    'the API channel instance to run',
  );
  if (options.importFaq !== false)
    ok(await call('POST', '/api/v1/knowledge/import', { format: 'json', content: JSON.stringify(FAQ), publish: true }), 'import');
  ok(await call('POST', '/api/v1/bot/flows', { format: 'yaml', source: FLOW_YAML.replaceAll('ERP_URL', erpUrl) }), 'flow');
  ok(
    await call('PUT', `/api/v1/bot/inboxes/${inbox.id}/config`, {
      config: { enabled: true, greeting: null, flows: ['order_status'], allowedPrivateHosts: ['127.0.0.1'], resolveOnThanks: true },
    }),
    'bot config',
  );
  return { inboxId: inbox.id };
}

let counter = 0;

/** A customer message through the signed API channel; waits for the bot's turn on it. */
export async function say(
  app: TestApp,
  inboxId: string,
  contactId: string,
  text: string,
  options: { expectTurn?: boolean; contact?: Record<string, unknown> } = {},
): Promise<{ conversationId: string; messageId: string; replies: Array<{ text: string; content: any; private: boolean; authorType: string }>; turn: any }> {
  const body = JSON.stringify({ messageId: `m-${Date.now()}-${++counter}`, contact: { id: contactId, ...(options.contact ?? {}) }, text });
  const response = await fetch(`${app.url}/plugins/api/${inboxId}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signatureHeaders(SECRET, body) },
    body,
  });
  const json = (await response.json()) as { conversationId: string; messageId: string };
  if (response.status !== 202) throw new Error(`inbound failed: ${response.status} ${JSON.stringify(json)}`);
  const call = http(app);
  let turn: any = null;
  if (options.expectTurn !== false) {
    turn = await waitFor(
      async () =>
        (await call('GET', `/api/v1/bot/turns?conversationId=${json.conversationId}&limit=200`)).json?.items?.find((t: any) => t.messageId === json.messageId),
      15_000,
      `the bot's turn on "${text}"`,
    );
  }
  const messages = ok(await call('GET', `/api/v1/conversations/${json.conversationId}/messages?limit=500`), 'messages').json.items as any[];
  const inbound = messages.find((m) => m.id === json.messageId);
  const replies = messages.filter((m) => m.seq > inbound.seq && m.authorType === 'bot');
  return { conversationId: json.conversationId, messageId: json.messageId, replies, turn };
}

export async function messagesOf(app: TestApp, conversationId: string): Promise<any[]> {
  return ok(await http(app)('GET', `/api/v1/conversations/${conversationId}/messages?limit=500`), 'messages').json.items;
}
