/**
 * OPC UA device plugin: one instance per OPC UA server. Variables become metrics (with the
 * OPC UA status as quality); Alarms & Conditions events become `fault_code` readings, which
 * the device rules map to fault episodes and tickets.
 */
import { join } from 'node:path';
import { definePlugin, type PluginContext } from '@switchboard/plugin-sdk';
import { OpcuaSource, type OpcuaAlarmMapping, type OpcuaItem, type OpcuaReading } from './opcua-source.js';

export interface OpcuaPluginConfig {
  endpointUrl: string;
  securityMode: 'None' | 'Sign' | 'SignAndEncrypt';
  securityPolicy: 'None' | 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss';
  authType: 'anonymous' | 'username';
  username?: string;
  password?: string;
  pkiDir?: string;
  trustServerOnFirstUse: boolean;
  publishingIntervalMs: number;
  maxItemsPerSubscription: number;
  items: OpcuaItem[];
  alarms?: OpcuaAlarmMapping[];
}

let source: OpcuaSource | undefined;

function toSourceConfig(ctx: PluginContext<OpcuaPluginConfig>) {
  const config = ctx.config;
  return {
    endpointUrl: config.endpointUrl,
    securityMode: config.securityMode ?? 'SignAndEncrypt',
    securityPolicy: config.securityPolicy ?? 'Basic256Sha256',
    auth:
      config.authType === 'username'
        ? { type: 'username' as const, username: config.username ?? '', password: config.password ?? '' }
        : { type: 'anonymous' as const },
    pkiDir: config.pkiDir ?? join(process.env.SWITCHBOARD_DATA_DIR ?? './data', 'plugins', ctx.instanceId, 'pki'),
    trustServerOnFirstUse: config.trustServerOnFirstUse ?? false,
    items: config.items,
    alarms: config.alarms ?? [],
    publishingIntervalMs: config.publishingIntervalMs,
    maxItemsPerSubscription: config.maxItemsPerSubscription,
  };
}

function toTelemetry(reading: OpcuaReading) {
  // Bad and Uncertain values reach the rules with their quality via the canonical reading shape.
  return {
    deviceId: reading.deviceId,
    at: reading.at.toISOString(),
    readings: [{ metric: reading.metric, value: reading.value ?? '', ts: reading.at.toISOString(), quality: reading.quality }],
  };
}

export default definePlugin<OpcuaPluginConfig>({
  init(ctx) {
    const problems = OpcuaSource.validate(toSourceConfig(ctx));
    if (problems.length) throw new Error(`invalid configuration: ${problems.join('; ')}`);
  },
  async start(ctx) {
    source = new OpcuaSource(toSourceConfig(ctx), (reading) => {
      ctx.telemetry(toTelemetry(reading) as never).catch((error: Error) => ctx.logger.warn('telemetry hand-off failed', { reason: error.message }));
    });
    await source.start();
    ctx.logger.info('OPC UA source connected', { items: ctx.config.items.length });
  },
  async stop() {
    await source?.stop();
    source = undefined;
  },
  health() {
    if (!source) return { status: 'down', detail: 'not started' };
    const { changes, events, reconnects, subscriptions, monitoredItems } = source.counters;
    return {
      status: source.state === 'connected' ? 'up' : 'degraded',
      detail: `state=${source.state} items=${monitoredItems} subscriptions=${subscriptions} changes=${changes} events=${events} reconnects=${reconnects}`,
    };
  },
  async test(ctx) {
    const probe = new OpcuaSource({ ...toSourceConfig(ctx), alarms: [] }, () => undefined);
    try {
      await Promise.race([probe.start(), new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 10 s')), 10_000))]);
      return { ok: true, detail: `connected to ${ctx.config.endpointUrl}` };
    } catch (error) {
      return { ok: false, detail: (error as Error).message };
    } finally {
      await probe.stop();
    }
  },
});

export { OpcuaSource } from './opcua-source.js';
