import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { In, Not, type DataSource, type EntityManager } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { UnitOfWork } from '../platform/database/unit-of-work.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { BUS, type Bus } from '../platform/bus/bus.port.js';
import { SchedulerService } from '../platform/scheduler/scheduler.service.js';
import { SettingsService } from '../settings/settings.service.js';
import { RoutingAgentRow, type PresenceStatus } from './entities/routing-agent.entity.js';
import { RoutingEngine } from './routing.engine.js';
import { ROUTING_SETTINGS } from './routing.settings.js';
import { ROUTING_PRESENCE_CHANGED, RT_PRESENCE, type PresenceChangedEvent } from './routing.events.js';
import { RoutingError } from './routing.error.js';
import { UNITS_PER_CONVERSATION } from './scoring.js';
import { sqlTime } from '../platform/database/sql-time.js';

const isDuplicateKey = (error: unknown): boolean => {
  const code = (error as { code?: string; driverError?: { code?: string } }).driverError?.code ?? (error as { code?: string }).code ?? '';
  return code === 'ER_DUP_ENTRY' || code.startsWith('SQLITE_CONSTRAINT');
};

export const OFFLINE_GRACE_TIMER = 'routing.offline-grace';

export interface AgentView {
  agentId: string;
  status: PresenceStatus;
  statusReason: string;
  statusChangedAt: string;
  lastSeenAt: string | null;
  teamIds: string[];
  skills: string[];
  languages: string[];
  maxConcurrent: number;
  channelWeights: Record<string, number>;
  activeConversations: number;
  load: number;
}

export interface ProfilePatch {
  skills?: string[];
  languages?: string[];
  maxConcurrent?: number;
  channelWeights?: Record<string, number>;
  teamIds?: string[];
}

/**
 * Agents as routing sees them: presence (online/away/offline, kept alive by heartbeats) and
 * routing profiles (skills, languages, capacity, channel weights).
 */
@Injectable()
export class RoutingAgentsService implements OnModuleInit {
  private readonly logger = new Logger('routing-presence');

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(BUS) private readonly bus: Bus,
    private readonly uow: UnitOfWork,
    private readonly scheduler: SchedulerService,
    private readonly settings: SettingsService,
    private readonly engine: RoutingEngine,
  ) {}

  onModuleInit(): void {
    this.scheduler.every('routing.presence-sweep', 1000, () => this.sweep());
    this.scheduler.onTimer(OFFLINE_GRACE_TIMER, async (payload, tx) => {
      await this.engine.requeueAgentInTx(tx, (payload as { agentId: string }).agentId);
    });
  }

  heartbeatTimeoutMs(): number {
    return this.settings.get<number>(ROUTING_SETTINGS.heartbeatTimeoutSeconds) * 1000;
  }

  static view(row: RoutingAgentRow): AgentView {
    return {
      agentId: row.agentId,
      status: row.status,
      statusReason: row.statusReason,
      statusChangedAt: row.statusChangedAt.toISOString(),
      lastSeenAt: row.lastSeenAt ? row.lastSeenAt.toISOString() : null,
      teamIds: row.teamIds,
      skills: row.skills,
      languages: row.languages,
      maxConcurrent: row.maxConcurrent,
      channelWeights: row.channelWeights,
      activeConversations: row.activeCount,
      load: row.loadUnits / UNITS_PER_CONVERSATION,
    };
  }

  private async ensure(manager: EntityManager, agentId: string, teamIds?: string[]): Promise<RoutingAgentRow> {
    const existing = await manager.findOne(RoutingAgentRow, { where: { agentId } });
    if (existing) {
      if (teamIds && JSON.stringify([...teamIds].sort()) !== JSON.stringify([...existing.teamIds].sort())) {
        await manager.update(RoutingAgentRow, { agentId }, { teamIds, updatedAt: this.clock.now() });
        existing.teamIds = teamIds;
      }
      return existing;
    }
    const now = this.clock.now();
    const row: RoutingAgentRow = {
      agentId,
      teamIds: teamIds ?? [],
      skills: [],
      languages: [],
      maxConcurrent: this.settings.get<number>(ROUTING_SETTINGS.defaultMaxConcurrent),
      channelWeights: {},
      status: 'offline',
      desiredStatus: 'offline',
      statusReason: 'manual',
      statusChangedAt: now,
      lastSeenAt: null,
      loadUnits: 0,
      activeCount: 0,
      lastAssignedAt: null,
      assignCounter: 0,
      updatedAt: now,
    };
    try {
      await manager.insert(RoutingAgentRow, row);
      return row;
    } catch (error) {
      // Inserted concurrently by another request or instance. Anything else (a deadlock rolls the
      // whole transaction back on MySQL) must propagate so the unit of work retries.
      if (!isDuplicateKey(error)) throw error;
      return manager.findOneOrFail(RoutingAgentRow, { where: { agentId } });
    }
  }

  async get(agentId: string): Promise<AgentView> {
    const row = await this.dataSource.manager.findOne(RoutingAgentRow, { where: { agentId } });
    if (!row) throw new RoutingError('routing_agent_not_found', 'This agent has no routing profile yet.', { agentId });
    return RoutingAgentsService.view(row);
  }

  async find(agentId: string): Promise<RoutingAgentRow | null> {
    return this.dataSource.manager.findOne(RoutingAgentRow, { where: { agentId } });
  }

  /** Every agent whose teams intersect `teams` (or all with `'all'`). */
  async list(teams: 'all' | string[]): Promise<AgentView[]> {
    const rows = await this.dataSource.manager.find(RoutingAgentRow, { order: { agentId: 'ASC' } });
    return rows.filter((row) => teams === 'all' || row.teamIds.some((team) => teams.includes(team))).map((row) => RoutingAgentsService.view(row));
  }

  /**
   * Sets an agent's presence. `teamIds` (from the agent's own authenticated actor) refreshes the
   * team membership routing uses. Going offline starts the grace timer after which the agent's
   * conversations return to the queue; coming back before it fires cancels it.
   */
  async setStatus(
    agentId: string,
    status: PresenceStatus,
    options: { reason: 'manual' | 'supervisor' | 'timeout'; teamIds?: string[]; staleBefore?: Date },
  ): Promise<AgentView> {
    const now = this.clock.now();
    const graceMs = this.settings.get<number>(ROUTING_SETTINGS.offlineGraceSeconds) * 1000;
    const result = await this.uow.run(async (tx) => {
      const row = await this.ensure(tx.manager, agentId, options.teamIds);
      const previous = row.status;
      const set: Partial<RoutingAgentRow> = { status, statusReason: options.reason, updatedAt: now };
      if (options.reason !== 'timeout') {
        set.desiredStatus = status;
        set.lastSeenAt = now;
      }
      if (previous !== status) set.statusChangedAt = now;
      let update = tx.manager.createQueryBuilder().update(RoutingAgentRow).set(set).where('agent_id = :agentId', { agentId });
      if (options.staleBefore) {
        // Missed-heartbeat timeout: only if no heartbeat landed since the sweep read the row.
        update = update.andWhere(`status <> 'offline'`).andWhere('last_seen_at < :cutoff', { cutoff: sqlTime(tx.manager, options.staleBefore) });
      }
      const changed = await update.execute();
      if (changed.affected !== 1) return { row, previous: status };
      if (previous !== status) {
        await tx.emit<PresenceChangedEvent>({
          subject: ROUTING_PRESENCE_CHANGED,
          data: { agentId, status, previous, reason: options.reason, at: now.toISOString() },
        });
        if (status === 'offline') {
          await this.scheduler.schedule(tx, {
            key: `${OFFLINE_GRACE_TIMER}:${agentId}`,
            kind: OFFLINE_GRACE_TIMER,
            dueAt: new Date(now.getTime() + graceMs),
            payload: { agentId },
          });
        }
        // Coming back needs no cancel: the grace timer re-checks that the agent is still offline.
      }
      return { row: { ...row, ...set } as RoutingAgentRow, previous };
    });
    if (result.previous !== status) {
      this.bus.broadcast(RT_PRESENCE, {
        kind: 'presence',
        data: { agentId, status, previous: result.previous, reason: options.reason, teamIds: result.row.teamIds, at: now.toISOString() },
      });
    }
    if (status === 'online') this.engine.requestDispatch();
    return RoutingAgentsService.view(result.row);
  }

  /**
   * Heartbeats from connected agents (WebSocket pings, REST). Keeps `last_seen_at` fresh and
   * brings back agents that a missed-heartbeat timeout had marked offline.
   */
  async heartbeat(agentIds: string[]): Promise<void> {
    if (agentIds.length === 0) return;
    const now = this.clock.now();
    for (let i = 0; i < agentIds.length; i += 500) {
      await this.dataSource.manager.update(RoutingAgentRow, { agentId: In(agentIds.slice(i, i + 500)) }, { lastSeenAt: now });
    }
    const timedOut = await this.dataSource.manager.find(RoutingAgentRow, {
      where: { agentId: In(agentIds), status: 'offline', statusReason: 'timeout', desiredStatus: Not('offline') },
    });
    for (const row of timedOut) await this.setStatus(row.agentId, row.desiredStatus, { reason: 'manual' });
  }

  /** Marks agents whose heartbeats stopped as offline. Runs on one instance at a time (scheduler job). */
  async sweep(): Promise<void> {
    const timeoutMs = this.settings.get<number>(ROUTING_SETTINGS.heartbeatTimeoutSeconds) * 1000;
    const cutoff = new Date(this.clock.now().getTime() - timeoutMs);
    const stale = await this.dataSource
      .createQueryBuilder(RoutingAgentRow, 'a')
      .where(`a.status <> 'offline'`)
      .andWhere('a.last_seen_at < :cutoff', { cutoff: sqlTime(this.dataSource, cutoff) })
      .getMany();
    for (const row of stale) {
      // Conditional: a heartbeat that landed since the read wins.
      const result = await this.setStatus(row.agentId, 'offline', { reason: 'timeout', staleBefore: cutoff });
      if (result.status === 'offline') this.logger.log({ agentId: row.agentId }, 'agent missed heartbeats; marked offline');
    }
  }

  async updateProfile(agentId: string, patch: ProfilePatch): Promise<AgentView> {
    const row = await this.uow.run(async (tx) => {
      await this.ensure(tx.manager, agentId);
      const set: Partial<RoutingAgentRow> = { updatedAt: this.clock.now() };
      if (patch.skills) set.skills = [...new Set(patch.skills.map((skill) => skill.trim().toLowerCase()).filter(Boolean))];
      if (patch.languages) set.languages = [...new Set(patch.languages.map((language) => language.trim()).filter(Boolean))];
      if (patch.maxConcurrent !== undefined) set.maxConcurrent = patch.maxConcurrent;
      if (patch.channelWeights) set.channelWeights = patch.channelWeights;
      if (patch.teamIds) set.teamIds = patch.teamIds;
      await tx.manager.update(RoutingAgentRow, { agentId }, set);
      return tx.manager.findOneOrFail(RoutingAgentRow, { where: { agentId } });
    });
    // More capacity or new skills may unblock queued conversations.
    this.engine.requestDispatch();
    return RoutingAgentsService.view(row);
  }
}
