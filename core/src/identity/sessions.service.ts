import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { SchedulerService } from '../platform/scheduler/scheduler.service.js';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { LessThan, type DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { APP_CONFIG } from '../platform/config/config.module.js';
import type { AppConfig } from '../platform/config/app-config.js';
import { sqlTime } from '../platform/database/sql-time.js';
import { SessionRow } from './entities/session.entity.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export interface CreatedSession {
  /** Cookie value: 256 random bits; only its hash is stored. */
  token: string;
  csrfToken: string;
  publicId: string;
  expiresAt: Date;
}

/** Server-side console sessions. Times are wall-clock (security), not the test CLOCK. */
@Injectable()
export class SessionsService implements OnModuleInit {
  constructor(
    private readonly scheduler: SchedulerService,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.scheduler.every('identity.sessions.purge', 15 * 60_000, () => this.purgeExpired());
  }

  async create(input: { userId: string; method: 'oidc' | 'local'; sid?: string | null; idToken?: string | null }): Promise<CreatedSession> {
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.config.identity.session.ttlMinutes * 60_000);
    const publicId = randomUUID();
    await this.dataSource.getRepository(SessionRow).insert({
      idHash: sha256(token),
      publicId,
      userId: input.userId,
      method: input.method,
      sid: input.sid ?? null,
      csrfToken,
      idToken: input.idToken ?? null,
      createdAt: now,
      expiresAt,
    });
    return { token, csrfToken, publicId, expiresAt };
  }

  /** The live session behind a cookie value, or null. */
  async find(token: string): Promise<SessionRow | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const row = await this.dataSource.getRepository(SessionRow).findOneBy({ idHash: sha256(token) });
    if (!row) return null;
    if (row.expiresAt.getTime() <= Date.now()) {
      await this.dataSource.getRepository(SessionRow).delete({ idHash: row.idHash });
      return null;
    }
    return row;
  }

  async destroy(token: string): Promise<SessionRow | null> {
    const row = await this.find(token);
    if (row) await this.dataSource.getRepository(SessionRow).delete({ idHash: row.idHash });
    return row;
  }

  /** Back-channel logout: ends every session of the IdP session `sid`. */
  async destroyBySid(sid: string): Promise<number> {
    return (await this.dataSource.getRepository(SessionRow).delete({ sid })).affected ?? 0;
  }

  /** Ends every session of a user (deactivation, back-channel logout by `sub`). */
  async destroyByUser(userId: string): Promise<number> {
    return (await this.dataSource.getRepository(SessionRow).delete({ userId })).affected ?? 0;
  }

  async purgeExpired(): Promise<void> {
    await this.dataSource.getRepository(SessionRow).delete({ expiresAt: LessThan(sqlTime(this.dataSource, new Date()) as Date) });
  }
}
