/**
 * Plugins benchmark (issue 6): inbound messages/s through the API channel plugin (signed HTTP →
 * plugin runtime in its worker thread → host RPC → ConversationsService.ingestInbound → stored,
 * outbox event) against a bare node:http server that verifies the same HMAC and INSERTs one row
 * per request into the same kind of store, with the same load in the same run; and the web-chat
 * widget's bundle size (raw and gzipped).
 *
 * Embedded mode (SQLite + in-process bus). Run after a build (the plugins' dist/ is loaded):
 *   node core/dist/platform/plugin-host/bench/plugins.bench.js   (BENCH_MESSAGES, BENCH_CONCURRENCY)
 */
import 'reflect-metadata';
import { createHmac, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { loadConfig } from '../../config/config.loader.js';
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

/** The baseline: verify the same signature, parse, insert one row (autocommit), answer 202. */
async function rawServer(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const db = new Database(join(dir, 'raw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE messages (id TEXT PRIMARY KEY, conversation_id TEXT, external_id TEXT, text TEXT, created_at TEXT)');
  const insert = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?)');
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
      insert.run(randomUUID(), message.contact.id, message.messageId, message.text, new Date().toISOString());
      response.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/messages`, close: () => new Promise((resolve) => server.close(() => (db.close(), resolve()))) };
}

export async function widgetBundleSize(): Promise<{ bytes: number; gzipBytes: number } | null> {
  const root = workspaceRoot();
  const file = root ? join(root, 'plugins', 'channel-webchat', 'dist', 'widget.js') : '';
  if (!file || !existsSync(file)) return null;
  const code = readFileSync(file);
  return { bytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length };
}

export async function benchPlugins(options: { messages?: number; concurrency?: number; log?: (line: string) => void } = {}) {
  const messages = options.messages ?? 3000;
  const concurrency = options.concurrency ?? 32;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const root = workspaceRoot();
  if (!root) throw new Error('run from a Switchboard checkout');
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-plugins-'));
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'error',
    SWITCHBOARD_DATA_DIR: dir,
    SWITCHBOARD_PLUGINS_WORKSPACE: 'false',
    SWITCHBOARD_PLUGIN_PATHS: join(root, 'plugins', 'channel-api'),
    LOCAL_ADMIN_GENERATE_AT_START: 'false',
  });
  const app = await createApp(config, createLogger(config));
  const raw = await rawServer(dir);
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.getHttpServer().address() as { port: number };
    const inbox = await app.get(ConversationsService).createInbox({ name: 'bench', channel: 'api' });
    const host = app.get(PluginHostService);
    await host.createInstance({ pluginId: 'api', id: 'bench', inboxId: inbox.id, config: { secret: SECRET } });
    for (let i = 0; i < 200 && host.supervisorOf('bench')?.state !== 'running'; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const url = `http://127.0.0.1:${port}/plugins/api/${inbox.id}/messages`;
    await load(url, Math.min(500, messages), concurrency, 'warm-');
    await load(raw.url, Math.min(500, messages), concurrency, 'warm-');
    const plugin = await load(url, messages, concurrency, 'run-');
    const baseline = await load(raw.url, messages, concurrency, 'run-');
    const widget = await widgetBundleSize();
    const result = {
      name: 'plugins.api-inbound',
      messages,
      concurrency,
      pluginPerSecond: Math.round(plugin.perSecond),
      pluginP50Ms: Math.round(plugin.p50),
      pluginP95Ms: Math.round(plugin.p95),
      pluginErrors: plugin.errors,
      rawPerSecond: Math.round(baseline.perSecond),
      rawP50Ms: Math.round(baseline.p50),
      ratio: Number((plugin.perSecond / baseline.perSecond).toFixed(2)),
      widget,
    };
    log(JSON.stringify(result));
    return result;
  } finally {
    await raw.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchPlugins({ messages: Number(process.env.BENCH_MESSAGES ?? 3000), concurrency: Number(process.env.BENCH_CONCURRENCY ?? 32) }).then(
    () => process.exit(0),
    (error: Error) => {
      process.stderr.write(`${error.stack}\n`);
      process.exit(1);
    },
  );
}
