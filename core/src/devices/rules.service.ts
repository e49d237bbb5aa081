import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { UnitOfWork } from '../platform/database/unit-of-work.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { BUS, type Bus, type Closable } from '../platform/bus/bus.port.js';
import { DeviceRuleRow, RULE_KINDS, SEVERITIES, type DeviceRow, type RuleKind, type Severity } from './entities/device.entity.js';
import { DevicesError } from './devices.error.js';
import { DEVICE_RULES_CHANGED } from './devices.events.js';
import { validateRule } from './rules/rule-evaluator.js';
import type { Json } from '../platform/database/entity-columns.js';

export interface RuleInput {
  name: string;
  scopeModel?: string | null;
  scopeTag?: string | null;
  kind: RuleKind;
  metric?: string | null;
  params: Record<string, unknown>;
  debounceSamples?: number;
  debounceMs?: number;
  clearSamples?: number;
  severity: Severity;
  title: string;
  articleId?: string | null;
  autoResolve?: boolean;
  enabled?: boolean;
}

/** Rule definitions, cached on every instance and refreshed when any instance changes them. */
@Injectable()
export class DeviceRulesService implements OnApplicationBootstrap, OnModuleDestroy {
  private cache: DeviceRuleRow[] = [];
  private subscription?: Closable;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(BUS) private readonly bus: Bus,
    private readonly uow: UnitOfWork,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await this.bus.consume({
      name: 'device-rules-cache',
      subject: DEVICE_RULES_CHANGED,
      delivery: 'each-instance',
      handler: () => this.reload(),
    });
    await this.reload();
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscription?.close();
  }

  async reload(): Promise<void> {
    this.cache = await this.dataSource.manager.find(DeviceRuleRow, { order: { createdAt: 'ASC' } });
  }

  /** Enabled rules that apply to a device (by model and tag). */
  rulesFor(device: Pick<DeviceRow, 'model' | 'tags'>): DeviceRuleRow[] {
    return this.cache.filter(
      (rule) => rule.enabled && (!rule.scopeModel || rule.scopeModel === device.model) && (!rule.scopeTag || (device.tags ?? []).includes(rule.scopeTag)),
    );
  }

  staleRules(): DeviceRuleRow[] {
    return this.cache.filter((rule) => rule.enabled && rule.kind === 'stale');
  }

  get(id: string): DeviceRuleRow | undefined {
    return this.cache.find((rule) => rule.id === id);
  }

  list(): DeviceRuleRow[] {
    return [...this.cache];
  }

  async create(input: RuleInput): Promise<DeviceRuleRow> {
    const row = this.build(input, randomUUID());
    await this.uow.run(async (tx) => {
      await tx.manager.insert(DeviceRuleRow, row);
      await tx.emit({ subject: DEVICE_RULES_CHANGED, data: { ruleId: row.id } });
      tx.afterCommit(() => void this.reload());
    });
    await this.reload();
    return row;
  }

  async update(id: string, input: RuleInput): Promise<DeviceRuleRow> {
    const row = this.build(input, id);
    await this.uow.run(async (tx) => {
      const existing = await tx.manager.findOne(DeviceRuleRow, { where: { id } });
      if (!existing) throw new DevicesError('rule_not_found', `There is no rule "${id}".`);
      row.createdAt = existing.createdAt;
      await tx.manager.save(DeviceRuleRow, row);
      await tx.emit({ subject: DEVICE_RULES_CHANGED, data: { ruleId: id } });
    });
    await this.reload();
    return row;
  }

  private build(input: RuleInput, id: string): DeviceRuleRow {
    if (!RULE_KINDS.includes(input.kind)) throw new DevicesError('rule_invalid', `kind must be one of ${RULE_KINDS.join(', ')}`);
    if (!SEVERITIES.includes(input.severity)) throw new DevicesError('rule_invalid', `severity must be one of ${SEVERITIES.join(', ')}`);
    const spec = {
      kind: input.kind,
      metric: input.metric ?? null,
      params: input.params,
      debounceSamples: input.debounceSamples ?? 1,
      debounceMs: input.debounceMs ?? 0,
      clearSamples: input.clearSamples ?? 1,
    };
    const problems = validateRule(spec);
    if (!input.name?.trim() || input.name.length > 200) problems.push('name must be 1–200 characters');
    if (!input.title?.trim() || input.title.length > 200) problems.push('title must be 1–200 characters');
    if (problems.length) throw new DevicesError('rule_invalid', problems.join('; '), { problems });
    return Object.assign(new DeviceRuleRow(), {
      id,
      name: input.name.trim(),
      scopeModel: input.scopeModel ?? null,
      scopeTag: input.scopeTag ?? null,
      ...spec,
      params: input.params as Json,
      severity: input.severity,
      title: input.title.trim(),
      articleId: input.articleId ?? null,
      autoResolve: input.autoResolve ?? true,
      enabled: input.enabled ?? true,
      createdAt: this.clock.now(),
    });
  }
}
