import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { UnitOfWork } from '../platform/database/unit-of-work.js';
import { AuditService } from '../compliance/audit/audit.service.js';
import { BUS, type Bus, type Closable } from '../platform/bus/bus.port.js';
import type { Actor } from './actor.js';
import { ApiKeyRow } from './entities/api-key.entity.js';
import { IdentityError } from './identity.error.js';
import { ExpiringCache } from '../platform/cache/expiring-cache.js';

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  teamId: string | null;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

const KEY_PATTERN = /^sbk_([a-f0-9]{16})_([A-Za-z0-9_-]{43})$/;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** Last use is written at most this often per key and instance (every use is still audited at most as often). */
const TOUCH_INTERVAL_MS = 60_000;

const view = (row: ApiKeyRow): ApiKeyView => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  scopes: row.scopes,
  teamId: row.teamId,
  createdBy: row.createdBy,
  createdAt: row.createdAt.toISOString(),
  expiresAt: row.expiresAt?.toISOString() ?? null,
  revokedAt: row.revokedAt?.toISOString() ?? null,
  lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
});

/** Not stored: a revocation tells every instance to forget its cached copy of the key. */
const REVOKED_SUBJECT = 'sb.rt.identity.api_key_revoked';
/** The longest a cached key row is used without reading it again. */
const KEY_CACHE_MS = 30_000;

export const looksLikeApiKey = (value: string) => value.startsWith('sbk_');

/**
 * API keys for integrators: `sbk_<prefix>_<secret>`, 256 random bits. Only a SHA-256 of the
 * whole key is stored (the key is random, so a slow hash adds nothing); the key is shown once.
 */
@Injectable()
export class ApiKeysService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly touched = new Map<string, number>();
  /**
   * Key rows by prefix, so a busy integration does not cost a database read per request. A revocation
   * evicts the row at once on the instance that made it and, by a broadcast, on every other instance;
   * the expiry bounds how long a lost broadcast could leave a revoked key usable (documented in security.md).
   */
  private readonly cache = new ExpiringCache<string, ApiKeyRow>(KEY_CACHE_MS, 10_000);
  private revocations?: Closable;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly uow: UnitOfWork,
    private readonly audit: AuditService,
    @Inject(BUS) private readonly bus: Bus,
  ) {}

  onApplicationBootstrap(): void {
    this.revocations = this.bus.listen<{ prefix?: unknown }>(REVOKED_SUBJECT, (data) => {
      if (typeof data?.prefix === 'string') this.cache.delete(data.prefix);
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.revocations?.close();
  }

  async create(
    actor: Actor,
    input: { name: string; scopes: string[]; expiresAt?: Date | null; teamId?: string | null },
    ip?: string,
  ): Promise<{ key: string; apiKey: ApiKeyView }> {
    const prefix = randomBytes(8).toString('hex');
    const key = `sbk_${prefix}_${randomBytes(32).toString('base64url')}`;
    const row = Object.assign(new ApiKeyRow(), {
      id: randomUUID(),
      name: input.name,
      prefix,
      secretHash: sha256(key),
      scopes: [...new Set(input.scopes)],
      teamId: input.teamId ?? null,
      createdBy: actor.id,
      createdAt: this.clock.now(),
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
      lastUsedAt: null,
    });
    await this.uow.run(async (tx) => {
      await tx.manager.insert(ApiKeyRow, row);
      await this.audit.record(
        {
          actor,
          action: 'api_key.created',
          objectType: 'api_key',
          objectId: row.id,
          outcome: 'success',
          ip,
          details: { scopes: row.scopes, expiresAt: row.expiresAt?.toISOString() ?? null, teamId: row.teamId },
        },
        tx,
      );
    });
    return { key, apiKey: view(row) };
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.dataSource.getRepository(ApiKeyRow).find({ order: { createdAt: 'DESC' } })).map(view);
  }

  async get(id: string): Promise<ApiKeyView | null> {
    const row = await this.dataSource.getRepository(ApiKeyRow).findOneBy({ id });
    return row ? view(row) : null;
  }

  async revoke(actor: Actor, id: string, ip?: string): Promise<ApiKeyView> {
    return this.uow.run(async (tx) => {
      const row = await tx.manager.findOneBy(ApiKeyRow, { id });
      if (!row) throw new IdentityError('api_key_not_found', 'No such API key.');
      if (!row.revokedAt) {
        row.revokedAt = this.clock.now();
        await tx.manager.save(ApiKeyRow, row);
        tx.afterCommit(() => {
          this.cache.delete(row.prefix);
          this.bus.broadcast(REVOKED_SUBJECT, { prefix: row.prefix });
        });
        await this.audit.record({ actor, action: 'api_key.revoked', objectType: 'api_key', objectId: id, outcome: 'success', ip }, tx);
      }
      return view(row);
    });
  }

  private async lookup(prefix: string): Promise<ApiKeyRow | null> {
    const cached = this.cache.get(prefix);
    if (cached) return cached;
    const row = await this.dataSource.getRepository(ApiKeyRow).findOneBy({ prefix });
    // Unknown prefixes are not cached: guessing must not fill memory.
    if (row) this.cache.set(prefix, row);
    return row;
  }

  /** The actor for a presented key, or an `invalid_token` error (unknown, revoked or expired). */
  async authenticate(presented: string, ip?: string): Promise<Actor> {
    const invalid = (reason: string) =>
      new IdentityError(
        'invalid_token',
        'The API key is invalid.',
        { reason },
        `Bearer realm="switchboard", error="invalid_token", error_description="${reason}"`,
      );
    const match = KEY_PATTERN.exec(presented);
    if (!match) throw invalid('malformed API key');
    const row = await this.lookup(match[1]!);
    if (!row || !timingSafeEqual(Buffer.from(row.secretHash, 'hex'), Buffer.from(sha256(presented), 'hex'))) throw invalid('unknown API key');
    // Expiry and revocation are security decisions: wall-clock time, not the test-controllable CLOCK.
    const now = new Date();
    if (row.revokedAt) throw invalid('API key revoked');
    if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) throw invalid('API key expired');
    const last = this.touched.get(row.id) ?? 0;
    if (now.getTime() - last >= TOUCH_INTERVAL_MS) {
      this.touched.set(row.id, now.getTime());
      void this.dataSource
        .getRepository(ApiKeyRow)
        .update({ id: row.id }, { lastUsedAt: this.clock.now() })
        .catch(() => undefined);
      this.audit.recordQuietly({
        actor: { kind: 'api_key', id: row.id },
        action: 'api_key.used',
        objectType: 'api_key',
        objectId: row.id,
        outcome: 'success',
        ip,
      });
    }
    return { kind: 'api_key', id: row.id, displayName: row.name, roles: ['integrator'], teamIds: row.teamId ? [row.teamId] : [], scopes: row.scopes };
  }
}
