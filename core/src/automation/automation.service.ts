import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { UnitOfWork, type Tx } from '../platform/database/unit-of-work.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { IdempotentConsumers } from '../platform/outbox/idempotent-consumers.js';
import { SchedulerService } from '../platform/scheduler/scheduler.service.js';
import { sqlTime } from '../platform/database/sql-time.js';
import type { EventEnvelope } from '../platform/outbox/outbox.entity.js';
import type { Json } from '../platform/database/entity-columns.js';
import { AccessPolicy } from '../identity/access-policy.js';
import type { Actor } from '../identity/actor.js';
import { SettingsService } from '../settings/settings.service.js';
import { TicketsService, type TicketView } from '../tickets/tickets.service.js';
import { canTransition, type AutomationCause, type TicketStatus } from '../tickets/tickets.types.js';
import { AutomationJobRow, AutomationMacroRow, AutomationRunRow, AutomationRuleRow, CannedResponseRow } from './entities/automation.entity.js';
import { MAX_DEPTH, MAX_RUNS_PER_OBJECT_PER_MINUTE, type Action, type Conditions, type Trigger } from './automation.types.js';
import { matches } from './conditions.js';
import { renderTemplate, unknownVariables, type TemplateValues } from './template.js';
import { checkWebhookUrl } from './ssrf.js';
import { validateDefinition } from './automation.validation.js';
import { AutomationError } from './automation.error.js';
import { CONTACT_PORT, CONVERSATION_PORT, type ContactPort, type ConversationPort } from './conversation-port.js';
import { ExpiringCache } from '../platform/cache/expiring-cache.js';

type Target = { kind: 'ticket'; id: string } | { kind: 'conversation'; id: string };

interface ConversationJob {
  conversationId: string;
  action: Action;
  text?: string;
  actorId: string;
  idempotencyKey: string;
}

interface WebhookJob {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface RuleInput {
  name: string;
  trigger: Trigger;
  conditions?: Conditions;
  actions: Action[];
  position?: number;
  enabled?: boolean;
  stopProcessing?: boolean;
  teamId?: string | null;
}

const SUBJECTS: Record<Trigger, string> = {
  'ticket.created': 'sb.evt.ticket.created',
  'ticket.updated': 'sb.evt.ticket.updated',
  'ticket.status_changed': 'sb.evt.ticket.status_changed',
  'ticket.comment_added': 'sb.evt.ticket.comment_added',
  'ticket.sla_warning': 'sb.evt.ticket.sla_warning',
  'ticket.sla_breached': 'sb.evt.ticket.sla_breached',
  'conversation.created': 'sb.evt.conversation.created',
  'conversation.message_created': 'sb.evt.conversation.message_created',
};

const automationActor = (ruleId: string): Actor => ({ kind: 'system', id: `automation:${ruleId}`, roles: ['admin'], teamIds: [], scopes: [] });

/** How long another instance's rule changes may take to apply here. */
const RULE_CACHE_MS = 2_000;

/**
 * Rules, macros and canned responses. Rules run in the idempotent consumer's transaction of
 * the triggering event: ticket actions commit with the "processed" marker; conversation
 * actions and webhooks are queued in `automation_jobs` in that same transaction and executed
 * right after commit, outside it (retried with backoff, at least once; conversation messages
 * carry an idempotency key so they are posted once).
 */
@Injectable()
export class AutomationService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('automation');
  private draining = false;
  private drainAgain = false;

  private readonly ruleCache = new ExpiringCache<Trigger, AutomationRuleRow[]>(RULE_CACHE_MS);

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(CONVERSATION_PORT) private readonly conversations: ConversationPort,
    @Inject(CONTACT_PORT) private readonly contacts: ContactPort,
    private readonly uow: UnitOfWork,
    private readonly access: AccessPolicy,
    private readonly consumers: IdempotentConsumers,
    private readonly scheduler: SchedulerService,
    private readonly tickets: TicketsService,
    private readonly settings: SettingsService,
  ) {}

  onModuleInit(): void {
    this.settings.define({
      key: 'automation.webhookAllowedHosts',
      description: 'Host names webhooks may call even though they resolve to private or loopback addresses',
      default: [],
      validate: (value) =>
        Array.isArray(value) && value.length <= 100 && value.every((h) => typeof h === 'string' && /^[A-Za-z0-9.:_\-[\]]{1,253}$/.test(h))
          ? null
          : 'must be a list of host names',
    });
    this.settings.define({
      key: 'automation.webhookTimeoutMs',
      description: 'Webhook request timeout in milliseconds',
      default: 5000,
      validate: (value) =>
        Number.isInteger(value) && (value as number) >= 100 && (value as number) <= 30_000 ? null : 'must be an integer between 100 and 30000',
    });
    this.scheduler.every('automation.jobs', 5_000, () => this.drainJobs());
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const [trigger, subject] of Object.entries(SUBJECTS) as Array<[Trigger, string]>) {
      await this.consumers.register<Record<string, unknown>>({
        name: `automation-${trigger.replace('.', '-')}`,
        subject,
        handle: (event, tx) => this.onEvent(trigger, event, tx),
        // No transaction at all while this trigger is known to have no enabled rules (the 2 s rule cache).
        filter: () => this.mayHaveRules(trigger),
      });
    }
  }

  // ---------- rule evaluation ----------

  private async onEvent(trigger: Trigger, event: EventEnvelope<Record<string, unknown>>, tx: Tx): Promise<void> {
    const data = event.data ?? {};
    const target: Target | null = trigger.startsWith('ticket.')
      ? typeof data.ticketId === 'string'
        ? { kind: 'ticket', id: data.ticketId }
        : null
      : typeof data.conversationId === 'string'
        ? { kind: 'conversation', id: data.conversationId }
        : null;
    if (!target) return;
    const cause = causeOf(data);
    if (cause.depth >= MAX_DEPTH) {
      this.logger.warn({ trigger, object: target.id, depth: cause.depth }, 'automation depth limit reached; not evaluating');
      return;
    }
    const rules = await this.enabledRules(tx, trigger);
    if (!rules.length) return;
    const now = this.clock.now();
    const recent = await tx.manager
      .createQueryBuilder(AutomationRunRow, 'r')
      .where('r.object_type = :type AND r.object_id = :id AND r.created_at >= :since', {
        type: target.kind,
        id: target.id,
        since: sqlTime(tx.manager, new Date(now.getTime() - 60_000)),
      })
      .andWhere(`r.outcome = 'applied'`)
      .getCount();
    let budget = MAX_RUNS_PER_OBJECT_PER_MINUTE - recent;
    let queued = false;
    // Rules that acted on this event so far: later changes carry all of them, so none of them
    // is triggered again by the changes this pass makes.
    const chain = [...cause.ruleIds];
    for (const rule of rules) {
      if (chain.includes(rule.id)) continue;
      const context = await this.context(tx, trigger, target, data);
      if (!context) return;
      if (!matches(rule.conditions, context)) continue;
      if (budget <= 0) {
        await this.recordRun(tx, rule.id, target, event.id, cause.depth, 'rate_limited', `more than ${MAX_RUNS_PER_OBJECT_PER_MINUTE} rule runs per minute`);
        this.logger.warn({ rule: rule.id, object: target.id }, 'automation rate limit reached');
        break;
      }
      budget--;
      chain.push(rule.id);
      const next: AutomationCause = { ruleIds: [...chain], depth: cause.depth + 1 };
      const detail = await this.execute(tx, rule.actions, target, automationActor(rule.id), next, context, rule.id, event);
      queued = queued || detail.queued;
      await this.recordRun(
        tx,
        rule.id,
        target,
        event.id,
        cause.depth,
        'applied',
        detail.skipped.length ? `skipped: ${detail.skipped.join('; ')}`.slice(0, 500) : null,
      );
      if (rule.stopProcessing) break;
    }
    if (queued) tx.afterCommit(() => void this.drainJobs());
  }

  private async recordRun(tx: Tx, ruleId: string, target: Target, eventId: string, depth: number, outcome: AutomationRunRow['outcome'], detail: string | null) {
    await tx.manager.insert(AutomationRunRow, {
      id: randomUUID(),
      ruleId,
      objectType: target.kind,
      objectId: target.id,
      eventId,
      depth,
      outcome,
      detail,
      createdAt: this.clock.now(),
    });
  }

  /** What conditions see: `ticket.*`, `conversation.*`, `message.*` (incl. NLP fields), `contact.*`, `event.*`. */
  private async context(tx: Tx, trigger: Trigger, target: Target, data: Record<string, unknown>): Promise<Record<string, unknown> | null> {
    const context: Record<string, unknown> = { event: data, trigger };
    let contactId: string | null;
    if (target.kind === 'ticket') {
      const ticket = await this.tickets.findById(target.id, tx);
      if (!ticket) return null;
      context.ticket = ticket;
      contactId = ticket.requesterContactId;
    } else {
      const conversation = await this.conversations.get(target.id);
      if (!conversation) return null;
      context.conversation = conversation;
      contactId = conversation.contactId;
      if (trigger === 'conversation.message_created' && typeof data.messageId === 'string') {
        const message = await this.conversations.getMessage(data.messageId);
        if (message) context.message = { ...message, ...message.annotations };
      }
    }
    if (contactId) context.contact = (await this.contacts.get(contactId)) ?? {};
    return context;
  }

  // ---------- actions ----------

  private async execute(
    tx: Tx,
    actions: Action[],
    target: Target,
    actor: Actor,
    cause: AutomationCause | undefined,
    context: Record<string, unknown>,
    ruleId: string | null,
    event: EventEnvelope<Record<string, unknown>> | null,
  ): Promise<{ skipped: string[]; queued: boolean }> {
    const skipped: string[] = [];
    let queued = false;
    const options = cause ? { automation: cause } : {};
    const values = await this.templateValues(context);
    for (const [index, action] of actions.entries()) {
      if (action.type === 'call_webhook') {
        const body = action.body
          ? renderTemplate(action.body, values, 'json')
          : JSON.stringify({ event: event ? { id: event.id, subject: event.subject, data: event.data } : null, ruleId, object: target });
        await this.enqueue(tx, 'webhook', { url: action.url, headers: action.headers ?? {}, body } satisfies WebhookJob, ruleId);
        queued = true;
        continue;
      }
      if (target.kind === 'conversation') {
        let text: string | undefined;
        if (action.type === 'send_canned_reply') {
          const canned = await tx.manager.findOne(CannedResponseRow, { where: { id: action.cannedResponseId } });
          if (!canned) {
            skipped.push(`canned response ${action.cannedResponseId} missing`);
            continue;
          }
          text = renderTemplate(canned.body, values);
        } else if (action.type === 'add_note') text = renderTemplate(action.body, values);
        const job: ConversationJob = {
          conversationId: target.id,
          action,
          text,
          actorId: actor.id,
          idempotencyKey: `automation:${event?.id ?? randomUUID()}:${ruleId}:${index}`,
        };
        await this.enqueue(tx, 'conversation', job as unknown as Json, ruleId);
        queued = true;
        continue;
      }
      const ticket = await this.tickets.findById(target.id, tx);
      if (!ticket) return { skipped: [...skipped, 'ticket gone'], queued };
      switch (action.type) {
        case 'set_priority':
          await this.tickets.update(actor, ticket.id, { priority: action.value }, options, tx);
          break;
        case 'set_team':
          await this.tickets.update(actor, ticket.id, { teamId: action.teamId }, options, tx);
          break;
        case 'assign':
          await this.tickets.update(actor, ticket.id, { assigneeId: action.assigneeId }, options, tx);
          break;
        case 'set_tags': {
          const remove = new Set((action.remove ?? []).map((t) => t.toLowerCase()));
          const tags = [...ticket.tags.filter((t) => !remove.has(t)), ...(action.add ?? [])];
          await this.tickets.update(actor, ticket.id, { tags }, options, tx);
          break;
        }
        case 'set_status': {
          const to = action.status as TicketStatus;
          if (ticket.status === to) break;
          if (!canTransition(ticket.status, to)) {
            skipped.push(`status ${ticket.status}→${to} not allowed`);
            break;
          }
          await this.tickets.transition(actor, ticket.id, to, options, tx);
          break;
        }
        case 'add_note':
          await this.tickets.addComment(actor, ticket.id, { body: renderTemplate(action.body, values), private: true }, options, tx);
          break;
        case 'send_canned_reply': {
          const canned = await tx.manager.findOne(CannedResponseRow, { where: { id: action.cannedResponseId } });
          if (!canned) {
            skipped.push(`canned response ${action.cannedResponseId} missing`);
            break;
          }
          await this.tickets.addComment(actor, ticket.id, { body: renderTemplate(canned.body, values), private: false }, options, tx);
          break;
        }
      }
      context.ticket = (await this.tickets.findById(ticket.id, tx)) ?? context.ticket;
    }
    return { skipped, queued };
  }

  private async templateValues(context: Record<string, unknown>): Promise<TemplateValues> {
    const ticket = context.ticket as TicketView | undefined;
    const conversation = context.conversation as { id: string; channel: string } | undefined;
    const contact = context.contact as { name?: string | null; email?: string | null; language?: string | null } | undefined;
    return {
      'contact.name': contact?.name ?? null,
      'contact.email': contact?.email ?? null,
      'contact.language': contact?.language ?? null,
      'ticket.number': ticket?.number,
      'ticket.subject': ticket?.subject,
      'ticket.status': ticket?.status,
      'ticket.priority': ticket?.priority,
      'conversation.id': conversation?.id,
      'conversation.channel': conversation?.channel,
      'organization.name': this.settings.get<string>('general.organizationName'),
    };
  }

  // ---------- jobs (outside any transaction) ----------

  private async enqueue(tx: Tx, kind: AutomationJobRow['kind'], payload: Json, ruleId: string | null): Promise<void> {
    const now = this.clock.now();
    await tx.manager.insert(AutomationJobRow, {
      id: randomUUID(),
      kind,
      payload,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      claimedUntil: null,
      lastError: null,
      ruleId,
      createdAt: now,
    });
  }

  /** Runs due jobs. Each is claimed with a conditional UPDATE, so two instances never run the same job at once. */
  async drainJobs(): Promise<void> {
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        const now = this.clock.now();
        const due = await this.dataSource.manager
          .createQueryBuilder(AutomationJobRow, 'j')
          .where(`j.status = 'pending' AND j.next_attempt_at <= :now`, { now: sqlTime(this.dataSource, now) })
          .andWhere('(j.claimed_until IS NULL OR j.claimed_until < :now)', { now: sqlTime(this.dataSource, now) })
          .orderBy('j.nextAttemptAt', 'ASC')
          .take(20)
          .getMany();
        for (const job of due) await this.runJob(job);
      } while (this.drainAgain);
    } finally {
      this.draining = false;
    }
  }

  private async runJob(job: AutomationJobRow): Promise<void> {
    const now = this.clock.now();
    const claim = await this.dataSource
      .createQueryBuilder()
      .update(AutomationJobRow)
      .set({ claimedUntil: new Date(now.getTime() + 60_000) })
      .where(`id = :id AND status = 'pending'`, { id: job.id })
      .andWhere('(claimed_until IS NULL OR claimed_until < :now)', { now: sqlTime(this.dataSource, now) })
      .execute();
    if (claim.affected !== 1) return;
    try {
      if (job.kind === 'webhook') await this.callWebhook(job.payload as unknown as WebhookJob);
      else await this.runConversationJob(job.payload as unknown as ConversationJob);
      await this.dataSource.manager.update(
        AutomationJobRow,
        { id: job.id },
        { status: 'done', attempts: job.attempts + 1, claimedUntil: null, lastError: null },
      );
    } catch (error) {
      const attempts = job.attempts + 1;
      const permanent = error instanceof PermanentJobError || attempts >= 5;
      this.logger.warn({ job: job.id, kind: job.kind, attempts, reason: (error as Error).message }, 'automation job failed');
      await this.dataSource.manager.update(
        AutomationJobRow,
        { id: job.id },
        {
          status: permanent ? 'failed' : 'pending',
          attempts,
          claimedUntil: null,
          nextAttemptAt: new Date(this.clock.now().getTime() + 1000 * 2 ** attempts),
          lastError: (error as Error).message.slice(0, 500),
        },
      );
    }
  }

  private async callWebhook(job: WebhookJob): Promise<void> {
    const allowed = this.settings.get<string[]>('automation.webhookAllowedHosts');
    const check = await checkWebhookUrl(job.url, allowed);
    if (!check.ok) throw new PermanentJobError(`webhook refused: ${check.reason}`);
    const response = await fetch(check.url, {
      method: 'POST',
      headers: { ...job.headers, 'content-type': 'application/json', 'user-agent': 'Switchboard-Automation/1' },
      body: job.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.settings.get<number>('automation.webhookTimeoutMs')),
    });
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 500 || response.status === 429) throw new Error(`webhook answered ${response.status}`);
    if (response.status >= 300) throw new PermanentJobError(`webhook answered ${response.status}`);
  }

  private async runConversationJob(job: ConversationJob): Promise<void> {
    const actor: Actor = { kind: 'system', id: job.actorId, roles: ['admin'], teamIds: [], scopes: [] };
    const action = job.action;
    switch (action.type) {
      case 'set_priority':
        return this.conversations.setPriority(job.conversationId, action.value);
      case 'set_team':
        return this.conversations.assign(job.conversationId, { teamId: action.teamId });
      case 'assign':
        return this.conversations.assign(job.conversationId, { agentId: action.assigneeId });
      case 'set_status':
        return this.conversations.setStatus(job.conversationId, action.status === 'solved' || action.status === 'closed' ? 'resolved' : action.status);
      case 'set_tags': {
        const conversation = await this.conversations.get(job.conversationId);
        if (!conversation) throw new PermanentJobError('conversation gone');
        const remove = new Set(action.remove ?? []);
        return this.conversations.setTags(job.conversationId, [...conversation.tags.filter((t) => !remove.has(t)), ...(action.add ?? [])]);
      }
      case 'add_note':
      case 'send_canned_reply':
        return this.conversations.postMessage(actor, job.conversationId, {
          text: job.text ?? '',
          private: action.type === 'add_note',
          idempotencyKey: job.idempotencyKey,
        });
      default:
        return undefined;
    }
  }

  /**
   * Every event of a trigger reads that trigger's rules, so they are kept for a moment: changes made on
   * this instance apply at once, changes made on another instance within RULE_CACHE_MS.
   */
  private mayHaveRules(trigger: Trigger): boolean {
    return (this.ruleCache.get(trigger)?.length ?? 1) > 0;
  }

  private async enabledRules(tx: Tx, trigger: Trigger): Promise<AutomationRuleRow[]> {
    const cached = this.ruleCache.get(trigger);
    if (cached) return cached;
    const rules = (await tx.manager.find(AutomationRuleRow, { where: { trigger, enabled: true } })).sort(ruleOrder);
    this.ruleCache.set(trigger, rules);
    return rules;
  }

  // ---------- rules CRUD ----------

  async listRules(actor: Actor): Promise<AutomationRuleRow[]> {
    const rules = (await this.dataSource.manager.find(AutomationRuleRow)).sort(ruleOrder);
    return rules.filter((rule) => this.access.canSee(actor, rule));
  }

  async getRule(actor: Actor, id: string): Promise<AutomationRuleRow> {
    const rule = await this.dataSource.manager.findOne(AutomationRuleRow, { where: { id } });
    return this.access.assertCanSee(actor, rule, () => new AutomationError('automation_rule_not_found', 'There is no such rule.'), 'automation_rule');
  }

  async createRule(actor: Actor, input: RuleInput): Promise<AutomationRuleRow> {
    const { conditions, actions } = validateDefinition(input);
    this.assertTeam(actor, input.teamId ?? null);
    const now = this.clock.now();
    const count = await this.dataSource.manager.count(AutomationRuleRow);
    const row = Object.assign(new AutomationRuleRow(), {
      id: randomUUID(),
      name: input.name,
      trigger: input.trigger,
      conditions,
      actions,
      position: input.position ?? (count + 1) * 10,
      enabled: input.enabled ?? true,
      stopProcessing: input.stopProcessing ?? false,
      teamId: input.teamId ?? null,
      createdAt: now,
      updatedAt: now,
    });
    await this.uow.run((tx) => tx.manager.insert(AutomationRuleRow, row as never));
    this.ruleCache.clear();
    return row;
  }

  async updateRule(actor: Actor, id: string, input: Partial<RuleInput>): Promise<AutomationRuleRow> {
    const row = await this.getRule(actor, id);
    const merged = { ...row, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) } as AutomationRuleRow;
    const { conditions, actions } = validateDefinition(merged);
    this.assertTeam(actor, merged.teamId);
    Object.assign(row, merged, { conditions, actions, updatedAt: this.clock.now() });
    await this.uow.run((tx) => tx.manager.save(AutomationRuleRow, row));
    this.ruleCache.clear();
    return row;
  }

  async deleteRule(actor: Actor, id: string): Promise<void> {
    await this.getRule(actor, id);
    await this.uow.run((tx) => tx.manager.delete(AutomationRuleRow, { id }));
    this.ruleCache.clear();
  }

  async runs(actor: Actor, filter: { ruleId?: string; objectId?: string; limit?: number }): Promise<AutomationRunRow[]> {
    const qb = this.dataSource.manager.createQueryBuilder(AutomationRunRow, 'r');
    if (filter.ruleId) qb.andWhere('r.rule_id = :rule', { rule: filter.ruleId });
    if (filter.objectId) qb.andWhere('r.object_id = :object', { object: filter.objectId });
    const runs = await qb
      .orderBy('r.createdAt', 'DESC')
      .take(Math.min(filter.limit ?? 50, 200))
      .getMany();
    if (this.access.visibleTeams(actor) === 'all') return runs;
    const visible = new Set((await this.listRules(actor)).map((r) => r.id));
    return runs.filter((run) => visible.has(run.ruleId));
  }

  private assertTeam(actor: Actor, teamId: string | null): void {
    if (teamId && !this.access.canSee(actor, { teamId }))
      throw new AutomationError('automation_invalid', 'You cannot create automation for that team.', { field: 'teamId' });
  }

  // ---------- macros ----------

  async listMacros(actor: Actor): Promise<AutomationMacroRow[]> {
    const rows = await this.dataSource.manager.find(AutomationMacroRow, { order: { name: 'ASC', id: 'ASC' } });
    return rows.filter((row) => this.access.canSee(actor, row));
  }

  async getMacro(actor: Actor, id: string): Promise<AutomationMacroRow> {
    const row = await this.dataSource.manager.findOne(AutomationMacroRow, { where: { id } });
    return this.access.assertCanSee(actor, row, () => new AutomationError('automation_macro_not_found', 'There is no such macro.'), 'automation_macro');
  }

  async createMacro(actor: Actor, input: { name: string; actions: Action[]; teamId?: string | null }): Promise<AutomationMacroRow> {
    const { actions } = validateDefinition({ actions: input.actions });
    this.assertTeam(actor, input.teamId ?? null);
    const now = this.clock.now();
    const row = Object.assign(new AutomationMacroRow(), {
      id: randomUUID(),
      name: input.name,
      actions,
      teamId: input.teamId ?? null,
      createdAt: now,
      updatedAt: now,
    });
    await this.uow.run((tx) => tx.manager.insert(AutomationMacroRow, row));
    return row;
  }

  async updateMacro(actor: Actor, id: string, input: { name?: string; actions?: Action[]; teamId?: string | null }): Promise<AutomationMacroRow> {
    const row = await this.getMacro(actor, id);
    if (input.actions) row.actions = validateDefinition({ actions: input.actions }).actions;
    if (input.name !== undefined) row.name = input.name;
    if (input.teamId !== undefined) {
      this.assertTeam(actor, input.teamId);
      row.teamId = input.teamId;
    }
    row.updatedAt = this.clock.now();
    await this.uow.run((tx) => tx.manager.save(AutomationMacroRow, row));
    return row;
  }

  async deleteMacro(actor: Actor, id: string): Promise<void> {
    await this.getMacro(actor, id);
    await this.uow.run((tx) => tx.manager.delete(AutomationMacroRow, { id }));
  }

  /** Applies a macro's actions to a ticket, as the calling agent (rules may then react to the changes). */
  async applyMacro(actor: Actor, macroId: string, ticketId: string): Promise<TicketView> {
    const macro = await this.getMacro(actor, macroId);
    const ticket = await this.tickets.get(actor, ticketId);
    let queued = false;
    await this.uow.run(async (tx) => {
      const context = await this.context(tx, 'ticket.updated', { kind: 'ticket', id: ticket.id }, {});
      queued = (await this.execute(tx, macro.actions, { kind: 'ticket', id: ticket.id }, actor, undefined, context ?? {}, null, null)).queued;
    });
    if (queued) void this.drainJobs();
    return this.tickets.get(actor, ticket.id);
  }

  // ---------- canned responses ----------

  async listCanned(actor: Actor, filter: { q?: string } = {}): Promise<CannedResponseRow[]> {
    const rows = await this.dataSource.manager.find(CannedResponseRow, { order: { name: 'ASC', id: 'ASC' } });
    const q = filter.q?.toLowerCase();
    return rows.filter((row) => this.access.canSee(actor, row) && (!q || row.name.toLowerCase().includes(q) || (row.shortcut ?? '').toLowerCase().includes(q)));
  }

  async getCanned(actor: Actor, id: string): Promise<CannedResponseRow> {
    const row = await this.dataSource.manager.findOne(CannedResponseRow, { where: { id } });
    return this.access.assertCanSee(actor, row, () => new AutomationError('canned_response_not_found', 'There is no such canned response.'), 'canned_response');
  }

  async createCanned(actor: Actor, input: { name: string; body: string; shortcut?: string | null; teamId?: string | null }): Promise<CannedResponseRow> {
    this.checkTemplate(input.body);
    this.assertTeam(actor, input.teamId ?? null);
    const now = this.clock.now();
    const row = Object.assign(new CannedResponseRow(), {
      id: randomUUID(),
      name: input.name,
      body: input.body,
      shortcut: input.shortcut ?? null,
      teamId: input.teamId ?? null,
      createdAt: now,
      updatedAt: now,
    });
    await this.uow.run((tx) => tx.manager.insert(CannedResponseRow, row));
    return row;
  }

  async updateCanned(
    actor: Actor,
    id: string,
    input: { name?: string; body?: string; shortcut?: string | null; teamId?: string | null },
  ): Promise<CannedResponseRow> {
    const row = await this.getCanned(actor, id);
    if (input.body !== undefined) {
      this.checkTemplate(input.body);
      row.body = input.body;
    }
    if (input.name !== undefined) row.name = input.name;
    if (input.shortcut !== undefined) row.shortcut = input.shortcut;
    if (input.teamId !== undefined) {
      this.assertTeam(actor, input.teamId);
      row.teamId = input.teamId;
    }
    row.updatedAt = this.clock.now();
    await this.uow.run((tx) => tx.manager.save(CannedResponseRow, row));
    return row;
  }

  async deleteCanned(actor: Actor, id: string): Promise<void> {
    await this.getCanned(actor, id);
    await this.uow.run((tx) => tx.manager.delete(CannedResponseRow, { id }));
  }

  /** Renders a canned response for a ticket and/or conversation the actor can see. */
  async renderCanned(actor: Actor, id: string, input: { ticketId?: string; conversationId?: string }): Promise<{ text: string }> {
    const canned = await this.getCanned(actor, id);
    const context: Record<string, unknown> = {};
    let contactId: string | null = null;
    if (input.ticketId) {
      const ticket = await this.tickets.get(actor, input.ticketId);
      context.ticket = ticket;
      contactId = ticket.requesterContactId;
    }
    if (input.conversationId) {
      const conversation = await this.conversations.get(input.conversationId);
      if (!conversation || !this.access.canSee(actor, conversation))
        throw new AutomationError('automation_invalid', 'There is no such conversation.', { field: 'conversationId' });
      context.conversation = conversation;
      contactId = contactId ?? conversation.contactId;
    }
    if (contactId) context.contact = (await this.contacts.get(contactId)) ?? {};
    const values = await this.templateValues(context);
    values['agent.name'] = actor.displayName ?? null;
    return { text: renderTemplate(canned.body, values) };
  }

  private checkTemplate(body: string): void {
    const unknown = unknownVariables(body);
    if (unknown.length) throw new AutomationError('automation_invalid', `Unknown variable(s): ${unknown.join(', ')}`, { unknownVariables: unknown });
  }
}

class PermanentJobError extends Error {}

function ruleOrder(a: AutomationRuleRow, b: AutomationRuleRow): number {
  return a.position - b.position || a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id);
}

/** The automation chain behind an event: ticket events carry it; automation's own conversation messages are recognised by author. */
function causeOf(data: Record<string, unknown>): AutomationCause {
  const automation = data.automation as AutomationCause | undefined;
  if (automation && Array.isArray(automation.ruleIds) && typeof automation.depth === 'number') return automation;
  if (typeof data.authorId === 'string' && data.authorId.startsWith('automation:')) return { ruleIds: [data.authorId.slice('automation:'.length)], depth: 1 };
  return { ruleIds: [], depth: 0 };
}
