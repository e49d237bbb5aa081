/**
 * `npm run bench`: platform benchmarks, each against a raw baseline in the same run.
 *
 * - Bus:   outbox rows → OutboxRelay → JetStream, against raw nats.js JetStream publishes of the
 *          same payloads (same batch parallelism). Goal ≥ 0.5×.
 * - Store: committed writes/s through UnitOfWork + TypeORM repository inserts, against raw mysql2
 *          autocommit inserts of the same rows with the same concurrency. Goal ≥ 0.7×.
 * - HTTP:  /health/live req/s against a bare node:http server answering the same JSON; load from
 *          a separate process with keep-alive connections. Goal ≥ 0.8×.
 *
 * MariaDB and nats-server are started here (test/harness/servers.mjs) and stopped at the end.
 * Printed figures, not assertions: this machine is shared, so numbers vary from run to run.
 */
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { DataSource } from 'typeorm';
import { loadConfig } from '../platform/config/config.loader.js';
import type { AppConfig } from '../platform/config/app-config.js';
import { createApp, startServer } from '../main.js';
import { createLogger } from '../platform/logging/logger.js';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { UnitOfWork } from '../platform/database/unit-of-work.js';
import { OutboxRelay } from '../platform/outbox/outbox.relay.js';
import { OutboxWriter } from '../platform/outbox/outbox.writer.js';
import { SchedulerTimerRow } from '../platform/scheduler/scheduler.entities.js';
import { systemClock } from '../platform/clock/clock.js';

interface ServerLike {
  url?: string;
  rootUrl?: string;
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
  child?: { pid?: number };
}
interface ServersModule {
  MariaDbServer: { create(): Promise<ServerLike & { rootUrl: string }> };
  NatsServer: { create(): Promise<ServerLike & { url: string }> };
}

const here = fileURLToPath(new URL('.', import.meta.url));

/** Benchmarks of feature modules, run after the platform's with the same servers (`--only` picks by name). */
const MODULE_BENCHES = [
  { name: 'conversations', file: './conversations.bench.js', fn: 'benchConversations' },
  { name: 'tickets', file: './tickets.bench.js', fn: 'benchTickets' },
  { name: 'devices', file: './devices.bench.js', fn: 'benchDevices' },
  { name: 'realtime', file: './realtime.bench.js', fn: 'benchRealtime' },
  { name: 'plugins', file: '../platform/plugin-host/bench/plugins.bench.js', fn: 'benchPlugins' },
  { name: 'bot', file: './bot.bench.js', fn: 'benchBot' },
];
const numberArg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : Number(process.env[`BENCH_${name.toUpperCase()}`] ?? fallback);
};
const BUS_MESSAGES = numberArg('bus-messages', 10_000);
const STORE_WRITES = numberArg('store-writes', 5_000);
const STORE_CONCURRENCY = numberArg('store-concurrency', 16);
const HTTP_SECONDS = numberArg('http-seconds', 5);
const HTTP_CONNECTIONS = numberArg('http-connections', 32);
const ROUNDS = numberArg('rounds', 3);

interface Result {
  name: string;
  ours: number;
  raw: number;
  unit: string;
  goal: number;
  notes: string[];
}

function benchConfig(env: Record<string, string>): AppConfig {
  return loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    SWITCHBOARD_INSTANCE_ID: 'bench',
    SWITCHBOARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'sb-bench-')),
    LOCAL_ADMIN_GENERATE_AT_START: 'false',
    SESSION_COOKIE_SECURE: 'false',
    ...env,
  });
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = process.hrtime.bigint();
  const value = await work();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, value };
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

const payload = (n: number) => ({ conversationId: randomUUID(), messageId: randomUUID(), seq: n, direction: 'in', channel: 'webchat', note: '客服 🎧' });

// ---------------------------------------------------------------- Bus
async function benchBus(mariadbUrl: string, natsUrl: string): Promise<Result> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstream, jetstreamManager, StorageType } = await import('@nats-io/jetstream');
  const config = benchConfig({ DATABASE_URL: mariadbUrl, NATS_URL: natsUrl, SWITCHBOARD_OUTBOX_POLL_MS: '60000' });
  const logger = createLogger(config);
  const app = await createApp(config, logger);
  await app.init();
  const notes: string[] = [];
  try {
    const dataSource = app.get<DataSource>(DATA_SOURCE);
    const relay = app.get(OutboxRelay);
    const writer = new OutboxWriter(config, systemClock);
    const nc = await connect({ servers: natsUrl });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'BENCH_RAW', subjects: ['bench.raw.>'], storage: StorageType.File, duplicate_window: 600_000_000_000 });
    const js = jetstream(nc, { timeout: 10_000 });
    const batch = config.outbox.batchSize * 3;
    let bestOurs = 0;
    let bestRaw = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Ours: committed outbox rows (inserted without waking the relay), then drained by OutboxRelay.relayBatch().
      await dataSource.transaction(async (manager) => {
        for (let n = 0; n < BUS_MESSAGES; n++) await writer.append(manager, { subject: 'sb.evt.bench.published', data: payload(n) });
      });
      const ours = await timed(() => relay.drain());
      if (ours.value !== BUS_MESSAGES) throw new Error(`relay sent ${ours.value} of ${BUS_MESSAGES}`);
      const oursRate = (BUS_MESSAGES / ours.ms) * 1000;

      // Raw: the same envelopes published straight to JetStream, as many in flight at once as the
      // relay has with a backlog (3 batches of outbox.batchSize).
      const envelopes = Array.from({ length: BUS_MESSAGES }, (_, n) => {
        const id = randomUUID();
        return { id, body: JSON.stringify({ id, subject: 'bench.raw.published', occurredAt: new Date().toISOString(), source: 'bench', data: payload(n) }) };
      });
      const raw = await timed(async () => {
        for (let start = 0; start < envelopes.length; start += batch) {
          await Promise.all(envelopes.slice(start, start + batch).map((envelope) => js.publish('bench.raw.published', envelope.body, { msgID: envelope.id })));
        }
      });
      const rawRate = (BUS_MESSAGES / raw.ms) * 1000;
      notes.push(`round ${round + 1}: ours ${oursRate.toFixed(0)} msgs/s, raw ${rawRate.toFixed(0)} msgs/s`);
      bestOurs = Math.max(bestOurs, oursRate);
      bestRaw = Math.max(bestRaw, rawRate);
    }
    const stored = (await jsm.streams.info('SB_EVENTS')).state.messages;
    notes.push(`SB_EVENTS holds ${stored} messages (expected ${BUS_MESSAGES * ROUNDS})`);

    // End to end for reference: UnitOfWork commits (one event per transaction, 16 writers) until relayed.
    const e2eCount = Math.min(2000, BUS_MESSAGES);
    const uow = app.get(UnitOfWork);
    const e2e = await timed(async () => {
      await pool(
        Array.from({ length: e2eCount }, (_, n) => n),
        16,
        async (n) => void (await uow.run((tx) => tx.emit({ subject: 'sb.evt.bench.e2e', data: payload(n) }))),
      );
      for (;;) {
        const [row] = (await dataSource.query('SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL')) as Array<{ n: number | string }>;
        if (Number(row?.n) === 0) break;
        await relay.drain();
      }
    });
    notes.push(`end to end (UnitOfWork commit with 1 event, 16 writers → relayed): ${((e2eCount / e2e.ms) * 1000).toFixed(0)} events/s`);
    await nc.close();
    return { name: 'Bus: outbox → relay → JetStream vs raw JetStream publish', ours: bestOurs, raw: bestRaw, unit: 'msgs/s', goal: 0.5, notes };
  } finally {
    await app.close();
    rmSync(config.dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- Store
async function benchStore(mariadbUrl: string, natsUrl: string): Promise<Result> {
  const mysql = await import('mysql2/promise');
  const config = benchConfig({ DATABASE_URL: mariadbUrl, NATS_URL: natsUrl, DATABASE_POOL_SIZE: String(STORE_CONCURRENCY) });
  const app = await createApp(config, createLogger(config));
  await app.init();
  const raw = mysql.createPool({ uri: mariadbUrl, connectionLimit: STORE_CONCURRENCY, charset: 'utf8mb4_unicode_ci', timezone: 'Z' });
  const notes: string[] = [];
  try {
    const uow = app.get(UnitOfWork);
    const row = (key: string) => ({
      key,
      kind: 'bench',
      dueAt: new Date(Date.now() + 86_400_000),
      payload: { note: '客服 🎧', n: key.length },
      claimedBy: null,
      claimedUntil: null,
      firedAt: null,
      attempts: 0,
      lastError: null,
    });
    let bestOurs = 0;
    let bestRaw = 0;
    let bestCoalesced = 0;
    let bestAutocommit = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const keys = Array.from({ length: STORE_WRITES }, () => `ours:${randomUUID()}`);
      const ours = await timed(() =>
        pool(keys, STORE_CONCURRENCY, async (key) => void (await uow.run((tx) => tx.manager.insert(SchedulerTimerRow, row(key))))),
      );
      const rawKeys = Array.from({ length: STORE_WRITES }, () => `raw:${randomUUID()}`);
      const rawRun = await timed(() =>
        pool(rawKeys, STORE_CONCURRENCY, async (key) => {
          const r = row(key);
          await raw.execute(
            'INSERT INTO scheduler_timers (timer_key, kind, due_at, payload, claimed_by, claimed_until, fired_at, attempts, last_error) VALUES (?, ?, ?, ?, NULL, NULL, NULL, 0, NULL)',
            [r.key, r.kind, r.dueAt, JSON.stringify(r.payload)],
          );
        }),
      );
      // Our hot-write path (`tx.insert`, the RowInserter: no query builder, no read-back) and raw mysql2
      // with an explicit transaction (BEGIN/INSERT/COMMIT) like a unit of work.
      const leanKeys = Array.from({ length: STORE_WRITES }, () => `lean:${randomUUID()}`);
      const lean = await timed(() =>
        pool(leanKeys, STORE_CONCURRENCY, async (key) => uow.run((tx) => tx.insert(SchedulerTimerRow, row(key) as SchedulerTimerRow))),
      );
      // The same writes as coalesced units of work (group commit per lane: what messages use), against the
      // raw autocommit INSERT: the strictest baseline, one round trip per write.
      const coalescedKeys = Array.from({ length: STORE_WRITES }, () => `coal:${randomUUID()}`);
      const coalesced = await timed(() =>
        pool(coalescedKeys, STORE_CONCURRENCY, async (key) => uow.run((tx) => tx.insert(SchedulerTimerRow, row(key) as SchedulerTimerRow), { coalesce: key })),
      );
      const coalescedRate = (STORE_WRITES / coalesced.ms) * 1000;
      const autocommitRate = (STORE_WRITES / rawRun.ms) * 1000;
      bestCoalesced = Math.max(bestCoalesced, coalescedRate);
      bestAutocommit = Math.max(bestAutocommit, autocommitRate);
      const txKeys = Array.from({ length: STORE_WRITES }, () => `rawtx:${randomUUID()}`);
      const rawTx = await timed(() =>
        pool(txKeys, STORE_CONCURRENCY, async (key) => {
          const r = row(key);
          const connection = await raw.getConnection();
          try {
            await connection.beginTransaction();
            await connection.execute(
              'INSERT INTO scheduler_timers (timer_key, kind, due_at, payload, claimed_by, claimed_until, fired_at, attempts, last_error) VALUES (?, ?, ?, ?, NULL, NULL, NULL, 0, NULL)',
              [r.key, r.kind, r.dueAt, JSON.stringify(r.payload)],
            );
            await connection.commit();
          } finally {
            connection.release();
          }
        }),
      );
      // Like for like: a unit of work is a committed transaction, so its baseline is raw mysql2
      // BEGIN/INSERT/COMMIT. The autocommit figures are printed beside it.
      const oursRate = (STORE_WRITES / lean.ms) * 1000;
      const rawRate = (STORE_WRITES / rawTx.ms) * 1000;
      notes.push(
        `round ${round + 1}: UnitOfWork + tx.insert ${oursRate.toFixed(0)} writes/s, raw BEGIN/INSERT/COMMIT ${rawRate.toFixed(0)} writes/s; ` +
          `UnitOfWork + manager.insert (re-reads defaults) ${((STORE_WRITES / ours.ms) * 1000).toFixed(0)}/s; ` +
          `coalesced UnitOfWork + tx.insert ${coalescedRate.toFixed(0)}/s vs raw autocommit INSERT ${autocommitRate.toFixed(0)}/s (${(coalescedRate / autocommitRate).toFixed(2)}×)`,
      );
      bestOurs = Math.max(bestOurs, oursRate);
      bestRaw = Math.max(bestRaw, rawRate);
    }
    notes.push(
      `best coalesced unit of work ${bestCoalesced.toFixed(0)} writes/s vs best raw autocommit INSERT ${bestAutocommit.toFixed(0)} writes/s: ${(bestCoalesced / bestAutocommit).toFixed(2)}×`,
    );
    notes.push(`${STORE_WRITES} single-row commits per side and round, ${STORE_CONCURRENCY} concurrent writers, innodb_flush_log_at_trx_commit=1`);
    return {
      name: 'Store: UnitOfWork (transaction + tx.insert) vs raw mysql2 transaction (BEGIN/INSERT/COMMIT)',
      ours: bestOurs,
      raw: bestRaw,
      unit: 'writes/s',
      goal: 0.7,
      notes,
    };
  } finally {
    await raw.end();
    await app.close();
    rmSync(config.dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- HTTP
function load(url: string): Promise<{ rps: number; errors: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(here, 'load-generator.js'), url, String(HTTP_SECONDS), String(HTTP_CONNECTIONS)],
      { timeout: (HTTP_SECONDS + 30) * 1000 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`load generator failed: ${stderr || error.message}`));
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as { rps: number; errors: number });
      },
    );
  });
}

async function benchHttp(): Promise<Result> {
  const config = benchConfig({});
  const running = await startServer(config, { logger: createLogger(config) });
  const body = JSON.stringify({ status: 'live' });
  const bare = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  });
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const barePort = (bare.address() as { port: number }).port;
  const notes: string[] = [];
  try {
    let bestOurs = 0;
    let bestRaw = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const raw = await load(`http://127.0.0.1:${barePort}/health/live`);
      const ours = await load(`${running.url.replace('localhost', '127.0.0.1')}/health/live`);
      notes.push(`round ${round + 1}: ours ${ours.rps.toFixed(0)} req/s (${ours.errors} errors), bare ${raw.rps.toFixed(0)} req/s (${raw.errors} errors)`);
      bestOurs = Math.max(bestOurs, ours.rps);
      bestRaw = Math.max(bestRaw, raw.rps);
    }
    notes.push(`${HTTP_CONNECTIONS} keep-alive connections for ${HTTP_SECONDS} s per side and round, load from a separate process`);
    return { name: 'HTTP: /health/live vs bare node:http', ours: bestOurs, raw: bestRaw, unit: 'req/s', goal: 0.8, notes };
  } finally {
    await new Promise<void>((resolve) => bare.close(() => resolve()));
    await running.close();
    rmSync(config.dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const servers = (await import(new URL('../../test/harness/servers.mjs', import.meta.url).href)) as ServersModule;
  const only = process.argv.includes('--only')
    ? process.argv[process.argv.indexOf('--only') + 1]!.split(',')
    : ['bus', 'store', 'http', ...MODULE_BENCHES.map((bench) => bench.name)];
  const results: Result[] = [];
  const moduleResults: Array<{ name: string; result: unknown }> = [];
  const needsServers = only.some((name) => name !== 'http');
  const [mariadb, nats] = needsServers ? await Promise.all([servers.MariaDbServer.create(), servers.NatsServer.create()]) : [undefined, undefined];
  try {
    if (only.includes('bus')) results.push(await benchBus(await mariadb!.createDatabase(`bench_bus_${Date.now()}`), nats!.url));
    if (only.includes('store')) results.push(await benchStore(await mariadb!.createDatabase(`bench_store_${Date.now()}`), nats!.url));
    if (only.includes('http')) results.push(await benchHttp());
    // Module benchmarks (other issues) share the servers; each prints its own result object.
    for (const bench of MODULE_BENCHES.filter((entry) => only.includes(entry.name))) {
      try {
        const module = (await import(bench.file)) as Record<string, (options: Record<string, unknown>) => Promise<unknown>>;
        moduleResults.push({
          name: bench.name,
          result: await module[bench.fn]!({
            serverUrl: mariadb!.rootUrl,
            natsUrl: nats!.url,
            serverPids: [mariadb!.child?.pid, nats!.child?.pid].filter((pid): pid is number => pid !== undefined),
          }),
        });
      } catch (error) {
        moduleResults.push({ name: bench.name, result: { failed: (error as Error).message } });
      }
    }
  } finally {
    await Promise.allSettled([mariadb?.stop(), nats?.stop()]);
  }
  const lines = [`Switchboard platform benchmarks — node ${process.version}, ${new Date().toISOString()}`];
  for (const result of results) {
    const ratio = result.ours / result.raw;
    lines.push(
      '',
      result.name,
      `  ours ${result.ours.toFixed(0)} ${result.unit}   raw ${result.raw.toFixed(0)} ${result.unit}   ratio ${ratio.toFixed(2)}×   goal ≥ ${result.goal}× ${ratio >= result.goal ? 'MET' : 'MISSED'}`,
      ...result.notes.map((note) => `  - ${note}`),
    );
  }
  for (const entry of moduleResults) lines.push('', `${entry.name}:`, `  ${JSON.stringify(entry.result)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  // Connections of closed apps may leave unref'd timers; do not wait for them.
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
