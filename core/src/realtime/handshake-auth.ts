import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { Authenticator } from '../identity/authenticator.js';
import { AccessPolicy } from '../identity/access-policy.js';
import type { Actor } from '../identity/actor.js';
import { APP_CONFIG } from '../platform/config/config.module.js';
import type { AppConfig } from '../platform/config/app-config.js';
import { VisitorTokenService, type VisitorClaims } from './visitor-token.service.js';
import { realtimeConfig } from './realtime.config.js';
import { SUBPROTOCOL } from './protocol.js';

export type Principal = { kind: 'user'; actor: Actor } | { kind: 'visitor'; visitor: VisitorClaims };

export interface HandshakeOutcome {
  ok: boolean;
  status?: number;
  reason?: string;
  principal?: Principal;
}

/** `Sec-WebSocket-Protocol` values a client offered. */
export function offeredProtocols(request: IncomingMessage): string[] {
  const header = request.headers['sec-websocket-protocol'];
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return text
    .split(',')
    .map((value) => value.trim())
    .filter(Boolean);
}

/**
 * Authenticates a WebSocket upgrade request. Agents and API clients present what the REST API
 * accepts (bearer token in `Authorization`, in the subprotocol `bearer.<token>` or in the query
 * `access_token`; or the console session cookie) and are checked by identity's
 * `Authenticator.authenticateHandshake`. Web-chat visitors present a visitor token in the
 * subprotocol `visitor.<token>` or the query `visitor_token`.
 */
@Injectable()
export class HandshakeAuth {
  private readonly allowedOrigins: Set<string>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly authenticator: Authenticator,
    private readonly visitors: VisitorTokenService,
    private readonly access: AccessPolicy,
  ) {
    this.allowedOrigins = new Set(realtimeConfig(config).allowedOrigins.map((origin) => origin.replace(/\/+$/, '').toLowerCase()));
  }

  /**
   * Browsers always send `Origin` on WebSocket handshakes; a page on a foreign site must not be
   * able to ride the user's cookie (cross-site WebSocket hijacking). Non-browser clients send
   * none and authenticate by token.
   */
  originAllowed(request: IncomingMessage): boolean {
    const origin = request.headers.origin;
    if (origin === undefined) return true;
    const normalised = origin.replace(/\/+$/, '').toLowerCase();
    if (this.allowedOrigins.has(normalised) || this.allowedOrigins.has('*')) return true;
    try {
      const parsed = new URL(origin);
      if (this.config.http.publicUrl && parsed.origin === new URL(this.config.http.publicUrl).origin) return true;
      return this.allowedOrigins.size === 0 && parsed.host === request.headers.host;
    } catch {
      return false;
    }
  }

  async authenticate(request: IncomingMessage): Promise<HandshakeOutcome> {
    if (!this.originAllowed(request)) {
      // Audited like every refusal (the Origin value itself is not: it is attacker-chosen text).
      this.access.denied(null, 'websocket', new URL(request.url ?? '/', 'http://localhost').pathname, 'origin_not_allowed', request.socket?.remoteAddress);
      return { ok: false, status: 403, reason: 'origin not allowed' };
    }
    const protocols = offeredProtocols(request);
    const url = new URL(request.url ?? '/', 'http://localhost');
    const visitorToken = protocols.find((value) => value.startsWith('visitor.'))?.slice('visitor.'.length) ?? url.searchParams.get('visitor_token');
    try {
      if (visitorToken) return { ok: true, principal: { kind: 'visitor', visitor: await this.visitors.verify(visitorToken) } };
      const bearer = protocols.find((value) => value.startsWith('bearer.'))?.slice('bearer.'.length);
      const headers = { ...request.headers };
      if (bearer && !headers.authorization) headers.authorization = `Bearer ${bearer}`;
      // Never hand the subprotocol list (it may hold the token) to anything that might log it.
      delete headers['sec-websocket-protocol'];
      const proxy = Object.create(request, { headers: { value: headers } }) as IncomingMessage;
      const { actor } = await this.authenticator.authenticateHandshake(proxy);
      return { ok: true, principal: { kind: 'user', actor } };
    } catch (error) {
      const status = (error as { status?: number }).status;
      return { ok: false, status: status === 403 ? 403 : 401, reason: (error as { code?: string }).code ?? 'unauthenticated' };
    }
  }

  /** The server answers with our subprotocol when offered, so the token-bearing entry is never echoed. */
  static selectProtocol(protocols: Set<string>): string | false {
    return protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false;
  }
}
