import { Injectable, Optional } from '@nestjs/common';
import type { Actor } from './actor.js';
import { AuditService } from '../compliance/audit/audit.service.js';

/**
 * Object-level authorization shared by every module: which teams' objects an actor may see.
 * Admins and auditors see everything; supervisors and agents see their teams' objects plus
 * objects with no team yet (the unassigned queue). Integrators (API keys) are limited by
 * scopes, and by a team when the key was created for one. A denial must look like "not found"
 * (404), so ids cannot be probed; every denial of an existing object is audited.
 */
@Injectable()
export class AccessPolicy {
  constructor(@Optional() private readonly audit?: AuditService) {}

  /** `'all'` or the list of team ids to filter list queries by (null team included). */
  visibleTeams(actor: Actor): 'all' | string[] {
    if (actor.kind === 'system' || actor.roles.includes('admin') || actor.roles.includes('auditor')) return 'all';
    if (actor.kind === 'api_key') return actor.teamIds.length ? actor.teamIds : 'all';
    return actor.teamIds;
  }

  canSee(actor: Actor, object: { teamId: string | null | undefined }): boolean {
    const teams = this.visibleTeams(actor);
    if (teams === 'all') return true;
    if (object.teamId === null || object.teamId === undefined) return true;
    return teams.includes(object.teamId);
  }

  /**
   * Throws `notFound()` when the actor may not see the object. An existing object hidden by team
   * scope is audited as `access.denied` (objectType defaults to `object`, objectId to `object.id`).
   */
  assertCanSee<T extends { teamId: string | null | undefined }>(actor: Actor, object: T | null | undefined, notFound: () => Error, objectType?: string): T {
    if (!object) throw notFound();
    if (!this.canSee(actor, object)) {
      const id = (object as { id?: unknown }).id;
      this.denied(actor, objectType ?? 'object', typeof id === 'string' || typeof id === 'number' ? String(id) : null, 'team_scope');
      throw notFound();
    }
    return object;
  }

  /**
   * For list filters such as `?teamId=`: throws `notFound()` (and audits) when the actor asks
   * for a team it cannot see.
   */
  assertTeamFilter(actor: Actor, teamId: string | null | undefined, notFound: () => Error): void {
    if (teamId === null || teamId === undefined) return;
    if (!this.canSee(actor, { teamId })) {
      this.denied(actor, 'team', teamId, 'team_filter');
      throw notFound();
    }
  }

  hasScope(actor: Actor, scope: string): boolean {
    if (actor.kind !== 'api_key') return true;
    return actor.scopes.includes(scope) || actor.scopes.includes(`${scope.split(':')[0]}:*`);
  }

  /** Records an authorization denial in the audit log (never throws). */
  denied(actor: Actor | null, objectType: string, objectId: string | null, reason: string, ip?: string): void {
    this.audit?.recordQuietly({ actor, action: 'access.denied', objectType, objectId, outcome: 'denied', ip, details: { reason } });
  }
}
