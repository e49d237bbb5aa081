import type { Role } from './decorators/roles.decorator.js';

/** Who is calling. Set on the request by the authentication guard. */
export interface Actor {
  kind: 'user' | 'api_key' | 'system';
  id: string;
  displayName?: string;
  roles: Role[];
  teamIds: string[];
  /** API-key scopes such as `tickets:write`; empty for users. */
  scopes: string[];
  sessionId?: string;
}

export const SYSTEM_ACTOR: Actor = { kind: 'system', id: 'system', roles: ['admin'], teamIds: [], scopes: [] };
