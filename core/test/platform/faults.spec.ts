/**
 * Fault tests on MariaDB + NATS with servers of their own (they get killed): a nats-server
 * crash while events flow, a database outage during writes, and two core processes relaying
 * one outbox. With CI=true a missing mariadbd/nats-server fails these tests.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { MariaDbServer, NatsServer, hasMariadb, hasNats } from '../harness/servers.mjs';
import { startTestApp, waitFor } from '../harness/test-app.js';
import { assertCoreBuilt, killCoreProcesses, startCoreProcess } from '../harness/core-process.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { UnitOfWork } from '../../src/platform/database/unit-of-work.js';
import { ProbeModule, PROBE_SUBJECT } from './support/probe.module.js';

const ci = process.env.CI === 'true';
const available = hasMariadb() && hasNats();
if (!available && ci) throw new Error('CI=true but mariadbd or nats-server is missing: the fault tests cannot run');
const describeFaults = available ? describe : describe.skip;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const unique = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`;

async function pendingCount(dataSource: DataSource, subject: string): Promise<number> {
  const [row] = (await dataSource.query('SELECT COUNT(*) AS n FROM outbox WHERE subject = ? AND sent_at IS NULL', [subject])) as Array<{ n: number | string }>;
  return Number(row?.n ?? 0);
}

/** Event ids stored in SB_EVENTS under `subject`, in stream order (duplicates kept). */
async function streamIds(natsUrl: string, subject: string): Promise<string[]> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstream, DeliverPolicy } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: natsUrl });
  try {
    const js = jetstream(nc);
    const consumer = await js.consumers.get('SB_EVENTS', { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
    const ids: string[] = [];
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 500, expires: 1500 });
      let got = 0;
      let last = -1;
      for await (const message of batch) {
        ids.push((message.json() as { id: string }).id);
        got++;
        last = message.info.pending;
      }
      if (got === 0 || last === 0) break;
    }
    return ids;
  } finally {
    await nc.close();
  }
}

function exactlyOnce(expected: string[], actual: string[]): { missing: string[]; duplicated: string[]; unexpected: string[] } {
  const counts = new Map<string, number>();
  for (const id of actual) counts.set(id, (counts.get(id) ?? 0) + 1);
  const wanted = new Set(expected);
  return {
    missing: expected.filter((id) => !counts.has(id)),
    duplicated: [...counts.entries()].filter(([, count]) => count > 1).map(([id]) => id),
    unexpected: [...counts.keys()].filter((id) => !wanted.has(id)),
  };
}

describeFaults('faults (MariaDB + NATS, own servers)', () => {
  let mariadb: MariaDbServer;
  let nats: NatsServer;

  beforeAll(async () => {
    [mariadb, nats] = await Promise.all([MariaDbServer.create(), NatsServer.create()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([mariadb?.stop(), nats?.stop()]);
  });

  it('kill -9 of nats-server while events flow through the outbox: every committed event arrives exactly once', async () => {
    const databaseUrl = await mariadb.createDatabase(unique('faultnats_'));
    const core = await startTestApp({ env: { DATABASE_URL: databaseUrl, NATS_URL: nats.url } });
    const subject = `sb.evt.${unique('natskill')}.written`;
    const uow = core.app.get(UnitOfWork);
    const committed: string[] = [];
    try {
      const total = 600;
      let killed = false;
      let restarted = false;
      for (let n = 0; n < total; n++) {
        const id = randomUUID();
        await uow.run((tx) => tx.emit({ subject, id, data: { n } }));
        committed.push(id);
        if (n === 150) {
          await nats.kill('SIGKILL');
          killed = true;
        }
        if (n === 350) {
          await nats.start();
          restarted = true;
        }
        if (n % 20 === 0) await sleep(5);
      }
      expect(killed && restarted).toBe(true);
      const dataSource = core.app.get<DataSource>(DATA_SOURCE);
      await waitFor(async () => (await pendingCount(dataSource, subject)) === 0, 60_000, 'the outbox to drain after the restart');
      const result = exactlyOnce(committed, await streamIds(nats.url, subject));
      expect(result).toEqual({ missing: [], duplicated: [], unexpected: [] });
    } finally {
      if (!nats.child) await nats.start();
      await core.close();
    }
  }, 120_000);

  it('stopping MariaDB during writes gives 503 database_unavailable, readiness follows, and nothing committed is lost', async () => {
    const databaseUrl = await mariadb.createDatabase(unique('faultdb_'));
    const core = await startTestApp({
      env: { DATABASE_URL: databaseUrl, NATS_URL: nats.url, DATABASE_POOL_SIZE: '4' },
      imports: [ProbeModule],
    });
    const acknowledged: string[] = [];
    const failures: Array<{ status: number; body: string }> = [];
    const unavailable: string[] = [];
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const id = randomUUID();
        try {
          const response = await fetch(`${core.url}/platformtest/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ id }),
            signal: AbortSignal.timeout(15_000),
          });
          const text = await response.text();
          if (response.status === 201) acknowledged.push(id);
          else if (response.status === 503) unavailable.push(text);
          else failures.push({ status: response.status, body: text });
        } catch (error) {
          failures.push({ status: 0, body: String(error) });
        }
        await sleep(5);
      }
    })();
    try {
      await waitFor(() => acknowledged.length >= 30, 20_000, 'writes before the outage');
      await mariadb.kill('SIGKILL');
      const ackedBeforeOutage = acknowledged.length;

      // During the outage: writes and database reads answer 503 with a clear code, readiness is 503.
      await waitFor(() => unavailable.length >= 5, 20_000, '503 answers during the outage');
      const ready = await fetch(`${core.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'unavailable', checks: { database: 'down' } });
      const read = await fetch(`${core.url}/platformtest/events/${randomUUID()}`);
      expect(read.status).toBe(503);
      expect(((await read.json()) as { error: { code: string } }).error.code).toBe('database_unavailable');
      const live = await fetch(`${core.url}/health/live`);
      expect(live.status).toBe(200);

      await mariadb.start();
      await waitFor(async () => (await fetch(`${core.url}/health/ready`)).status === 200, 30_000, 'readiness after the database returned');
      await waitFor(() => acknowledged.length >= ackedBeforeOutage + 30, 30_000, 'writes after the database returned');
    } finally {
      writing = false;
      await writer;
      if (!mariadb.child) await mariadb.start();
    }
    try {
      expect(failures).toEqual([]);
      for (const body of unavailable) {
        const parsed = JSON.parse(body) as { error: { code: string; message: string; correlationId?: string } };
        expect(parsed.error.code).toBe('database_unavailable');
        expect(body).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack frames
        expect(body).not.toMatch(/ECONNREFUSED|PROTOCOL_|127\.0\.0\.1/);
      }
      // Every acknowledged write is stored, and reaches the bus exactly once.
      const dataSource = core.app.get<DataSource>(DATA_SOURCE);
      const stored = (await dataSource.query('SELECT event_id FROM outbox WHERE subject = ?', [PROBE_SUBJECT])) as Array<{ event_id: string }>;
      const storedIds = new Set(stored.map((row) => row.event_id));
      expect(acknowledged.filter((id) => !storedIds.has(id))).toEqual([]);
      await waitFor(async () => (await pendingCount(dataSource, PROBE_SUBJECT)) === 0, 30_000, 'the outbox to drain');
      const published = await streamIds(nats.url, PROBE_SUBJECT);
      const result = exactlyOnce([...storedIds], published);
      expect(result).toEqual({ missing: [], duplicated: [], unexpected: [] });
    } finally {
      await core.close();
    }
  }, 120_000);

  describe('two core processes', () => {
    afterAll(() => killCoreProcesses());

    async function relayedBy(url: string): Promise<number> {
      const text = await (await fetch(`${url}/metrics`)).text();
      const lines = text.split('\n').filter((entry) => entry.startsWith('sb_outbox_relayed_total'));
      return lines.reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    }

    it('relay one outbox with no duplicates and no gaps, also when one of them is killed', async () => {
      assertCoreBuilt();
      const databaseUrl = await mariadb.createDatabase(unique('faultproc_'));
      const env = { DATABASE_URL: databaseUrl, NATS_URL: nats.url };
      const a = await startCoreProcess('proc-a', env);
      const b = await startCoreProcess('proc-b', env);
      const mysql = await import('mysql2/promise');
      const pool = mysql.createPool({ uri: databaseUrl, connectionLimit: 4 });
      const subject = `sb.evt.${unique('procs')}.written`;
      const committed: string[] = [];
      /** Commits `count` events in small transactions from four writers, like busy API instances would. */
      const commit = async (count: number) => {
        let next = 0;
        await Promise.all(
          [0, 1, 2, 3].map(async () => {
            while (next < count) {
              const size = Math.min(count - next, 1 + Math.floor(Math.random() * 5));
              next += size;
              const connection = await pool.getConnection();
              try {
                await connection.beginTransaction();
                const ids: string[] = [];
                for (let i = 0; i < size; i++) {
                  const id = randomUUID();
                  const envelope = { id, subject, occurredAt: new Date().toISOString(), source: 'fault-test', data: { i } };
                  await connection.query('INSERT INTO outbox (event_id, subject, envelope, headers, created_at, attempts) VALUES (?, ?, ?, NULL, ?, 0)', [
                    id,
                    subject,
                    JSON.stringify(envelope),
                    new Date(),
                  ]);
                  ids.push(id);
                }
                await connection.commit();
                committed.push(...ids);
              } finally {
                connection.release();
              }
              await sleep(Math.random() * 4);
            }
          }),
        );
      };
      try {
        const dataSourceLike = { query: (sql: string, params: unknown[]) => pool.query(sql, params).then(([rows]) => rows) } as unknown as DataSource;

        const relayedBefore = (await relayedBy(a.url)) + (await relayedBy(b.url));
        await commit(400);
        await waitFor(async () => (await pendingCount(dataSourceLike, subject)) === 0, 60_000, 'both processes to drain the outbox');
        const relayedA = await relayedBy(a.url);
        const relayedB = await relayedBy(b.url);
        // Neither instance published a row the other had published: the counts add up exactly.
        expect(relayedA + relayedB - relayedBefore).toBe(400);
        expect(exactlyOnce(committed, await streamIds(nats.url, subject))).toEqual({ missing: [], duplicated: [], unexpected: [] });

        // Kill one process mid-flow: the survivor relays the rest, and nothing is lost or doubled.
        const flow = commit(300);
        await sleep(150);
        a.child.kill('SIGKILL');
        await flow;
        await waitFor(async () => (await pendingCount(dataSourceLike, subject)) === 0, 60_000, 'the survivor to drain the outbox');
        expect(committed).toHaveLength(700);
        expect(exactlyOnce(committed, await streamIds(nats.url, subject))).toEqual({ missing: [], duplicated: [], unexpected: [] });
        expect(b.child.exitCode).toBeNull();
      } finally {
        await pool.end();
        for (const proc of [a, b]) await proc.stop();
      }
      // A SIGTERM'd process shuts down cleanly (exit code 0).
      expect(b.child.exitCode).toBe(0);
    }, 180_000);
  });
});
