/**
 * Device benchmarks (issue 9), printed figures rather than assertions:
 *
 * 1. Readings/s through the device rules on one core, with the in-process bus (SQLite) and with
 *    NATS (MariaDB): 1,000 simulated devices × 10 metrics, 10 ticks; 50 devices go out of range.
 *    Afterwards exactly-once ticketing is checked (one device_fault ticket per faulty device).
 *    The telemetry consumer applies up to 250 messages per transaction (TelemetryService).
 *    Each run prints the 1-minute load average before and after it: this machine is shared.
 *    Baseline in the same run: the same readings inserted raw (one multi-row INSERT per message).
 * 2. OPC UA: a simulated plant (separate process) with 5,000 variables changing every second,
 *    monitored by the plugin's OpcuaSource; reports changes received vs written and the client's CPU.
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { loadConfig } from '../platform/config/config.loader.js';
import { createApp } from '../main.js';
import { createLogger } from '../platform/logging/logger.js';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { BUS, type Bus } from '../platform/bus/bus.port.js';
import { SYSTEM_ACTOR } from '../identity/actor.js';
import { DevicesService } from '../devices/devices.service.js';
import { DeviceRulesService } from '../devices/rules.service.js';
import { telemetrySubject } from '../devices/devices.events.js';

export interface DevicesBenchOptions {
  serverUrl?: string;
  natsUrl?: string;
  devices?: number;
  metrics?: number;
  ticks?: number;
  faulty?: number;
  opcuaItems?: number;
  opcuaSeconds?: number;
  log?: (line: string) => void;
}

interface RulesRun {
  backend: string;
  readings: number;
  seconds: number;
  readingsPerSecond: number;
  rawReadingsPerSecond: number;
  ratio: number;
  faultTickets: number;
  expectedFaultTickets: number;
  exactlyOnce: boolean;
  /** 1-minute load average when the run started and when it ended. */
  loadAverage: [number, number];
}

async function rulesRun(
  backend: 'inprocess' | 'nats',
  options: Required<Pick<DevicesBenchOptions, 'devices' | 'metrics' | 'ticks' | 'faulty'>> & DevicesBenchOptions,
): Promise<RulesRun> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-devices-'));
  let databaseUrl: string | undefined;
  if (backend === 'nats') {
    const mysql = await import('mysql2/promise');
    const name = `bench_devices_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    const admin = await mysql.createConnection(`${options.serverUrl}/mysql`);
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await admin.end();
    databaseUrl = `${options.serverUrl}/${name}`;
  }
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOCAL_ADMIN_GENERATE_AT_START: 'false',
    ...(backend === 'nats' ? { DATABASE_URL: databaseUrl!, NATS_URL: options.natsUrl!, DATABASE_POOL_SIZE: '32' } : {}),
  });
  const app = await createApp(config, createLogger(config));
  await app.init();
  try {
    const devices = app.get(DevicesService);
    const rules = app.get(DeviceRulesService);
    const bus = app.get<Bus>(BUS);
    const dataSource = app.get<DataSource>(DATA_SOURCE);
    await rules.create({
      name: 'Overheat',
      scopeModel: 'BENCH',
      kind: 'threshold',
      metric: 'temperature',
      params: { op: '>', value: 90, clearValue: 85 },
      severity: 'major',
      title: 'Overheat',
    });
    await rules.create({
      name: 'Fault code',
      scopeModel: 'BENCH',
      kind: 'fault_code',
      metric: 'fault_code',
      params: { codes: { E42: { severity: 'critical' } } },
      severity: 'critical',
      title: 'Fault',
    });
    const ids = Array.from({ length: options.devices }, (_, index) => `bench-${String(index).padStart(5, '0')}`);
    for (const id of ids) await devices.create(SYSTEM_ACTOR, { id, name: id, model: 'BENCH' });

    const messages: Array<{ deviceId: string; readings: Array<{ metric: string; value: number | string; ts: string }> }> = [];
    const start = Date.now() - options.ticks * 1000;
    for (let tick = 0; tick < options.ticks; tick++) {
      const ts = new Date(start + tick * 1000).toISOString();
      ids.forEach((deviceId, index) => {
        const faulty = index < options.faulty && tick >= 2;
        const readings: Array<{ metric: string; value: number | string; ts: string }> = [{ metric: 'temperature', value: faulty ? 95 : 40 + (tick % 3), ts }];
        for (let metric = 1; metric < options.metrics; metric++) readings.push({ metric: `m${metric}`, value: metric + tick / 10, ts });
        messages.push({ deviceId, readings });
      });
    }
    const total = messages.length;
    const loadBefore = Math.round(loadavg()[0]! * 10) / 10;
    const began = process.hrtime.bigint();
    // Publish in per-tick waves, as devices would: a device's readings stay in order.
    for (let offset = 0; offset < total; offset += options.devices) {
      const wave = messages.slice(offset, offset + options.devices);
      await Promise.all(wave.map((message) => bus.publish(telemetrySubject(message.deviceId), message, { msgId: randomUUID() })));
    }
    const deadline = Date.now() + 600_000;
    for (;;) {
      const [row] = (await dataSource.query(`SELECT COUNT(*) AS n FROM processed_events WHERE consumer = 'devices-telemetry'`)) as Array<{
        n: number | string;
      }>;
      if (Number(row!.n) >= total) break;
      if (Date.now() > deadline) throw new Error(`only ${row!.n} of ${total} telemetry messages processed`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = Number(process.hrtime.bigint() - began) / 1e9;
    const readings = total * options.metrics;
    const [tickets] = (await dataSource.query(`SELECT COUNT(*) AS n FROM tickets WHERE type = 'device_fault'`)) as Array<{ n: number | string }>;

    // Baseline: the same rows, inserted raw, one multi-row INSERT per message, same store.
    const rawBegan = process.hrtime.bigint();
    const concurrency = backend === 'nats' ? 8 : 1;
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const message = messages[next++]!;
          const placeholders = message.readings.map(() => '(?, ?, ?, ?, ?, ?)').join(', ');
          const params = message.readings.flatMap((reading) => [
            `raw-${message.deviceId}`,
            reading.metric,
            typeof reading.value === 'number' ? reading.value : null,
            typeof reading.value === 'string' ? reading.value : null,
            backend === 'nats' ? new Date(reading.ts) : reading.ts.replace('T', ' ').replace('Z', ''),
            'good',
          ]);
          await dataSource.query(`INSERT INTO device_readings (device_id, metric, value_num, value_text, ts, quality) VALUES ${placeholders}`, params);
        }
      }),
    );
    const rawSeconds = Number(process.hrtime.bigint() - rawBegan) / 1e9;
    return {
      backend: backend === 'nats' ? 'MariaDB + NATS' : 'SQLite + in-process bus',
      readings,
      seconds: Math.round(seconds * 100) / 100,
      readingsPerSecond: Math.round(readings / seconds),
      rawReadingsPerSecond: Math.round(readings / rawSeconds),
      ratio: Math.round((readings / seconds / (readings / rawSeconds)) * 100) / 100,
      faultTickets: Number(tickets!.n),
      expectedFaultTickets: options.faulty,
      exactlyOnce: Number(tickets!.n) === options.faulty,
      loadAverage: [loadBefore, Math.round(loadavg()[0]! * 10) / 10],
    };
  } finally {
    await app.close();
  }
}

const PLANT_SCRIPT = `
const { startSimulatedPlant } = await import(process.env.PLANT_MODULE);
const plant = await startSimulatedPlant({ port: Number(process.env.PLANT_PORT), devices: Number(process.env.PLANT_DEVICES), metricsPerDevice: 10, tickMs: 1000, prefix: 'opc-' });
process.send({ ready: true, endpointUrl: plant.endpointUrl, items: plant.items });
process.on('message', async (message) => {
  if (message === 'count') process.send({ written: plant.changesWritten() });
  if (message === 'stop') { await plant.stop(); process.exit(0); }
});
`;

async function opcuaRun(items: number, seconds: number) {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const pluginDist = join(require.resolve('@switchboard/iot-opcua/package.json'), '..', 'dist');
  const sourceModule = (await import(join(pluginDist, 'opcua-source.js'))) as {
    OpcuaSource: new (
      config: unknown,
      emit: (reading: unknown) => void,
    ) => { start(): Promise<void>; stop(): Promise<void>; counters: { monitoredItems: number; subscriptions: number } };
  };
  const scriptDir = mkdtempSync(join(tmpdir(), 'sb-bench-plant-'));
  const script = join(scriptDir, 'plant.mjs');
  writeFileSync(script, PLANT_SCRIPT);
  const { freePort } = (await import(fileURLToPath(new URL('../../test/harness/servers.mjs', import.meta.url)))) as { freePort(): Promise<number> };
  const port = await freePort();
  const child = fork(script, [], {
    env: { ...process.env, PLANT_MODULE: join(pluginDist, 'simulator.js'), PLANT_PORT: String(port), PLANT_DEVICES: String(Math.ceil(items / 10)) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const reply = <T>() => new Promise<T>((resolve) => child.once('message', (reply) => resolve(reply as T)));
  const ready = await new Promise<{ endpointUrl: string; items: unknown[] }>((resolve) =>
    child.once('message', (reply) => resolve(reply as { endpointUrl: string; items: unknown[] })),
  );
  let received = 0;
  const source = new sourceModule.OpcuaSource(
    {
      endpointUrl: ready.endpointUrl,
      securityMode: 'None',
      securityPolicy: 'None',
      pkiDir: mkdtempSync(join(tmpdir(), 'sb-bench-opcua-')),
      trustServerOnFirstUse: true,
      items: ready.items,
      publishingIntervalMs: 500,
      maxItemsPerSubscription: 1000,
    },
    () => received++,
  );
  await source.start();
  await new Promise((resolve) => setTimeout(resolve, 3000)); // initial values settle
  child.send('count');
  const writtenBefore = (await reply<{ written: number }>()).written;
  const receivedBefore = received;
  const cpuBefore = process.cpuUsage();
  const wallBefore = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  child.send('count');
  const writtenAfter = (await reply<{ written: number }>()).written;
  // Changes written in the window may still be in flight: give the last publish a moment.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const receivedAfter = received;
  const cpu = process.cpuUsage(cpuBefore);
  const wall = Number(process.hrtime.bigint() - wallBefore) / 1e9;
  const counters = source.counters;
  await source.stop();
  child.send('stop');
  const written = writtenAfter - writtenBefore;
  const got = receivedAfter - receivedBefore;
  return {
    monitoredItems: counters.monitoredItems,
    subscriptions: counters.subscriptions,
    changesWritten: written,
    changesReceived: got,
    delivered: Math.round((got / Math.max(1, written)) * 1000) / 1000,
    clientCpuPercentOfOneCore: Math.round(((cpu.user + cpu.system) / 1e6 / wall) * 1000) / 10,
  };
}

export async function benchDevices(options: DevicesBenchOptions = {}) {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const settings = { devices: options.devices ?? 1000, metrics: options.metrics ?? 10, ticks: options.ticks ?? 10, faulty: options.faulty ?? 50, ...options };
  const runs: RulesRun[] = [];
  runs.push(await rulesRun('inprocess', settings));
  log(`devices: ${JSON.stringify(runs.at(-1))}`);
  if (options.serverUrl && options.natsUrl) {
    runs.push(await rulesRun('nats', settings));
    log(`devices: ${JSON.stringify(runs.at(-1))}`);
  }
  const opcua = await opcuaRun(options.opcuaItems ?? 5000, options.opcuaSeconds ?? 10);
  log(`opcua: ${JSON.stringify(opcua)}`);
  return { rules: runs, opcua };
}
