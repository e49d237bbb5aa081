import { afterEach, describe, expect, it } from '@jest/globals';
import { SerialSource, type SerialReading } from '../src/serial-source.js';
import { PtyPair } from './support/pty.js';
import { DeviceSimulator } from './support/simulator.js';

async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('serial source over a socat pty pair', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
  });

  async function setup(config: Partial<ConstructorParameters<typeof SerialSource>[0]>) {
    const pty = new PtyPair();
    await pty.start();
    cleanups.push(() => pty.stop());
    const readings: SerialReading[] = [];
    const source = new SerialSource(
      { path: pty.device, baudRate: 9600, framing: 'json-lines', reconnect: { initialMs: 50, maxMs: 400 }, ...config },
      (reading) => readings.push(reading),
    );
    source.start();
    cleanups.push(() => source.stop());
    await until(() => source.state === 'open', 5000, 'the port to open');
    const simulator = new DeviceSimulator(pty.simulator);
    await simulator.open();
    cleanups.push(() => simulator.close());
    return { pty, source, simulator, readings };
  }

  it('turns JSON lines into readings and counts garbage without crashing', async () => {
    const { source, simulator, readings } = await setup({ framing: 'json-lines', deviceId: 'boiler-1' });
    await simulator.write('{"temperature":71.5,"fault_code":"0"}\n');
    await simulator.write(Buffer.from([0x00, 0xff, 0xfe, 0x0a])); // binary noise, then a newline
    await simulator.write('{"temperature": 7\n'); // truncated JSON
    await simulator.write('{"deviceId":"boiler-2","fault_code":"E12"}\n');
    await until(() => readings.length === 2 && source.counters.malformed === 2, 5000, 'two readings and two malformed lines');
    expect(readings.map((reading) => [reading.deviceId, reading.metrics])).toEqual([
      ['boiler-1', { temperature: 71.5, fault_code: '0' }],
      ['boiler-2', { fault_code: 'E12' }],
    ]);
  });

  it('polls Modbus RTU registers and skips bad CRCs, truncated frames and garbage', async () => {
    const { source, simulator, readings } = await setup({
      framing: 'modbus-rtu',
      modbus: {
        pollIntervalMs: 30,
        responseTimeoutMs: 150,
        blocks: [
          {
            deviceId: 'pump-7',
            slave: 1,
            address: 0,
            count: 2,
            registers: [
              { metric: 'pressure', offset: 0, type: 'uint16', scale: 0.01 },
              { metric: 'fault_code', offset: 1, type: 'code' },
            ],
          },
        ],
      },
    });
    simulator.registers.set(0, 325);
    simulator.registers.set(1, 0);
    await until(() => readings.length >= 2, 5000, 'Modbus readings');
    expect(readings[0]).toMatchObject({ deviceId: 'pump-7', metrics: { pressure: 3.25, fault_code: '0' } });

    const before = readings.length;
    simulator.mode = 'bad-crc';
    await until(() => source.counters.badCrc >= 2, 5000, 'CRC failures');
    simulator.mode = 'truncated';
    await until(() => source.counters.timeouts >= 1 || source.counters.malformed >= 1, 5000, 'a truncated frame');
    simulator.mode = 'garbage';
    await until(() => source.counters.malformed >= 2, 5000, 'garbage frames');
    // None of the broken replies became a reading.
    expect(readings.length).toBe(before);

    simulator.mode = 'ok';
    simulator.registers.set(1, 12);
    await until(() => readings.at(-1)?.metrics.fault_code === 'E12', 5000, 'the fault code');
  });

  it('reconnects after the port disappears and returns', async () => {
    const { pty, source, readings } = await setup({ framing: 'kv-lines', deviceId: 'meter-3' });
    await pty.stop();
    await until(() => source.state === 'waiting' || source.state === 'connecting', 5000, 'the link to notice the unplug');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await pty.start();
    await until(() => source.state === 'open' && source.counters.reconnects >= 1, 8000, 'the reconnect');
    const simulator = new DeviceSimulator(pty.simulator);
    await simulator.open();
    cleanups.push(() => simulator.close());
    await simulator.write('energy=12.5\n');
    await until(() => readings.length === 1, 5000, 'a reading after the reconnect');
    expect(readings[0]!.metrics).toEqual({ energy: 12.5 });
  });
});
