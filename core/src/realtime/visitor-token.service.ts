import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { APP_CONFIG } from '../platform/config/config.module.js';
import type { AppConfig } from '../platform/config/app-config.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { RealtimeSecretRow } from './entities/realtime-secret.entity.js';
import { RealtimeError } from './realtime.error.js';
import { realtimeConfig } from './realtime.config.js';

/** Who a web-chat visitor is, as vouched for by a visitor token. */
export interface VisitorClaims {
  /** The widget's stable visitor id (the channel identity's externalId). */
  visitorId: string;
  /** The contact behind the visitor, when already known. */
  contactId: string | null;
  /** The web-chat inbox the visitor talks to. */
  inboxId: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

const VERSION = 'v1';
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const b64 = (buffer: Buffer | string) => Buffer.from(buffer).toString('base64url');

/**
 * Visitor tokens: `v1.<base64url(JSON {vid, cid, iid, exp})>.<base64url(HMAC-SHA256(key, "v1." + payload))>`.
 * Issued server-side (by the web-chat channel) and presented at the WebSocket handshake.
 * The key comes from `realtime.visitorTokenSecret` or is generated once per installation and
 * stored in `realtime_secrets`, so every core instance verifies every token.
 */
@Injectable()
export class VisitorTokenService implements OnApplicationBootstrap {
  private key?: Buffer;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.loadKey();
  }

  private async loadKey(): Promise<Buffer> {
    if (this.key) return this.key;
    const configured = realtimeConfig(this.config).visitorTokenSecret;
    if (configured) {
      this.key = Buffer.from(configured, 'utf8');
      return this.key;
    }
    const name = 'visitor-token-key';
    let row = await this.dataSource.manager.findOne(RealtimeSecretRow, { where: { name } });
    if (!row) {
      try {
        await this.dataSource.manager.insert(RealtimeSecretRow, { name, value: randomBytes(32).toString('hex'), createdAt: this.clock.now() });
      } catch {
        // Another instance created it first; read theirs.
      }
      row = await this.dataSource.manager.findOneOrFail(RealtimeSecretRow, { where: { name } });
    }
    this.key = Buffer.from(row.value, 'hex');
    return this.key;
  }

  /** Issues a token for a visitor; `ttlSeconds` defaults to 24 h. */
  async issue(claims: { visitorId: string; contactId?: string | null; inboxId: string; ttlSeconds?: number }): Promise<{ token: string; expiresAt: string }> {
    if (!ID.test(claims.visitorId) || !ID.test(claims.inboxId) || (claims.contactId && !ID.test(claims.contactId))) {
      throw new RealtimeError('visitor_token_invalid', 'Visitor, contact and inbox ids must be 1–128 characters of [A-Za-z0-9_.:-].');
    }
    const exp = Math.floor(this.clock.now().getTime() / 1000) + (claims.ttlSeconds ?? 24 * 3600);
    const payload = b64(JSON.stringify({ vid: claims.visitorId, cid: claims.contactId ?? null, iid: claims.inboxId, exp }));
    const signature = b64(
      createHmac('sha256', await this.loadKey())
        .update(`${VERSION}.${payload}`)
        .digest(),
    );
    return { token: `${VERSION}.${payload}.${signature}`, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /** Verifies signature and expiry; throws `visitor_token_invalid` / `visitor_token_expired`. */
  async verify(token: string): Promise<VisitorClaims> {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION || token.length > 2048) throw new RealtimeError('visitor_token_invalid', 'Malformed visitor token.');
    const expected = createHmac('sha256', await this.loadKey())
      .update(`${VERSION}.${parts[1]}`)
      .digest();
    const given = Buffer.from(parts[2]!, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new RealtimeError('visitor_token_invalid', 'Bad visitor token signature.');
    let payload: { vid?: unknown; cid?: unknown; iid?: unknown; exp?: unknown };
    try {
      payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as typeof payload;
    } catch {
      throw new RealtimeError('visitor_token_invalid', 'Malformed visitor token.');
    }
    if (typeof payload.vid !== 'string' || typeof payload.iid !== 'string' || typeof payload.exp !== 'number') {
      throw new RealtimeError('visitor_token_invalid', 'Malformed visitor token.');
    }
    if (payload.exp * 1000 <= this.clock.now().getTime()) throw new RealtimeError('visitor_token_expired', 'The visitor token has expired.');
    return { visitorId: payload.vid, contactId: typeof payload.cid === 'string' ? payload.cid : null, inboxId: payload.iid, exp: payload.exp };
  }
}
