import type { Actor } from '../../identity/actor.js';
import { TicketsError } from '../tickets.error.js';

/** Routes are guarded globally; this only protects against a missing guard. */
export function requireActor(actor: Actor | undefined): Actor {
  if (!actor) throw new TicketsError('unauthenticated', 'Authentication is required.');
  return actor;
}

export function actorType(actor: Actor, automation: boolean): 'agent' | 'system' | 'automation' | 'api_key' {
  if (automation) return 'automation';
  if (actor.kind === 'user') return 'agent';
  return actor.kind;
}
