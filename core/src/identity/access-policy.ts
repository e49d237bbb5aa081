import { Injectable } from '@nestjs/common';
import type { Actor } from './actor.js';

/**
 * Object-level authorization shared by every module: which teams' objects an actor may see.
 * Admins and auditors see everything; supervisors and agents see their teams' objects plus
 * objects with no team yet (the unassigned queue). Integrators (API keys) are limited by
 * scopes, not teams. A denial must look like "not found" (404), so ids cannot be probed.
 */
@Injectable()
export class AccessPolicy {
  /** `'all'` or the list of team ids to filter list queries by (null team included). */
  visibleTeams(actor: Actor): 'all' | string[] {
    if (actor.kind === 'system' || actor.roles.includes('admin') || actor.roles.includes('auditor')) return 'all';
    if (actor.kind === 'api_key') return 'all';
    return actor.teamIds;
  }

  canSee(actor: Actor, object: { teamId: string | null | undefined }): boolean {
    const teams = this.visibleTeams(actor);
    if (teams === 'all') return true;
    if (object.teamId === null || object.teamId === undefined) return true;
    return teams.includes(object.teamId);
  }

  /** Throws `notFound()` when the actor may not see the object. */
  assertCanSee<T extends { teamId: string | null | undefined }>(actor: Actor, object: T | null | undefined, notFound: () => Error): T {
    if (!object || !this.canSee(actor, object)) throw notFound();
    return object;
  }

  hasScope(actor: Actor, scope: string): boolean {
    if (actor.kind !== 'api_key') return true;
    return actor.scopes.includes(scope) || actor.scopes.includes(`${scope.split(':')[0]}:*`);
  }
}
