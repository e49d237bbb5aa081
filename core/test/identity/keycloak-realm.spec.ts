import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testConfig } from '../harness/test-app.js';
import { mapRoles } from '../../src/identity/role-mapping.js';
import { ROLES } from '../../src/identity/decorators/roles.decorator.js';

interface Mapper {
  protocolMapper: string;
  config: Record<string, string>;
}
interface Client {
  clientId: string;
  publicClient?: boolean;
  standardFlowEnabled?: boolean;
  implicitFlowEnabled?: boolean;
  directAccessGrantsEnabled?: boolean;
  redirectUris?: string[];
  attributes?: Record<string, string>;
  protocolMappers?: Mapper[];
}
interface Realm {
  realm: string;
  defaultSignatureAlgorithm?: string;
  roles: { realm: Array<{ name: string }> };
  clients: Client[];
  users: Array<{ username: string; realmRoles?: string[]; groups?: string[] }>;
}

const realmFile = join(dirname(fileURLToPath(import.meta.url)), '../../../docker/keycloak/switchboard-realm.json');

/**
 * The realm export for the compose deployment (docker/keycloak/) must fit the core's defaults:
 * a token Keycloak issues from it must pass the resource server's checks and map to roles.
 */
describe('docker/keycloak realm export', () => {
  const realm = JSON.parse(readFileSync(realmFile, 'utf8')) as Realm;
  const oidc = testConfig({}).identity.oidc;
  const client = (id: string) => realm.clients.find((candidate) => candidate.clientId === id);

  it('is the realm `switchboard`, signing with an algorithm the core accepts', () => {
    expect(realm.realm).toBe('switchboard');
    expect(oidc.algorithms).toContain(realm.defaultSignatureAlgorithm ?? 'RS256');
  });

  it('has a public console client with authorization code + PKCE S256 only, and back-channel logout with sid', () => {
    const console = client(oidc.clientId)!;
    expect(console).toBeDefined();
    expect(console).toMatchObject({ publicClient: true, standardFlowEnabled: true, implicitFlowEnabled: false, directAccessGrantsEnabled: false });
    expect(console.attributes?.['pkce.code.challenge.method']).toBe('S256');
    expect(console.redirectUris?.every((uri) => uri.endsWith('/api/v1/auth/callback'))).toBe(true);
    expect(console.attributes?.['backchannel.logout.url']).toMatch(/\/api\/v1\/auth\/backchannel-logout$/);
    expect(console.attributes?.['backchannel.logout.session.required']).toBe('true');
  });

  it('puts the API audience into the console’s access tokens (audience mapper), and the groups claim', () => {
    const mappers = client(oidc.clientId)!.protocolMappers ?? [];
    const audience = mappers.find((mapper) => mapper.protocolMapper === 'oidc-audience-mapper');
    expect(audience?.config).toMatchObject({ 'included.custom.audience': oidc.audience, 'access.token.claim': 'true' });
    const groups = mappers.find((mapper) => mapper.protocolMapper === 'oidc-group-membership-mapper');
    expect(groups?.config).toMatchObject({ 'claim.name': oidc.groupsClaim, 'access.token.claim': 'true' });
    expect(client(oidc.audience)).toBeDefined();
  });

  it('defines the five roles and one demo user per role, whose realm roles map to exactly that role', () => {
    expect(realm.roles.realm.map((role) => role.name)).toEqual(expect.arrayContaining([...ROLES]));
    for (const role of ROLES) {
      const users = realm.users.filter(
        (user) => user.username.startsWith('demo-') && mapRoles({ realm_access: { roles: user.realmRoles ?? [] } }, oidc).includes(role),
      );
      expect(users.map((user) => user.username)).toEqual([`demo-${role}`]);
      expect(mapRoles({ realm_access: { roles: users[0]!.realmRoles } }, oidc)).toEqual([role]);
    }
  });
});
