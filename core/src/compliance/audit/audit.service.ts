import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { DATA_SOURCE } from '../../platform/database/database.tokens.js';
import { UnitOfWork, type Tx } from '../../platform/database/unit-of-work.js';
import { CLOCK, type Clock } from '../../platform/clock/clock.js';
import { sqlTime } from '../../platform/database/sql-time.js';
import type { Actor } from '../../identity/actor.js';
import { AuditHeadRow, AuditRow } from './audit.entity.js';
import { chainHash, GENESIS_HASH, stableJson, type VerifyProblem } from './audit-chain.js';

export type AuditOutcome = 'success' | 'failure' | 'denied';

export interface AuditEntry {
  /** Who acted; null for anonymous callers (e.g. a failed login or a request without credentials). */
  actor: Pick<Actor, 'kind' | 'id'> | null;
  /** Dotted verb, e.g. `auth.login`, `contact.viewed`, `contact.exported`, `access.denied`. */
  action: string;
  objectType?: string | null;
  objectId?: string | null;
  outcome: AuditOutcome;
  ip?: string | null;
  /** Small JSON object; never secrets, message text or contact PII values (ids only). */
  details?: Record<string, unknown> | null;
}

export interface AuditView {
  seq: number;
  at: string;
  actorKind: string;
  actorId: string | null;
  action: string;
  objectType: string | null;
  objectId: string | null;
  outcome: string;
  ip: string | null;
  details: unknown;
  hash: string;
}

export interface AuditQuery {
  from?: Date;
  to?: Date;
  action?: string;
  actorId?: string;
  objectType?: string;
  objectId?: string;
  outcome?: string;
  afterSeq?: number;
  limit?: number;
}

export interface VerifyReport {
  ok: boolean;
  checked: number;
  lastSeq: number;
  /** Hash at the head: record it elsewhere to detect a rewrite of the whole chain. */
  lastHash: string;
  problems: VerifyProblem[];
}

const cut = (value: string | null | undefined, max: number): string | null => (value === null || value === undefined ? null : value.slice(0, max));

/**
 * The tamper-evident audit log. Entries are appended in a transaction that locks the chain
 * head, so every instance extends the same chain; `verify()` recomputes it.
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('audit');

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly uow: UnitOfWork,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Appends an entry. With `tx`, it commits (or not) with the caller's transaction. */
  async record(entry: AuditEntry, tx?: Tx): Promise<{ seq: number; hash: string }> {
    if (tx) return this.append(tx.manager, entry);
    return this.uow.run((inner) => this.append(inner.manager, entry));
  }

  /** Like `record`, but never throws: for denials and other paths that must answer regardless. */
  recordQuietly(entry: AuditEntry): void {
    this.record(entry).catch((error: Error) => this.logger.warn({ action: entry.action, reason: error.message }, 'audit record failed'));
  }

  private append(manager: EntityManager, entry: AuditEntry): Promise<{ seq: number; hash: string }> {
    return appendAuditEntry(manager, entry, this.clock.now());
  }

  async query(query: AuditQuery): Promise<AuditView[]> {
    const qb = this.dataSource.getRepository(AuditRow).createQueryBuilder('a');
    if (query.from) qb.andWhere('a.at >= :from', { from: sqlTime(this.dataSource, query.from) });
    if (query.to) qb.andWhere('a.at < :to', { to: sqlTime(this.dataSource, query.to) });
    if (query.action) qb.andWhere('a.action = :action', { action: query.action });
    if (query.actorId) qb.andWhere('a.actor_id = :actorId', { actorId: query.actorId });
    if (query.objectType) qb.andWhere('a.object_type = :objectType', { objectType: query.objectType });
    if (query.objectId) qb.andWhere('a.object_id = :objectId', { objectId: query.objectId });
    if (query.outcome) qb.andWhere('a.outcome = :outcome', { outcome: query.outcome });
    if (query.afterSeq !== undefined) qb.andWhere('a.seq > :afterSeq', { afterSeq: query.afterSeq });
    qb.orderBy('a.seq', 'ASC').take(Math.min(Math.max(query.limit ?? 100, 1), 1000));
    const rows = await qb.getMany();
    return rows.map(view);
  }

  /**
   * Recomputes the whole chain in seq order and names every edited or deleted entry
   * (see `verifyAuditChain`).
   */
  verify(): Promise<VerifyReport> {
    return verifyAuditChain(this.dataSource);
  }
}

/**
 * Appends one entry inside the caller's transaction: locks the chain head (FOR UPDATE on
 * MySQL; SQLite has a single writer), links to the previous hash and moves the head.
 */
export async function appendAuditEntry(manager: EntityManager, entry: AuditEntry, now: Date): Promise<{ seq: number; hash: string }> {
  const type = manager.connection.options.type;
  const mysql = type === 'mysql' || type === 'mariadb';
  const rows = (await manager.query(`SELECT last_seq AS lastSeq, last_hash AS lastHash FROM audit_head WHERE id = 1${mysql ? ' FOR UPDATE' : ''}`)) as Array<{
    lastSeq: number | string;
    lastHash: string;
  }>;
  const head = rows[0] ?? { lastSeq: 0, lastHash: GENESIS_HASH };
  const row: AuditRow = Object.assign(new AuditRow(), {
    seq: Number(head.lastSeq) + 1,
    at: new Date(now.getTime()),
    actorKind: entry.actor?.kind ?? 'anonymous',
    actorId: cut(entry.actor?.id, 191),
    action: entry.action.slice(0, 128),
    objectType: cut(entry.objectType, 64),
    objectId: cut(entry.objectId, 191),
    outcome: entry.outcome,
    ip: cut(entry.ip, 64),
    details: entry.details ? stableJson(entry.details) : null,
    prevHash: head.lastHash,
    hash: '',
  });
  row.hash = chainHash(row.prevHash, row);
  await manager.insert(AuditRow, row);
  await manager.update(AuditHeadRow, { id: 1 }, { lastSeq: row.seq, lastHash: row.hash });
  return { seq: row.seq, hash: row.hash };
}

/**
 * Recomputes the whole chain in seq order. An edited row fails its own hash; a deleted row
 * leaves a gap (named by its seq); a rewritten row with a recomputed hash breaks the next
 * row's link; a deleted or rewritten tail disagrees with the head.
 */
export async function verifyAuditChain(dataSource: DataSource, batch = 1000): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const repo = dataSource.getRepository(AuditRow);
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  // The head first: an entry and the head commit together, so every entry up to the head's seq is
  // committed, and entries appended while we read (the app keeps running) are left for the next run.
  const head = await dataSource.getRepository(AuditHeadRow).findOneBy({ id: 1 });
  const upTo = head?.lastSeq ?? Number.MAX_SAFE_INTEGER;
  for (;;) {
    const rows = await repo
      .createQueryBuilder('a')
      .where('a.seq >= :from AND a.seq <= :upTo', { from: expectedSeq, upTo })
      .orderBy('a.seq', 'ASC')
      .take(batch)
      .getMany();
    if (rows.length === 0) break;
    for (const row of rows) {
      for (let missing = expectedSeq; missing < row.seq; missing++) {
        problems.push({ seq: missing, problem: 'deleted', message: `audit entry ${missing} is missing (deleted)` });
      }
      if (row.prevHash !== prevHash && row.seq === expectedSeq) {
        problems.push({
          seq: row.seq - 1,
          problem: 'chain_broken',
          message: `audit entry ${row.seq - 1} was rewritten: entry ${row.seq} no longer links to it`,
        });
      }
      if (chainHash(row.prevHash, row) !== row.hash) {
        problems.push({ seq: row.seq, problem: 'edited', message: `audit entry ${row.seq} was edited: its content no longer matches its hash` });
      }
      prevHash = row.hash;
      expectedSeq = row.seq + 1;
      checked++;
    }
    if (rows.length < batch) break;
  }
  const lastSeq = expectedSeq - 1;
  if (head && (head.lastSeq !== lastSeq || head.lastHash !== prevHash)) {
    for (let missing = lastSeq + 1; missing <= head.lastSeq; missing++) {
      problems.push({ seq: missing, problem: 'deleted', message: `audit entry ${missing} is missing (deleted from the end)` });
    }
    if (head.lastSeq === lastSeq)
      problems.push({ seq: lastSeq, problem: 'head_mismatch', message: `audit entry ${lastSeq} was rewritten: it no longer matches the chain head` });
  }
  return { ok: problems.length === 0, checked, lastSeq: head?.lastSeq ?? lastSeq, lastHash: head?.lastHash ?? prevHash, problems };
}

function view(row: AuditRow): AuditView {
  let details: unknown;
  try {
    details = row.details ? JSON.parse(row.details) : null;
  } catch {
    details = row.details;
  }
  return {
    seq: row.seq,
    at: row.at.toISOString(),
    actorKind: row.actorKind,
    actorId: row.actorId,
    action: row.action,
    objectType: row.objectType,
    objectId: row.objectId,
    outcome: row.outcome,
    ip: row.ip,
    details,
    hash: row.hash,
  };
}
