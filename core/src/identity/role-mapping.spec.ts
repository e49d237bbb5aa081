import { describe, expect, it } from '@jest/globals';
import { groupNames, mapRoles, parseRoleMapping } from './role-mapping.js';
import type { IdentityConfig } from '../platform/config/app-config.js';

const oidc = { audience: 'switchboard-api', clientId: 'switchboard-console', roleMapping: [] as string[] } as unknown as IdentityConfig['oidc'];

describe('role mapping', () => {
  const claims = {
    realm_access: { roles: ['agent', 'offline_access', 'cs-leads'] },
    resource_access: { 'switchboard-api': { roles: ['auditor'] }, other: { roles: ['admin'] } },
  };

  it('maps same-named realm roles and the API/console client roles by default, ignoring other clients', () => {
    expect(mapRoles(claims, oidc)).toEqual(['agent', 'auditor']);
  });

  it('applies configured realm and client rules only', () => {
    const rules = parseRoleMapping(['realm:cs-leads=supervisor', 'client:other:admin=admin']);
    expect(mapRoles(claims, { ...oidc, roleMapping: ['x'] }, rules)).toEqual(['admin', 'supervisor']);
  });

  it('rejects malformed rules and unknown target roles', () => {
    expect(() => parseRoleMapping(['cs-leads=supervisor'])).toThrow(/must look like/);
    expect(() => parseRoleMapping(['realm:x=root'])).toThrow(/unknown role/);
  });

  it('takes the last path segment of group claims', () => {
    expect(groupNames({ groups: ['/teams/support-l1', 'team-a', '/team-a', 42] }, 'groups')).toEqual(['support-l1', 'team-a']);
  });
});
