import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { In, Not, IsNull, type DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { UnitOfWork } from '../platform/database/unit-of-work.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { BUS, type Bus, type Closable } from '../platform/bus/bus.port.js';
import type { EventEnvelope } from '../platform/outbox/outbox.entity.js';
import { AccessPolicy } from '../identity/access-policy.js';
import type { Actor } from '../identity/actor.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { TrainingService, type TrainingJobView } from '../nlp/training.service.js';
import { INTENT_SEED } from '../nlp/default-data/intent-seed.js';
import { parseSeed } from '../nlp/default-data/index.js';
import { BotConfigRow, BotFlowRow, BotSessionRow, BotTurnRow } from './entities/bot.entity.js';
import { DEFAULT_BOT_CONFIG, type BotConfig, type FlowDefinition } from './bot.types.js';
import { BotError } from './bot.error.js';
import { BOT_CONFIG_CHANGED, BOT_FLOW_CHANGED, type BotConfigChangedEvent, type BotFlowChangedEvent } from './bot.events.js';
import { parseFlowSource, validateFlow } from './flow.js';

export interface FlowView {
  id: string;
  name: string;
  version: number;
  status: string;
  format: string;
  source?: string;
  definition?: FlowDefinition;
  createdBy: string | null;
  createdAt: string;
}

export interface TurnView {
  id: string;
  messageId: string;
  conversationId: string;
  inboxId: string;
  intent: string | null;
  confidence: number | null;
  action: string;
  reason: string | null;
  kbEntryId: string | null;
  kbScore: number | null;
  language: string | null;
  emotion: string | null;
  flow: string | null;
  label: string | null;
  latencyMs: number | null;
  createdAt: string;
}

const LOCAL_TEXT = (v: unknown) =>
  v === null ||
  typeof v === 'string' ||
  (Boolean(v) && typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((t) => typeof t === 'string' && t.length <= 4000));
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

/**
 * Bot configuration per inbox, versioned flow definitions, sessions and the turn log (with
 * labels for retraining). Configurations and active flows are cached on every instance and
 * refreshed through `sb.evt.bot.config_changed` / `flow_changed` (each-instance consumers).
 */
@Injectable()
export class BotService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('bot');
  private readonly configs = new Map<string, BotConfig>();
  private readonly activeFlows = new Map<string, { version: number; definition: FlowDefinition }>();
  /**
   * Activations made on this instance, stamped. A reload that read the table before an activation committed
   * must not undo it (the flow would be missing until the activation's own event reloads again).
   */
  private readonly localActivations = new Map<string, { stamp: number; version: number; definition: FlowDefinition }>();
  private activationStamp = 0;
  private readonly flowVersions = new Map<string, FlowDefinition>();
  private readonly handles: Closable[] = [];

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(BUS) private readonly bus: Bus,
    private readonly uow: UnitOfWork,
    private readonly access: AccessPolicy,
    private readonly conversations: ConversationsService,
    private readonly training: TrainingService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.reloadConfigs();
    await this.reloadFlows();
    this.handles.push(
      await this.bus.consume<EventEnvelope<BotConfigChangedEvent>>({
        name: 'bot-config-cache',
        subject: BOT_CONFIG_CHANGED,
        delivery: 'each-instance',
        handler: async (message) => this.reloadConfigs(message.data?.data?.inboxId),
      }),
      await this.bus.consume<EventEnvelope<BotFlowChangedEvent>>({
        name: 'bot-flow-cache',
        subject: BOT_FLOW_CHANGED,
        delivery: 'each-instance',
        handler: async () => this.reloadFlows(),
      }),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled(this.handles.map((h) => h.close()));
  }

  private async reloadConfigs(inboxId?: string): Promise<void> {
    const rows = await this.dataSource.manager.find(BotConfigRow, inboxId ? { where: { inboxId } } : {});
    if (inboxId && !rows.length) this.configs.delete(inboxId);
    for (const row of rows) this.configs.set(row.inboxId, withDefaults(row.config));
  }

  private async reloadFlows(): Promise<void> {
    const startedAt = this.activationStamp;
    const rows = await this.dataSource.manager.find(BotFlowRow, { where: { status: 'active' } });
    this.activeFlows.clear();
    for (const row of rows) this.activeFlows.set(row.name, { version: row.version, definition: row.definition });
    for (const [name, activation] of this.localActivations) {
      // Newer than what this reload read: keep it. Older: the rows read already reflect it.
      if (activation.stamp > startedAt) this.activeFlows.set(name, { version: activation.version, definition: activation.definition });
      else this.localActivations.delete(name);
    }
  }

  private activatedHere(name: string, version: number, definition: FlowDefinition): void {
    const stamp = ++this.activationStamp;
    this.localActivations.set(name, { stamp, version, definition });
    this.activeFlows.set(name, { version, definition });
  }

  /** The inbox's bot configuration from this instance's cache (undefined: no bot). Synchronous. */
  configFor(inboxId: string): BotConfig | undefined {
    return this.configs.get(inboxId);
  }

  /** True when the inbox has an enabled bot: new conversations wait for the bot's hand-over. */
  handlesInbox(inboxId: string | null | undefined): boolean {
    return Boolean(inboxId && this.configs.get(inboxId)?.enabled);
  }

  activeFlow(name: string): { version: number; definition: FlowDefinition } | undefined {
    return this.activeFlows.get(name);
  }

  async flowDefinition(name: string, version: number): Promise<FlowDefinition | undefined> {
    const key = `${name}@${version}`;
    const cached = this.flowVersions.get(key);
    if (cached) return cached;
    const active = this.activeFlows.get(name);
    if (active?.version === version) return active.definition;
    const row = await this.dataSource.manager.findOne(BotFlowRow, { where: { name, version } });
    if (row) this.flowVersions.set(key, row.definition);
    return row?.definition;
  }

  // ---------------------------------------------------------------- config API

  async getConfig(actor: Actor, inboxId: string): Promise<{ inboxId: string; version: number; config: BotConfig; configured: boolean }> {
    await this.inboxFor(actor, inboxId);
    const row = await this.dataSource.manager.findOne(BotConfigRow, { where: { inboxId } });
    return { inboxId, version: row?.version ?? 0, config: withDefaults(row?.config ?? { ...DEFAULT_BOT_CONFIG, enabled: false }), configured: Boolean(row) };
  }

  async putConfig(
    actor: Actor,
    inboxId: string,
    patch: Partial<BotConfig>,
  ): Promise<{ inboxId: string; version: number; config: BotConfig; configured: boolean }> {
    await this.inboxFor(actor, inboxId);
    return this.uow.run(async (tx) => {
      const row = await tx.manager.findOne(BotConfigRow, { where: { inboxId } });
      const base = withDefaults(row?.config ?? {});
      const merged = withDefaults({
        ...base,
        ...patch,
        thresholds: { ...base.thresholds, ...(patch.thresholds ?? {}) },
        messages: { ...base.messages, ...(patch.messages ?? {}) },
      });
      const problems = validateConfig(merged);
      // Checked against the table, not this instance's cache: a flow-change reload that read the table just before
      // a flow was activated can briefly hide it from the cache (seen in the demo seed on MariaDB + NATS).
      const active = merged.flows.length
        ? new Set((await tx.manager.find(BotFlowRow, { where: { status: 'active', name: In(merged.flows) }, select: { name: true } })).map((flow) => flow.name))
        : new Set<string>();
      for (const name of merged.flows) if (!active.has(name)) problems.push(`flows: there is no active flow "${name}"`);
      if (problems.length) throw new BotError('bot_config_invalid', problems.join('; '), { problems });
      const version = (row?.version ?? 0) + 1;
      const now = this.clock.now();
      if (row) await tx.manager.update(BotConfigRow, { inboxId }, { config: merged, version, updatedBy: actor.id, updatedAt: now });
      else await tx.manager.insert(BotConfigRow, { inboxId, config: merged, version, updatedBy: actor.id, updatedAt: now });
      await tx.emit({ subject: BOT_CONFIG_CHANGED, id: `bot-config:${inboxId}:${version}`, data: { inboxId, version } satisfies BotConfigChangedEvent });
      tx.afterCommit(() => this.configs.set(inboxId, merged));
      return { inboxId, version, config: merged, configured: true };
    });
  }

  private async inboxFor(actor: Actor, inboxId: string) {
    try {
      return await this.conversations.getInboxForActor(actor, inboxId);
    } catch {
      throw new BotError('bot_inbox_not_found', 'There is no such inbox.', { inboxId });
    }
  }

  // ---------------------------------------------------------------- flows API

  /** Stores a new version of a flow from JSON or YAML source; `activate` makes it the live version. */
  async createFlow(actor: Actor, input: { format: 'json' | 'yaml'; source: string; activate?: boolean }): Promise<FlowView> {
    let definition: unknown;
    try {
      definition = parseFlowSource(input.source, input.format);
    } catch (error) {
      throw new BotError('bot_flow_invalid', `The ${input.format} source could not be parsed: ${(error as Error).message.slice(0, 300)}`);
    }
    const problems = validateFlow(definition);
    if (problems.length) throw new BotError('bot_flow_invalid', problems.slice(0, 20).join('; '), { problems });
    const flow = definition as FlowDefinition;
    return this.uow.run(async (tx) => {
      const latest = await tx.manager.findOne(BotFlowRow, { where: { name: flow.name }, order: { version: 'DESC' } });
      const version = (latest?.version ?? 0) + 1;
      const status = input.activate ? 'active' : 'draft';
      if (input.activate) await tx.manager.update(BotFlowRow, { name: flow.name, status: 'active' }, { status: 'retired' });
      const row: BotFlowRow = Object.assign(new BotFlowRow(), {
        id: randomUUID(),
        name: flow.name,
        version,
        status,
        format: input.format,
        source: input.source,
        definition: flow,
        createdBy: actor.id,
        createdAt: this.clock.now(),
      });
      await tx.manager.insert(BotFlowRow, row as never);
      await tx.emit({
        subject: BOT_FLOW_CHANGED,
        id: `bot-flow:${flow.name}:${version}:${status}`,
        data: { name: flow.name, version, status } satisfies BotFlowChangedEvent,
      });
      if (input.activate) tx.afterCommit(() => this.activatedHere(flow.name, version, flow));
      return flowView(row, true);
    });
  }

  async activateFlow(actor: Actor, name: string, version: number): Promise<FlowView> {
    void actor;
    return this.uow.run(async (tx) => {
      const row = await tx.manager.findOne(BotFlowRow, { where: { name, version } });
      if (!row) throw new BotError('bot_flow_not_found', 'There is no such flow version.', { name, version });
      await tx.manager.update(BotFlowRow, { name, status: 'active' }, { status: 'retired' });
      await tx.manager.update(BotFlowRow, { id: row.id }, { status: 'active' });
      row.status = 'active';
      await tx.emit({
        subject: BOT_FLOW_CHANGED,
        id: `bot-flow:${name}:${version}:active:${this.clock.now().getTime()}`,
        data: { name, version, status: 'active' } satisfies BotFlowChangedEvent,
      });
      tx.afterCommit(() => this.activatedHere(name, version, row.definition));
      return flowView(row, true);
    });
  }

  async listFlows(): Promise<FlowView[]> {
    const rows = await this.dataSource.manager.find(BotFlowRow, { order: { name: 'ASC', version: 'DESC' } });
    return rows.map((r) => flowView(r, false));
  }

  async getFlow(name: string, version?: number): Promise<FlowView> {
    const row = version
      ? await this.dataSource.manager.findOne(BotFlowRow, { where: { name, version } })
      : ((await this.dataSource.manager.findOne(BotFlowRow, { where: { name, status: 'active' } })) ??
        (await this.dataSource.manager.findOne(BotFlowRow, { where: { name }, order: { version: 'DESC' } })));
    if (!row) throw new BotError('bot_flow_not_found', 'There is no such flow.', { name, version });
    return flowView(row, true);
  }

  // ---------------------------------------------------------------- sessions and turns

  async session(
    actor: Actor,
    conversationId: string,
  ): Promise<{ conversationId: string; mode: string; handoverReason: string | null; handedOverAt: string | null; state: unknown }> {
    await this.conversations.getForActor(actor, conversationId).catch(() => {
      throw new BotError('bot_session_not_found', 'There is no bot session for this conversation.');
    });
    const row = await this.dataSource.manager.findOne(BotSessionRow, { where: { conversationId } });
    if (!row) throw new BotError('bot_session_not_found', 'There is no bot session for this conversation.');
    return { conversationId, mode: row.mode, handoverReason: row.handoverReason, handedOverAt: row.handedOverAt?.toISOString() ?? null, state: row.state };
  }

  async turns(actor: Actor, filter: { conversationId?: string; inboxId?: string; action?: string; labelled?: boolean; limit?: number }): Promise<TurnView[]> {
    if (filter.conversationId) await this.conversations.getForActor(actor, filter.conversationId);
    if (filter.inboxId) await this.inboxFor(actor, filter.inboxId);
    const where: Record<string, unknown> = {};
    if (filter.conversationId) where.conversationId = filter.conversationId;
    if (filter.inboxId) where.inboxId = filter.inboxId;
    if (filter.action) where.action = filter.action;
    if (filter.labelled) where.label = Not(IsNull());
    const rows = await this.dataSource.manager.find(BotTurnRow, { where, order: { createdAt: 'DESC' }, take: Math.min(filter.limit ?? 100, 1000) });
    return rows.map(turnView);
  }

  async labelTurn(actor: Actor, id: string, label: string | null): Promise<TurnView> {
    const row = await this.dataSource.manager.findOne(BotTurnRow, { where: { id } });
    if (!row) throw new BotError('bot_turn_not_found', 'There is no such turn.', { id });
    // Agents (e.g. after a hand-over) label turns of conversations they can see; admins/supervisors by inbox.
    const manager = actor.roles.includes('admin') || actor.roles.includes('supervisor');
    if (manager) await this.inboxFor(actor, row.inboxId);
    else
      await this.conversations.getForActor(actor, row.conversationId).catch(() => {
        throw new BotError('bot_turn_not_found', 'There is no such turn.', { id });
      });
    if (label !== null && !/^[A-Za-z0-9_.:-]{1,100}$/.test(label))
      throw new BotError('bot_training_invalid', 'A label is 1–100 letters, digits, "_", ".", ":" or "-".');
    row.label = label;
    await this.dataSource.manager.update(BotTurnRow, { id }, { label });
    return turnView(row);
  }

  /**
   * Retrains the intent model from labelled bot turns (plus the default seed so common intents
   * stay known), through the NLP trainer. `inboxId` trains `intent:<inboxId>`, used for that
   * inbox's messages; otherwise the shared `intent` model.
   */
  async retrainIntents(
    actor: Actor,
    input: { inboxId?: string; activate?: boolean; includeSeed?: boolean; maxEpochs?: number },
  ): Promise<TrainingJobView & { labelledExamples: number }> {
    if (input.inboxId) await this.inboxFor(actor, input.inboxId);
    const turns = await this.dataSource.manager.find(BotTurnRow, {
      where: { label: Not(IsNull()), ...(input.inboxId ? { inboxId: input.inboxId } : {}) },
      order: { createdAt: 'DESC' },
      take: 50_000,
    });
    const examples: Array<{ text: string; label: string }> = [];
    const ids = turns.map((t) => t.messageId);
    for (let i = 0; i < ids.length; i += 200) {
      const batch = ids.slice(i, i + 200);
      for (const id of batch) {
        const message = await this.conversations.getMessage(id).catch(() => null);
        const turn = turns.find((t) => t.messageId === id)!;
        if (message?.text?.trim()) examples.push({ text: message.text, label: turn.label! });
      }
    }
    if (!examples.length) throw new BotError('bot_training_invalid', 'There are no labelled bot turns to train on.');
    const all = [...examples, ...(input.includeSeed === false ? [] : parseSeed(INTENT_SEED))];
    const job = await this.training.start(
      {
        task: 'intent',
        name: input.inboxId ? `intent:${input.inboxId}` : 'intent',
        examples: all,
        activate: input.activate ?? true,
        ...(input.maxEpochs ? { options: { maxEpochs: input.maxEpochs } } : {}),
      },
      actor.id,
    );
    return { ...job, labelledExamples: examples.length };
  }

  /** Sessions in these conversations (used by tests and the console's queue view). */
  async sessionsOf(conversationIds: string[]): Promise<BotSessionRow[]> {
    if (!conversationIds.length) return [];
    return this.dataSource.manager.find(BotSessionRow, { where: { conversationId: In(conversationIds) } });
  }
}

export function withDefaults(config: Partial<BotConfig>): BotConfig {
  return {
    ...DEFAULT_BOT_CONFIG,
    ...config,
    thresholds: { ...DEFAULT_BOT_CONFIG.thresholds, ...(config.thresholds ?? {}) },
    messages: { ...DEFAULT_BOT_CONFIG.messages, ...(config.messages ?? {}) },
  };
}

export function validateConfig(c: BotConfig): string[] {
  const problems: string[] = [];
  if (typeof c.enabled !== 'boolean') problems.push('enabled must be true or false');
  if (typeof c.kbId !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(c.kbId)) problems.push('kbId must be a knowledge base id');
  if (typeof c.defaultLanguage !== 'string' || !/^[a-z]{2}(-[A-Za-z]{2})?$/.test(c.defaultLanguage)) problems.push('defaultLanguage must be a language code');
  if (!LOCAL_TEXT(c.greeting)) problems.push('greeting must be text, { en, zh, … } or null');
  if (!LOCAL_TEXT(c.offHoursMessage)) problems.push('offHoursMessage must be text or null');
  if (c.businessHours !== null) {
    const b = c.businessHours;
    let tzOk = true;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: b?.timezone });
    } catch {
      tzOk = false;
    }
    if (!b || typeof b.timezone !== 'string' || !tzOk) problems.push('businessHours.timezone must be an IANA time zone');
    if (!b || !Array.isArray(b.days) || !b.days.every((d) => Number.isInteger(d) && d >= 0 && d <= 6))
      problems.push('businessHours.days must list 0 (Sunday) – 6');
    if (!b || !TIME.test(b.open ?? '') || !TIME.test(b.close ?? '')) problems.push('businessHours.open/close must be HH:MM');
  }
  const t = c.thresholds;
  if (!(typeof t.high === 'number' && typeof t.medium === 'number' && t.medium > 0 && t.medium <= t.high && t.high <= 1))
    problems.push('thresholds must satisfy 0 < medium ≤ high ≤ 1');
  if (!(typeof t.margin === 'number' && t.margin >= 0 && t.margin < 1)) problems.push('thresholds.margin must be between 0 and 1');
  if (!(typeof t.minSupport === 'number' && t.minSupport >= 0 && t.minSupport <= 1)) problems.push('thresholds.minSupport must be between 0 and 1');
  for (const key of ['handoverPhrases', 'startOverPhrases', 'flows', 'allowedPrivateHosts'] as const) {
    const list = c[key];
    if (!Array.isArray(list) || list.length > 200 || !list.every((p) => typeof p === 'string' && p.trim() && p.length <= 200))
      problems.push(`${key} must be a list of non-empty strings`);
  }
  if (!Number.isInteger(c.maxFailedTurns) || c.maxFailedTurns < 1 || c.maxFailedTurns > 20) problems.push('maxFailedTurns must be 1–20');
  if (!Number.isInteger(c.negativeStreak) || c.negativeStreak < 0 || c.negativeStreak > 20) problems.push('negativeStreak must be 0–20');
  for (const key of ['handoverOnAnger', 'handoverOnVip', 'resolveOnThanks', 'askFeedback'] as const)
    if (typeof c[key] !== 'boolean') problems.push(`${key} must be true or false`);
  if (c.handoverTeamId !== null && (typeof c.handoverTeamId !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(c.handoverTeamId)))
    problems.push('handoverTeamId must be a team id or null');
  for (const [key, value] of Object.entries(c.messages ?? {}))
    if (!LOCAL_TEXT(value) || value === null) problems.push(`messages.${key} must be text or { en, zh, … }`);
  const known = new Set([...Object.keys(DEFAULT_BOT_CONFIG)]);
  for (const key of Object.keys(c)) if (!known.has(key)) problems.push(`unknown setting ${key}`);
  return problems;
}

function flowView(row: BotFlowRow, full: boolean): FlowView {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    status: row.status,
    format: row.format,
    ...(full ? { source: row.source, definition: row.definition } : {}),
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
  };
}

function turnView(row: BotTurnRow): TurnView {
  return {
    id: row.id,
    messageId: row.messageId,
    conversationId: row.conversationId,
    inboxId: row.inboxId,
    intent: row.intent,
    confidence: row.confidence,
    action: row.action,
    reason: row.reason,
    kbEntryId: row.kbEntryId,
    kbScore: row.kbScore,
    language: row.language,
    emotion: row.emotion,
    flow: row.flowName,
    label: row.label,
    latencyMs: row.latencyMs,
    createdAt: row.createdAt.toISOString(),
  };
}
