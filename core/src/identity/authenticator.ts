import { Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { APP_CONFIG } from '../platform/config/config.module.js';
import type { AppConfig } from '../platform/config/app-config.js';
import type { Actor } from './actor.js';
import { IdentityError } from './identity.error.js';
import { TokenVerifier } from './oidc/token-verifier.js';
import { groupNames, mapRoles, parseRoleMapping } from './role-mapping.js';
import { UsersService } from './users.service.js';
import { TeamsService } from './teams.service.js';
import { ApiKeysService, looksLikeApiKey } from './api-keys.service.js';
import { SessionsService } from './sessions.service.js';
import { parseCookies } from './cookies.js';
import type { UserRow } from './entities/user.entity.js';
import { AccessPolicy } from './access-policy.js';

export interface AuthRequest {
  method: string;
  headers: IncomingHttpHeaders;
  ip?: string;
}

export type AuthVia = 'bearer' | 'api_key' | 'session';

export interface Authenticated {
  actor: Actor;
  via: AuthVia;
  /** Set when authenticated by the session cookie. */
  csrfToken?: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'x-csrf-token';
const ACTOR_CACHE_MS = 15_000;

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

const safeEqual = (a: string, b: string) => {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
};

/**
 * Turns a request's credentials into an Actor: a bearer access token (OIDC), an API key
 * (`X-Api-Key` or `Authorization: Bearer sbk_…`) or the console session cookie. Nothing else:
 * headers such as `X-Forwarded-User` or `X-Remote-User` are never read.
 */
@Injectable()
export class Authenticator {
  private readonly rules;
  private readonly cache = new Map<string, { actor: Actor; until: number }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly verifier: TokenVerifier,
    private readonly users: UsersService,
    private readonly teams: TeamsService,
    private readonly apiKeys: ApiKeysService,
    private readonly sessions: SessionsService,
    private readonly policy: AccessPolicy,
  ) {
    this.rules = parseRoleMapping(config.identity.oidc.roleMapping);
    users.changed.add(() => this.cache.clear());
    teams.changed.add(() => this.cache.clear());
  }

  get cookieName(): string {
    return this.config.identity.session.cookieName;
  }

  /** Throws `unauthenticated`/`invalid_token` (401) or `user_deactivated`/`csrf_failed` (403). */
  async authenticate(request: AuthRequest): Promise<Authenticated> {
    const authorization = header(request.headers, 'authorization');
    const apiKey = header(request.headers, 'x-api-key');
    if (apiKey !== undefined) return { actor: await this.apiKeys.authenticate(apiKey.trim(), request.ip), via: 'api_key' };
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match)
        throw new IdentityError('invalid_token', 'Only Bearer authorization is accepted.', undefined, 'Bearer realm="switchboard", error="invalid_request"');
      const token = match[1]!;
      if (looksLikeApiKey(token)) return { actor: await this.apiKeys.authenticate(token, request.ip), via: 'api_key' };
      return { actor: await this.actorFromAccessToken(token, request.ip), via: 'bearer' };
    }
    const cookie = parseCookies(request.headers.cookie)[this.cookieName];
    if (cookie) {
      const session = await this.sessions.find(cookie);
      if (!session) throw new IdentityError('unauthenticated', 'The session has ended; sign in again.', undefined, 'Bearer realm="switchboard"');
      if (!SAFE_METHODS.has(request.method.toUpperCase())) {
        const presented = header(request.headers, CSRF_HEADER);
        if (!presented || !safeEqual(presented, session.csrfToken))
          throw new IdentityError('csrf_failed', `State-changing requests with the session cookie need the ${CSRF_HEADER} header.`);
      }
      const user = await this.users.getRow(session.userId);
      if (!user) throw new IdentityError('unauthenticated', 'The session has ended; sign in again.', undefined, 'Bearer realm="switchboard"');
      const actor = await this.actorForUser(user);
      return { actor: { ...actor, sessionId: session.publicId }, via: 'session', csrfToken: session.csrfToken };
    }
    throw new IdentityError('unauthenticated', 'Authentication is required.', undefined, 'Bearer realm="switchboard"');
  }

  /**
   * For WebSocket gateways: authenticates the upgrade request by bearer token (header or
   * `access_token` query parameter), API key, or session cookie. A cookie-authenticated
   * handshake must come from the same origin (no cross-site WebSocket hijacking). A refused
   * handshake is audited as `access.denied` (object `websocket`, the path), like a refused route.
   */
  async authenticateHandshake(request: IncomingMessage): Promise<Authenticated> {
    const headers = { ...request.headers };
    const url = new URL(request.url ?? '/', 'http://localhost');
    const queryToken = url.searchParams.get('access_token');
    if (queryToken && !headers.authorization) headers.authorization = `Bearer ${queryToken}`;
    const ip = request.socket?.remoteAddress;
    try {
      const result = await this.authenticate({ method: 'GET', headers, ip });
      if (result.via === 'session') {
        const origin = header(request.headers, 'origin');
        if (origin && !this.sameOrigin(origin, header(request.headers, 'host'))) {
          this.policy.denied(result.actor, 'websocket', url.pathname, 'cross_origin', ip);
          throw new IdentityError('csrf_failed', 'Cross-origin WebSocket handshakes with the session cookie are refused.');
        }
      }
      return result;
    } catch (error) {
      if (error instanceof IdentityError && error.identityCode !== 'csrf_failed') {
        this.policy.denied(null, 'websocket', url.pathname, (error.details as { reason?: string } | undefined)?.reason ?? error.code, ip);
      }
      throw error;
    }
  }

  private sameOrigin(origin: string, host: string | undefined): boolean {
    try {
      const parsed = new URL(origin);
      if (this.config.http.publicUrl && parsed.origin === new URL(this.config.http.publicUrl).origin) return true;
      return Boolean(host) && parsed.host === host;
    } catch {
      return false;
    }
  }

  /** Verifies an access token and resolves (creating on first sight) its user. */
  async actorFromAccessToken(token: string, ip?: string): Promise<Actor> {
    const { payload } = await this.verifier.verifyAccessToken(token);
    return this.actorFromClaims(payload, { ip });
  }

  /** The user for verified claims (access token, optionally merged with ID-token claims). */
  async actorFromClaims(claims: Record<string, unknown>, options: { ip?: string; login?: boolean } = {}): Promise<Actor> {
    const oidc = this.config.identity.oidc;
    const roles = mapRoles(claims, oidc, this.rules);
    const groups = groupNames(claims, oidc.groupsClaim);
    const issuer = String(claims.iss);
    const subject = String(claims.sub);
    // An absent claim keeps what we know; only a present claim updates it.
    const displayName = typeof claims.name === 'string' ? claims.name : typeof claims.preferred_username === 'string' ? claims.preferred_username : undefined;
    const email = typeof claims.email === 'string' ? claims.email : undefined;
    const key = createHash('sha256')
      .update(JSON.stringify([issuer, subject, roles, groups, displayName, email]))
      .digest('hex');
    const cached = this.cache.get(key);
    if (!options.login && cached && cached.until > Date.now()) return cached.actor;
    const idpTeamIds = await this.teams.teamIdsForGroups(groups);
    const user = await this.users.upsertFromClaims({ issuer, subject, displayName, email, roles, idpTeamIds, login: options.login, ip: options.ip });
    const actor = await this.actorForUser(user);
    this.cache.set(key, { actor, until: Date.now() + ACTOR_CACHE_MS });
    if (this.cache.size > 10_000) this.cache.clear();
    return actor;
  }

  async actorForUser(user: UserRow): Promise<Actor> {
    if (!user.active) throw new IdentityError('user_deactivated', 'This account is deactivated.');
    const assigned = await this.teams.assignedTeamIds(user.id);
    return {
      kind: 'user',
      id: user.id,
      displayName: user.displayName ?? undefined,
      roles: user.roles,
      teamIds: [...new Set([...user.idpTeamIds, ...assigned])],
      scopes: [],
    };
  }
}
