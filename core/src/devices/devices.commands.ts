import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';

interface Plant {
  endpointUrl: string;
  items: unknown[];
  alarms: unknown[];
  setFault(deviceIndex: number, active: boolean): void;
  stop(): Promise<void>;
}
interface SerialSim {
  devicePath: string;
  deviceIds: string[];
  setFault(deviceIndex: number, code: string | null): void;
  stop(): Promise<void>;
}

/** Loads a device plugin's built simulator; the plugins are workspace packages built by `npm run build`. */
async function loadSimulator<T>(pluginPackage: string, exportName: string): Promise<T> {
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = dirname(require.resolve(`${pluginPackage}/package.json`));
  } catch {
    throw new Error(`${pluginPackage} is not installed next to the core`);
  }
  const module = (await import(join(root, 'dist', 'simulator.js')).catch(() => {
    throw new Error(`${pluginPackage} is not built; run npm run build`);
  })) as Record<string, T>;
  return module[exportName]!;
}

export function registerDeviceCommands(program: Command): void {
  const devices = program.command('devices').description('Device fleet tools');
  devices
    .command('simulate')
    .description('Run simulated devices for demos: an OPC UA plant (node-opcua) and serial devices on a socat pty, tripping faults now and then')
    .option('--opcua-port <port>', 'OPC UA server port', '4840')
    .option('--devices <n>', 'simulated OPC UA devices', '5')
    .option('--serial <n>', 'simulated serial devices on one pty (0 = none)', '2')
    .option('--fault-every <seconds>', 'trip a fault on some device this often (0 = never)', '90')
    .option('--fault-seconds <seconds>', 'how long a fault lasts', '45')
    .action(async (options: { opcuaPort: string; devices: string; serial: string; faultEvery: string; faultSeconds: string }) => {
      const count = Number(options.devices);
      const serialCount = Number(options.serial);
      if (!Number.isInteger(count) || count < 0 || count > 2000) throw new Error('--devices must be 0–2000');
      if (!Number.isInteger(serialCount) || serialCount < 0 || serialCount > 50) throw new Error('--serial must be 0–50');
      const startPlant = await loadSimulator<
        (options: { port: number; devices: number; metricsPerDevice: number; tickMs: number; prefix?: string }) => Promise<Plant>
      >('@switchboard/iot-opcua', 'startSimulatedPlant');
      const plant =
        count > 0 ? await startPlant({ port: Number(options.opcuaPort), devices: count, metricsPerDevice: 4, tickMs: 2000, prefix: 'plant-' }) : undefined;
      let serial: SerialSim | undefined;
      if (serialCount > 0) {
        const startSerial = await loadSimulator<(options: { devices: number; intervalMs: number }) => Promise<SerialSim>>(
          '@switchboard/iot-serial',
          'startSerialSimulator',
        );
        serial = await startSerial({ devices: serialCount, intervalMs: 2000 });
      }
      const out = (text: string) => process.stdout.write(`${text}\n`);
      out('Simulated devices are running. Register them and add plugin instances with these configurations:\n');
      if (plant) {
        out(
          `OPC UA plant at ${plant.endpointUrl} (devices plant-0001…plant-${String(count).padStart(4, '0')}; metrics temperature, m1–m3; alarms raise fault code E42)`,
        );
        out(
          JSON.stringify({
            pluginId: 'iot-opcua',
            config: {
              endpointUrl: plant.endpointUrl,
              securityMode: 'None',
              securityPolicy: 'None',
              trustServerOnFirstUse: true,
              items: plant.items,
              alarms: plant.alarms,
            },
          }),
        );
      }
      if (serial) {
        out(`\nSerial devices ${serial.deviceIds.join(', ')} on ${serial.devicePath} (JSON lines: pressure, flow, fault_code)`);
        out(JSON.stringify({ pluginId: 'iot-serial', config: { path: serial.devicePath, baudRate: 9600, framing: 'json-lines' } }));
      }
      const faultEvery = Number(options.faultEvery) * 1000;
      const faultFor = Number(options.faultSeconds) * 1000;
      let round = 0;
      const timer =
        faultEvery > 0
          ? setInterval(() => {
              round++;
              if (plant && round % 2 === 1) {
                const index = round % count;
                out(`fault: plant device ${index + 1} (E42, temperature 95) for ${faultFor / 1000} s`);
                plant.setFault(index, true);
                setTimeout(() => plant.setFault(index, false), faultFor);
              } else if (serial) {
                const index = round % serial.deviceIds.length;
                out(`fault: serial device ${serial.deviceIds[index]} (E12) for ${faultFor / 1000} s`);
                serial.setFault(index, 'E12');
                setTimeout(() => serial!.setFault(index, null), faultFor);
              }
            }, faultEvery)
          : undefined;
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      if (timer) clearInterval(timer);
      await Promise.allSettled([plant?.stop(), serial?.stop()]);
    });
}
