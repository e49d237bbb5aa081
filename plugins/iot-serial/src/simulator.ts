/**
 * A simulated serial device for demos (`switchboard devices simulate --serial`): socat makes a
 * pty pair, the plugin opens one end, this writes JSON lines to the other.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';

export interface SerialSimulator {
  /** The path the iot-serial plugin should open. */
  devicePath: string;
  deviceIds: string[];
  setFault(deviceIndex: number, code: string | null): void;
  stop(): Promise<void>;
}

export async function startSerialSimulator(options: { devices: number; intervalMs: number; prefix?: string }): Promise<SerialSimulator> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-serial-sim-'));
  const devicePath = join(dir, 'ttySWITCHBOARD');
  const simulatorPath = join(dir, 'ttySIM');
  const socat: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${simulatorPath}`], { stdio: 'ignore' });
  const deadline = Date.now() + 5000;
  while (!(existsSync(devicePath) && existsSync(simulatorPath))) {
    if (socat.exitCode !== null || Date.now() > deadline) throw new Error('socat could not create a pty pair (apt-get install socat)');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const port = new SerialPort({ path: simulatorPath, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  const deviceIds = Array.from({ length: options.devices }, (_, index) => `${options.prefix ?? 'line-'}${String(index + 1).padStart(3, '0')}`);
  const faults = new Map<number, string>();
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    for (const [index, deviceId] of deviceIds.entries()) {
      const line = {
        deviceId,
        pressure: Math.round((3 + Math.sin(tick / 5 + index) * 0.2) * 100) / 100,
        flow: 120 + ((tick + index) % 7),
        fault_code: faults.get(index) ?? '0',
      };
      port.write(`${JSON.stringify(line)}\n`);
    }
  }, options.intervalMs);
  return {
    devicePath,
    deviceIds,
    setFault(deviceIndex, code) {
      if (code) faults.set(deviceIndex, code);
      else faults.delete(deviceIndex);
    },
    async stop() {
      clearInterval(timer);
      await new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
      socat.kill('SIGTERM');
    },
  };
}
