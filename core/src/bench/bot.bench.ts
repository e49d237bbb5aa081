/**
 * Bot benchmark (issue 8).
 *
 * 1. Reply latency end to end at a fixed rate (default 200 msg/s, open loop): a worker thread
 *    POSTs signed customer questions to the API channel (`/plugins/api/<inbox>/messages`); the
 *    clock stops when the bot's reply (`sb.evt.conversation.message_created`, authorType bot)
 *    is seen on the bus by an each-instance subscriber. Questions are FAQ variants in en and zh,
 *    spread over 400 contacts (one conversation each, several turns).
 * 2. Containment on held-back paraphrases (test/bot/fixtures/paraphrases.json, never indexed):
 *    the share the bot answers with the right entry, the share it answers wrongly, and the share
 *    where the right entry is among its "Did you mean…" buttons.
 *
 * 3. CPU per message sent: the core process(es), and MariaDB + nats-server when run-all started them.
 *
 * BENCH_BOT_INSTANCES=n (MariaDB + NATS) adds n-1 core instances as child processes on the same database and NATS,
 * with the load spread round-robin over all of them.
 *
 * Run through `npm run bench` (run-all passes MariaDB + NATS) or after a build:
 *   node core/dist/bench/bot.bench.js                      (SQLite + in-process bus)
 *   BENCH_DATABASE_URL=mysql://root:root@127.0.0.1:3306 BENCH_NATS_URL=nats://127.0.0.1:4222 node core/dist/bench/bot.bench.js
 */
import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { spawn } from 'node:child_process';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '../platform/config/config.loader.js';
import { createApp } from '../main.js';
import { createLogger } from '../platform/logging/logger.js';
import { BUS, type Bus } from '../platform/bus/bus.port.js';
import type { EventEnvelope } from '../platform/outbox/outbox.entity.js';
import { SYSTEM_ACTOR } from '../identity/actor.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { CONVERSATION_MESSAGE_CREATED, type MessageCreatedEvent } from '../conversations/conversations.events.js';
import { PluginHostService } from '../platform/plugin-host/plugin-host.service.js';
import { KnowledgeService } from '../knowledge/knowledge.service.js';
import { BotService } from '../bot/bot.service.js';

export interface BotBenchOptions {
  serverUrl?: string;
  natsUrl?: string;
  rate?: number;
  seconds?: number;
  /**
   * Core instances sharing the database and NATS (MariaDB + NATS only; default 1, env BENCH_BOT_INSTANCES). The others
   * run as `switchboard start` child processes; the load generator sends message i to instance i mod n, as a
   * round-robin load balancer would.
   */
  instances?: number;
  /** MariaDB and nats-server, when run-all started them: their CPU time is reported beside this process's. */
  serverPids?: number[];
  log?: (line: string) => void;
}

export interface BotBenchResult {
  name: 'bot';
  backend: string;
  instances: number;
  rate: number;
  sent: number;
  replied: number;
  /** Messages offered per second by the load generator (open loop). */
  offeredRate: number;
  /** Accepted (202) messages per second until the last HTTP response. */
  achievedRate: number;
  errors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Reply latency by second of the run (by when the customer's message was sent). */
  perSecond: Array<{ second: number; replied: number; p50Ms: number; p99Ms: number }>;
  botTurnP50Ms: number;
  botTurnP99Ms: number;
  /**
   * CPU time of the core processes (this one with every thread: the core, its plugin workers and the load generator's
   * worker; and the other instances) from the first message sent until the last reply matched, per message sent.
   */
  coreCpuMsPerMessage: number;
  /** The same for MariaDB and nats-server together (Linux /proc; `null` without them). */
  serverCpuMsPerMessage: number | null;
  /** Time until the channel's HTTP 202 (the message committed), p50 / p99: the ingest share of the reply latency. */
  acceptedP50Ms: number;
  acceptedP99Ms: number;
  containment: { paraphrases: number; answeredRight: number; answeredWrong: number; suggestedRight: number; containmentRate: number; wrongRate: number };
}

const SECRET = 'bench-bot-secret-0123456789';
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = join(repo, 'core', 'test', 'bot', 'fixtures');

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHmac } = require('node:crypto');
const { urls, inboxId, secret, rate, seconds, texts, contacts, prefix, contactPrefix } = workerData;
const sign = (body) => { const ts = String(Math.floor(Date.now() / 1000)); return { 'x-timestamp': ts, 'x-signature': 'sha256=' + createHmac('sha256', secret).update(ts + '.' + body).digest('hex') }; };
const now = () => performance.timeOrigin + performance.now();
(async () => {
  const total = Math.round(rate * seconds);
  const started = now();
  const { RawHttpClient } = await import(workerData.clientModule);
  const clients = urls.map((url) => new RawHttpClient(url, 512));
  const pending = [];
  const results = [];
  let sentAt = 0;
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (i === total - 1) sentAt = now();
    const body = JSON.stringify({ messageId: prefix + '-' + i, contact: { id: (contactPrefix || 'bench-') + (i % contacts) }, text: texts[i % texts.length] });
    const t0 = now();
    pending.push(clients[i % clients.length].request('POST', '/plugins/api/' + inboxId + '/messages', { 'content-type': 'application/json', ...sign(body) }, body)
      .then((res) => { const json = JSON.parse(res.body); results.push({ t0, acceptedMs: now() - t0, status: res.status, conversationId: json.conversationId, messageId: json.messageId }); })
      .catch((error) => results.push({ t0, status: 0, error: String(error) })));
  }
  await Promise.all(pending);
  for (const client of clients) client.close();
  parentPort.postMessage({ results, elapsedMs: now() - started, sendMs: sentAt - started });
})();
`;

function runWorker(data: Record<string, unknown>): Promise<{
  results: Array<{ t0: number; acceptedMs?: number; status: number; conversationId?: string; messageId?: string }>;
  elapsedMs: number;
  sendMs: number;
}> {
  return new Promise((resolve, reject) => {
    // The raw keep-alive client, not fetch: see raw-http.ts.
    const worker = new Worker(WORKER, { eval: true, workerData: { ...data, clientModule: new URL('./raw-http.js', import.meta.url).href } });
    worker.once('message', (m) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/** User + system CPU seconds of the given processes, from /proc (USER_HZ is 100 on Linux); `null` if unreadable. */
function cpuSeconds(pids: readonly number[] | undefined): number | null {
  if (!pids?.length) return null;
  try {
    return pids.reduce((sum, pid) => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return sum + (Number(fields[11]) + Number(fields[12])) / 100;
    }, 0);
  } catch {
    return null;
  }
}

interface OtherInstance {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts another core instance (`switchboard start`) on the same database and NATS, and waits until it serves the inbox's API channel. */
async function startOtherInstance(id: string, env: Record<string, string>, inboxId: string): Promise<OtherInstance> {
  const { freePort } = (await import(new URL('../../test/harness/servers.mjs', import.meta.url).href)) as { freePort(): Promise<number> };
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-bot-other-'));
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_OPTIONS'));
  const child = spawn(process.execPath, [...process.execArgv, join(repo, 'core', 'bin', 'switchboard.js'), 'start'], {
    env: { ...inherited, ...env, HOST: '127.0.0.1', PORT: String(port), SWITCHBOARD_INSTANCE_ID: id, SWITCHBOARD_DATA_DIR: dataDir },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  // Serving the route: an unsigned message is refused by the plugin (401); 404/503 means it is not running there yet.
  for (let attempt = 0; attempt < 600; attempt++) {
    const status = await fetch(`${url}/plugins/api/${inboxId}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      .then((response) => response.status)
      .catch(() => 0);
    if (status === 401) return { url, pid: child.pid!, stop };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`core instance ${id} did not start serving the API channel`);
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
const round = (n: number) => Math.round(n * 100) / 100;

export async function benchBot(options: BotBenchOptions = {}): Promise<BotBenchResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const rate = options.rate ?? Number(process.env.BENCH_BOT_RATE ?? 200);
  const seconds = options.seconds ?? Number(process.env.BENCH_BOT_SECONDS ?? 10);
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-bot-'));
  let databaseUrl: string | undefined;
  let dbName: string | undefined;
  if (options.serverUrl) {
    dbName = `bench_bot_${randomBytes(4).toString('hex')}`;
    const mysql = await import('mysql2/promise');
    const connection = await mysql.createConnection(`${options.serverUrl}/mysql`);
    await connection.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await connection.end();
    databaseUrl = `${options.serverUrl}/${dbName}`;
  }
  const backend = databaseUrl ? 'mariadb+nats' : 'sqlite+inprocess';
  const instances = options.instances ?? Number(process.env.BENCH_BOT_INSTANCES ?? 1);
  if (!Number.isInteger(instances) || instances < 1 || (instances > 1 && !(databaseUrl && options.natsUrl)))
    throw new Error('BENCH_BOT_INSTANCES must be 1, or more with MariaDB + NATS (run-all)');
  const shared: Record<string, string> = {
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    LOCAL_ADMIN_GENERATE_AT_START: 'false',
    SWITCHBOARD_PLUGINS_WORKSPACE: 'false',
    SWITCHBOARD_PLUGIN_PATHS: join(repo, 'plugins', 'channel-api'),
    SWITCHBOARD_PLUGINS_FROM_SOURCE: 'true',
  };
  if (databaseUrl) Object.assign(shared, { DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: '20' });
  if (databaseUrl && options.natsUrl) shared.NATS_URL = options.natsUrl;
  // Instances on one database must share the field encryption key.
  if (instances > 1) shared.SWITCHBOARD_ENCRYPTION_KEY = randomBytes(32).toString('base64');
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', SWITCHBOARD_DATA_DIR: dataDir, ...shared });
  let app: NestFastifyApplication | undefined;
  const others: OtherInstance[] = [];
  try {
    app = await createApp(config, createLogger(config));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.getHttpServer().address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const conversations = app.get(ConversationsService);
    const plugins = app.get(PluginHostService);
    const knowledge = app.get(KnowledgeService);
    const bot = app.get(BotService);
    const bus = app.get<Bus>(BUS);

    const faq = JSON.parse(readFileSync(join(fixtures, 'faq.json'), 'utf8')) as { entries: Array<{ id: string; questions: string[] }> };
    const paraphrases = JSON.parse(readFileSync(join(fixtures, 'paraphrases.json'), 'utf8')) as { items: Array<{ text: string; entry: string }> };
    const inbox = await conversations.createInbox({ name: 'Bench bot', channel: 'api' });
    const instance = await plugins.createInstance({ pluginId: 'api', inboxId: inbox.id, config: { secret: SECRET } });
    for (let i = 0; i < 200 && (await plugins.getInstance(instance.id)).status !== 'running'; i++) await new Promise((r) => setTimeout(r, 100));
    await knowledge.importEntries(SYSTEM_ACTOR, { format: 'json', content: JSON.stringify(faq), publish: true });
    await bot.putConfig(SYSTEM_ACTOR, inbox.id, { enabled: true, greeting: null, resolveOnThanks: false });
    await knowledge.whenIndexed();
    for (let k = 1; k < instances; k++) others.push(await startOtherInstance(`bench-bot-${k}`, shared, inbox.id));
    const urls = [url, ...others.map((other) => other.url)];
    await new Promise((r) => setTimeout(r, 500));

    const replies = new Map<string, number[]>();
    const handle = await bus.consume<EventEnvelope<MessageCreatedEvent>>({
      name: `bench-bot-replies-${randomBytes(3).toString('hex')}`,
      subject: CONVERSATION_MESSAGE_CREATED,
      delivery: 'each-instance',
      handler: async (message) => {
        const data = message.data?.data;
        if (!data || data.authorType !== 'bot' || data.private) return;
        const at = performance.timeOrigin + performance.now();
        const list = replies.get(data.conversationId) ?? [];
        list.push(at);
        replies.set(data.conversationId, list);
      },
    });

    const texts = faq.entries.flatMap((e) => e.questions);
    // Warm-up: JIT, connection pools, first conversations.
    await runWorker({ urls, inboxId: inbox.id, secret: SECRET, rate: 50, seconds: 2, texts, contacts: 50, prefix: `warm-${Date.now()}` });
    await new Promise((r) => setTimeout(r, 1500));
    replies.clear();

    log(`bot: ${rate} msg/s for ${seconds} s on ${backend}`);
    const cpuBefore = process.cpuUsage();
    const othersBefore = cpuSeconds(others.map((other) => other.pid)) ?? 0;
    const serversBefore = cpuSeconds(options.serverPids);
    const run = await runWorker({ urls, inboxId: inbox.id, secret: SECRET, rate, seconds, texts, contacts: 400, prefix: `run-${Date.now()}` });
    const deadline = Date.now() + 20_000;
    const sent = run.results.filter((r) => r.status === 202 && r.conversationId);
    const statuses: Record<string, number> = {};
    for (const r of run.results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    log(`bot: HTTP statuses ${JSON.stringify(statuses)}`);
    const timed: Array<{ t0: number; ms: number }> = [];
    // Some turns end without a reply (hand-overs), so the wait below runs to its deadline: the CPU clock stops at the last reply seen.
    let cpu = process.cpuUsage(cpuBefore);
    let serversAfter = serversBefore;
    let othersAfter = othersBefore;
    let matched = 0;
    while (Date.now() < deadline) {
      timed.length = 0;
      const used = new Map<string, number>();
      for (const r of [...sent].sort((a, b) => a.t0 - b.t0)) {
        const list = replies.get(r.conversationId!) ?? [];
        const from = used.get(r.conversationId!) ?? 0;
        const index = list.findIndex((t, k) => k >= from && t >= r.t0);
        if (index >= 0) {
          timed.push({ t0: r.t0, ms: list[index] - r.t0 });
          used.set(r.conversationId!, index + 1);
        }
      }
      if (timed.length > matched) {
        matched = timed.length;
        cpu = process.cpuUsage(cpuBefore);
        serversAfter = cpuSeconds(options.serverPids);
        othersAfter = cpuSeconds(others.map((other) => other.pid)) ?? othersBefore;
      }
      if (timed.length >= sent.length) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await handle.close();
    const sorted = timed.map((entry) => entry.ms).sort((a, b) => a - b);
    // Per second of the run: the first seconds are mostly first contacts (400 new contacts and conversations).
    const start = Math.min(...timed.map((entry) => entry.t0));
    const bySecond = new Map<number, number[]>();
    for (const entry of timed) {
      const second = Math.floor((entry.t0 - start) / 1000);
      const list = bySecond.get(second);
      if (list) list.push(entry.ms);
      else bySecond.set(second, [entry.ms]);
    }
    const perSecond = [...bySecond.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([second, list]) => {
        const ordered = list.sort((a, b) => a - b);
        return { second, replied: ordered.length, p50Ms: round(pct(ordered, 50)), p99Ms: round(pct(ordered, 99)) };
      });
    const turns = (await bot.turns(SYSTEM_ACTOR, { inboxId: inbox.id, limit: 1000 })).map((t) => t.latencyMs ?? 0).sort((a, b) => a - b);
    const accepted = sent.map((r) => r.acceptedMs ?? 0).sort((a, b) => a - b);

    // Containment on held-back paraphrases, one new conversation each.
    const para = await runWorker({
      urls,
      inboxId: inbox.id,
      secret: SECRET,
      rate: 20,
      seconds: paraphrases.items.length / 20,
      texts: paraphrases.items.map((p) => p.text),
      contacts: 100_000,
      contactPrefix: `para-${Date.now()}-`,
      prefix: `para-${Date.now()}`,
    });
    const byMessage = new Map(para.results.map((r, i) => [r.messageId, paraphrases.items[i % paraphrases.items.length]]));
    let answeredRight = 0;
    let answeredWrong = 0;
    let suggestedRight = 0;
    const waitUntil = Date.now() + 20_000;
    let turnsOfPara: Awaited<ReturnType<BotService['turns']>> = [];
    while (Date.now() < waitUntil) {
      turnsOfPara = (await bot.turns(SYSTEM_ACTOR, { inboxId: inbox.id, limit: 1000 })).filter((t) => byMessage.has(t.messageId));
      if (turnsOfPara.length >= paraphrases.items.length) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const turn of turnsOfPara) {
      const expected = byMessage.get(turn.messageId)!;
      if (turn.action === 'answer') {
        if (turn.kbEntryId === expected.entry) answeredRight++;
        else answeredWrong++;
      } else if (turn.action === 'suggest') {
        const messages = await conversations.listMessages(turn.conversationId, { limit: 20 });
        const offered = messages.flatMap((m) => ((m.content as { buttons?: Array<{ value?: string }> } | null)?.buttons ?? []).map((b) => b.value));
        if (offered.includes(`#kb:${expected.entry}`)) suggestedRight++;
      }
    }
    const total = paraphrases.items.length;
    const result: BotBenchResult = {
      name: 'bot',
      backend,
      instances,
      rate,
      sent: sent.length,
      replied: timed.length,
      offeredRate: round((run.results.length / Math.max(1, run.sendMs)) * 1000),
      achievedRate: round((sent.length / run.elapsedMs) * 1000),
      errors: run.results.length - sent.length,
      p50Ms: round(pct(sorted, 50)),
      p90Ms: round(pct(sorted, 90)),
      p99Ms: round(pct(sorted, 99)),
      perSecond,
      maxMs: round(sorted[sorted.length - 1] ?? NaN),
      coreCpuMsPerMessage: round(((cpu.user + cpu.system) / 1000 + (othersAfter - othersBefore) * 1000) / Math.max(1, sent.length)),
      serverCpuMsPerMessage: serversBefore === null || serversAfter === null ? null : round(((serversAfter - serversBefore) * 1000) / Math.max(1, sent.length)),
      botTurnP50Ms: round(pct(turns, 50)),
      botTurnP99Ms: round(pct(turns, 99)),
      acceptedP50Ms: round(pct(accepted, 50)),
      acceptedP99Ms: round(pct(accepted, 99)),
      containment: {
        paraphrases: total,
        answeredRight,
        answeredWrong,
        suggestedRight,
        containmentRate: round(answeredRight / total),
        wrongRate: round(answeredWrong / total),
      },
    };
    log(JSON.stringify(result, null, 2));
    return result;
  } finally {
    await Promise.all(others.map((other) => other.stop()));
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (dbName && options.serverUrl) {
      const mysql = await import('mysql2/promise');
      const connection = await mysql.createConnection(`${options.serverUrl}/mysql`);
      await connection.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
      await connection.end();
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchBot({ serverUrl: process.env.BENCH_DATABASE_URL, natsUrl: process.env.BENCH_NATS_URL })
    .then(() => process.exit(0))
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
