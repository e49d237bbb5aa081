/**
 * Plugins benchmark (issue 6): inbound messages/s through the API channel plugin (signed HTTP →
 * plugin runtime in its worker thread → host RPC → ConversationsService.ingestInbound → stored,
 * outbox event) against a bare node:http server that verifies the same HMAC and INSERTs one row
 * per request into the same kind of store, with the same load in the same run; and the web-chat
 * widget's bundle size (raw and gzipped).
 *
 * Backends: `sqlite` (embedded: SQLite + in-process bus; baseline inserts into SQLite) and
 * `mariadb+nats` (production: MariaDB + NATS JetStream; baseline inserts into MariaDB through a mysql2
 * pool of the core's pool size). `npm run bench` runs both with its own servers (`--only plugins`).
 * The machine's load average (`uptime`) is printed before and after each run: figures from a loaded
 * machine measure CPU starvation as much as the code.
 *
 * Run after a build (the plugins' dist/ is loaded):
 *   node core/dist/platform/plugin-host/bench/plugins.bench.js   (BENCH_MESSAGES, BENCH_CONCURRENCY;
 *   BENCH_DATABASE_URL=mysql://root:root@127.0.0.1:3306 + BENCH_NATS_URL=nats://… add mariadb+nats)
 */
import 'reflect-metadata';
import { createHmac, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { DataSource } from 'typeorm';
import { loadConfig } from '../../config/config.loader.js';
import { DATA_SOURCE } from '../../database/database.tokens.js';
import { createApp } from '../../../main.js';
import { createLogger } from '../../logging/logger.js';
import { ConversationsService } from '../../../conversations/conversations.service.js';
import { PluginHostService } from '../plugin-host.service.js';
import { workspaceRoot } from '../discovery.js';

const SECRET = 'bench-secret-0123456789';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHmac } = require('node:crypto');
const { url, messages, concurrency, secret, prefix } = workerData;
(async () => {
  let next = 0, errors = 0;
  const latencies = [];
  const started = Date.now();
  async function one(i) {
    const body = JSON.stringify({ messageId: prefix + i, contact: { id: 'c' + (i % 500) }, text: 'Message number ' + i + ' 你好' });
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = 'sha256=' + createHmac('sha256', secret).update(ts + '.' + body).digest('hex');
    const t0 = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-timestamp': ts, 'x-signature': sig }, body });
    await res.arrayBuffer();
    latencies.push(performance.now() - t0);
    if (res.status >= 300) errors++;
  }
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < messages) await one(next++); }));
  const seconds = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  parentPort.postMessage({ perSecond: messages / seconds, p50: latencies[Math.floor(latencies.length * 0.5)], p95: latencies[Math.floor(latencies.length * 0.95)], errors });
})().catch((e) => parentPort.postMessage({ error: String(e) }));
`;

interface LoadResult {
  perSecond: number;
  p50: number;
  p95: number;
  errors: number;
}

function load(url: string, messages: number, concurrency: number, prefix: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { url, messages, concurrency, secret: SECRET, prefix } });
    worker.once('message', (result: LoadResult & { error?: string }) => {
      void worker.terminate();
      if (result.error) reject(new Error(result.error));
      else resolve(result);
    });
    worker.once('error', reject);
  });
}

type Insert = (row: [string, string, string, string, string]) => Promise<void>;
interface RawStore {
  insert: Insert;
  count(): Promise<number>;
  close(): Promise<void>;
}

function sqliteStore(dir: string): RawStore {
  const db = new Database(join(dir, 'raw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE raw_messages (id TEXT PRIMARY KEY, conversation_id TEXT, external_id TEXT, text TEXT, created_at TEXT)');
  const statement = db.prepare('INSERT INTO raw_messages VALUES (?, ?, ?, ?, ?)');
  return {
    insert: async (row) => void statement.run(...row),
    count: async () => (db.prepare('SELECT COUNT(*) AS n FROM raw_messages').get() as { n: number }).n,
    close: async () => void db.close(),
  };
}

async function mysqlStore(url: string, poolSize: number): Promise<RawStore> {
  const mysql = await import('mysql2/promise');
  const pool = mysql.createPool({ uri: url, connectionLimit: poolSize, charset: 'utf8mb4_unicode_ci' });
  await pool.query(
    'CREATE TABLE raw_messages (id CHAR(36) PRIMARY KEY, conversation_id VARCHAR(64), external_id VARCHAR(191), text TEXT, created_at VARCHAR(32)) CHARACTER SET utf8mb4',
  );
  return {
    insert: async (row) => void (await pool.execute('INSERT INTO raw_messages VALUES (?, ?, ?, ?, ?)', row)),
    count: async () => Number(((await pool.query('SELECT COUNT(*) AS n FROM raw_messages')) as unknown as Array<Array<{ n: number }>>)[0]![0]!.n),
    close: () => pool.end(),
  };
}

/** The baseline: verify the same signature, parse, insert one row (autocommit), answer 202. */
async function rawServer(store: RawStore): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const ts = String(request.headers['x-timestamp']);
      const expected = 'sha256=' + createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex');
      if (expected !== request.headers['x-signature']) {
        response.writeHead(401).end();
        return;
      }
      const message = JSON.parse(body) as { messageId: string; contact: { id: string }; text: string };
      store.insert([randomUUID(), message.contact.id, message.messageId, message.text, new Date().toISOString()]).then(
        () => response.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true })),
        () => response.writeHead(500).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/messages`, close: () => new Promise<void>((resolve) => server.close(() => resolve())).then(() => store.close()) };
}

export async function widgetBundleSize(): Promise<{ bytes: number; gzipBytes: number } | null> {
  const root = workspaceRoot();
  const file = root ? join(root, 'plugins', 'channel-webchat', 'dist', 'widget.js') : '';
  if (!file || !existsSync(file)) return null;
  const code = readFileSync(file);
  return { bytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length };
}

/** The machine's load: `uptime`'s line, or the load averages when `uptime` is missing. */
export function machineLoad(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return `load average: ${loadavg()
      .map((value) => value.toFixed(2))
      .join(', ')}`;
  }
}

async function createDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const mysql = await import('mysql2/promise');
  const server = serverUrl.replace(/\/+$/, '');
  const name = `bench_plugins_${Date.now().toString(36)}_${randomUUID().slice(0, 6)}`;
  const admin = await mysql.createConnection(`${server}/mysql`);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  return {
    url: `${server}/${name}`,
    drop: async () => {
      const connection = await mysql.createConnection(`${server}/mysql`);
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    },
  };
}

export type PluginsBenchBackend = 'sqlite' | 'mariadb+nats';

export interface PluginsBenchOptions {
  /** MariaDB server URL without a database (needs CREATE DATABASE); with `natsUrl`, adds the `mariadb+nats` run. */
  serverUrl?: string;
  natsUrl?: string;
  /** Default: `sqlite`, plus `mariadb+nats` when servers are given. */
  backends?: PluginsBenchBackend[];
  messages?: number;
  concurrency?: number;
  log?: (line: string) => void;
}

export interface PluginsBenchRun {
  name: string;
  backend: PluginsBenchBackend;
  messages: number;
  concurrency: number;
  pluginPerSecond: number;
  pluginP50Ms: number;
  pluginP95Ms: number;
  pluginErrors: number;
  stored: number;
  rawPerSecond: number;
  rawP50Ms: number;
  rawP95Ms: number;
  rawErrors: number;
  ratio: number;
  loadBefore: string;
  loadAfter: string;
}

async function benchBackend(
  backend: PluginsBenchBackend,
  options: Required<Pick<PluginsBenchOptions, 'messages' | 'concurrency'>> & PluginsBenchOptions,
): Promise<PluginsBenchRun> {
  const { messages, concurrency } = options;
  const root = workspaceRoot();
  if (!root) throw new Error('run from a Switchboard checkout');
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-plugins-'));
  const database = backend === 'mariadb+nats' ? await createDatabase(options.serverUrl!) : undefined;
  const poolSize = 20;
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'error',
    SWITCHBOARD_DATA_DIR: dir,
    SWITCHBOARD_INSTANCE_ID: 'bench-plugins',
    SWITCHBOARD_PLUGINS_WORKSPACE: 'false',
    SWITCHBOARD_PLUGIN_PATHS: join(root, 'plugins', 'channel-api'),
    LOCAL_ADMIN_GENERATE_AT_START: 'false',
    ...(database ? { DATABASE_URL: database.url, NATS_URL: options.natsUrl!, DATABASE_POOL_SIZE: String(poolSize) } : {}),
  });
  const loadBefore = machineLoad();
  const app = await createApp(config, createLogger(config));
  let raw: { url: string; close(): Promise<void> } | undefined;
  try {
    // The baseline's table lives in the same store as the core's (same SQLite directory, same MariaDB database).
    const store = database ? await mysqlStore(database.url, poolSize) : sqliteStore(dir);
    raw = await rawServer(store);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.getHttpServer().address() as { port: number };
    const inbox = await app.get(ConversationsService).createInbox({ name: 'bench', channel: 'api' });
    const host = app.get(PluginHostService);
    await host.createInstance({ pluginId: 'api', id: 'bench', inboxId: inbox.id, config: { secret: SECRET } });
    for (let i = 0; i < 400 && host.supervisorOf('bench')?.state !== 'running'; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const url = `http://127.0.0.1:${port}/plugins/api/${inbox.id}/messages`;
    await load(url, Math.min(300, messages), concurrency, 'warm-');
    await load(raw.url, Math.min(300, messages), concurrency, 'warm-');
    const dataSource = app.get<DataSource>(DATA_SOURCE);
    const count = async () => Number(((await dataSource.query('SELECT COUNT(*) AS n FROM messages')) as Array<{ n: number | string }>)[0]?.n ?? 0);
    const before = await count();
    const plugin = await load(url, messages, concurrency, 'run-');
    const stored = (await count()) - before;
    const baseline = await load(raw.url, messages, concurrency, 'run-');
    return {
      name: 'plugins.api-inbound',
      backend,
      messages,
      concurrency,
      pluginPerSecond: Math.round(plugin.perSecond),
      pluginP50Ms: Math.round(plugin.p50),
      pluginP95Ms: Math.round(plugin.p95),
      pluginErrors: plugin.errors,
      stored,
      rawPerSecond: Math.round(baseline.perSecond),
      rawP50Ms: Math.round(baseline.p50),
      rawP95Ms: Math.round(baseline.p95),
      rawErrors: baseline.errors,
      ratio: Number((plugin.perSecond / baseline.perSecond).toFixed(2)),
      loadBefore,
      loadAfter: machineLoad(),
    };
  } finally {
    await raw?.close();
    await app.close();
    await database?.drop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the inbound benchmark on each backend (sequentially, so they do not compete) and reports the widget's size. */
export async function benchPlugins(options: PluginsBenchOptions = {}) {
  const messages = options.messages ?? 2000;
  const concurrency = options.concurrency ?? 32;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const servers = Boolean(options.serverUrl && options.natsUrl);
  const backends = options.backends ?? (servers ? (['sqlite', 'mariadb+nats'] as const) : (['sqlite'] as const));
  const runs: PluginsBenchRun[] = [];
  for (const backend of backends) {
    if (backend === 'mariadb+nats' && !servers) throw new Error('mariadb+nats needs serverUrl and natsUrl');
    const run = await benchBackend(backend, { ...options, messages, concurrency });
    log(JSON.stringify(run));
    runs.push(run);
  }
  const result = { runs, widget: await widgetBundleSize() };
  log(JSON.stringify({ widget: result.widget }));
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchPlugins({
    messages: Number(process.env.BENCH_MESSAGES ?? 2000),
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 32),
    serverUrl: process.env.BENCH_DATABASE_URL,
    natsUrl: process.env.BENCH_NATS_URL,
  }).then(
    () => process.exit(0),
    (error: Error) => {
      process.stderr.write(`${error.stack}\n`);
      process.exit(1);
    },
  );
}
