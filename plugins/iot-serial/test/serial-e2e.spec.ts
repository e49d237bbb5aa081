import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestCore, type TestCore } from '@switchboard/plugin-sdk/testing';
import { PtyPair } from './support/pty.js';
import { DeviceSimulator } from './support/simulator.js';

/** A serial device on a real socat pty, read by the iot-serial plugin inside a core: a fault code opens a ticket. */
describe('serial fault codes open tickets', () => {
  let core: TestCore;
  const pty = new PtyPair();
  let device: DeviceSimulator;
  const admin = { roles: ['admin' as const] };
  const tickets = async () =>
    (await core.request('GET', '/api/v1/devices/pump-3/tickets', { as: admin })).json.items as Array<{ status: string; priority: string; type: string }>;

  beforeAll(async () => {
    await pty.start();
    core = await startTestCore({ plugins: [new URL('..', import.meta.url)] });
    expect((await core.request('POST', '/api/v1/devices', { as: admin, body: { id: 'pump-3', name: 'Pump 3', model: 'P-9' } })).status).toBe(201);
    expect(
      (
        await core.request('POST', '/api/v1/devices/rules', {
          as: admin,
          body: {
            name: 'Pump faults',
            scopeModel: 'P-9',
            kind: 'fault_code',
            metric: 'fault_code',
            params: { codes: { E12: { severity: 'critical', title: 'Seal leak' } } },
            severity: 'major',
            title: 'Pump fault',
          },
        })
      ).status,
    ).toBe(201);
    await core.addInstance('iot-serial', { config: { path: pty.device, baudRate: 9600, framing: 'json-lines', reconnect: { initialMs: 100, maxMs: 1000 } } });
    device = new DeviceSimulator(pty.simulator);
    await device.open();
  }, 60_000);

  afterAll(async () => {
    await device?.close();
    await core?.close();
    await pty.stop();
  });

  it('turns a fault code into one critical ticket, ignoring garbage on the line', async () => {
    await device.write('{"deviceId":"pump-3","pressure":3.1,"fault_code":"0"}\n');
    await device.write(Buffer.from([0xff, 0x00, 0x13, 0x0a]));
    await device.write('{"deviceId":"pump-3","pressure":2.2,"fault_code":"E12"}\n');
    await device.write('{"deviceId":"pump-3","pressure":2.1,"fault_code":"E12"}\n');
    const [ticket] = await core.waitFor(async () => ((await tickets()).length ? tickets() : undefined), 30_000, 'the fault ticket');
    expect(ticket).toMatchObject({ type: 'device_fault', priority: 'urgent' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await tickets()).toHaveLength(1);
    // The garbage line was counted, not turned into a reading (instance health in /health/ready).
    const health = (await core.request('GET', '/health/ready')).json as { components: Record<string, { detail?: string }> };
    const serial = Object.entries(health.components).find(([name]) => name.startsWith('plugin:'))?.[1];
    expect(serial?.detail).toContain('malformed=1');
  }, 60_000);
});
