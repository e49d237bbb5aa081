/**
 * Serial device plugin: one instance per serial port. Readings go to the core as telemetry
 * (`ctx.telemetry`); numeric values become metrics, fault codes and other text become
 * attributes, which the device rules evaluate like any metric.
 */
import { definePlugin, type PluginContext } from '@switchboard/plugin-sdk';
import { SerialSource, type SerialReading, type SerialSourceConfig } from './serial-source.js';

export type SerialPluginConfig = SerialSourceConfig;

let source: SerialSource | undefined;

function toTelemetry(reading: SerialReading) {
  const metrics: Record<string, number> = {};
  const attributes: Record<string, string | boolean> = {};
  for (const [name, value] of Object.entries(reading.metrics)) {
    if (typeof value === 'number') metrics[name] = value;
    else attributes[name] = value;
  }
  return { deviceId: reading.deviceId, at: reading.at.toISOString(), metrics, attributes };
}

export default definePlugin<SerialPluginConfig>({
  init(ctx: PluginContext<SerialPluginConfig>) {
    const problems = SerialSource.validate({ ...ctx.config, baudRate: ctx.config.baudRate ?? 9600 });
    if (problems.length) throw new Error(`invalid configuration: ${problems.join('; ')}`);
  },
  start(ctx: PluginContext<SerialPluginConfig>) {
    source = new SerialSource({ ...ctx.config, baudRate: ctx.config.baudRate ?? 9600 }, (reading) => {
      ctx.telemetry(toTelemetry(reading)).catch((error: Error) => ctx.logger.warn('telemetry hand-off failed', { reason: error.message }));
    });
    source.start();
    ctx.logger.info('serial source started', { framing: ctx.config.framing });
  },
  async stop() {
    await source?.stop();
    source = undefined;
  },
  health() {
    if (!source) return { status: 'down', detail: 'not started' };
    const counters = source.counters;
    const detail = `state=${source.state} readings=${counters.readings} malformed=${counters.malformed} badCrc=${counters.badCrc} timeouts=${counters.timeouts} reconnects=${counters.reconnects}`;
    return { status: source.state === 'open' ? 'up' : 'degraded', detail: source.lastError ? `${detail} lastError=${source.lastError}` : detail };
  },
  async test(ctx: PluginContext<SerialPluginConfig>) {
    const { existsSync } = await import('node:fs');
    return existsSync(ctx.config.path) ? { ok: true, detail: `${ctx.config.path} exists` } : { ok: false, detail: `${ctx.config.path} does not exist` };
  },
});

export { SerialSource } from './serial-source.js';
