/**
 * Ticket list latency (issue 4): `GET /api/v1/tickets` p50/p95 over HTTP (API key, DTO validation,
 * team scope, keyset pagination) with 100,000 tickets seeded on MariaDB. Seeding uses multi-row
 * raw INSERTs (the list reads only the `tickets` table and its indexes).
 *
 * Run after a build: `BENCH_DATABASE_URL=mysql://root:root@127.0.0.1:3306 BENCH_NATS_URL=nats://127.0.0.1:4222 node core/dist/bench/tickets.bench.js`
 * (optional `BENCH_TICKETS`, `BENCH_REQUESTS`).
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '../platform/config/config.loader.js';
import { createApp } from '../main.js';
import { createLogger } from '../platform/logging/logger.js';
import { ApiKeysService } from '../identity/api-keys.service.js';
import { SYSTEM_ACTOR } from '../identity/actor.js';

export interface TicketsBenchOptions {
  /** MySQL/MariaDB server URL without a database (needs CREATE DATABASE). */
  serverUrl: string;
  natsUrl: string;
  tickets?: number;
  requests?: number;
  log?: (line: string) => void;
}

export interface TicketsBenchResult {
  tickets: number;
  queries: Array<{ name: string; p50: number; p95: number }>;
  worstP95: number;
  meetsGoal: boolean;
}

const STATUSES = ['new', 'open', 'open', 'open', 'pending', 'on_hold', 'solved', 'closed', 'closed', 'closed'];
const PRIORITIES = ['low', 'normal', 'normal', 'normal', 'high', 'urgent'];
const TYPES = ['question', 'incident', 'problem', 'task', 'device_fault'];

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function seed(url: string, count: number, log: (line: string) => void): Promise<void> {
  const mysql = await import('mysql2/promise');
  const connection = await mysql.createConnection({ uri: url, charset: 'utf8mb4_unicode_ci' });
  const started = performance.now();
  const base = Date.parse('2025-01-01T00:00:00Z');
  for (let offset = 0; offset < count; offset += 1000) {
    const rows: unknown[][] = [];
    for (let i = offset; i < Math.min(count, offset + 1000); i++) {
      const created = new Date(base + i * 300_000);
      const updated = new Date(created.getTime() + (i % 97) * 3_600_000);
      rows.push([
        randomUUID(),
        100_000 + i,
        `Seeded ticket ${i}`,
        'Seeded description',
        TYPES[i % TYPES.length],
        STATUSES[i % STATUSES.length],
        PRIORITIES[i % PRIORITIES.length],
        `contact-${i % 20_000}`,
        i % 7 === 0 ? null : `agent-${i % 200}`,
        i % 11 === 0 ? null : `team-${i % 20}`,
        JSON.stringify(i % 5 === 0 ? ['billing'] : []),
        '{}',
        null,
        'bench',
        created,
        updated,
        1,
      ]);
    }
    await connection.query(
      `INSERT INTO tickets (id, number, subject, description, type, status, priority, requester_contact_id, assignee_id, team_id, tags, custom_fields, sla_policy_id, created_by, created_at, updated_at, version) VALUES ?`,
      [rows],
    );
  }
  await connection.query(`UPDATE ticket_counters SET next_value = ? WHERE name = 'ticket'`, [100_000 + count]);
  await connection.query('ANALYZE TABLE tickets');
  await connection.end();
  log(`tickets: seeded ${count} tickets in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

export async function benchTickets(options: TicketsBenchOptions): Promise<TicketsBenchResult> {
  const count = options.tickets ?? 100_000;
  const requests = options.requests ?? 300;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const mysql = await import('mysql2/promise');
  const server = options.serverUrl.replace(/\/+$/, '');
  const name = `bench_tickets_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = await mysql.createConnection(`${server}/mysql`);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
  let app: NestFastifyApplication | undefined;
  try {
    const config = loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      SWITCHBOARD_DATA_DIR: dataDir,
      DATABASE_URL: `${server}/${name}`,
      NATS_URL: options.natsUrl,
      SWITCHBOARD_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      LOCAL_ADMIN_GENERATE_AT_START: 'false',
    });
    app = await createApp(config, createLogger(config));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.getHttpServer().address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    await seed(`${server}/${name}`, count, log);
    const { key } = await app.get(ApiKeysService).create(SYSTEM_ACTOR, { name: 'bench', scopes: ['tickets:read'] });
    const headers = { 'x-api-key': key };

    const get = async (path: string): Promise<{ ms: number; body: { items: unknown[]; nextCursor: string | null } }> => {
      const started = performance.now();
      const response = await fetch(`${url}${path}`, { headers });
      const body = (await response.json()) as { items: unknown[]; nextCursor: string | null };
      if (response.status !== 200) throw new Error(`${path} → ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
      return { ms: performance.now() - started, body };
    };
    const firstPage = await get('/api/v1/tickets?status=open&limit=25');
    const scenarios: Array<{ name: string; path: (i: number) => string }> = [
      { name: 'default (updatedAt desc)', path: () => '/api/v1/tickets?limit=25' },
      { name: 'status=open', path: () => '/api/v1/tickets?status=open&limit=25' },
      { name: 'team + status', path: (i) => `/api/v1/tickets?teamId=team-${i % 20}&status=open,pending&limit=25` },
      { name: 'assignee + status', path: (i) => `/api/v1/tickets?assigneeId=agent-${i % 200}&status=open&limit=25` },
      { name: 'requester', path: (i) => `/api/v1/tickets?requesterContactId=contact-${i % 20_000}&sort=createdAt&limit=25` },
      { name: 'priority=urgent, by number', path: () => '/api/v1/tickets?priority=urgent&sort=number&order=desc&limit=50' },
      { name: 'page 2 (cursor)', path: () => `/api/v1/tickets?status=open&limit=25&cursor=${firstPage.body.nextCursor}` },
    ];
    for (let i = 0; i < 50; i++) await get(scenarios[i % scenarios.length]!.path(i)); // warm-up
    const queries: TicketsBenchResult['queries'] = [];
    for (const scenario of scenarios) {
      const latencies: number[] = [];
      for (let i = 0; i < Math.ceil(requests / scenarios.length); i++) latencies.push((await get(scenario.path(i))).ms);
      const result = { name: scenario.name, p50: percentile(latencies, 50), p95: percentile(latencies, 95) };
      queries.push(result);
      log(`tickets: list ${result.name}: p50 ${result.p50.toFixed(1)} ms, p95 ${result.p95.toFixed(1)} ms`);
    }
    const worstP95 = Math.max(...queries.map((q) => q.p95));
    log(`tickets: worst p95 ${worstP95.toFixed(1)} ms (goal ≤ 50 ms) → ${worstP95 <= 50 ? 'met' : 'NOT met'}`);
    return { tickets: count, queries, worstP95, meetsGoal: worstP95 <= 50 };
  } finally {
    await app?.close().catch(() => undefined);
    const drop = await mysql.createConnection(`${server}/mysql`);
    await drop.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await drop.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const serverUrl = process.env.BENCH_DATABASE_URL;
  const natsUrl = process.env.BENCH_NATS_URL;
  if (!serverUrl || !natsUrl) {
    process.stderr.write('Set BENCH_DATABASE_URL (server URL without a database) and BENCH_NATS_URL\n');
    process.exit(2);
  }
  benchTickets({ serverUrl, natsUrl, tickets: Number(process.env.BENCH_TICKETS ?? 100_000), requests: Number(process.env.BENCH_REQUESTS ?? 300) })
    .then((result) => process.exit(result.meetsGoal ? 0 : 1))
    .catch((error: Error) => {
      process.stderr.write(`${error.stack ?? error.message}\n`);
      process.exit(2);
    });
}
