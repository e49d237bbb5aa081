import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IS_PUBLIC } from './decorators/public.decorator.js';
import { REQUIRED_ROLES, type Role } from './decorators/roles.decorator.js';
import { REQUIRED_SCOPES } from './decorators/require-scopes.decorator.js';
import { Authenticator } from './authenticator.js';
import { AccessPolicy } from './access-policy.js';
import { IdentityError } from './identity.error.js';
import type { Actor } from './actor.js';

/**
 * The global guard (APP_GUARD): every HTTP route needs an authenticated actor unless it is
 * `@Public()`; then `@Roles(...)` and `@RequireScopes(...)` apply. Every denial is audited.
 * WebSocket gateways authenticate at the handshake with `Authenticator.authenticateHandshake`.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
    private readonly policy: AccessPolicy,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { actor?: Actor }>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const route = `${request.method} ${request.routeOptions?.url ?? 'unmatched'}`;
    let actor: Actor;
    try {
      actor = (await this.authenticator.authenticate(request)).actor;
    } catch (error) {
      if (error instanceof IdentityError) {
        if (error.challenge) void reply.header('WWW-Authenticate', error.challenge);
        this.policy.denied(null, 'route', route, (error.details as { reason?: string } | undefined)?.reason ?? error.code, request.ip);
      }
      throw error;
    }
    request.actor = actor;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(REQUIRED_ROLES, targets);
    const scopes = this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_SCOPES, targets);
    if (actor.kind === 'api_key') {
      const allowedByRole = roles?.includes('integrator') ?? false;
      if (!scopes?.length && !allowedByRole) return this.deny(actor, route, request, reply, 'forbidden', 'API keys cannot call this route.');
      const missing = (scopes ?? []).filter((scope) => !this.policy.hasScope(actor, scope));
      if (missing.length)
        return this.deny(actor, route, request, reply, 'insufficient_scope', `The API key lacks the scope(s) ${missing.join(', ')}.`, missing);
      return true;
    }
    if (roles?.length && !roles.some((role) => actor.roles.includes(role)))
      return this.deny(actor, route, request, reply, 'forbidden', 'Your role does not allow this.');
    return true;
  }

  private deny(
    actor: Actor,
    route: string,
    request: FastifyRequest,
    reply: FastifyReply,
    code: 'forbidden' | 'insufficient_scope',
    message: string,
    scopes?: string[],
  ): never {
    this.policy.denied(actor, 'route', route, code, request.ip);
    if (scopes) void reply.header('WWW-Authenticate', `Bearer realm="switchboard", error="insufficient_scope", scope="${scopes.join(' ')}"`);
    throw new IdentityError(code, message, scopes ? { scopes } : undefined);
  }
}
