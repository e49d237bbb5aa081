import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { In, type DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { UnitOfWork } from '../platform/database/unit-of-work.js';
import { AuditService } from '../compliance/audit/audit.service.js';
import type { Actor } from './actor.js';
import type { Role } from './decorators/roles.decorator.js';
import { UserRow } from './entities/user.entity.js';
import { TeamMemberRow } from './entities/team.entity.js';
import { IdentityError } from './identity.error.js';
import { TeamsService } from './teams.service.js';

export interface UserView {
  id: string;
  issuer: string;
  subject: string;
  displayName: string | null;
  email: string | null;
  roles: Role[];
  teamIds: string[];
  active: boolean;
  createdAt: string;
  lastLoginAt: string | null;
}

export const LOCAL_ISSUER = 'local';

export const subjectKey = (issuer: string, subject: string): string => createHash('sha256').update(issuer).update('\0').update(subject).digest('hex');

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((item) => b.includes(item));

/** People who sign in, keyed by (issuer, subject); created on first login. */
@Injectable()
export class UsersService {
  /** Called when a user changes (deactivation, roles), so cached actors are dropped. */
  readonly changed = new Set<(userId: string) => void>();

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly uow: UnitOfWork,
    private readonly audit: AuditService,
    private readonly teams: TeamsService,
  ) {}

  async view(row: UserRow): Promise<UserView> {
    const teamIds = [...new Set([...row.idpTeamIds, ...(await this.teams.assignedTeamIds(row.id))])];
    return {
      id: row.id,
      issuer: row.issuer,
      subject: row.subject,
      displayName: row.displayName,
      email: row.email,
      roles: row.roles,
      teamIds,
      active: row.active,
      createdAt: row.createdAt.toISOString(),
      lastLoginAt: row.lastLoginAt?.toISOString() ?? null,
    };
  }

  async getRow(id: string): Promise<UserRow | null> {
    return this.dataSource.getRepository(UserRow).findOneBy({ id });
  }

  async get(id: string): Promise<UserView | null> {
    const row = await this.getRow(id);
    return row ? this.view(row) : null;
  }

  async findBySubject(issuer: string, subject: string): Promise<UserRow | null> {
    return this.dataSource.getRepository(UserRow).findOneBy({ subjectKey: subjectKey(issuer, subject) });
  }

  /** Users, optionally those of one team (assigned here or by IdP group) or with one role. */
  async list(filter: { teamId?: string; role?: Role; activeOnly?: boolean } = {}): Promise<UserView[]> {
    let rows = await this.dataSource.getRepository(UserRow).find({ order: { createdAt: 'ASC' } });
    if (filter.teamId) {
      const assigned = new Set((await this.dataSource.getRepository(TeamMemberRow).findBy({ teamId: filter.teamId })).map((row) => row.userId));
      rows = rows.filter((row) => assigned.has(row.id) || row.idpTeamIds.includes(filter.teamId!));
    }
    if (filter.role) rows = rows.filter((row) => row.roles.includes(filter.role!));
    if (filter.activeOnly) rows = rows.filter((row) => row.active);
    return Promise.all(rows.map((row) => this.view(row)));
  }

  /** Active agents (and supervisors) of a team. */
  async listAgentsOfTeam(teamId: string): Promise<UserView[]> {
    return (await this.list({ teamId, activeOnly: true })).filter((user) => user.roles.includes('agent') || user.roles.includes('supervisor'));
  }

  async getMany(ids: string[]): Promise<UserView[]> {
    if (ids.length === 0) return [];
    return Promise.all((await this.dataSource.getRepository(UserRow).findBy({ id: In(ids) })).map((row) => this.view(row)));
  }

  /**
   * Finds or creates the user behind an IdP login and refreshes name, email, roles and group
   * teams from the claims. Role changes are audited.
   */
  async upsertFromClaims(input: {
    issuer: string;
    subject: string;
    displayName?: string | null;
    email?: string | null;
    roles: Role[];
    idpTeamIds: string[];
    login?: boolean;
    ip?: string;
  }): Promise<UserRow> {
    const key = subjectKey(input.issuer, input.subject);
    const repo = this.dataSource.getRepository(UserRow);
    const existing = await repo.findOneBy({ subjectKey: key });
    const now = this.clock.now();
    if (existing) {
      const rolesChanged = !sameSet(existing.roles, input.roles);
      const changed =
        rolesChanged ||
        !sameSet(existing.idpTeamIds, input.idpTeamIds) ||
        (input.displayName !== undefined && existing.displayName !== (input.displayName ?? null)) ||
        (input.email !== undefined && existing.email !== (input.email ?? null));
      if (!changed && !input.login) return existing;
      return this.uow.run(async (tx) => {
        const previous = existing.roles;
        existing.roles = input.roles;
        existing.idpTeamIds = input.idpTeamIds;
        if (input.displayName !== undefined) existing.displayName = input.displayName ?? null;
        if (input.email !== undefined) existing.email = input.email ?? null;
        if (input.login) existing.lastLoginAt = now;
        await tx.manager.save(UserRow, existing);
        if (rolesChanged) {
          await this.audit.record(
            {
              actor: { kind: 'system', id: 'idp' },
              action: 'user.roles_changed',
              objectType: 'user',
              objectId: existing.id,
              outcome: 'success',
              ip: input.ip,
              details: { from: previous, to: input.roles, source: 'idp' },
            },
            tx,
          );
        }
        tx.afterCommit(() => this.notify(existing.id));
        return existing;
      });
    }
    const row = Object.assign(new UserRow(), {
      id: randomUUID(),
      issuer: input.issuer,
      subject: input.subject,
      subjectKey: key,
      displayName: input.displayName ?? null,
      email: input.email ?? null,
      roles: input.roles,
      idpTeamIds: input.idpTeamIds,
      active: true,
      createdAt: now,
      lastLoginAt: input.login ? now : null,
    });
    try {
      await this.uow.run(async (tx) => {
        await tx.manager.insert(UserRow, row);
        await this.audit.record(
          {
            actor: { kind: 'system', id: input.issuer === LOCAL_ISSUER ? 'local' : 'idp' },
            action: 'user.created',
            objectType: 'user',
            objectId: row.id,
            outcome: 'success',
            ip: input.ip,
            details: { roles: row.roles, issuer: row.issuer },
          },
          tx,
        );
      });
      return row;
    } catch (error) {
      // Two first requests raced: the other one created the user.
      const winner = await repo.findOneBy({ subjectKey: key });
      if (winner) return winner;
      throw error;
    }
  }

  /** Admin changes: activate/deactivate, and roles of local users (IdP users get roles from the IdP). */
  async update(actor: Actor, id: string, input: { active?: boolean; roles?: Role[] }, ip?: string): Promise<UserView> {
    const row = await this.uow.run(async (tx) => {
      const user = await tx.manager.findOneBy(UserRow, { id });
      if (!user) throw new IdentityError('user_not_found', 'No such user.');
      if (input.active !== undefined && input.active !== user.active) {
        user.active = input.active;
        await this.audit.record(
          { actor, action: input.active ? 'user.activated' : 'user.deactivated', objectType: 'user', objectId: id, outcome: 'success', ip },
          tx,
        );
      }
      if (input.roles !== undefined && !sameSet(input.roles, user.roles)) {
        if (user.issuer !== LOCAL_ISSUER) throw new IdentityError('forbidden', 'Roles of single-sign-on users come from the identity provider.');
        await this.audit.record(
          {
            actor,
            action: 'user.roles_changed',
            objectType: 'user',
            objectId: id,
            outcome: 'success',
            ip,
            details: { from: user.roles, to: input.roles, source: 'admin' },
          },
          tx,
        );
        user.roles = input.roles;
      }
      await tx.manager.save(UserRow, user);
      return user;
    });
    this.notify(id);
    return this.view(row);
  }

  private notify(userId: string): void {
    for (const listener of this.changed) listener(userId);
  }
}
