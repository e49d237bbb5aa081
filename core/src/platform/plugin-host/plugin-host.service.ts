import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataSource } from 'typeorm';
import { Counter, Gauge } from 'prom-client';
import type { AttachmentRef, InboundMessage, InboundResult, PluginHealth, PluginManifest, TestResult, TicketResult } from '@switchboard/plugin-sdk';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { DATA_SOURCE } from '../database/database.tokens.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import { RowReader } from '../database/row-reader.js';
import { RowInserter } from '../database/row-inserter.js';
import { isDuplicateKeyError } from '../database/duplicate-key.js';
import { BUS, type Bus, type Closable } from '../bus/bus.port.js';
import { isValidPublishSubject, subjectMatches } from '../bus/subjects.js';
import { CLOCK, type Clock } from '../clock/clock.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { HealthContributors, type ComponentHealth } from '../health/health-contributors.js';
import { SchedulerService } from '../scheduler/scheduler.service.js';
import type { EventEnvelope } from '../outbox/outbox.entity.js';
import { FieldCipher } from '../../compliance/crypto/field-cipher.js';
import type { MessageCreatedEvent } from '../../conversations/conversations.events.js';
import { discoverPlugins, type DiscoveredPlugin, type DiscoveryProblem } from './discovery.js';
import { PluginConfigCodec } from './config-codec.js';
import { PluginError } from './plugin-host.error.js';
import { PluginInstanceRow } from './entities/plugin-instance.entity.js';
import { PluginDeliveryRow } from './entities/plugin-delivery.entity.js';
import { PluginKvStore } from './plugin-kv.store.js';
import { InstanceSupervisor, type RouteSpec } from './instance-supervisor.js';
import { NatsTransport, ProcessTransport, WorkerTransport, type HostTransport } from './plugin-transport.js';
import { bundleTypeScript } from './dev-bundler.js';
import { CONVERSATIONS_PORT, type ConversationsPort } from './conversations.port.js';
import { SERVICE_DESK_PORT, type ServiceDeskPort } from './service-desk.port.js';
import { derivePluginNatsUser, natsAuthorizationConfig, type NatsPluginUser } from './nats-authorization.js';
import { pluginHostSettings, type PluginHostSettings } from './plugin-host.settings.js';
import type { InitParams } from './runtime/plugin-runtime.js';
import { KeyedSerializer } from '../concurrency/keyed-serializer.js';

export const PLUGIN_INSTANCE_CHANGED = 'sb.evt.plugin.instance_changed';
export const MESSAGE_CREATED = 'sb.evt.conversation.message_created';

export interface InstanceChangedEvent {
  instanceId: string;
  version: number;
  deleted?: boolean;
}

export type Isolation = 'worker' | 'process' | 'nats';

interface Running {
  row: PluginInstanceRow;
  plugin: DiscoveredPlugin;
  supervisor: InstanceSupervisor;
  isolation: Isolation;
  outbound?: Closable;
  subscriptions: Map<string, Closable>;
}

interface CompiledRoute {
  pluginId: string;
  instanceId: string;
  inboxId: string | null;
  method: string;
  regex: RegExp;
  params: string[];
  routeId: string;
}

export interface InstanceView {
  id: string;
  pluginId: string;
  inboxId: string | null;
  enabled: boolean;
  /** Redacted: secrets show as `********`. */
  config: Record<string, unknown>;
  typeVersion: number;
  delivery: { maxAttempts: number; backoffMs: number[] } | null;
  version: number;
  status: 'running' | 'starting' | 'backoff' | 'crash_loop' | 'stopped' | 'disabled' | 'unavailable';
  isolation: Isolation | null;
  disabledReason: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  restarts: number;
  startedAt: string | null;
  routes: string[];
  createdAt: string;
  updatedAt: string;
}

export interface PluginView {
  id: string;
  kind: string;
  packageName: string;
  version: string;
  displayName: string | null;
  description: string | null;
  source: string;
  thirdParty: boolean;
  sdkApi: number;
  typeVersion: number;
  capabilities: PluginManifest['capabilities'];
  configSchema: PluginManifest['configSchema'];
  defaultIsolation: Isolation;
}

const PLUGIN_TICKET_TYPES = ['question', 'incident', 'problem', 'task'] as const;
const PLUGIN_TICKET_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
const INSTANCE_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const DEFAULT_DELIVERY = { maxAttempts: 5, backoffMs: [1000, 5000, 30_000, 120_000] };
/** Outbound deliveries in flight per plugin instance (and core instance); each conversation's stay in order. */
const OUTBOUND_CONCURRENCY = 16;

function compileRoute(path: string): { regex: RegExp; params: string[] } {
  const params: string[] = [];
  const pattern = path
    .split('/')
    .map((part) => {
      if (part.startsWith(':')) {
        params.push(part.slice(1));
        return '([^/]+)';
      }
      if (part === '*') {
        params.push('*');
        return '(.*)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${pattern}$`), params };
}

/**
 * The plugin host: discovers and validates plugins, stores instance config (secrets encrypted),
 * runs each enabled instance under an InstanceSupervisor in a worker thread or its own process,
 * serves their HTTP routes under /plugins/<id>/, bridges ctx calls (kv, inbound, bus, telemetry,
 * attachments) and delivers outbound messages to channel plugins.
 */
@Injectable()
export class PluginHostService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('plugin-host');
  private readonly settings: PluginHostSettings;
  private readonly codec: PluginConfigCodec;
  private plugins = new Map<string, DiscoveredPlugin>();
  private problems: DiscoveryProblem[] = [];
  private readonly running = new Map<string, Running>();
  private readonly outboundOrder = new KeyedSerializer();
  private routes: CompiledRoute[] = [];
  /** One reconcile at a time per instance, in the order asked for. */
  private readonly reconcileOrder = new KeyedSerializer();
  private readonly bundles = new Map<string, Promise<string>>();
  private runtimeFile?: Promise<string>;
  private changes?: Closable;
  private stopped = false;

  private readonly upGauge: Gauge<'plugin' | 'instance'>;
  private readonly restartsCounter: Counter<'plugin' | 'instance'>;
  private readonly crashLoopsCounter: Counter<'plugin' | 'instance'>;
  private readonly deliveriesCounter: Counter<'plugin' | 'outcome'>;
  private readonly inboundCounter: Counter<'plugin' | 'outcome'>;
  private readonly deliveryRows: RowReader<PluginDeliveryRow>;
  private readonly inserter = new RowInserter();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CONVERSATIONS_PORT) private readonly conversations: ConversationsPort,
    @Inject(SERVICE_DESK_PORT) private readonly desk: ServiceDeskPort,
    private readonly uow: UnitOfWork,
    private readonly metrics: MetricsService,
    private readonly health: HealthContributors,
    private readonly scheduler: SchedulerService,
    private readonly kv: PluginKvStore,
    private readonly cipher: FieldCipher,
  ) {
    this.settings = pluginHostSettings(config);
    this.codec = new PluginConfigCodec(cipher);
    this.deliveryRows = new RowReader(dataSource, PluginDeliveryRow);
    const registers = [metrics.registry];
    this.upGauge = new Gauge({ name: 'sb_plugin_up', help: 'Plugin instance running (1) or not (0)', labelNames: ['plugin', 'instance'], registers });
    this.restartsCounter = new Counter({
      name: 'sb_plugin_restarts_total',
      help: 'Plugin instance restarts after a failure',
      labelNames: ['plugin', 'instance'],
      registers,
    });
    this.crashLoopsCounter = new Counter({
      name: 'sb_plugin_crash_loops_total',
      help: 'Plugin instances disabled after a crash loop',
      labelNames: ['plugin', 'instance'],
      registers,
    });
    this.deliveriesCounter = new Counter({
      name: 'sb_plugin_deliveries_total',
      help: 'Outbound deliveries through channel plugins, by outcome (delivered, retry, dead_letter)',
      labelNames: ['plugin', 'outcome'],
      registers,
    });
    this.inboundCounter = new Counter({
      name: 'sb_plugin_inbound_total',
      help: 'Inbound messages handed in by channel plugins, by outcome (stored, duplicate, failed)',
      labelNames: ['plugin', 'outcome'],
      registers,
    });
  }

  // ---------------------------------------------------------------- lifecycle

  onModuleInit(): void {
    this.discover();
    this.health.register('plugins', () => this.summaryHealth());
    this.scheduler.every('plugin-kv.purge-expired', 10 * 60_000, () => this.kv.purgeExpired());
  }

  async onApplicationBootstrap(): Promise<void> {
    this.changes = await this.bus.consume<EventEnvelope<InstanceChangedEvent>>({
      name: 'plugin-host-instances',
      subject: PLUGIN_INSTANCE_CHANGED,
      delivery: 'each-instance',
      handler: async (message) => this.reconcile(message.data.data.instanceId),
    });
    const rows = await this.dataSource.manager.find(PluginInstanceRow, { where: { enabled: true } });
    // Start instances in the background: a slow plugin never delays the core's start.
    for (const row of rows) void this.reconcile(row.id);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.changes?.close();
    await Promise.allSettled([...this.running.keys()].map((id) => this.stopInstance(id)));
  }

  /** Re-reads manifests from disk (also after installing a plugin into the plugins directory). */
  discover(): void {
    const result = discoverPlugins({
      workspace: this.settings.workspace,
      dir: this.settings.dir,
      paths: this.settings.paths,
      fromSource: this.settings.fromSource,
    });
    // The config schema is compiled now, so a schema ajv rejects (a typo like "minLenght" in strict
    // mode) is a load problem shown to admins, not a failure when an instance is first configured.
    for (const plugin of [...result.plugins.values()]) {
      try {
        this.codec.compile(plugin.manifest);
      } catch (error) {
        const problem = `switchboard.configSchema is not a valid JSON Schema: ${(error as Error).message}`;
        result.plugins.delete(plugin.id);
        result.problems.push({
          dir: plugin.dir,
          packageName: plugin.packageName,
          id: plugin.id,
          message: `Invalid plugin manifest in ${join(plugin.dir, 'package.json')}:\n  - ${problem}`,
          problems: [problem],
        });
      }
    }
    this.plugins = result.plugins;
    this.problems = result.problems;
    for (const problem of result.problems) this.logger.warn({ dir: problem.dir, problems: problem.problems }, problem.message);
  }

  // ---------------------------------------------------------------- admin API

  listPlugins(): { items: PluginView[]; problems: DiscoveryProblem[] } {
    return { items: [...this.plugins.values()].map((plugin) => this.pluginView(plugin)), problems: this.problems };
  }

  getPlugin(pluginId: string): DiscoveredPlugin {
    const plugin = this.plugins.get(pluginId);
    if (!plugin) {
      const problem = this.problems.find((entry) => entry.id === pluginId);
      if (problem) throw new PluginError('plugin_invalid', problem.message, { problems: problem.problems });
      throw new PluginError('plugin_unknown', `There is no plugin "${pluginId}". Installed: ${[...this.plugins.keys()].join(', ') || 'none'}.`);
    }
    return plugin;
  }

  private pluginView(plugin: DiscoveredPlugin): PluginView {
    const { manifest } = plugin;
    return {
      id: plugin.id,
      kind: manifest.kind,
      packageName: plugin.packageName,
      version: plugin.packageVersion,
      displayName: manifest.displayName ?? null,
      description: manifest.description ?? null,
      source: plugin.source,
      thirdParty: plugin.thirdParty,
      sdkApi: manifest.sdkApi,
      typeVersion: manifest.typeVersion,
      capabilities: manifest.capabilities,
      configSchema: manifest.configSchema,
      defaultIsolation: this.isolationFor(plugin),
    };
  }

  async listInstances(pluginId?: string): Promise<InstanceView[]> {
    const rows = await this.dataSource.manager.find(PluginInstanceRow, { where: pluginId ? { pluginId } : {}, order: { createdAt: 'ASC' } });
    return rows.map((row) => this.instanceView(row));
  }

  async getInstance(id: string): Promise<InstanceView> {
    return this.instanceView(await this.requireRow(id));
  }

  async createInstance(input: {
    pluginId: string;
    id?: string;
    inboxId?: string | null;
    config: Record<string, unknown>;
    enabled?: boolean;
    delivery?: { maxAttempts: number; backoffMs: number[] } | null;
  }): Promise<InstanceView> {
    const plugin = this.getPlugin(input.pluginId);
    const id = input.id ?? `${plugin.id}-${randomBytes(4).toString('hex')}`;
    if (!INSTANCE_ID.test(id)) {
      throw new PluginError('plugin_config_invalid', 'Instance ids are 1–64 lower-case letters, digits, "_" and "-"', {
        problems: ['id has an invalid format'],
      });
    }
    if (plugin.manifest.kind === 'channel' && !input.inboxId) {
      throw new PluginError('plugin_config_invalid', `A channel instance serves an inbox: give inboxId`, { problems: ['inboxId is required for channels'] });
    }
    const plain = this.codec.validate(plugin.manifest, input.config);
    const now = this.clock.now();
    const row = await this.uow.run(async (tx) => {
      if (await tx.manager.findOne(PluginInstanceRow, { where: { id } }))
        throw new PluginError('plugin_instance_exists', `Plugin instance "${id}" already exists`);
      if (input.inboxId && plugin.manifest.kind === 'channel') {
        const other = await tx.manager.findOne(PluginInstanceRow, { where: { inboxId: input.inboxId, pluginId: plugin.id } });
        if (other) throw new PluginError('plugin_instance_exists', `Inbox ${input.inboxId} is already served by instance "${other.id}"`);
      }
      const created: PluginInstanceRow = {
        id,
        pluginId: plugin.id,
        inboxId: input.inboxId ?? null,
        enabled: input.enabled ?? true,
        config: this.codec.seal(plugin.manifest, plain),
        typeVersion: plugin.manifest.typeVersion,
        delivery: input.delivery ?? null,
        disabledReason: input.enabled === false ? 'admin' : null,
        lastError: null,
        lastErrorAt: null,
        version: 1,
        createdAt: now,
        updatedAt: now,
      };
      await tx.manager.insert(PluginInstanceRow, created as never);
      await tx.emit({ subject: PLUGIN_INSTANCE_CHANGED, data: { instanceId: id, version: 1 } satisfies InstanceChangedEvent, id: `plugin-instance:${id}:1` });
      return created;
    });
    await this.reconcile(id);
    return this.instanceView(row);
  }

  async updateInstance(
    id: string,
    input: { config?: Record<string, unknown>; delivery?: { maxAttempts: number; backoffMs: number[] } | null; expectedVersion?: number },
  ): Promise<InstanceView> {
    const row = await this.requireRow(id);
    const plugin = this.getPlugin(row.pluginId);
    const changes: Partial<PluginInstanceRow> = {};
    if (input.config !== undefined) {
      const merged = this.codec.mergeSecrets(plugin.manifest, input.config, row.config);
      changes.config = this.codec.seal(plugin.manifest, this.codec.validate(plugin.manifest, merged));
      changes.typeVersion = plugin.manifest.typeVersion;
    }
    if (input.delivery !== undefined) changes.delivery = input.delivery;
    // A config change is a fresh start for a crash-looped instance's counters, not an enable.
    await this.write(row, changes, input.expectedVersion);
    return this.getInstance(id);
  }

  async setEnabled(id: string, enabled: boolean): Promise<InstanceView> {
    const row = await this.requireRow(id);
    if (enabled) this.getPlugin(row.pluginId);
    await this.write(row, { enabled, disabledReason: enabled ? null : 'admin', ...(enabled ? { lastError: null, lastErrorAt: null } : {}) });
    return this.getInstance(id);
  }

  async deleteInstance(id: string): Promise<void> {
    const row = await this.requireRow(id);
    await this.uow.run(async (tx) => {
      await tx.manager.delete(PluginInstanceRow, { id });
      await tx.emit({
        subject: PLUGIN_INSTANCE_CHANGED,
        data: { instanceId: id, version: row.version + 1, deleted: true } satisfies InstanceChangedEvent,
        id: `plugin-instance:${id}:${row.version + 1}:deleted`,
      });
    });
    await this.reconcile(id);
    await this.kv.deleteAll(id);
  }

  /** The admin's connectivity check: on the running instance, or in a throwaway runtime with the stored (or given) config. */
  async test(id: string, config?: Record<string, unknown>): Promise<TestResult> {
    const row = await this.requireRow(id);
    const plugin = this.getPlugin(row.pluginId);
    const running = this.running.get(id);
    if (!config && running?.supervisor.state === 'running') return this.safeTest(() => running.supervisor.call<TestResult>('test', null));
    const plain = config
      ? this.codec.validate(plugin.manifest, this.codec.mergeSecrets(plugin.manifest, config, row.config))
      : this.codec.open(plugin.manifest, row.config);
    const probe = this.createSupervisor({ ...row, id: `${row.id}`, config: this.codec.seal(plugin.manifest, plain) }, plugin, {
      probe: true,
      plainConfig: plain,
    });
    try {
      await probe.start();
      if (probe.state !== 'running') return { ok: false, detail: probe.lastError ?? 'the plugin did not start' };
      return await this.safeTest(() => probe.call<TestResult>('test', null));
    } finally {
      await probe.stop();
    }
  }

  private async safeTest(run: () => Promise<TestResult>): Promise<TestResult> {
    try {
      const result = await run();
      return { ok: Boolean(result?.ok), detail: typeof result?.detail === 'string' ? result.detail.slice(0, 1000) : undefined };
    } catch (error) {
      return { ok: false, detail: (error as Error).message.slice(0, 1000) };
    }
  }

  async deliveries(id: string, limit = 50): Promise<PluginDeliveryRow[]> {
    await this.requireRow(id);
    return this.dataSource.manager.find(PluginDeliveryRow, { where: { instanceId: id }, order: { id: 'DESC' }, take: Math.min(Math.max(limit, 1), 500) });
  }

  /** nats-server `authorization` block: the core's user plus one user per installed plugin. */
  natsAuthorization(core: { user: string; password: string }): string {
    return natsAuthorizationConfig(
      core,
      [...this.plugins.keys()].map((pluginId) => this.natsUser(pluginId)),
    );
  }

  natsUser(pluginId: string): NatsPluginUser {
    // Derived from the appliance key, so every core instance computes the same password without storing it.
    return derivePluginNatsUser(this.cipher, pluginId);
  }

  /** For tests and tooling: the live supervisor state of an instance. */
  supervisorOf(id: string): InstanceSupervisor | undefined {
    return this.running.get(id)?.supervisor;
  }

  /**
   * Calls a connector action (`lookupCustomer`, `syncTicket`) of a running connector instance on
   * this core instance (every instance runs every enabled plugin instance). Used by bot flows.
   */
  async callConnector(instanceId: string, action: 'lookupCustomer' | 'syncTicket', params: unknown, timeoutMs?: number): Promise<unknown> {
    const running = this.running.get(instanceId);
    if (!running) throw new PluginError('plugin_instance_unknown', `There is no running plugin instance "${instanceId}"`);
    if (running.plugin.manifest.kind !== 'connector') throw new PluginError('plugin_call_failed', `Plugin instance "${instanceId}" is not a connector`);
    try {
      return await running.supervisor.call(`connector.${action}`, params, timeoutMs);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'plugin_not_running') throw new PluginError('plugin_not_running', (error as Error).message);
      throw new PluginError(code === 'timeout' ? 'plugin_timeout' : 'plugin_call_failed', (error as Error).message.slice(0, 500));
    }
  }

  private async requireRow(id: string): Promise<PluginInstanceRow> {
    const row = await this.dataSource.manager.findOne(PluginInstanceRow, { where: { id } });
    if (!row) throw new PluginError('plugin_instance_unknown', `There is no plugin instance "${id}"`);
    return row;
  }

  private async write(row: PluginInstanceRow, changes: Partial<PluginInstanceRow>, expectedVersion?: number): Promise<void> {
    await this.uow.run(async (tx) => {
      const current = await tx.manager.findOne(PluginInstanceRow, { where: { id: row.id } });
      if (!current) throw new PluginError('plugin_instance_unknown', `There is no plugin instance "${row.id}"`);
      if (expectedVersion !== undefined && current.version !== expectedVersion) {
        throw new PluginError('plugin_version_conflict', `Instance ${row.id} is at version ${current.version}, not ${expectedVersion}`, {
          currentVersion: current.version,
        });
      }
      const version = current.version + 1;
      const result = await tx.manager.update(PluginInstanceRow, { id: row.id, version: current.version }, {
        ...changes,
        version,
        updatedAt: this.clock.now(),
      } as never);
      if (!result.affected) throw new PluginError('plugin_version_conflict', `Instance ${row.id} changed concurrently; retry`);
      await tx.emit({
        subject: PLUGIN_INSTANCE_CHANGED,
        data: { instanceId: row.id, version } satisfies InstanceChangedEvent,
        id: `plugin-instance:${row.id}:${version}`,
      });
    });
    await this.reconcile(row.id);
  }

  private instanceView(row: PluginInstanceRow): InstanceView {
    const plugin = this.plugins.get(row.pluginId);
    const running = this.running.get(row.id);
    const supervisor = running?.supervisor;
    let status: InstanceView['status'];
    if (!plugin) status = 'unavailable';
    else if (!row.enabled) status = row.disabledReason === 'crash_loop' ? 'crash_loop' : 'disabled';
    else status = supervisor?.state ?? 'stopped';
    return {
      id: row.id,
      pluginId: row.pluginId,
      inboxId: row.inboxId,
      enabled: row.enabled,
      config: plugin ? this.codec.redact(plugin.manifest, row.config) : {},
      typeVersion: row.typeVersion,
      delivery: row.delivery,
      version: row.version,
      status,
      isolation: running?.isolation ?? null,
      disabledReason: row.disabledReason,
      // A disabled row's error is the reason it was disabled, even while its supervisor is still being torn down.
      lastError: (row.enabled ? supervisor?.lastError : undefined) ?? row.lastError,
      lastErrorAt: row.lastErrorAt ? row.lastErrorAt.toISOString() : null,
      restarts: supervisor?.restarts ?? 0,
      startedAt: supervisor?.startedAt ? supervisor.startedAt.toISOString() : null,
      routes: (supervisor?.routes ?? []).map((route) => route.id),
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }

  // ---------------------------------------------------------------- running instances

  /** Brings one instance's runtime in line with its row. Serialised per instance. */
  reconcile(id: string): Promise<void> {
    return this.reconcileOrder
      .run(id, () => this.reconcileNow(id))
      .catch((error: Error) => this.logger.error({ instance: id, reason: error.message }, 'plugin reconcile failed'));
  }

  private async reconcileNow(id: string): Promise<void> {
    if (this.stopped) return;
    const row = await this.dataSource.manager.findOne(PluginInstanceRow, { where: { id } });
    const current = this.running.get(id);
    if (!row || !row.enabled || !this.plugins.has(row.pluginId)) {
      if (current) await this.stopInstance(id);
      if (row && row.enabled && !this.plugins.has(row.pluginId))
        this.logger.warn({ instance: id, plugin: row.pluginId }, 'plugin of an enabled instance is not installed');
      return;
    }
    if (current && current.row.version === row.version && current.supervisor.state !== 'crash_loop') return;
    if (current) await this.stopInstance(id);
    const plugin = this.plugins.get(row.pluginId)!;
    const supervisor = this.createSupervisor(row, plugin, {});
    const running: Running = { row, plugin, supervisor, isolation: this.isolationFor(plugin), subscriptions: new Map() };
    this.running.set(id, running);
    this.health.register(`plugin:${id}`, () => this.instanceHealth(id));
    await supervisor.start();
    // A receive-only instance gets no outbound consumer: no delivery to wait for, no delivery record per reply.
    if (plugin.manifest.kind === 'channel' && row.inboxId && supervisor.sends !== false) await this.startOutbound(running);
  }

  private async stopInstance(id: string): Promise<void> {
    const running = this.running.get(id);
    if (!running) return;
    this.running.delete(id);
    this.routes = this.routes.filter((route) => route.instanceId !== id);
    await running.outbound?.close().catch(() => undefined);
    for (const subscription of running.subscriptions.values()) await subscription.close().catch(() => undefined);
    await running.supervisor.stop();
    this.upGauge.set({ plugin: running.plugin.id, instance: id }, 0);
  }

  private isolationFor(plugin: DiscoveredPlugin): Isolation {
    const nats = this.config.bus.kind === 'nats';
    const wanted = this.settings.isolation !== 'auto' ? this.settings.isolation : (plugin.manifest.isolation ?? 'auto');
    if (wanted === 'worker') return 'worker';
    if (wanted === 'process') return nats ? 'nats' : 'process';
    return nats && (plugin.thirdParty || plugin.manifest.kind === 'device') ? 'nats' : 'worker';
  }

  private async resolveRuntimeFile(): Promise<string> {
    this.runtimeFile ??= (async () => {
      const here = fileURLToPath(import.meta.url);
      if (here.endsWith('.ts')) return bundleTypeScript(join(dirname(here), 'runtime', 'plugin-runtime.ts'), 'plugin-runtime');
      return join(dirname(here), 'runtime', 'plugin-runtime.js');
    })();
    return this.runtimeFile;
  }

  private async resolveEntry(plugin: DiscoveredPlugin): Promise<string> {
    if (!plugin.entryIsSource) return plugin.entry;
    let bundle = this.bundles.get(plugin.id);
    if (!bundle) {
      bundle = bundleTypeScript(plugin.entry, `plugin-${plugin.id}`);
      this.bundles.set(plugin.id, bundle);
      bundle.catch(() => this.bundles.delete(plugin.id));
    }
    return bundle;
  }

  private createSupervisor(
    row: PluginInstanceRow,
    plugin: DiscoveredPlugin,
    options: { probe?: boolean; plainConfig?: Record<string, unknown> },
  ): InstanceSupervisor {
    const isolation = this.isolationFor(plugin);
    const instanceId = row.id;
    let entry = plugin.entry;
    const supervisor: InstanceSupervisor = new InstanceSupervisor(
      instanceId,
      {
        callTimeoutMs: this.settings.callTimeoutMs,
        heartbeatMs: this.settings.heartbeatMs,
        backoffMs: this.settings.backoffMs,
        crashLoopRestarts: options.probe ? 1 : this.settings.crashLoopRestarts,
        stableMs: this.settings.stableMs,
        skipStart: options.probe,
      },
      {
        createTransport: async (): Promise<HostTransport> => {
          const runtimeFile = await this.resolveRuntimeFile();
          entry = await this.resolveEntry(plugin);
          const base = { runtimeFile, pluginId: plugin.id, instanceId, maxHeapMb: this.settings.maxHeapMb };
          if (isolation === 'worker') return new WorkerTransport(base);
          if (isolation === 'process' || this.config.bus.kind !== 'nats') return new ProcessTransport(base);
          const user = this.natsUser(plugin.id);
          return new NatsTransport({ ...base, bus: this.bus, natsUrl: this.config.bus.url, natsUser: user.user, natsPassword: user.password });
        },
        initParams: (): InitParams => {
          const plain = options.plainConfig ?? this.codec.open(plugin.manifest, row.config);
          return {
            pluginId: plugin.id,
            instanceId,
            inboxId: row.inboxId,
            publicUrl: this.config.http.publicUrl ?? null,
            entry,
            config: plain,
            allowPrivateNetwork: plain.allowPrivateNetwork === true,
            networkTargets: plugin.manifest.capabilities.network ?? [],
            callTimeoutMs: this.settings.callTimeoutMs,
          };
        },
        handleCall: (method, params) => (options.probe ? this.handleProbeCall(row, method, params) : this.handleCall(instanceId, method, params)),
        onLog: (level, message, fields) => {
          const log = level === 'debug' ? 'debug' : level === 'info' ? 'log' : level;
          this.logger[log]({ plugin: plugin.id, instance: instanceId, ...(fields ?? {}) }, `[plugin] ${message}`);
        },
        onRunning: (routes) => {
          if (options.probe) return;
          this.registerRoutes(row, plugin, routes);
          this.upGauge.set({ plugin: plugin.id, instance: instanceId }, 1);
          this.logger.log({ plugin: plugin.id, instance: instanceId, isolation }, 'plugin instance running');
        },
        onFailure: (reason, failures, restartInMs) => {
          if (options.probe) return;
          this.upGauge.set({ plugin: plugin.id, instance: instanceId }, 0);
          this.routes = this.routes.filter((route) => route.instanceId !== instanceId);
          if (restartInMs !== null) this.restartsCounter.inc({ plugin: plugin.id, instance: instanceId });
          this.logger.warn({ plugin: plugin.id, instance: instanceId, failures, restartInMs, reason }, 'plugin instance failed');
          void this.dataSource.manager
            .update(PluginInstanceRow, { id: instanceId }, { lastError: reason.slice(0, 1000), lastErrorAt: this.clock.now() })
            .catch(() => undefined);
        },
        onCrashLoop: (reason) => {
          if (options.probe) return;
          this.crashLoopsCounter.inc({ plugin: plugin.id, instance: instanceId });
          this.logger.error({ plugin: plugin.id, instance: instanceId, reason }, 'plugin instance disabled after a crash loop');
          void this.disableAfterCrashLoop(instanceId, reason);
        },
      },
    );
    return supervisor;
  }

  private async disableAfterCrashLoop(id: string, reason: string): Promise<void> {
    try {
      await this.uow.run(async (tx) => {
        const current = await tx.manager.findOne(PluginInstanceRow, { where: { id } });
        if (!current || !current.enabled) return;
        const version = current.version + 1;
        await tx.manager.update(
          PluginInstanceRow,
          { id, version: current.version },
          {
            enabled: false,
            disabledReason: 'crash_loop',
            lastError: `crash loop: ${reason}`.slice(0, 1000),
            lastErrorAt: this.clock.now(),
            version,
            updatedAt: this.clock.now(),
          },
        );
        await tx.emit({
          subject: PLUGIN_INSTANCE_CHANGED,
          data: { instanceId: id, version } satisfies InstanceChangedEvent,
          id: `plugin-instance:${id}:${version}`,
        });
      });
      await this.reconcile(id);
    } catch (error) {
      this.logger.error({ instance: id, reason: (error as Error).message }, 'could not record the crash loop');
    }
  }

  private async instanceHealth(id: string): Promise<ComponentHealth> {
    const running = this.running.get(id);
    if (!running) {
      const row = await this.dataSource.manager.findOne(PluginInstanceRow, { where: { id } });
      if (!row) return { status: 'up', detail: 'removed' };
      if (!row.enabled)
        return {
          status: row.disabledReason === 'crash_loop' ? 'down' : 'up',
          detail: row.disabledReason === 'crash_loop' ? (row.lastError ?? 'crash loop') : 'disabled',
        };
      return { status: 'degraded', detail: 'not started' };
    }
    const { supervisor } = running;
    if (supervisor.state !== 'running') {
      return {
        status: supervisor.state === 'crash_loop' ? 'down' : 'degraded',
        detail: `${supervisor.state}${supervisor.lastError ? `: ${supervisor.lastError}` : ''}`,
      };
    }
    try {
      const health = await supervisor.call<PluginHealth>('health', null, 1000);
      return { status: ['up', 'degraded', 'down'].includes(health?.status) ? health.status : 'degraded', detail: health?.detail?.slice(0, 300) };
    } catch (error) {
      return { status: 'degraded', detail: `health check failed: ${(error as Error).message}` };
    }
  }

  private async summaryHealth(): Promise<ComponentHealth> {
    const states = [...this.running.values()].map((running) => running.supervisor.state);
    const failing = states.filter((state) => state !== 'running').length;
    const problems = this.problems.length;
    const detail = `${states.length - failing}/${states.length} instances running${problems ? `, ${problems} plugin(s) failed to load` : ''}`;
    return { status: failing || problems ? 'degraded' : 'up', detail };
  }

  // ---------------------------------------------------------------- calls from plugins

  private async handleProbeCall(row: PluginInstanceRow, method: string, params: unknown): Promise<unknown> {
    // A probe may read its instance's kv and fetch, but never inject messages or routes.
    if (method.startsWith('kv.get') || method === 'kv.list') return this.handleCall(row.id, method, params);
    if (method === 'kv.set' || method === 'kv.setIfAbsent' || method === 'kv.delete') return method === 'kv.setIfAbsent' ? true : null;
    throw new PluginError('plugin_call_failed', `${method} is not available during a connectivity test`);
  }

  private async handleCall(instanceId: string, method: string, params: unknown): Promise<unknown> {
    const running = this.running.get(instanceId);
    if (!running) throw new PluginError('plugin_not_running', 'instance stopped');
    const p = (params ?? {}) as Record<string, unknown>;
    switch (method) {
      case 'kv.get':
        return { value: await this.kv.get(instanceId, p.key) };
      case 'kv.set':
        await this.kv.set(instanceId, p.key, p.value, p.ttlMs);
        return null;
      case 'kv.setIfAbsent':
        return this.kv.setIfAbsent(instanceId, p.key, p.value, p.ttlMs);
      case 'kv.delete':
        await this.kv.delete(instanceId, p.key);
        return null;
      case 'kv.list':
        return this.kv.list(instanceId, p.prefix, p.limit);
      case 'inbound':
        return this.inbound(running, params as InboundMessage);
      case 'telemetry':
        return this.telemetry(running, p);
      case 'attachment.store':
        return this.storeAttachment(running, p);
      case 'attachment.download': {
        if (running.plugin.manifest.kind !== 'channel' || !running.row.inboxId)
          throw new PluginError('plugin_call_failed', 'downloadAttachment is for channel instances with an inbox');
        if (typeof p.id !== 'string' || typeof p.contactId !== 'string')
          throw new PluginError('plugin_call_failed', 'downloadAttachment needs id and contactId');
        return this.conversations.readChannelAttachment({ inboxId: running.row.inboxId, contactId: p.contactId, id: p.id });
      }
      case 'attachment.upload': {
        if (running.plugin.manifest.kind !== 'channel') throw new PluginError('plugin_call_failed', 'uploadAttachment is for channel instances');
        const { filename, contentType, dataBase64 } = p;
        if (typeof filename !== 'string' || typeof contentType !== 'string' || typeof dataBase64 !== 'string')
          throw new PluginError('plugin_call_failed', 'uploadAttachment needs filename, contentType and dataBase64');
        return this.conversations.storeChannelAttachment({ instanceId: running.row.id, filename, contentType, bytes: Buffer.from(dataBase64, 'base64') });
      }
      case 'realtime.visitorToken': {
        if (running.plugin.manifest.kind !== 'channel' || !running.row.inboxId)
          throw new PluginError('plugin_call_failed', 'visitor tokens are for channel instances');
        const contactId = typeof p.contactId === 'string' ? p.contactId : null;
        const ttlSeconds = typeof p.ttlSeconds === 'number' ? p.ttlSeconds : undefined;
        return this.conversations.issueVisitorToken({ visitorId: String(p.visitorId), contactId, inboxId: running.row.inboxId, ttlSeconds });
      }
      case 'presence':
        return this.desk.inboxPresence(this.channelInbox(running, 'ctx.presence'));
      case 'ticket.create':
        return this.createTicket(running, p);
      case 'bus.publish':
        return this.busPublish(running, p.topic, p.data);
      case 'bus.subscribe':
        return this.busSubscribe(running, p.topic);
      case 'bus.unsubscribe': {
        const subscription = running.subscriptions.get(String(p.subscriptionId));
        running.subscriptions.delete(String(p.subscriptionId));
        await subscription?.close();
        return null;
      }
      default:
        throw new PluginError('plugin_call_failed', `unknown host method ${method}`);
    }
  }

  private async inbound(running: Running, message: InboundMessage): Promise<InboundResult> {
    const { plugin, row } = running;
    if (plugin.manifest.kind !== 'channel' || !row.inboxId)
      throw new PluginError('plugin_call_failed', 'ctx.inbound is for channel instances that serve an inbox');
    const contact = message?.externalContact;
    const problems: string[] = [];
    if (!contact || typeof contact.externalId !== 'string' || contact.externalId.length === 0 || contact.externalId.length > 191) {
      problems.push('externalContact.externalId must be a string of 1–191 characters');
    }
    if (contact && typeof contact.verified !== 'boolean') problems.push('externalContact.verified must be true or false');
    if (typeof message?.idempotencyKey !== 'string' || message.idempotencyKey.length === 0 || message.idempotencyKey.length > 150) {
      problems.push('idempotencyKey must be a string of 1–150 characters');
    }
    if (typeof message?.text !== 'string' || message.text.length > 100_000) problems.push('text must be a string of at most 100000 characters');
    if (problems.length) {
      this.inboundCounter.inc({ plugin: plugin.id, outcome: 'failed' });
      throw new PluginError('plugin_call_failed', `ctx.inbound: ${problems.join('; ')}`, { problems });
    }
    try {
      const result = await this.conversations.ingestInbound({
        inboxId: row.inboxId,
        externalContact: {
          externalId: contact.externalId,
          verified: contact.verified,
          name: contact.name ?? null,
          email: contact.email ?? null,
          phone: contact.phone ?? null,
          language: contact.language ?? null,
        },
        idempotencyKey: `${row.id}:${message.idempotencyKey}`.slice(0, 191),
        text: message.text,
        content: message.content ?? null,
        attachments: message.attachments ?? null,
        externalMessageId: message.externalMessageId ?? null,
        threadKey: message.threadKey ?? null,
      });
      this.inboundCounter.inc({ plugin: plugin.id, outcome: result.duplicate ? 'duplicate' : 'stored' });
      return {
        conversationId: result.conversation.id,
        messageId: result.message.id,
        contactId: result.contactId,
        createdConversation: result.createdConversation,
        duplicate: result.duplicate,
      };
    } catch (error) {
      this.inboundCounter.inc({ plugin: plugin.id, outcome: 'failed' });
      throw error;
    }
  }

  private channelInbox(running: Running, what: string): string {
    if (running.plugin.manifest.kind !== 'channel' || !running.row.inboxId)
      throw new PluginError('plugin_call_failed', `${what} is for channel instances that serve an inbox`);
    return running.row.inboxId;
  }

  private async createTicket(running: Running, request: Record<string, unknown>): Promise<TicketResult> {
    const inboxId = this.channelInbox(running, 'ctx.createTicket');
    const { conversationId, subject, description, type, priority, tags, idempotencyKey } = request;
    const problems: string[] = [];
    const text = (value: unknown, min: number, max: number) => typeof value === 'string' && value.trim().length >= min && value.length <= max;
    if (!text(conversationId, 1, 64)) problems.push('conversationId must be a conversation id');
    if (!text(subject, 1, 200)) problems.push('subject must be a string of 1–200 characters');
    if (description !== undefined && !text(description, 0, 20_000)) problems.push('description must be a string of at most 20000 characters');
    if (type !== undefined && !PLUGIN_TICKET_TYPES.includes(type as never)) problems.push(`type must be one of ${PLUGIN_TICKET_TYPES.join(', ')}`);
    if (priority !== undefined && !PLUGIN_TICKET_PRIORITIES.includes(priority as never))
      problems.push(`priority must be one of ${PLUGIN_TICKET_PRIORITIES.join(', ')}`);
    if (tags !== undefined && (!Array.isArray(tags) || tags.length > 10 || !tags.every((tag) => text(tag, 1, 50))))
      problems.push('tags must be at most 10 strings of 1–50 characters');
    if (!text(idempotencyKey, 1, 150)) problems.push('idempotencyKey must be a string of 1–150 characters');
    if (problems.length) throw new PluginError('plugin_call_failed', `ctx.createTicket: ${problems.join('; ')}`, { problems });
    const result = await this.desk.createConversationTicket({
      inboxId,
      instanceId: running.row.id,
      conversationId: conversationId as string,
      subject: (subject as string).trim(),
      description: (description as string | undefined) ?? '',
      type: (type as (typeof PLUGIN_TICKET_TYPES)[number] | undefined) ?? 'question',
      priority: priority as (typeof PLUGIN_TICKET_PRIORITIES)[number] | undefined,
      tags: (tags as string[] | undefined) ?? [],
      idempotencyKey: idempotencyKey as string,
    });
    if (!result.duplicate) this.logger.log({ plugin: running.plugin.id, instance: running.row.id, ticketId: result.ticketId }, 'plugin opened a ticket');
    return result;
  }

  private async telemetry(running: Running, reading: Record<string, unknown>): Promise<null> {
    if (running.plugin.manifest.kind !== 'device') throw new PluginError('plugin_call_failed', 'ctx.telemetry is for device plugins');
    const deviceId = reading.deviceId;
    if (typeof deviceId !== 'string' || !isValidPublishSubject(`sb.telemetry.${deviceId}`) || deviceId.includes('.')) {
      throw new PluginError('plugin_call_failed', 'deviceId must hold only letters, digits, "_" and "-"');
    }
    const at = typeof reading.at === 'string' ? reading.at : this.clock.now().toISOString();
    const data = { ...reading, at, pluginId: running.plugin.id, instanceId: running.row.id };
    const msgId = createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 40);
    await this.bus.publish(`sb.telemetry.${deviceId}`, data, { msgId });
    return null;
  }

  private async storeAttachment(running: Running, input: Record<string, unknown>): Promise<AttachmentRef> {
    const { filename, contentType, dataBase64 } = input;
    if (typeof filename !== 'string' || typeof contentType !== 'string' || typeof dataBase64 !== 'string') {
      throw new PluginError('plugin_call_failed', 'storeAttachment needs filename, contentType and dataBase64');
    }
    if (!/^[\w.+-]+\/[\w.+-]+$/.test(contentType)) throw new PluginError('plugin_call_failed', 'contentType must look like type/subtype');
    const bytes = Buffer.from(dataBase64, 'base64');
    if (bytes.length > this.settings.maxAttachmentBytes) {
      throw new PluginError('plugin_call_failed', `attachment larger than ${this.settings.maxAttachmentBytes} bytes`, { code: 'attachment_too_large' });
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const storageKey = `plugins/${running.row.id}/${sha256}`;
    const path = join(this.config.dataDir, 'attachments', storageKey);
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, bytes, { mode: 0o600 });
    }
    const name = filename.replace(/[\\/\0\r\n]/g, '_').slice(0, 200) || 'attachment';
    return { name, contentType, size: bytes.length, storageKey, sha256 };
  }

  private allowedTopic(running: Running, topic: unknown): string {
    if (typeof topic !== 'string' || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(topic)) {
      throw new PluginError('plugin_call_failed', 'bus topics are dot-separated tokens of letters, digits, "_" and "-"');
    }
    const declared = running.plugin.manifest.capabilities.bus ?? [];
    if (!declared.some((pattern) => subjectMatches(pattern, topic))) {
      throw new PluginError('plugin_call_failed', `topic "${topic}" is not declared in the manifest's capabilities.bus (${declared.join(', ') || 'none'})`);
    }
    return `sb.plugin.${running.plugin.id}.evt.${topic}`;
  }

  private busPublish(running: Running, topic: unknown, data: unknown): null {
    this.bus.broadcast(this.allowedTopic(running, topic), data);
    return null;
  }

  private busSubscribe(running: Running, topic: unknown): { subscriptionId: string } {
    const subject = this.allowedTopic(running, topic);
    const subscriptionId = randomBytes(6).toString('hex');
    const prefix = `sb.plugin.${running.plugin.id}.evt.`;
    const listener = this.bus.listen(subject, (data, actual) => {
      void running.supervisor.call('bus.message', { subscriptionId, data, topic: actual.slice(prefix.length) }).catch(() => undefined);
    });
    running.subscriptions.set(subscriptionId, listener);
    return { subscriptionId };
  }

  // ---------------------------------------------------------------- HTTP routes

  private registerRoutes(row: PluginInstanceRow, plugin: DiscoveredPlugin, routes: RouteSpec[]): void {
    const declared = new Set(plugin.manifest.capabilities.http ?? []);
    const compiled: CompiledRoute[] = [];
    for (const route of routes) {
      if (!declared.has(`${route.method} ${route.path}`)) {
        this.logger.error({ plugin: plugin.id, route: route.id }, `route "${route.id}" is not declared in capabilities.http; ignored`);
        continue;
      }
      compiled.push({ pluginId: plugin.id, instanceId: row.id, inboxId: row.inboxId, method: route.method, routeId: route.id, ...compileRoute(route.path) });
    }
    this.routes = [...this.routes.filter((route) => route.instanceId !== row.id), ...compiled];
  }

  /** Finds the instance and route for `/plugins/<pluginId><path>`. A route with an `:inbox` param picks the instance serving that inbox. */
  matchRoute(
    pluginId: string,
    method: string,
    path: string,
  ): { route: CompiledRoute; params: Record<string, string> } | { error: 'not_found' | 'method_not_allowed' } {
    let methodMismatch = false;
    for (const route of this.routes) {
      if (route.pluginId !== pluginId) continue;
      const match = route.regex.exec(path);
      if (!match) continue;
      const params: Record<string, string> = {};
      route.params.forEach((name, index) => {
        params[name] = decodeURIComponent(match[index + 1] ?? '');
      });
      if (params.inbox !== undefined && params.inbox !== route.inboxId) continue;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
        methodMismatch = true;
        continue;
      }
      return { route, params };
    }
    return { error: methodMismatch ? 'method_not_allowed' : 'not_found' };
  }

  async dispatchHttp(route: CompiledRoute, request: unknown): Promise<unknown> {
    const running = this.running.get(route.instanceId);
    if (!running || running.supervisor.state !== 'running') throw new PluginError('plugin_not_running', 'The plugin is not running; retry later');
    return running.supervisor.call('http', { routeId: route.routeId, request });
  }

  // ---------------------------------------------------------------- outbound delivery

  private async startOutbound(running: Running): Promise<void> {
    const { row, plugin } = running;
    const policy = row.delivery ?? plugin.manifest.delivery ?? DEFAULT_DELIVERY;
    running.outbound = await this.bus.consume<EventEnvelope<MessageCreatedEvent>>({
      name: `plugin-out-${row.id}`,
      subject: MESSAGE_CREATED,
      delivery: 'one-instance',
      // Restarts with its instance (reconfiguration, crash loops) and must resume where it stopped.
      ownConsumer: true,
      maxDeliver: policy.maxAttempts,
      backoffMs: policy.backoffMs,
      // Conversations are delivered in parallel (one at a time each, in order): one slow send or one busy
      // conversation no longer holds every other customer's replies back.
      concurrency: OUTBOUND_CONCURRENCY,
      handler: async (message) =>
        this.outboundOrder.run(`${row.id}\u0000${message.data?.data?.conversationId ?? ''}`, () =>
          this.deliver(row.id, message.data, message.deliveryCount, policy.maxAttempts),
        ),
    });
  }

  private async deliver(instanceId: string, envelope: EventEnvelope<MessageCreatedEvent>, attempt: number, maxAttempts: number): Promise<void> {
    const event = envelope.data;
    const running = this.running.get(instanceId);
    if (!running) throw new Error(`plugin instance ${instanceId} is not running on this core instance`);
    const { row, plugin } = running;
    if (event.direction !== 'out' || event.private || event.inboxId !== row.inboxId) return;
    if (new Date(envelope.occurredAt).getTime() < row.createdAt.getTime() - 1000) return; // older than the instance: not ours to send
    if (event.authorType === 'contact') return;
    const manager = this.dataSource.manager;
    const existing = await this.deliveryRows.findOneBy(manager, {
      instanceId,
      messageId: event.messageId,
    });
    if (existing && existing.status !== 'pending') return;
    const attempts = (existing?.attempts ?? 0) + 1;
    const now = this.clock.now();
    const record = async (changes: Partial<PluginDeliveryRow>) => {
      const row = {
        instanceId,
        messageId: event.messageId,
        conversationId: event.conversationId,
        attempts,
        createdAt: existing?.createdAt ?? now,
        updatedAt: this.clock.now(),
        externalId: null,
        lastError: null,
        status: 'pending',
        ...changes,
      } as PluginDeliveryRow;
      if (!existing) {
        // The first attempt of a message (nearly every delivery): a plain insert, without a query builder.
        try {
          return await this.inserter.insert(manager, PluginDeliveryRow, row);
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
        }
      }
      await manager.upsert(PluginDeliveryRow, row, ['instanceId', 'messageId']);
    };
    try {
      const message = await this.conversations.getMessage(event.messageId);
      if (!message) throw new Error(`message ${event.messageId} not found`);
      const known = event.threadKey === undefined ? undefined : { contactId: event.contactId, threadKey: event.threadKey };
      const context = await this.conversations.deliveryContext(event.conversationId, event.channel, known);
      const result = await running.supervisor.call<{ externalId?: unknown }>('send', {
        messageId: message.id,
        conversationId: event.conversationId,
        inboxId: event.inboxId,
        contactId: event.contactId,
        seq: event.seq,
        text: message.text,
        content: message.content ?? undefined,
        attachments: message.attachments ?? undefined,
        authorType: event.authorType,
        attempt,
        threadKey: context.threadKey,
        recipient: context.recipient,
      });
      const externalId = typeof result?.externalId === 'string' ? result.externalId.slice(0, 255) : null;
      await record({ status: 'delivered', externalId });
      this.deliveriesCounter.inc({ plugin: plugin.id, outcome: 'delivered' });
    } catch (error) {
      const reason = (error as Error).message.slice(0, 1000);
      const dead = attempt >= maxAttempts;
      await record({ status: dead ? 'dead_letter' : 'pending', lastError: reason }).catch(() => undefined);
      this.deliveriesCounter.inc({ plugin: plugin.id, outcome: dead ? 'dead_letter' : 'retry' });
      throw error;
    }
  }
}
