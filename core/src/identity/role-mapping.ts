import { ROLES, type Role } from './decorators/roles.decorator.js';
import type { IdentityConfig } from '../platform/config/app-config.js';

interface Rule {
  source: 'realm' | 'client';
  client?: string;
  role: string;
  target: Role;
}

/** Parses `realm:<role>=<target>` and `client:<clientId>:<role>=<target>` rules. */
export function parseRoleMapping(rules: string[]): Rule[] {
  return rules.map((rule) => {
    const match = /^(realm):([^=]+)=(\w+)$/.exec(rule) ?? /^(client):([^:=]+):([^=]+)=(\w+)$/.exec(rule);
    if (!match)
      throw new Error(`OIDC_ROLE_MAPPING rule "${rule}" must look like realm:<role>=<switchboard role> or client:<clientId>:<role>=<switchboard role>`);
    const target = match.at(-1) as Role;
    if (!ROLES.includes(target)) throw new Error(`OIDC_ROLE_MAPPING rule "${rule}" maps to unknown role "${target}"`);
    return match[1] === 'realm' ? { source: 'realm', role: match[2]!, target } : { source: 'client', client: match[2]!, role: match[3]!, target };
  });
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

/**
 * Switchboard roles from Keycloak's `realm_access.roles` and `resource_access[<client>].roles`.
 * Without rules, realm roles and the API/console clients' roles with a Switchboard role's name map to it.
 */
export function mapRoles(claims: Record<string, unknown>, oidc: IdentityConfig['oidc'], rules: Rule[] = parseRoleMapping(oidc.roleMapping)): Role[] {
  const realm = strings((claims.realm_access as { roles?: unknown } | undefined)?.roles);
  const resource = (claims.resource_access ?? {}) as Record<string, { roles?: unknown } | undefined>;
  const client = (id: string) => strings(resource[id]?.roles);
  const result = new Set<Role>();
  if (rules.length === 0) {
    for (const role of [...realm, ...client(oidc.audience), ...client(oidc.clientId)]) if (ROLES.includes(role as Role)) result.add(role as Role);
  } else {
    for (const rule of rules) {
      const held = rule.source === 'realm' ? realm : client(rule.client!);
      if (held.includes(rule.role)) result.add(rule.target);
    }
  }
  return ROLES.filter((role) => result.has(role));
}

/** Group claim values → group names (Keycloak's full paths `/teams/team-a` → `team-a`). */
export function groupNames(claims: Record<string, unknown>, claim: string): string[] {
  const names = strings(claims[claim])
    .map((group) => group.split('/').filter(Boolean).at(-1) ?? '')
    .filter((name) => name.length > 0 && name.length <= 64);
  return [...new Set(names)];
}
