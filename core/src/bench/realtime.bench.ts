/**
 * Realtime benchmark (issue 5): N visitor sockets + M agent sockets on one core instance.
 * Reports connections held, delivered messages/s, p50/p99 customer→agent latency (visitor
 * `message.send` → ingest → outbox → bus → fan-out → agent socket) and core RSS per socket.
 *
 * The load generator is a separate process (realtime-loadgen.js). Embedded mode (SQLite +
 * in-process bus) unless serverUrl/natsUrl are given (then MariaDB + NATS).
 *   node core/dist/bench/realtime.bench.js [--visitors 10000] [--agents 200] [--active 2000] [--rate 200] [--seconds 20]
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { loadConfig } from '../platform/config/config.loader.js';
import { startServer } from '../main.js';
import { createLogger } from '../platform/logging/logger.js';
import { ApiKeysService } from '../identity/api-keys.service.js';
import { SYSTEM_ACTOR } from '../identity/actor.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { VisitorTokenService } from '../realtime/visitor-token.service.js';
import { RealtimeHub } from '../realtime/realtime.hub.js';

export interface RealtimeBenchOptions {
  serverUrl?: string;
  natsUrl?: string;
  visitors?: number;
  agents?: number;
  active?: number;
  rate?: number;
  seconds?: number;
  /** Seconds at `rate` before the measured phase (default 5; BENCH_RT_WARMUP). */
  warmupSeconds?: number;
  log?: (line: string) => void;
}

/** `--visitors 10000` on the command line, or BENCH_RT_VISITORS in the environment (also under run-all). */
const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : Number(process.env[`BENCH_RT_${name.toUpperCase()}`] ?? fallback);
};

/** Idle and total CPU time of the whole machine (all processes, all cores), in ms. */
function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const cpu of cpus()) {
    idle += cpu.times.idle;
    total += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq + cpu.times.idle;
  }
  return { idle, total };
}

function gcAndRss(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().rss;
}

export async function benchRealtime(options: RealtimeBenchOptions = {}): Promise<Record<string, unknown>> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const visitors = options.visitors ?? arg('visitors', 10_000);
  const agents = options.agents ?? arg('agents', 200);
  const active = Math.min(options.active ?? arg('active', 2_000), visitors);
  const rate = options.rate ?? arg('rate', 200);
  const seconds = options.seconds ?? arg('seconds', 20);
  const warmupSeconds = options.warmupSeconds ?? arg('warmup', 5);
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-rt-'));
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    SWITCHBOARD_DATA_DIR: dataDir,
    LOCAL_ADMIN_GENERATE_AT_START: 'false',
    SWITCHBOARD_WS_ALLOWED_ORIGINS: '*',
  };
  if (options.serverUrl && options.natsUrl) {
    const name = `bench_rt_${randomBytes(3).toString('hex')}`;
    const mysql = await import('mysql2/promise');
    const connection = await mysql.createConnection(`${options.serverUrl}/mysql`);
    await connection.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await connection.end();
    env.DATABASE_URL = `${options.serverUrl}/${name}`;
    env.NATS_URL = options.natsUrl;
  }
  const config = loadConfig(env);
  const server = await startServer(config, { logger: createLogger(config) });
  try {
    const app = server.app;
    const inbox = await app.get(ConversationsService).createInbox({ name: 'bench web chat', channel: 'webchat', teamId: null });
    const tokens = app.get(VisitorTokenService);
    const visitorTokens: string[] = [];
    for (let i = 0; i < visitors; i++) visitorTokens.push((await tokens.issue({ visitorId: `bench-visitor-${i}`, inboxId: inbox.id })).token);
    const { key } = await app.get(ApiKeysService).create(SYSTEM_ACTOR, { name: 'bench agents', scopes: ['conversations:read', 'conversations:write'] });
    const planFile = join(dataDir, 'plan.json');
    writeFileSync(planFile, JSON.stringify({ url: server.url, visitorTokens, agentKey: key, agents, active, rate, seconds, warmupSeconds }));

    const rssBefore = gcAndRss();
    let rssWithSockets = 0;
    const hub = app.get(RealtimeHub);
    // Sample the core's RSS while all sockets are held (after setup, during the steady phase).
    const sampler = setInterval(() => {
      if (hub.sessions.size >= visitors + agents) rssWithSockets = Math.max(rssWithSockets, process.memoryUsage().rss);
    }, 500);
    log(
      `realtime bench: ${visitors} visitors + ${agents} agents, ${active} active conversations, ${rate} msg/s for ${seconds} s (${env.DATABASE_URL ? 'MariaDB + NATS' : 'SQLite + in-process bus'})`,
    );
    // Where a tail comes from: the core's event-loop delay and its garbage-collection pauses during the load.
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const gcPauses: number[] = [];
    const gcObserver = new PerformanceObserver((list) => list.getEntries().forEach((entry) => gcPauses.push(entry.duration)));
    gcObserver.observe({ entryTypes: ['gc'] });
    const loadgen = fileURLToPath(new URL('./realtime-loadgen.js', import.meta.url));
    let settledAfterMs = 0;
    const output = await new Promise<string>((resolve, reject) => {
      const child = fork(loadgen, [planFile], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], timeout: 15 * 60_000 });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      // Once the load generator has set up (sockets, conversations, subscriptions), wait until the machine has
      // digested that burst: the core's consumers and the database server's background work after 2,000 new
      // conversations (CPU of all processes under 30 % over a second, at most 60 s). Then the steady phase.
      child.on('message', () => {
        const settleStarted = Date.now();
        let last = cpuTimes();
        const poll = setInterval(() => {
          const now = cpuTimes();
          const busy = 1 - (now.idle - last.idle) / Math.max(1, now.total - last.total);
          last = now;
          if (busy < 0.3 || Date.now() - settleStarted > 60_000) {
            clearInterval(poll);
            settledAfterMs = Date.now() - settleStarted;
            loopDelay.reset();
            gcPauses.length = 0;
            child.send('go');
          }
        }, 1000);
      });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`load generator exited with ${code}\n${stderr}`))));
    });
    clearInterval(sampler);
    loopDelay.disable();
    gcObserver.disconnect();
    const result = JSON.parse(output.trim().split('\n').at(-1)!) as Record<string, number>;
    const sockets = visitors + agents;
    const summary = {
      ...result,
      coreRssBeforeMb: Math.round(rssBefore / 1e6),
      coreRssWithSocketsMb: Math.round(rssWithSockets / 1e6),
      rssPerSocketKb: rssWithSockets ? Math.round((rssWithSockets - rssBefore) / sockets / 1024) : null,
      settledAfterMs,
      coreLoopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e5) / 10,
      coreLoopDelayMaxMs: Math.round(loopDelay.max / 1e5) / 10,
      coreGcPauseTotalMs: Math.round(gcPauses.reduce((sum, ms) => sum + ms, 0)),
      coreGcPauseMaxMs: Math.round(Math.max(0, ...gcPauses) * 10) / 10,
      warmupSeconds,
      goal: 'p99 <= 100 ms at 200 msg/s, <= 50 KB RSS per socket',
    };
    log(JSON.stringify(summary));
    return summary;
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  benchRealtime({
    serverUrl: process.env.BENCH_DATABASE_URL,
    natsUrl: process.env.BENCH_NATS_URL,
    visitors: arg('visitors', 10_000),
    agents: arg('agents', 200),
    active: arg('active', 2_000),
    rate: arg('rate', 200),
    seconds: arg('seconds', 20),
  })
    .then((summary) => {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      process.exit(0);
    })
    .catch((error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exit(1);
    });
}
