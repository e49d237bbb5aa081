import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { In, type DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { UnitOfWork } from '../platform/database/unit-of-work.js';
import { AuditService } from '../compliance/audit/audit.service.js';
import type { Actor } from './actor.js';
import { TeamMemberRow, TeamRow } from './entities/team.entity.js';
import { IdentityError } from './identity.error.js';
import { AccessPolicy } from './access-policy.js';

export interface TeamView {
  id: string;
  name: string;
  externalGroup: string | null;
  createdAt: string;
}

const view = (row: TeamRow): TeamView => ({ id: row.id, name: row.name, externalGroup: row.externalGroup, createdAt: row.createdAt.toISOString() });

/**
 * Teams: created in Switchboard or implied by an IdP group. A group claim value maps to the
 * team whose `externalGroup` matches it, otherwise the group name itself is the team id, so
 * teams from the IdP work without being created here first.
 */
@Injectable()
export class TeamsService {
  private groupCache?: { until: number; byGroup: Map<string, string> };
  /** Called when memberships change, so cached actors pick it up. */
  readonly changed = new Set<() => void>();

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly uow: UnitOfWork,
    private readonly audit: AuditService,
    private readonly policy: AccessPolicy,
  ) {}

  private notify(): void {
    this.groupCache = undefined;
    for (const listener of this.changed) listener();
  }

  /** Every team (admin views); use `listFor(actor)` for what an actor may see. */
  async list(): Promise<TeamView[]> {
    return (await this.dataSource.getRepository(TeamRow).find({ order: { name: 'ASC' } })).map(view);
  }

  async listFor(actor: Actor): Promise<TeamView[]> {
    const teams = this.policy.visibleTeams(actor);
    if (teams === 'all') return this.list();
    if (teams.length === 0) return [];
    return (await this.dataSource.getRepository(TeamRow).find({ where: { id: In(teams) }, order: { name: 'ASC' } })).map(view);
  }

  async get(id: string): Promise<TeamView | null> {
    const row = await this.dataSource.getRepository(TeamRow).findOneBy({ id });
    return row ? view(row) : null;
  }

  /** The team as the actor may see it, or 404 (also for teams of other teams' agents). */
  async getFor(actor: Actor, id: string): Promise<TeamView> {
    const team = await this.get(id);
    return this.policy.assertCanSee(actor, team ? { ...team, teamId: team.id } : null, () => new IdentityError('team_not_found', 'No such team.'), 'team');
  }

  async create(actor: Actor, input: { name: string; externalGroup?: string | null; id?: string }, ip?: string): Promise<TeamView> {
    const id = input.id ?? randomUUID();
    const row = await this.uow.run(async (tx) => {
      if (await tx.manager.findOneBy(TeamRow, { id })) throw new IdentityError('team_exists', 'A team with this id exists.');
      const created = Object.assign(new TeamRow(), { id, name: input.name, externalGroup: input.externalGroup ?? null, createdAt: this.clock.now() });
      await tx.manager.insert(TeamRow, created);
      await this.audit.record(
        { actor, action: 'team.created', objectType: 'team', objectId: id, outcome: 'success', ip, details: { externalGroup: created.externalGroup } },
        tx,
      );
      return created;
    });
    this.notify();
    return view(row);
  }

  async update(actor: Actor, id: string, input: { name?: string; externalGroup?: string | null }, ip?: string): Promise<TeamView> {
    const row = await this.uow.run(async (tx) => {
      const team = await tx.manager.findOneBy(TeamRow, { id });
      if (!team) throw new IdentityError('team_not_found', 'No such team.');
      if (input.name !== undefined) team.name = input.name;
      if (input.externalGroup !== undefined) team.externalGroup = input.externalGroup;
      await tx.manager.save(TeamRow, team);
      await this.audit.record(
        { actor, action: 'team.updated', objectType: 'team', objectId: id, outcome: 'success', ip, details: { changed: Object.keys(input) } },
        tx,
      );
      return team;
    });
    this.notify();
    return view(row);
  }

  async remove(actor: Actor, id: string, ip?: string): Promise<void> {
    await this.uow.run(async (tx) => {
      const team = await tx.manager.findOneBy(TeamRow, { id });
      if (!team) throw new IdentityError('team_not_found', 'No such team.');
      await tx.manager.delete(TeamMemberRow, { teamId: id });
      await tx.manager.delete(TeamRow, { id });
      await this.audit.record({ actor, action: 'team.deleted', objectType: 'team', objectId: id, outcome: 'success', ip }, tx);
    });
    this.notify();
  }

  /** User ids assigned to the team in Switchboard (IdP group members appear once they sign in; see UsersService). */
  async memberIds(teamId: string): Promise<string[]> {
    return (await this.dataSource.getRepository(TeamMemberRow).find({ where: { teamId }, order: { addedAt: 'ASC' } })).map((row) => row.userId);
  }

  /** Team ids a user was assigned to in Switchboard. */
  async assignedTeamIds(userId: string): Promise<string[]> {
    return (await this.dataSource.getRepository(TeamMemberRow).findBy({ userId })).map((row) => row.teamId);
  }

  async addMember(actor: Actor, teamId: string, userId: string, ip?: string): Promise<void> {
    await this.uow.run(async (tx) => {
      if (await tx.manager.findOneBy(TeamMemberRow, { teamId, userId })) return;
      await tx.manager.insert(TeamMemberRow, { teamId, userId, addedAt: this.clock.now() });
      await this.audit.record({ actor, action: 'team.member_added', objectType: 'team', objectId: teamId, outcome: 'success', ip, details: { userId } }, tx);
    });
    this.notify();
  }

  async removeMember(actor: Actor, teamId: string, userId: string, ip?: string): Promise<void> {
    await this.uow.run(async (tx) => {
      const result = await tx.manager.delete(TeamMemberRow, { teamId, userId });
      if (!result.affected) return;
      await this.audit.record({ actor, action: 'team.member_removed', objectType: 'team', objectId: teamId, outcome: 'success', ip, details: { userId } }, tx);
    });
    this.notify();
  }

  /** IdP group names → team ids (a team's `externalGroup`, else the group name itself). */
  async teamIdsForGroups(groups: string[]): Promise<string[]> {
    if (groups.length === 0) return [];
    const now = Date.now();
    if (!this.groupCache || this.groupCache.until < now) {
      const rows = await this.dataSource.getRepository(TeamRow).find();
      const byGroup = new Map<string, string>();
      for (const row of rows) if (row.externalGroup) byGroup.set(row.externalGroup, row.id);
      this.groupCache = { until: now + 15_000, byGroup };
    }
    return [...new Set(groups.map((group) => this.groupCache!.byGroup.get(group) ?? group))];
  }
}
