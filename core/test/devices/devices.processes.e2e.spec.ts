/**
 * Two real `switchboard start` processes on one MariaDB and one NATS consume the same devices'
 * telemetry: exactly one episode row and one ticket per (device, rule), every reading stored
 * once, also when one process is killed mid-flow (its unacknowledged batch is redelivered to
 * the other). Needs the built core (`npm run build`).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'mysql2/promise';
import { MYSQL_BACKEND, mysqlAvailable, startTestApp, waitFor } from '../harness/test-app.js';
import { killCoreProcesses, startCoreProcess, type CoreProcess } from '../harness/core-process.js';

const describeProcesses = mysqlAvailable() ? describe : describe.skip;
const json = { 'content-type': 'application/json' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Devices fed directly on the bus (as device plugins do) and the one fed over HTTP through both processes. */
const BUS_DEVICES = Array.from({ length: 20 }, (_, index) => `px-${String(index + 1).padStart(2, '0')}`);
const HTTP_DEVICE = 'px-00';

describeProcesses('device telemetry consumed by two core processes (MariaDB + NATS)', () => {
  let env: Record<string, string>;
  let a: CoreProcess;
  let b: CoreProcess;
  let pool: Pool;
  let telemetryKey: string;
  let publish: (deviceId: string, temperature: number) => Promise<void>;
  let closeNats: () => Promise<void>;
  /** Telemetry messages and readings sent so far (every one must be processed exactly once). */
  let sentMessages = 0;
  let sentReadings = 0;

  beforeAll(async () => {
    env = await MYSQL_BACKEND.env();
    // Devices, the rule and a gateway key, set up through an in-process core that is closed
    // again before the processes start, so only the two processes consume telemetry.
    const setup = await startTestApp({ env });
    try {
      const admin = { ...(await setup.authHeaders({ roles: ['admin'] })), ...json };
      const key = await fetch(`${setup.url}/api/v1/api-keys`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ name: 'gateway', scopes: ['telemetry:write'] }),
      });
      expect(key.status).toBe(201);
      telemetryKey = ((await key.json()) as { key: string }).key;
      for (const id of [HTTP_DEVICE, ...BUS_DEVICES]) {
        const created = await fetch(`${setup.url}/api/v1/devices`, { method: 'POST', headers: admin, body: JSON.stringify({ id, name: id, model: 'PX-1' }) });
        expect(created.status).toBe(201);
      }
      const rule = await fetch(`${setup.url}/api/v1/devices/rules`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({
          name: 'Overheat',
          scopeModel: 'PX-1',
          kind: 'threshold',
          metric: 'temperature',
          params: { op: '>', value: 80, clearValue: 75 },
          severity: 'major',
          title: 'Temperature too high',
        }),
      });
      expect(rule.status).toBe(201);
    } finally {
      await setup.close();
    }
    [a, b] = await Promise.all([startCoreProcess('devices-a', env), startCoreProcess('devices-b', env)]);

    const mysql = await import('mysql2/promise');
    pool = mysql.createPool({ uri: env.DATABASE_URL!, connectionLimit: 2 });
    const { connect } = await import('@nats-io/transport-node');
    const { jetstream } = await import('@nats-io/jetstream');
    const nc = await connect({ servers: env.NATS_URL! });
    const js = jetstream(nc);
    publish = async (deviceId, temperature) => {
      const message = {
        deviceId,
        readings: [
          { metric: 'temperature', value: temperature },
          { metric: 'pressure', value: 3.2 },
        ],
      };
      await js.publish(`sb.telemetry.${deviceId}`, JSON.stringify(message), { msgID: randomUUID() });
      sentMessages++;
      sentReadings += 2;
    };
    closeNats = () => nc.close();
  }, 240_000);

  afterAll(async () => {
    await closeNats?.();
    await pool?.end();
    await Promise.allSettled([a?.stop(), b?.stop()]);
    killCoreProcesses();
  });

  const query = async <T>(sql: string, params: unknown[] = []) => (await pool.query(sql, params))[0] as T;
  const processed = async () =>
    Number((await query<Array<{ n: number }>>(`SELECT COUNT(*) AS n FROM processed_events WHERE consumer = 'devices-telemetry'`))[0]!.n);
  const readings = async () => Number((await query<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM device_readings'))[0]!.n);
  const episodes = () =>
    query<Array<{ device_id: string; rule_id: string; n: number; occurrences: number; status: string; ticket_id: string | null }>>(
      'SELECT device_id, rule_id, COUNT(*) AS n, MAX(occurrences) AS occurrences, MAX(status) AS status, MAX(ticket_id) AS ticket_id FROM fault_episodes GROUP BY device_id, rule_id ORDER BY device_id',
    );
  const faultTickets = () => query<Array<{ id: string; status: string }>>(`SELECT id, status FROM tickets WHERE type = 'device_fault'`);
  const acked = async (proc: CoreProcess) => {
    const text = await (await fetch(`${proc.url}/metrics`)).text();
    const line = text
      .split('\n')
      .find((entry) => entry.startsWith('sb_bus_consumed_total') && entry.includes('consumer="devices-telemetry"') && entry.includes('outcome="ack"'));
    return Number(line?.split(' ').at(-1) ?? 0);
  };
  const sendHttp = (proc: CoreProcess, temperature: number) =>
    fetch(`${proc.url}/api/v1/telemetry`, {
      method: 'POST',
      headers: { 'x-api-key': telemetryKey, ...json },
      body: JSON.stringify({ deviceId: HTTP_DEVICE, readings: [{ metric: 'temperature', value: temperature }] }),
    });
  /** `rounds` faulty messages per bus device, in waves (one message per device per wave). */
  const feedBus = async (rounds: number, temperature: number, afterFirstWave?: () => void) => {
    for (let round = 0; round < rounds; round++) {
      await Promise.all(BUS_DEVICES.map((deviceId) => publish(deviceId, temperature + (round % 3))));
      if (round === 0) afterFirstWave?.();
      await sleep(20);
    }
  };

  it('opens exactly one episode and one ticket per device, fed over HTTP through both processes and on the bus', async () => {
    // Over HTTP, alternately through each process: a normal sample, then twelve faulty ones.
    expect((await sendHttp(a, 70)).status).toBe(202);
    for (let index = 0; index < 12; index++) expect((await sendHttp(index % 2 ? b : a, 85 + index)).status).toBe(202);
    sentMessages += 13;
    sentReadings += 13;
    // On the bus, as device plugins publish: twenty faulty messages for each of twenty devices.
    await feedBus(20, 90);
    await waitFor(async () => (await processed()) === sentMessages, 90_000, `all ${sentMessages} telemetry messages to be processed`);

    const rows = await episodes();
    expect(rows.map((row) => row.device_id)).toEqual([HTTP_DEVICE, ...BUS_DEVICES]);
    // No duplicate episode rows, and every violating sample counted exactly once.
    expect(rows.filter((row) => Number(row.n) !== 1)).toEqual([]);
    expect(Number(rows[0]!.occurrences)).toBe(12);
    expect(rows.slice(1).filter((row) => Number(row.occurrences) !== 20)).toEqual([]);
    const tickets = await faultTickets();
    expect(tickets).toHaveLength(21);
    expect(new Set(rows.map((row) => row.ticket_id))).toEqual(new Set(tickets.map((ticket) => ticket.id)));
    expect(await readings()).toBe(sentReadings);
    // Both processes took part in consuming.
    const [byA, byB] = [await acked(a), await acked(b)];
    expect(byA + byB).toBe(sentMessages);
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
  }, 180_000);

  it('loses no reading and opens no second ticket when a process is killed mid-flow', async () => {
    // SIGKILL one process right after the first wave: whatever it had taken but not committed is
    // redelivered to the other once the ack wait (60 s) is over.
    await feedBus(20, 91, () => a.child.kill('SIGKILL'));
    await waitFor(async () => (await processed()) === sentMessages, 150_000, `all ${sentMessages} telemetry messages to be processed by the survivor`);
    expect(await readings()).toBe(sentReadings);
    const rows = await episodes();
    expect(rows.filter((row) => Number(row.n) !== 1)).toEqual([]);
    expect(rows.slice(1).filter((row) => Number(row.occurrences) !== 40)).toEqual([]);
    expect(await faultTickets()).toHaveLength(21);
    expect(b.child.exitCode).toBeNull();
  }, 200_000);

  it('closes every episode and solves its ticket on recovery', async () => {
    await Promise.all(BUS_DEVICES.map((deviceId) => publish(deviceId, 60)));
    expect((await sendHttp(b, 60)).status).toBe(202);
    sentMessages++;
    sentReadings++;
    await waitFor(async () => (await episodes()).every((row) => row.status === 'closed'), 60_000, 'every episode to close');
    const tickets = await faultTickets();
    expect(tickets).toHaveLength(21);
    expect(tickets.filter((ticket) => ticket.status !== 'solved')).toEqual([]);
    expect(await readings()).toBe(sentReadings);
  }, 90_000);
});
