import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusCodes } from 'node-opcua';
import { OpcuaSource, qualityOf, type OpcuaReading, type OpcuaSourceConfig } from '../src/opcua-source.js';
import { TestOpcuaServer } from './support/opcua-server.js';
import { freePort } from '../../../core/test/harness/servers.mjs';

async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('OPC UA source against a real node-opcua server', () => {
  let server: TestOpcuaServer;
  const sources: OpcuaSource[] = [];

  beforeAll(async () => {
    server = new TestOpcuaServer(await freePort());
    await server.start();
  }, 60_000);

  afterAll(async () => {
    for (const source of sources) await source.stop();
    await server?.stop();
  });

  function source(overrides: Partial<OpcuaSourceConfig>, readings: OpcuaReading[]): OpcuaSource {
    const created = new OpcuaSource(
      {
        endpointUrl: server.endpointUrl,
        securityMode: 'None',
        securityPolicy: 'None',
        pkiDir: mkdtempSync(join(tmpdir(), 'sb-opcua-client-')),
        trustServerOnFirstUse: true,
        items: [
          { deviceId: 'chiller-7', metric: 'temperature', nodeId: 'ns=1;s=Chiller7.Temperature', samplingIntervalMs: 50 },
          { deviceId: 'chiller-7', metric: 'fault_register', browsePath: '/1:Chiller7/1:FaultCode', samplingIntervalMs: 50 },
        ],
        alarms: [{ deviceId: 'chiller-7', match: 'CompressorFault', code: 'E12' }],
        publishingIntervalMs: 100,
        ...overrides,
      },
      (reading) => readings.push(reading),
    );
    sources.push(created);
    return created;
  }

  it('maps status codes to quality', () => {
    expect(qualityOf(StatusCodes.Good.value)).toBe('good');
    expect(qualityOf(StatusCodes.UncertainLastUsableValue.value)).toBe('uncertain');
    expect(qualityOf(StatusCodes.BadSensorFailure.value)).toBe('bad');
  });

  it('streams value changes with quality, resolves browse paths and maps alarms to fault codes', async () => {
    const readings: OpcuaReading[] = [];
    const client = source({}, readings);
    await client.start();
    expect(client.counters.monitoredItems).toBe(2);
    await until(() => readings.some((reading) => reading.metric === 'temperature' && reading.value === 20), 10_000, 'the initial value');
    server.setTemperature(85.5);
    await until(() => readings.some((reading) => reading.value === 85.5), 10_000, 'the new value');
    server.setTemperature(85.5, StatusCodes.BadSensorFailure);
    await until(() => readings.some((reading) => reading.metric === 'temperature' && reading.quality === 'bad'), 10_000, 'a Bad reading');

    server.setFault(12);
    await until(() => readings.some((reading) => reading.metric === 'fault_code' && reading.value === 'E12'), 10_000, 'the alarm');
    // The register's data change and the alarm event travel separately; both arrive.
    await until(() => readings.some((reading) => reading.metric === 'fault_register' && reading.value === 12), 10_000, 'the fault register change');
    server.setFault(0);
    await until(() => readings.some((reading) => reading.metric === 'fault_code' && reading.value === '0'), 10_000, 'the alarm to clear');
    server.setTemperature(21);
  }, 60_000);

  it('reconnects and resumes its subscriptions after the server restarts', async () => {
    const readings: OpcuaReading[] = [];
    const client = source({ alarms: [] }, readings);
    await client.start();
    await until(() => readings.length > 0, 10_000, 'first readings');
    await server.restart(800);
    server.setTemperature(66.6);
    await until(() => readings.some((reading) => reading.value === 66.6), 30_000, 'a value after the restart');
    expect(client.counters.reconnects + client.counters.sessionRestores).toBeGreaterThan(0);
  }, 90_000);

  it('works over a SignAndEncrypt endpoint', async () => {
    const readings: OpcuaReading[] = [];
    const client = source({ securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', alarms: [] }, readings);
    await client.start();
    server.setTemperature(42.25);
    await until(() => readings.some((reading) => reading.value === 42.25), 20_000, 'an encrypted reading');
  }, 90_000);
});
