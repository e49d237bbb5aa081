import { Inject, Injectable, Logger } from '@nestjs/common';
import { In, IsNull, type DataSource, type EntityManager } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { UnitOfWork, type Tx } from '../platform/database/unit-of-work.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { sqlTime } from '../platform/database/sql-time.js';
import { RoutingAgentRow } from './entities/routing-agent.entity.js';
import { RoutingItemRow } from './entities/routing-item.entity.js';
import { RoutingAffinityRow } from './entities/routing-affinity.entity.js';
import { RoutingAssignmentRow, type AssignmentKind } from './entities/routing-assignment.entity.js';
import { ROUTING_CONVERSATIONS, type RoutingConversationsPort } from './routing.ports.js';
import { UNITS_PER_CONVERSATION, baseScore, normalisePriority, orderCandidates, rankFor, weightUnits } from './scoring.js';
import { ROUTING_QUEUED, type QueuedEvent } from './routing.events.js';

export interface EnqueueInput {
  conversationId: string;
  teamId: string | null;
  inboxId: string | null;
  channel: string;
  contactId: string | null;
  priority: unknown;
  vip?: boolean;
  emotion?: string | null;
  language?: string | null;
  requiredSkills?: string[];
  reason: QueuedEvent['reason'];
  preferredAgentId?: string | null;
}

export type ClaimOutcome = 'ok' | 'item_changed' | 'agent_full';

class AgentFull extends Error {
  constructor() {
    super('agent has no free capacity');
  }
}

/**
 * The assignment engine. Every state change of an item or an agent's capacity is a
 * conditional UPDATE inside one transaction:
 *
 * - the item moves only from the exact version that was read (`WHERE version = :v`), so two
 *   instances (or two loops on one) can never both claim one conversation;
 * - capacity is reserved by `UPDATE routing_agents SET load_units = load_units + :u WHERE
 *   status = 'online' AND load_units + :u <= max_concurrent * 100`; if no row matches, the
 *   transaction rolls back and the item stays queued.
 *
 * Nothing is read-then-written: the reads only choose candidates; the database decides.
 */
@Injectable()
export class RoutingEngine {
  private readonly logger = new Logger('routing');
  private dispatching?: Promise<void>;
  private dirty = false;
  private stopped = false;
  /** Per-conversation chain of ConversationsService.assign calls from this instance, in order. */
  private readonly syncChains = new Map<string, Promise<void>>();

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ROUTING_CONVERSATIONS) private readonly conversations: RoutingConversationsPort,
    private readonly uow: UnitOfWork,
  ) {}

  stop(): void {
    this.stopped = true;
  }

  async drain(): Promise<void> {
    await this.dispatching;
    await Promise.allSettled([...this.syncChains.values()]);
  }

  // ---------------------------------------------------------------- queue

  /** Puts a conversation in its team queue (or back into it). Idempotent per conversation state. */
  async enqueueInTx(tx: Tx, input: EnqueueInput, options: { dispatch?: boolean } = {}): Promise<boolean> {
    const manager = tx.manager;
    const now = this.clock.now();
    const existing = await manager.findOne(RoutingItemRow, { where: { conversationId: input.conversationId } });
    if (existing && existing.state !== 'closed' && input.reason === 'created') return false;
    if (existing && existing.state === 'queued') return false;
    const affinity = input.contactId ? await manager.findOne(RoutingAffinityRow, { where: { contactId: input.contactId } }) : null;
    const priority = normalisePriority(input.priority);
    const vip = input.vip ?? existing?.vip ?? false;
    const emotion = input.emotion ?? existing?.emotion ?? null;
    const base = baseScore({ priority, vip, emotion });
    const values = {
      teamId: input.teamId,
      inboxId: input.inboxId,
      channel: input.channel,
      contactId: input.contactId,
      state: 'queued' as const,
      agentId: null,
      claimedUnits: 0,
      priority,
      vip,
      emotion,
      requiredSkills: input.requiredSkills ?? existing?.requiredSkills ?? [],
      language: input.language ?? existing?.language ?? null,
      baseScore: base,
      rank: rankFor(base, now),
      enqueuedAt: now,
      assignedAt: null,
      preferredAgentId: input.preferredAgentId ?? affinity?.agentId ?? null,
      syncPending: false,
      updatedAt: now,
    };
    if (existing) {
      if (existing.state === 'assigned') await this.releaseAgent(manager, existing.agentId!, existing.claimedUnits);
      const moved = await manager
        .createQueryBuilder()
        .update(RoutingItemRow)
        .set({ ...values, version: () => 'version + 1' })
        .where('conversation_id = :id AND version = :version', { id: input.conversationId, version: existing.version })
        .execute();
      if (moved.affected !== 1) throw new Error('routing item changed concurrently; retry');
    } else {
      await manager.insert(RoutingItemRow, { conversationId: input.conversationId, ...values, version: 0, assignmentCount: 0 });
    }
    await tx.emit<QueuedEvent>({
      subject: ROUTING_QUEUED,
      data: { conversationId: input.conversationId, teamId: input.teamId, reason: input.reason, previousAgentId: existing?.agentId ?? null },
    });
    if (options.dispatch !== false) tx.afterCommit(() => this.requestDispatch());
    return true;
  }

  /** Re-scores a queued or assigned item after its signals changed (priority, VIP, emotion, skills, language, team). */
  async updateSignals(
    conversationId: string,
    signals: { priority?: unknown; vip?: boolean; emotion?: string | null; language?: string | null; requiredSkills?: string[]; teamId?: string | null },
  ): Promise<RoutingItemRow | null> {
    const updated = await this.uow.run(async (tx) => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const item = await tx.manager.findOne(RoutingItemRow, { where: { conversationId } });
        if (!item) return null;
        const priority = signals.priority !== undefined ? normalisePriority(signals.priority) : item.priority;
        const vip = signals.vip ?? item.vip;
        const emotion = signals.emotion !== undefined ? signals.emotion : item.emotion;
        const base = baseScore({ priority, vip, emotion });
        const teamChanged = signals.teamId !== undefined && signals.teamId !== item.teamId;
        const set: Partial<RoutingItemRow> = {
          priority,
          vip,
          emotion,
          baseScore: base,
          rank: rankFor(base, item.enqueuedAt),
          language: signals.language !== undefined ? signals.language : item.language,
          requiredSkills: signals.requiredSkills ?? item.requiredSkills,
          teamId: signals.teamId !== undefined ? signals.teamId : item.teamId,
          updatedAt: this.clock.now(),
        };
        const result = await tx.manager
          .createQueryBuilder()
          .update(RoutingItemRow)
          .set({ ...set, version: () => 'version + 1' } as never)
          .where('conversation_id = :id AND version = :version', { id: conversationId, version: item.version })
          .execute();
        if (result.affected === 1) {
          if (teamChanged && item.state === 'queued') tx.afterCommit(() => this.requestDispatch());
          return { ...item, ...set, version: item.version + 1 } as RoutingItemRow;
        }
      }
      throw new Error('routing item kept changing; retry');
    });
    if (updated?.state === 'queued') this.requestDispatch();
    return updated;
  }

  // ---------------------------------------------------------------- claims

  /**
   * Moves an item to an agent. `force` (supervisor override) skips the online and capacity
   * conditions but still takes the capacity units, so the counter stays exact.
   */
  async assignTo(
    item: RoutingItemRow,
    agent: Pick<RoutingAgentRow, 'agentId' | 'channelWeights'>,
    kind: AssignmentKind,
    options: { force?: boolean; actorId?: string | null; note?: string | null } = {},
  ): Promise<ClaimOutcome> {
    try {
      const ok = await this.uow.run((tx) => this.assignInTx(tx.manager, item, agent, kind, options));
      if (!ok) return 'item_changed';
    } catch (error) {
      if (error instanceof AgentFull) return 'agent_full';
      throw error;
    }
    this.syncLater(item.conversationId);
    return 'ok';
  }

  private async assignInTx(
    manager: EntityManager,
    item: RoutingItemRow,
    agent: Pick<RoutingAgentRow, 'agentId' | 'channelWeights'>,
    kind: AssignmentKind,
    options: { force?: boolean; actorId?: string | null; note?: string | null },
  ): Promise<boolean> {
    const now = this.clock.now();
    const units = weightUnits(agent.channelWeights, item.channel);
    const moved = await manager
      .createQueryBuilder()
      .update(RoutingItemRow)
      .set({
        state: 'assigned',
        agentId: agent.agentId,
        claimedUnits: units,
        assignedAt: now,
        syncPending: true,
        updatedAt: now,
        version: () => 'version + 1',
        assignmentCount: () => 'assignment_count + 1',
      })
      .where('conversation_id = :id AND version = :version AND state = :state', { id: item.conversationId, version: item.version, state: item.state })
      .execute();
    if (moved.affected !== 1) return false;
    if (item.state === 'assigned' && item.agentId) await this.releaseAgent(manager, item.agentId, item.claimedUnits);
    let reserve = manager
      .createQueryBuilder()
      .update(RoutingAgentRow)
      .set({
        loadUnits: () => `load_units + ${units}`,
        activeCount: () => 'active_count + 1',
        lastAssignedAt: now,
        assignCounter: () => 'assign_counter + 1',
      })
      .where('agent_id = :agentId', { agentId: agent.agentId });
    if (!options.force) {
      reserve = reserve.andWhere(`status = 'online'`).andWhere(`load_units + ${units} <= max_concurrent * ${UNITS_PER_CONVERSATION}`);
    }
    const reserved = await reserve.execute();
    if (reserved.affected !== 1) throw new AgentFull();
    await manager.insert(RoutingAssignmentRow, {
      conversationId: item.conversationId,
      agentId: agent.agentId,
      teamId: item.teamId,
      kind,
      actorId: options.actorId ?? null,
      note: options.note ?? null,
      createdAt: now,
    });
    return true;
  }

  private async releaseAgent(manager: EntityManager, agentId: string, units: number): Promise<void> {
    await manager
      .createQueryBuilder()
      .update(RoutingAgentRow)
      .set({
        loadUnits: () => `CASE WHEN load_units >= ${units} THEN load_units - ${units} ELSE 0 END`,
        activeCount: () => 'CASE WHEN active_count > 0 THEN active_count - 1 ELSE 0 END',
      })
      .where('agent_id = :agentId', { agentId })
      .execute();
  }

  /** Takes an item off its agent and puts it back in its (or another) team's queue, in the caller's transaction. */
  async requeueInTx(
    tx: Tx,
    item: RoutingItemRow,
    kind: AssignmentKind,
    options: { teamId?: string | null; actorId?: string | null; note?: string | null; preferredAgentId?: string | null } = {},
  ): Promise<boolean> {
    const now = this.clock.now();
    const teamId = options.teamId !== undefined ? options.teamId : item.teamId;
    const moved = await tx.manager
      .createQueryBuilder()
      .update(RoutingItemRow)
      .set({
        state: 'queued',
        agentId: null,
        claimedUnits: 0,
        teamId,
        preferredAgentId: options.preferredAgentId !== undefined ? options.preferredAgentId : item.agentId,
        syncPending: true,
        updatedAt: now,
        version: () => 'version + 1',
      })
      .where('conversation_id = :id AND version = :version AND state = :state', { id: item.conversationId, version: item.version, state: item.state })
      .execute();
    if (moved.affected !== 1) return false;
    if (item.state === 'assigned' && item.agentId) await this.releaseAgent(tx.manager, item.agentId, item.claimedUnits);
    await tx.manager.insert(RoutingAssignmentRow, {
      conversationId: item.conversationId,
      agentId: null,
      teamId,
      kind,
      actorId: options.actorId ?? null,
      note: options.note ?? null,
      createdAt: now,
    });
    await tx.emit<QueuedEvent>({
      subject: ROUTING_QUEUED,
      data: { conversationId: item.conversationId, teamId, reason: kind === 'requeue' ? 'requeued' : 'transferred', previousAgentId: item.agentId },
    });
    tx.afterCommit(() => {
      this.syncLater(item.conversationId);
      this.requestDispatch();
    });
    return true;
  }

  /** Closes an item (conversation resolved), frees its capacity and remembers the agent for the contact. */
  async closeInTx(tx: Tx, conversationId: string): Promise<RoutingItemRow | null> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const item = await tx.manager.findOne(RoutingItemRow, { where: { conversationId } });
      if (!item || item.state === 'closed') return null;
      const now = this.clock.now();
      const moved = await tx.manager
        .createQueryBuilder()
        .update(RoutingItemRow)
        .set({ state: 'closed', syncPending: false, updatedAt: now, version: () => 'version + 1' })
        .where('conversation_id = :id AND version = :version', { id: conversationId, version: item.version })
        .execute();
      if (moved.affected !== 1) continue;
      if (item.state === 'assigned' && item.agentId) {
        await this.releaseAgent(tx.manager, item.agentId, item.claimedUnits);
        if (item.contactId) await this.rememberAffinity(tx.manager, item.contactId, item.agentId);
        tx.afterCommit(() => this.requestDispatch());
      }
      return item;
    }
    throw new Error('routing item kept changing; retry');
  }

  private async rememberAffinity(manager: EntityManager, contactId: string, agentId: string): Promise<void> {
    // One upsert (INSERT … ON DUPLICATE KEY UPDATE / ON CONFLICT DO UPDATE): an UPDATE of a
    // missing row followed by an INSERT takes gap locks on MySQL and deadlocks under load.
    await manager.upsert(RoutingAffinityRow, { contactId, agentId, updatedAt: this.clock.now() }, ['contactId']);
  }

  /** Returns every conversation of an offline agent to the queue. Runs inside the grace timer's transaction. */
  async requeueAgentInTx(tx: Tx, agentId: string): Promise<number> {
    const agent = await tx.manager.findOne(RoutingAgentRow, { where: { agentId } });
    if (!agent || agent.status !== 'offline') return 0;
    const items = await tx.manager.find(RoutingItemRow, { where: { agentId, state: 'assigned' } });
    let count = 0;
    for (const item of items) if (await this.requeueInTx(tx, item, 'requeue', { preferredAgentId: agentId })) count++;
    if (count) this.logger.log({ agentId, count }, 'conversations of an offline agent returned to the queue');
    return count;
  }

  // ---------------------------------------------------------------- dispatch

  /** Asks for a dispatch pass; passes on one instance never overlap, and a request during a pass runs another. */
  requestDispatch(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (this.dispatching) return;
    this.dispatching = (async () => {
      try {
        while (this.dirty && !this.stopped) {
          this.dirty = false;
          try {
            await this.dispatchOnce();
          } catch (error) {
            this.logger.warn({ reason: (error as Error).message }, 'dispatch pass failed');
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
      } finally {
        this.dispatching = undefined;
      }
    })();
  }

  /** Runs a pass and waits for it (tests, periodic job). */
  async dispatchNow(): Promise<void> {
    this.requestDispatch();
    while (this.dispatching) await this.dispatching;
  }

  private async dispatchOnce(): Promise<void> {
    const teams = await this.dataSource
      .createQueryBuilder(RoutingItemRow, 'i')
      .select('DISTINCT i.team_id', 'teamId')
      .where(`i.state = 'queued'`)
      .getRawMany<{ teamId: string | null }>();
    if (teams.length === 0) return;
    const agents = await this.dataSource.manager.find(RoutingAgentRow, { where: { status: 'online' } });
    if (agents.length === 0) return;
    for (const { teamId } of teams) {
      if (this.stopped) return;
      await this.dispatchTeam(teamId, agents);
    }
  }

  private async dispatchTeam(teamId: string | null, agents: RoutingAgentRow[]): Promise<void> {
    const items = await this.dataSource.manager.find(RoutingItemRow, {
      where: { state: 'queued', teamId: teamId === null ? IsNull() : teamId },
      order: { rank: 'DESC', enqueuedAt: 'ASC' },
      take: 500,
    });
    for (const item of items) {
      if (this.stopped) return;
      const tried = new Set<string>();
      for (let attempt = 0; attempt < 6; attempt++) {
        const candidate = orderCandidates(
          agents.filter((agent) => !tried.has(agent.agentId)),
          item,
          item.preferredAgentId,
        )[0];
        if (!candidate) break;
        const kind: AssignmentKind = candidate.agentId === item.preferredAgentId ? 'sticky' : 'auto';
        const outcome = await this.assignTo(item, candidate, kind);
        if (outcome === 'ok') {
          candidate.loadUnits += weightUnits(candidate.channelWeights, item.channel);
          candidate.activeCount++;
          candidate.lastAssignedAt = this.clock.now();
          candidate.assignCounter++;
          break;
        }
        if (outcome === 'item_changed') break;
        // Another instance filled this agent first: refresh what we know and try the next one.
        tried.add(candidate.agentId);
        const fresh = await this.dataSource.manager.findOne(RoutingAgentRow, { where: { agentId: candidate.agentId } });
        if (fresh) Object.assign(candidate, fresh);
      }
    }
  }

  // ---------------------------------------------------------------- sync with conversations

  /** Pushes the item's current assignee to ConversationsService.assign, in order per conversation. */
  syncLater(conversationId: string): Promise<void> {
    const previous = this.syncChains.get(conversationId) ?? Promise.resolve();
    const next = previous
      .then(() => this.syncNow(conversationId))
      .catch((error: Error) => {
        this.logger.warn({ conversationId, reason: error.message }, 'assignment sync failed; the sync job retries');
      });
    this.syncChains.set(conversationId, next);
    void next.finally(() => {
      if (this.syncChains.get(conversationId) === next) this.syncChains.delete(conversationId);
    });
    return next;
  }

  private async syncNow(conversationId: string): Promise<void> {
    const item = await this.dataSource.manager.findOne(RoutingItemRow, { where: { conversationId } });
    if (!item || !item.syncPending || item.state === 'closed') return;
    await this.conversations.assign(conversationId, { agentId: item.state === 'assigned' ? item.agentId : null, teamId: item.teamId });
    await this.dataSource.manager.update(RoutingItemRow, { conversationId, version: item.version }, { syncPending: false });
  }

  /** Retries assignments that were committed here but not confirmed by the conversations module. */
  async syncPending(olderThanMs: number): Promise<void> {
    const cutoff = new Date(this.clock.now().getTime() - olderThanMs);
    const pending = await this.dataSource
      .createQueryBuilder(RoutingItemRow, 'i')
      .where('i.sync_pending = 1')
      .andWhere('i.updated_at < :cutoff', { cutoff: sqlTime(this.dataSource, cutoff) })
      .limit(200)
      .getMany();
    for (const item of pending) await this.syncLater(item.conversationId);
  }

  // ---------------------------------------------------------------- reads

  async item(conversationId: string): Promise<RoutingItemRow | null> {
    return this.dataSource.manager.findOne(RoutingItemRow, { where: { conversationId } });
  }

  async itemsOf(agentIds: string[]): Promise<RoutingItemRow[]> {
    if (agentIds.length === 0) return [];
    return this.dataSource.manager.find(RoutingItemRow, { where: { agentId: In(agentIds), state: 'assigned' } });
  }

  async history(conversationId: string): Promise<RoutingAssignmentRow[]> {
    return this.dataSource.manager.find(RoutingAssignmentRow, { where: { conversationId }, order: { id: 'ASC' } });
  }
}
