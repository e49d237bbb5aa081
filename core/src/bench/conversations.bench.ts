/**
 * Conversations benchmark (issue 4): messages committed per second through the HTTP API
 * (POST /api/v1/conversations/:id/messages → validation → auth → one transaction: seq bump,
 * message insert, outbox insert → commit; the relay publishes to NATS meanwhile) against raw
 * mysql2 single-row INSERTs of the same shape, in the same run, on the same database server.
 *
 * The HTTP load comes from a worker thread, so client and server do not share one event loop.
 * Run it through `npm run bench` (run-all) or directly after a build:
 *   BENCH_DATABASE_URL=mysql://root:root@127.0.0.1:3306 BENCH_NATS_URL=nats://127.0.0.1:4222 node core/dist/bench/conversations.bench.js
 * BENCH_DATABASE_URL is a server URL; the bench creates (and drops) its own databases there.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '../platform/config/config.loader.js';
import { createApp } from '../main.js';
import { createLogger } from '../platform/logging/logger.js';
import { ApiKeysService } from '../identity/api-keys.service.js';
import { SYSTEM_ACTOR } from '../identity/actor.js';
import { ConversationsService } from '../conversations/conversations.service.js';

export interface ConversationsBenchOptions {
  /** MySQL/MariaDB server URL without a database, e.g. mysql://root:root@127.0.0.1:3306 (needs CREATE DATABASE). */
  serverUrl: string;
  natsUrl: string;
  /** Messages per measured run (default 20,000). */
  messages?: number;
  /** Requests in flight at once (default 64). */
  concurrency?: number;
  /** Conversations the messages are spread over (default 64; 1 measures a single hot conversation). */
  conversations?: number;
  /** Database pool size of the core (default 20). */
  poolSize?: number;
  log?: (line: string) => void;
}

export interface ConversationsBenchResult {
  name: 'conversations.messages';
  messages: number;
  concurrency: number;
  conversations: number;
  apiMessagesPerSecond: number;
  apiP50Ms: number;
  apiP95Ms: number;
  apiErrors: number;
  /** The same transaction called directly (no HTTP, no auth): separates HTTP cost from database cost. */
  serviceMessagesPerSecond: number;
  rawInsertsPerSecond: number;
  ratio: number;
  /** Goals from issue 4: ≥ 2,000/s and ≥ 0.5× raw. */
  meetsGoal: boolean;
}

/** The load: `concurrency` requests in flight, over the raw keep-alive client (see raw-http.ts for why not fetch). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, apiKey, conversationIds, messages, concurrency, prefix, clientModule } = workerData;
let next = 0, errors = 0;
const latencies = [];
(async () => {
  const { RawHttpClient } = await import(clientModule);
  const client = new RawHttpClient(url, concurrency);
  async function one(index) {
    const conversationId = conversationIds[index % conversationIds.length];
    const started = performance.now();
    const body = JSON.stringify({ text: 'Benchmark message ' + index + ': my parcel has not arrived yet, can you check?', idempotencyKey: prefix + index });
    const response = await client.request('POST', '/api/v1/conversations/' + conversationId + '/messages', { 'content-type': 'application/json', 'x-api-key': apiKey }, body);
    latencies.push(performance.now() - started);
    if (response.status !== 201) errors++;
  }
  async function lane() { while (next < messages) { const index = next++; try { await one(index); } catch { errors++; } } }
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, lane));
  client.close();
  parentPort.postMessage({ seconds: (performance.now() - started) / 1000, errors, latencies });
})();
`;

function runHttpLoad(data: { url: string; apiKey: string; conversationIds: string[]; messages: number; concurrency: number; prefix: string }) {
  return new Promise<{ seconds: number; errors: number; latencies: number[] }>((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...data, clientModule: new URL('./raw-http.js', import.meta.url).href } });
    worker.once('message', (result) => {
      resolve(result as { seconds: number; errors: number; latencies: number[] });
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

const percentile = (values: number[], p: number) => {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

async function createDatabase(serverUrl: string, prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const mysql = await import('mysql2/promise');
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const connection = await mysql.createConnection(`${serverUrl.replace(/\/+$/, '')}/mysql`);
  await connection.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await connection.end();
  return {
    url: `${serverUrl.replace(/\/+$/, '')}/${name}`,
    drop: async () => {
      const c = await mysql.createConnection(`${serverUrl.replace(/\/+$/, '')}/mysql`);
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

/** Raw mysql2 baseline: autocommitted single-row INSERTs shaped like a message row, same concurrency. */
async function rawInserts(url: string, messages: number, concurrency: number, poolSize: number): Promise<number> {
  const mysql = await import('mysql2/promise');
  const pool = mysql.createPool({ uri: url, connectionLimit: poolSize, charset: 'utf8mb4_unicode_ci' });
  try {
    await pool.query(
      `CREATE TABLE bench_raw_messages (id varchar(36) NOT NULL PRIMARY KEY, conversation_id varchar(36) NOT NULL, seq bigint NOT NULL,
       direction varchar(3) NOT NULL, author_type varchar(16) NOT NULL, author_id varchar(191) NULL, text mediumtext NOT NULL,
       idempotency_key varchar(191) NULL, created_at datetime(3) NOT NULL,
       UNIQUE KEY ux_seq (conversation_id, seq), UNIQUE KEY ux_idem (conversation_id, idempotency_key)) DEFAULT CHARSET=utf8mb4`,
    );
    const conversationIds = Array.from({ length: 64 }, () => randomUUID());
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < messages) {
          const index = next++;
          await pool.execute(
            'INSERT INTO bench_raw_messages (id, conversation_id, seq, direction, author_type, author_id, text, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
            [
              randomUUID(),
              conversationIds[index % conversationIds.length],
              index,
              'out',
              'agent',
              'bench',
              `Benchmark message ${index}: my parcel has not arrived yet, can you check?`,
              `raw-${index}`,
              new Date(),
            ],
          );
        }
      }),
    );
    return messages / ((performance.now() - started) / 1000);
  } finally {
    await pool.end();
  }
}

export async function benchConversations(options: ConversationsBenchOptions): Promise<ConversationsBenchResult> {
  const messages = options.messages ?? Number(process.env.BENCH_MESSAGES ?? 20_000);
  const concurrency = options.concurrency ?? 64;
  const conversationCount = options.conversations ?? 64;
  const poolSize = options.poolSize ?? 20;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const apiDb = await createDatabase(options.serverUrl, 'bench_conv');
  const rawDb = await createDatabase(options.serverUrl, 'bench_raw');
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
  let app: NestFastifyApplication | undefined;
  try {
    // The baseline runs first, on a quiet server: measured after the API runs it would compete with the
    // core's consumers still working through their backlog and look slower than it is.
    const raw = await rawInserts(rawDb.url, messages, concurrency, poolSize);
    log(`conversations: raw mysql2 ${raw.toFixed(0)} inserts/s`);

    const config = loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      SWITCHBOARD_DATA_DIR: dataDir,
      DATABASE_URL: apiDb.url,
      DATABASE_POOL_SIZE: String(poolSize),
      NATS_URL: options.natsUrl,
      SWITCHBOARD_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      LOCAL_ADMIN_GENERATE_AT_START: 'false',
    });
    app = await createApp(config, createLogger(config));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.getHttpServer().address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    const { key } = await app.get(ApiKeysService).create(SYSTEM_ACTOR, { name: 'bench', scopes: ['conversations:write', 'conversations:read'] });
    const conversations = app.get(ConversationsService);
    const inbox = await conversations.createInbox({ name: 'Bench', channel: 'api', teamId: null });
    const conversationIds: string[] = [];
    for (let i = 0; i < conversationCount; i++) {
      const { conversation } = await conversations.ingestInbound({
        inboxId: inbox.id,
        externalContact: { externalId: `bench-${i}`, verified: false },
        idempotencyKey: `seed-${i}`,
        text: 'hello',
      });
      conversationIds.push(conversation.id);
    }

    // Warm-up (JIT, pools, prepared statements), then the measured run.
    await runHttpLoad({ url, apiKey: key, conversationIds, messages: Math.min(2000, messages), concurrency, prefix: 'warm-' });
    const api = await runHttpLoad({ url, apiKey: key, conversationIds, messages, concurrency, prefix: 'run-' });
    const apiPerSecond = messages / api.seconds;
    log(
      `conversations: API ${apiPerSecond.toFixed(0)} msg/s (p50 ${percentile(api.latencies, 50).toFixed(1)} ms, p95 ${percentile(api.latencies, 95).toFixed(1)} ms, errors ${api.errors})`,
    );

    // The same writes without HTTP (service call → transaction), to split HTTP/auth cost from database cost.
    let nextDirect = 0;
    const directStarted = performance.now();
    const agent = { kind: 'api_key' as const, id: 'bench', roles: ['integrator' as const], teamIds: [], scopes: ['conversations:write'] };
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (nextDirect < messages) {
          const index = nextDirect++;
          await conversations.postMessage(agent, conversationIds[index % conversationIds.length]!, {
            text: `Benchmark message ${index}: my parcel has not arrived yet, can you check?`,
            idempotencyKey: `direct-${index}`,
          });
        }
      }),
    );
    const directPerSecond = messages / ((performance.now() - directStarted) / 1000);
    log(`conversations: service calls without HTTP ${directPerSecond.toFixed(0)} msg/s`);

    const ratio = apiPerSecond / raw;
    return {
      name: 'conversations.messages',
      messages,
      concurrency,
      conversations: conversationCount,
      apiMessagesPerSecond: Math.round(apiPerSecond),
      apiP50Ms: Number(percentile(api.latencies, 50).toFixed(2)),
      apiP95Ms: Number(percentile(api.latencies, 95).toFixed(2)),
      apiErrors: api.errors,
      serviceMessagesPerSecond: Math.round(directPerSecond),
      rawInsertsPerSecond: Math.round(raw),
      ratio: Number(ratio.toFixed(2)),
      meetsGoal: apiPerSecond >= 2000 && ratio >= 0.5,
    };
  } finally {
    await app?.close().catch(() => undefined);
    await apiDb.drop().catch(() => undefined);
    await rawDb.drop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const serverUrl = process.env.BENCH_DATABASE_URL;
  const natsUrl = process.env.BENCH_NATS_URL;
  if (!serverUrl || !natsUrl) {
    process.stderr.write('Set BENCH_DATABASE_URL (mysql://user:pass@host:port) and BENCH_NATS_URL\n');
    process.exit(2);
  }
  benchConversations({
    serverUrl,
    natsUrl,
    messages: process.env.BENCH_MESSAGES ? Number(process.env.BENCH_MESSAGES) : undefined,
    concurrency: process.env.BENCH_CONCURRENCY ? Number(process.env.BENCH_CONCURRENCY) : undefined,
    conversations: process.env.BENCH_CONVERSATIONS ? Number(process.env.BENCH_CONVERSATIONS) : undefined,
  })
    .then((result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    })
    .catch((error: Error) => {
      process.stderr.write(`${error.stack ?? error.message}\n`);
      process.exit(1);
    });
}
