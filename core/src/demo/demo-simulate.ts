import { DEMO_DEVICES } from './demo-data.js';

export interface SimulatorOptions {
  /** Base URL of a running core, e.g. http://127.0.0.1:3000. */
  url: string;
  /** An API key with the `telemetry:write` scope (`demo seed` creates one). */
  apiKey: string;
  intervalMs?: number;
  /** Stop after this many rounds (default: until the signal aborts). */
  rounds?: number;
  signal?: AbortSignal;
  log?(line: string): void;
}

/** One round of plausible readings for a demo device; the faulty cold room stays too warm. */
export function demoReadings(device: (typeof DEMO_DEVICES)[number], round: number, now = new Date()): Array<{ metric: string; value: number; ts: string }> {
  const wave = Math.sin(round / 6);
  return Object.entries(device.base).map(([metric, base]) => {
    let value = base + wave * (Math.abs(base) * 0.04 + 0.5) + ((round * 7919) % 10) / 25;
    if ('fault' in device && device.fault && metric === 'temperature') value = -5 + wave;
    return { metric, value: Math.round(value * 100) / 100, ts: now.toISOString() };
  });
}

/**
 * The demo telemetry simulator: posts readings for the demo devices to the public telemetry API
 * (`POST /api/v1/telemetry`, API key), the way a gateway would, every `intervalMs`.
 */
export async function runSimulator(options: SimulatorOptions): Promise<number> {
  const intervalMs = options.intervalMs ?? 5000;
  let sent = 0;
  for (let round = 0; options.rounds === undefined || round < options.rounds; round++) {
    if (options.signal?.aborted) break;
    for (const device of DEMO_DEVICES) {
      const response = await fetch(`${options.url.replace(/\/$/, '')}/api/v1/telemetry`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': options.apiKey, 'idempotency-key': `sim:${device.id}:${Date.now()}:${round}` },
        body: JSON.stringify({ deviceId: device.id, readings: demoReadings(device, round) }),
        signal: options.signal,
      });
      if (!response.ok) throw new Error(`telemetry for ${device.id} was refused: ${response.status} ${(await response.text()).slice(0, 200)}`);
      sent++;
    }
    options.log?.(`round ${round + 1}: readings for ${DEMO_DEVICES.length} devices`);
    if (options.rounds !== undefined && round + 1 >= options.rounds) break;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      options.signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
  return sent;
}
