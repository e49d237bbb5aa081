import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { UnitOfWork } from '../platform/database/unit-of-work.js';
import { BUS, type Bus, type Closable } from '../platform/bus/bus.port.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import type { EventEnvelope } from '../platform/outbox/outbox.entity.js';
import type { Json } from '../platform/database/entity-columns.js';
import { SettingRow } from './entities/setting.entity.js';
import { CORE_SETTINGS, type SettingDefinition } from './settings.definitions.js';
import { SettingsError } from './settings.error.js';
import { SETTINGS_CHANGED, type SettingsChangedEvent } from './settings.events.js';
import type { SettingView } from './dto/update-setting.dto.js';

interface CachedSetting {
  value: unknown;
  version: number;
  updatedAt: Date | null;
  updatedBy: string | null;
}

/**
 * Admin-editable settings. Writes go through the outbox as `sb.evt.settings.changed`; every
 * core instance consumes that event and refreshes its in-memory copy, so reads are local
 * and all instances converge within the relay's latency.
 */
@Injectable()
export class SettingsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('settings');
  private readonly definitions = new Map<string, SettingDefinition>();
  private readonly cache = new Map<string, CachedSetting>();
  private subscription?: Closable;
  private readonly listeners = new Set<(event: SettingsChangedEvent) => void>();

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly uow: UnitOfWork,
  ) {
    for (const definition of CORE_SETTINGS) this.define(definition);
  }

  define(definition: SettingDefinition): void {
    this.definitions.set(definition.key, definition);
  }

  async onApplicationBootstrap(): Promise<void> {
    // Subscribe before loading, so a change committed in between is not missed.
    this.subscription = await this.bus.consume<EventEnvelope<SettingsChangedEvent>>({
      name: 'settings-cache',
      subject: SETTINGS_CHANGED,
      delivery: 'each-instance',
      handler: async (message) => this.apply(message.data.data),
    });
    await this.reload();
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscription?.close();
  }

  /** Reads every stored setting into the cache. */
  async reload(): Promise<void> {
    const rows = await this.dataSource.manager.find(SettingRow);
    for (const row of rows) this.cache.set(row.key, { value: row.value, version: row.version, updatedAt: row.updatedAt, updatedBy: row.updatedBy });
  }

  onChange(listener: (event: SettingsChangedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private apply(event: SettingsChangedEvent): void {
    const current = this.cache.get(event.key);
    // Versions only move forward: a late or repeated event never undoes a newer value.
    if (current && current.version >= event.version) return;
    this.cache.set(event.key, { value: event.value, version: event.version, updatedAt: this.clock.now(), updatedBy: event.changedBy });
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn({ key: event.key, reason: (error as Error).message }, 'settings listener failed');
      }
    }
  }

  get<T>(key: string): T {
    const definition = this.requireDefinition(key);
    const cached = this.cache.get(key);
    return (cached ? cached.value : definition.default) as T;
  }

  list(): SettingView[] {
    return [...this.definitions.values()].sort((a, b) => a.key.localeCompare(b.key)).map((definition) => this.view(definition));
  }

  describe(key: string): SettingView {
    return this.view(this.requireDefinition(key));
  }

  private view(definition: SettingDefinition): SettingView {
    const cached = this.cache.get(definition.key);
    return {
      key: definition.key,
      value: cached ? cached.value : definition.default,
      version: cached?.version ?? 0,
      description: definition.description,
      updatedAt: cached?.updatedAt ? cached.updatedAt.toISOString() : null,
      updatedBy: cached?.updatedBy ?? null,
    };
  }

  async update(key: string, value: unknown, actorId: string | null, expectedVersion?: number): Promise<SettingView> {
    const definition = this.requireDefinition(key);
    const problem = definition.validate(value);
    if (problem) throw new SettingsError('setting_invalid', `${key} ${problem}`, { key, reason: problem });

    const event = await this.uow.run(async (tx) => {
      const existing = await tx.manager.findOne(SettingRow, { where: { key }, lock: this.uow.isMysql ? { mode: 'pessimistic_write' } : undefined });
      const currentVersion = existing?.version ?? 0;
      if (expectedVersion !== undefined && expectedVersion !== currentVersion) {
        throw new SettingsError('setting_version_conflict', `${key} is at version ${currentVersion}, not ${expectedVersion}`, { key, currentVersion });
      }
      const version = currentVersion + 1;
      const now = this.clock.now();
      if (existing) {
        await tx.manager.update(SettingRow, { key, version: currentVersion }, { value: value as Json, version, updatedAt: now, updatedBy: actorId });
      } else {
        await tx.manager.insert(SettingRow, { key, value: value as Json, version, updatedAt: now, updatedBy: actorId });
      }
      const changed: SettingsChangedEvent = { key, value, version, changedBy: actorId };
      await tx.emit({ subject: SETTINGS_CHANGED, data: changed, id: `settings:${key}:${version}` });
      return changed;
    });
    // Read-your-writes on this instance; other instances catch up from the event.
    this.apply(event);
    return this.describe(key);
  }

  private requireDefinition(key: string): SettingDefinition {
    const definition = this.definitions.get(key);
    if (!definition) throw new SettingsError('setting_unknown', `There is no setting called "${key}".`, { key });
    return definition;
  }
}
