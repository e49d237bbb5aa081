import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { IsNull, type DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { UnitOfWork } from '../platform/database/unit-of-work.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { BUS, type Bus, type Closable } from '../platform/bus/bus.port.js';
import { IdempotentConsumers } from '../platform/outbox/idempotent-consumers.js';
import { SchedulerService } from '../platform/scheduler/scheduler.service.js';
import type { EventEnvelope } from '../platform/outbox/outbox.entity.js';
import { SettingsService } from '../settings/settings.service.js';
import { AccessPolicy } from '../identity/access-policy.js';
import type { Actor } from '../identity/actor.js';
import {
  CONVERSATION_ASSIGNED,
  CONVERSATION_CREATED,
  CONVERSATION_REOPENED,
  CONVERSATION_RESOLVED,
  CONVERSATION_UPDATED,
  type ConversationAssignedEvent,
  type ConversationCreatedEvent,
  type ConversationReopenedEvent,
  type ConversationResolvedEvent,
  type ConversationUpdatedEvent,
} from '../conversations/conversations.events.js';
import { RoutingEngine } from './routing.engine.js';
import { RoutingAgentsService } from './routing-agents.service.js';
import { RoutingItemRow } from './entities/routing-item.entity.js';
import { RoutingAgentRow } from './entities/routing-agent.entity.js';
import { RoutingAssignmentRow } from './entities/routing-assignment.entity.js';
import { ROUTING_CONTACTS, ROUTING_CONVERSATIONS, type RoutingContactsPort, type RoutingConversationsPort } from './routing.ports.js';
import { ROUTING_SETTINGS, ROUTING_SETTING_DEFINITIONS } from './routing.settings.js';
import { RoutingError } from './routing.error.js';
import { ROUTING_TRANSFERRED, type TransferredEvent } from './routing.events.js';
import { UNITS_PER_CONVERSATION, eligible, liveScore } from './scoring.js';

export interface RoutingItemView {
  conversationId: string;
  state: string;
  teamId: string | null;
  inboxId: string | null;
  channel: string;
  agentId: string | null;
  priority: string;
  vip: boolean;
  emotion: string | null;
  requiredSkills: string[];
  language: string | null;
  score: number;
  waitingSeconds: number | null;
  enqueuedAt: string;
  assignedAt: string | null;
  preferredAgentId: string | null;
}

export interface QueueSummary {
  teamId: string | null;
  waiting: number;
  oldestWaitingSeconds: number;
  onlineAgents: number;
  freeCapacity: number;
}

export interface TransferInput {
  agentId?: string;
  teamId?: string;
  note?: string;
  /** Supervisor override: skip the online/capacity checks. */
  override?: boolean;
}

export interface SignalsInput {
  priority?: string;
  vip?: boolean;
  emotion?: string | null;
  language?: string | null;
  requiredSkills?: string[];
}

const valueOf = (change: unknown): unknown =>
  change && typeof change === 'object' && !Array.isArray(change) && 'to' in (change as Record<string, unknown>) ? (change as { to: unknown }).to : change;

/**
 * Routing's public face: queues per team, manual assignment and transfer, and the event
 * consumers that keep routing in step with the conversations module.
 */
@Injectable()
export class RoutingService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('routing');
  private readonly handles: Closable[] = [];

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(ROUTING_CONVERSATIONS) private readonly conversations: RoutingConversationsPort,
    @Inject(ROUTING_CONTACTS) private readonly contacts: RoutingContactsPort,
    private readonly uow: UnitOfWork,
    private readonly consumers: IdempotentConsumers,
    private readonly scheduler: SchedulerService,
    private readonly settings: SettingsService,
    private readonly access: AccessPolicy,
    private readonly engine: RoutingEngine,
    private readonly agents: RoutingAgentsService,
  ) {
    for (const definition of ROUTING_SETTING_DEFINITIONS) this.settings.define(definition);
  }

  private readonly autoRouteHolds: Array<(event: ConversationCreatedEvent) => boolean> = [];

  /**
   * Lets another module (the bot) keep new conversations out of the queue; it calls
   * `requestRouting` when it hands a conversation over. The predicate must be synchronous.
   */
  holdAutoRoute(hold: (event: ConversationCreatedEvent) => boolean): void {
    this.autoRouteHolds.push(hold);
  }

  onModuleInit(): void {
    this.scheduler.every('routing.dispatch', 2000, () => this.engine.dispatchNow());
    this.scheduler.every('routing.sync', 5000, () => this.engine.syncPending(3000));
  }

  async onApplicationBootstrap(): Promise<void> {
    this.handles.push(
      await this.consumers.register<ConversationCreatedEvent>({
        name: 'routing-conversation-created',
        subject: CONVERSATION_CREATED,
        concurrency: 4,
        // Without auto-routing, or on an inbox where a bot answers first (it queues the conversation itself at
        // hand-over), there is nothing to do: no transaction, no marker.
        filter: (event) => this.settings.get<boolean>(ROUTING_SETTINGS.autoRoute) === true && !this.autoRouteHolds.some((hold) => hold(event.data)),
        handle: async (event, tx) => {
          const data = event.data;
          const queued = await this.engine.enqueueInTx(tx, { ...data, reason: 'created' }, { dispatch: false });
          if (queued) tx.afterCommit(() => void this.enrichThenDispatch(data.conversationId, data.contactId));
        },
      }),
      await this.consumers.register<ConversationResolvedEvent>({
        name: 'routing-conversation-resolved',
        subject: CONVERSATION_RESOLVED,
        concurrency: 4,
        handle: async (event, tx) => {
          await this.engine.closeInTx(tx, event.data.conversationId);
        },
      }),
      await this.consumers.register<ConversationReopenedEvent>({
        name: 'routing-conversation-reopened',
        subject: CONVERSATION_REOPENED,
        handle: async (event, tx) => {
          const item = await tx.manager.findOne(RoutingItemRow, { where: { conversationId: event.data.conversationId } });
          if (!item || item.state !== 'closed') return;
          await this.engine.enqueueInTx(tx, {
            conversationId: item.conversationId,
            teamId: item.teamId,
            inboxId: item.inboxId,
            channel: item.channel,
            contactId: item.contactId,
            priority: item.priority,
            reason: 'reopened',
          });
        },
      }),
    );
    // These two call other transactions (assign, re-score), so they cannot run inside a
    // consumer transaction; their effects are idempotent by the conditions they check.
    this.handles.push(
      await this.bus.consume<EventEnvelope<ConversationAssignedEvent>>({
        name: 'routing-conversation-assigned',
        subject: CONVERSATION_ASSIGNED,
        delivery: 'one-instance',
        concurrency: 4,
        handler: async (message) => this.onAssigned(message.data.data),
      }),
      await this.bus.consume<EventEnvelope<ConversationUpdatedEvent>>({
        name: 'routing-conversation-updated',
        subject: CONVERSATION_UPDATED,
        delivery: 'one-instance',
        concurrency: 4,
        handler: async (message) => this.onUpdated(message.data.data),
      }),
    );
  }

  async onModuleDestroy(): Promise<void> {
    this.engine.stop();
    await Promise.allSettled(this.handles.map((handle) => handle.close()));
    await this.engine.drain();
  }

  private async enrichThenDispatch(conversationId: string, contactId: string | null): Promise<void> {
    try {
      const facts = contactId ? await this.contacts.facts(contactId) : null;
      if (facts && (facts.vip || facts.language)) {
        await this.engine.updateSignals(conversationId, { vip: facts.vip, language: facts.language ?? undefined });
      }
    } catch (error) {
      this.logger.warn({ conversationId, reason: (error as Error).message }, 'could not read contact facts for routing');
    }
    this.engine.requestDispatch();
  }

  private async onAssigned(event: ConversationAssignedEvent): Promise<void> {
    const item = await this.engine.item(event.conversationId);
    if (!item || item.state === 'closed') return;
    if (item.state === 'assigned' && item.agentId === event.agentId) return;
    if (item.state === 'queued' && event.agentId === null) return;
    // Our own earlier decisions echo back through this event; only a decision routing never made is adopted.
    const ours = await this.dataSource.manager.count(RoutingAssignmentRow, {
      where: { conversationId: event.conversationId, agentId: event.agentId === null ? IsNull() : event.agentId },
    });
    if (ours > 0) return;
    if (event.agentId === null) {
      await this.uow.run((tx) => this.engine.requeueInTx(tx, item, 'external', { teamId: event.teamId }));
      return;
    }
    let agent = await this.agents.find(event.agentId);
    if (!agent) {
      await this.agents.updateProfile(event.agentId, {});
      agent = (await this.agents.find(event.agentId))!;
    }
    const outcome = await this.engine.assignTo(item, agent, 'external', { force: true });
    if (outcome === 'item_changed') throw new Error('routing item changed while adopting an external assignment; retry');
  }

  private async onUpdated(event: ConversationUpdatedEvent): Promise<void> {
    const changes = event.changes ?? {};
    const signals: { priority?: unknown; teamId?: string | null } = {};
    if ('priority' in changes) signals.priority = valueOf(changes.priority);
    if ('teamId' in changes) signals.teamId = valueOf(changes.teamId) as string | null;
    if (Object.keys(signals).length === 0) return;
    await this.engine.updateSignals(event.conversationId, signals);
  }

  // ---------------------------------------------------------------- API

  /** Routing state of one conversation (team-scoped). */
  async getItem(actor: Actor, conversationId: string): Promise<RoutingItemView> {
    const item = await this.engine.item(conversationId);
    this.access.assertCanSee(actor, item, () => new RoutingError('routing_conversation_not_found', 'No routing state for this conversation.'));
    return this.view(item!);
  }

  /** Queues the conversation for assignment by hand (or re-queues it), e.g. after a bot hand-over. */
  async requestRouting(conversationId: string, signals: SignalsInput = {}): Promise<RoutingItemView> {
    const facts = await this.conversations.get(conversationId);
    if (!facts) throw new RoutingError('routing_conversation_not_found', 'There is no such conversation.', { conversationId });
    const contact = facts.contactId ? await this.contacts.facts(facts.contactId).catch(() => null) : null;
    await this.uow.run(async (tx) => {
      const item = await tx.manager.findOne(RoutingItemRow, { where: { conversationId } });
      if (item && item.state !== 'closed') return;
      await this.engine.enqueueInTx(tx, {
        conversationId,
        teamId: facts.teamId,
        inboxId: facts.inboxId,
        channel: facts.channel,
        contactId: facts.contactId,
        priority: signals.priority ?? facts.priority,
        vip: signals.vip ?? contact?.vip,
        emotion: signals.emotion,
        language: signals.language ?? contact?.language,
        requiredSkills: signals.requiredSkills,
        reason: 'manual',
      });
    });
    if (signals.requiredSkills || signals.language !== undefined || signals.emotion !== undefined) await this.engine.updateSignals(conversationId, signals);
    return this.view((await this.engine.item(conversationId))!);
  }

  /** Changes what a conversation needs or how urgent it is (agents, supervisors, NLP). */
  async setSignals(actor: Actor, conversationId: string, signals: SignalsInput): Promise<RoutingItemView> {
    const item = await this.engine.item(conversationId);
    this.access.assertCanSee(actor, item, () => new RoutingError('routing_conversation_not_found', 'No routing state for this conversation.'));
    const updated = await this.engine.updateSignals(conversationId, signals);
    return this.view(updated!);
  }

  /** Signals from other modules (NLP emotion/language, VIP changes), without an actor. */
  async applySignals(conversationId: string, signals: SignalsInput): Promise<void> {
    await this.engine.updateSignals(conversationId, signals);
  }

  /**
   * Manual assignment or transfer to an agent or a team, with an optional note (stored as a
   * private message). Agents may hand over conversations they hold; supervisors and admins
   * may move any conversation they can see, and `override` skips online/capacity checks.
   */
  async transfer(actor: Actor, conversationId: string, input: TransferInput): Promise<RoutingItemView> {
    if (!input.agentId && input.teamId === undefined) throw new RoutingError('routing_target_required', 'Name an agent or a team to transfer to.');
    const isSupervisor = actor.kind === 'system' || actor.roles.includes('admin') || actor.roles.includes('supervisor');
    if (input.override && !isSupervisor) throw new RoutingError('routing_forbidden', 'Only supervisors may override routing rules.');
    let item = await this.engine.item(conversationId);
    if (!item) {
      await this.requestRouting(conversationId);
      item = await this.engine.item(conversationId);
    }
    this.access.assertCanSee(actor, item, () => new RoutingError('routing_conversation_not_found', 'No routing state for this conversation.'));
    if (!item || item.state === 'closed') throw new RoutingError('routing_conflict', 'The conversation is resolved; reopen it first.');
    if (!isSupervisor && item.agentId !== actor.id) throw new RoutingError('routing_forbidden', 'Agents may transfer only conversations assigned to them.');
    const fromAgentId = item.agentId;
    if (input.agentId) {
      const agent = await this.agents.find(input.agentId);
      if (!agent) throw new RoutingError('routing_agent_not_found', 'That agent has no routing profile.', { agentId: input.agentId });
      if (input.teamId !== undefined && input.teamId !== item.teamId) item = (await this.engine.updateSignals(conversationId, { teamId: input.teamId }))!;
      if (item.state === 'assigned' && item.agentId === agent.agentId) return this.view(item);
      const kind = input.override ? 'override' : 'manual';
      let outcome = await this.engine.assignTo(item, agent, kind, { force: input.override, actorId: actor.id, note: input.note ?? null });
      for (let retry = 0; outcome === 'item_changed' && retry < 3; retry++) {
        item = (await this.engine.item(conversationId))!;
        outcome = await this.engine.assignTo(item, agent, kind, { force: input.override, actorId: actor.id, note: input.note ?? null });
      }
      if (outcome === 'agent_full') {
        throw new RoutingError('routing_agent_unavailable', 'That agent is not online or has no free capacity; a supervisor may override.', {
          agentId: input.agentId,
        });
      }
      if (outcome === 'item_changed') throw new RoutingError('routing_conflict', 'The conversation changed meanwhile; try again.');
    } else {
      const teamId = input.teamId ?? null;
      let moved = false;
      for (let retry = 0; !moved && retry < 3; retry++) {
        const current = (await this.engine.item(conversationId))!;
        moved = await this.uow.run((tx) =>
          this.engine.requeueInTx(tx, current, 'transfer_team', { teamId, actorId: actor.id, note: input.note ?? null, preferredAgentId: null }),
        );
      }
      if (!moved) throw new RoutingError('routing_conflict', 'The conversation changed meanwhile; try again.');
    }
    await this.uow.run((tx) =>
      tx.emit<TransferredEvent>({
        subject: ROUTING_TRANSFERRED,
        data: {
          conversationId,
          fromAgentId,
          toAgentId: input.agentId ?? null,
          toTeamId: input.teamId ?? null,
          override: Boolean(input.override),
          actorId: actor.id,
        },
      }),
    );
    if (input.note) {
      const key = `routing-note:${conversationId}:${(await this.engine.history(conversationId)).length}`;
      await this.conversations.addNote(actor, conversationId, input.note, key).catch((error: Error) => {
        this.logger.warn({ conversationId, reason: error.message }, 'transfer note could not be posted');
      });
    }
    return this.view((await this.engine.item(conversationId))!);
  }

  async history(
    actor: Actor,
    conversationId: string,
  ): Promise<Array<{ agentId: string | null; teamId: string | null; kind: string; actorId: string | null; note: string | null; at: string }>> {
    const item = await this.engine.item(conversationId);
    this.access.assertCanSee(actor, item, () => new RoutingError('routing_conversation_not_found', 'No routing state for this conversation.'));
    return (await this.engine.history(conversationId)).map((row) => ({
      agentId: row.agentId,
      teamId: row.teamId,
      kind: row.kind,
      actorId: row.actorId,
      note: row.note,
      at: row.createdAt.toISOString(),
    }));
  }

  /** One line per team queue the actor can see. */
  async queues(actor: Actor): Promise<QueueSummary[]> {
    const teams = this.access.visibleTeams(actor);
    const now = this.clock.now();
    const waiting = await this.dataSource.manager.find(RoutingItemRow, { where: { state: 'queued' } });
    const agents = await this.dataSource.manager.find(RoutingAgentRow, { where: { status: 'online' } });
    const teamIds = new Set<string | null>(waiting.map((item) => item.teamId));
    for (const agent of agents) for (const team of agent.teamIds) teamIds.add(team);
    const visible = [...teamIds].filter((teamId) => teams === 'all' || teamId === null || teams.includes(teamId));
    return visible
      .map((teamId) => {
        const items = waiting.filter((item) => item.teamId === teamId);
        const online = agents.filter((agent) => teamId === null || agent.teamIds.includes(teamId));
        return {
          teamId,
          waiting: items.length,
          oldestWaitingSeconds: items.length ? Math.round((now.getTime() - Math.min(...items.map((item) => item.enqueuedAt.getTime()))) / 1000) : 0,
          onlineAgents: online.length,
          freeCapacity:
            online.reduce((sum, agent) => sum + Math.max(0, agent.maxConcurrent * UNITS_PER_CONVERSATION - agent.loadUnits), 0) / UNITS_PER_CONVERSATION,
        };
      })
      .sort((a, b) => String(a.teamId).localeCompare(String(b.teamId)));
  }

  /** The waiting conversations of one team, highest score first. `teamId` `none` lists the team-less queue. */
  async queueItems(actor: Actor, teamId: string | null, limit = 100): Promise<Array<RoutingItemView & { routable: boolean }>> {
    if (teamId !== null && !this.access.canSee(actor, { teamId })) throw new RoutingError('routing_conversation_not_found', 'There is no such queue.');
    const items = await this.dataSource.manager.find(RoutingItemRow, {
      where: { state: 'queued', teamId: teamId === null ? IsNull() : teamId },
      order: { rank: 'DESC', enqueuedAt: 'ASC' },
      take: Math.min(Math.max(limit, 1), 500),
    });
    const agents = await this.dataSource.manager.find(RoutingAgentRow);
    return items.map((item) => ({
      ...this.view(item),
      // Could anyone take it if they were online with free capacity?
      routable: agents.some((agent) => eligible({ ...agent, status: 'online', loadUnits: 0 }, item)),
    }));
  }

  private view(item: RoutingItemRow): RoutingItemView {
    const now = this.clock.now();
    return {
      conversationId: item.conversationId,
      state: item.state,
      teamId: item.teamId,
      inboxId: item.inboxId,
      channel: item.channel,
      agentId: item.agentId,
      priority: item.priority,
      vip: item.vip,
      emotion: item.emotion,
      requiredSkills: item.requiredSkills,
      language: item.language,
      score: liveScore(item.rank, now),
      waitingSeconds: item.state === 'queued' ? Math.max(0, Math.round((now.getTime() - item.enqueuedAt.getTime()) / 1000)) : null,
      enqueuedAt: item.enqueuedAt.toISOString(),
      assignedAt: item.assignedAt ? item.assignedAt.toISOString() : null,
      preferredAgentId: item.preferredAgentId,
    };
  }
}
