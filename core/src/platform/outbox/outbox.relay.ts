import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { DATA_SOURCE } from '../database/database.tokens.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { BUS, type Bus } from '../bus/bus.port.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { OutboxSignal } from './outbox.signal.js';
import { CLOCK, type Clock } from '../clock/clock.js';
import { sqlTime } from '../database/sql-time.js';
import { WalDurability } from '../database/wal-durability.js';
import type { OutboxRow } from './outbox.entity.js';

interface PendingRow {
  seq: number | string;
  event_id: string;
  subject: string;
  envelope: string;
  headers: string | null;
}

/**
 * Publishes committed outbox rows. On MySQL + NATS the instance that committed a row publishes it right
 * after the commit (handed over by `OutboxSignal.committed`) and marks it sent afterwards, one UPDATE for
 * every row published within 100 ms. A poll catches whatever that missed (a publish that failed, a crash after the
 * commit): several instances poll at once, each claims a batch with `FOR UPDATE SKIP LOCKED`,
 * publishes it with the event id as `Nats-Msg-Id` and marks it sent in the same transaction. A row
 * published twice (a crash between publish and mark, a poll meeting another instance's row in
 * flight) is dropped by JetStream's duplicate window, and consumers are idempotent besides.
 */
/** If the ready signal never comes (an app assembled without AppModule), the embedded relay starts anyway. */
const APPLICATION_READY_WAIT_MS = 30_000;

@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('outbox');
  private running = false;
  private loop?: Promise<void>;
  /** Ends the loop's waits (the ready wait, a failure backoff) when the module is destroyed. */
  private stopWaiting!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.stopWaiting = resolve));
  private lastGaugeAt = 0;
  private consecutiveFailures = 0;
  /** Rows this instance published (as counted in sb_outbox_relayed_total). */
  private metricsSent = 0;
  /**
   * Embedded mode: rows handed to the in-process bus whose consumers are still at work, and the highest seq
   * handed over. A round does not wait for the consumers of the one before (see `dispatchEmbedded`).
   */
  private readonly dispatching = new Map<number, Promise<void>>();
  private dispatchedThrough = 0;
  private lastRescanAt = 0;
  private toMark: PendingRow[] = [];
  private marking?: Promise<void>;
  /** MySQL + NATS: event ids of rows handed over at commit whose publish or mark is not done; a poll leaves them alone. */
  private readonly handedOver = new Set<string>();
  private readonly handOffs = new Set<Promise<void>>();

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly metrics: MetricsService,
    private readonly signal: OutboxSignal,
    private readonly durability: WalDurability,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    // Polling after every commit cost five statements per round, and each event waited for the round in progress.
    // Not with the in-process bus, which keeps nothing for consumers that subscribe later in the boot (see `run`).
    if (this.mysql && this.bus.kind !== 'inprocess') this.signal.handCommittedTo((rows) => this.publishCommitted(rows));
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.running = false;
    this.signal.handCommittedTo(null);
    this.stopWaiting();
    this.signal.notify();
    await this.loop;
    await this.settleDispatched();
    await this.settleHandOffs();
  }

  private get mysql(): boolean {
    return this.dataSource.options.type === 'mysql' || this.dataSource.options.type === 'mariadb';
  }

  private async run(): Promise<void> {
    // Events left pending by the last run would be dropped by an in-process bus whose consumers are not
    // subscribed yet (the platform boots first). NATS streams keep them, so only embedded mode waits.
    if (this.bus.kind === 'inprocess') {
      // Closed before it was ready (a failed bootstrap, a stop during start): no reason to wait on.
      await this.until(APPLICATION_READY_WAIT_MS, this.signal.applicationReady);
    }
    let backlog = false;
    while (this.running) {
      let relayed: number;
      try {
        relayed = await this.relayRound(backlog);
        backlog = relayed >= this.config.outbox.batchSize;
        this.consecutiveFailures = 0;
        await this.updateGauges();
      } catch (error) {
        this.consecutiveFailures++;
        if (this.consecutiveFailures === 1 || this.consecutiveFailures % 20 === 0) {
          this.logger.warn({ reason: (error as Error).message, failures: this.consecutiveFailures }, 'outbox relay failed; backing off');
        }
        await this.until(Math.min(5000, 100 * 2 ** Math.min(this.consecutiveFailures, 6)));
        continue;
      }
      if (!backlog && this.running) await this.signal.wait(this.config.outbox.pollIntervalMs);
    }
  }

  /** Waits `ms` (or until `event`), or less when the module is destroyed meanwhile; the timer is cleared. */
  private async until(ms: number, event?: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.stopped, ...(event ? [event] : []), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms).unref()))]);
    clearTimeout(timer);
  }

  /**
   * One relay round. With a backlog on MySQL several batches are claimed and published at
   * once (SKIP LOCKED keeps them disjoint), so the database round trips of one batch overlap
   * the publishing of another; without a backlog one batch. Returns the rows sent by the
   * fullest batch, so a full batch means "more may be waiting".
   */
  private async relayRound(backlog: boolean): Promise<number> {
    const parallel = backlog && this.mysql ? PARALLEL_BATCHES : 1;
    if (parallel === 1) return this.relayBatch();
    const results = await Promise.allSettled(Array.from({ length: parallel }, () => this.relayBatch()));
    const sent = results.filter((result): result is PromiseFulfilledResult<number> => result.status === 'fulfilled').map((result) => result.value);
    if (sent.length === 0) throw (results[0] as PromiseRejectedResult).reason;
    return Math.max(...sent);
  }

  /** Relays until nothing is pending (as the background loop does with a backlog); returns the rows sent. For tools and benchmarks. */
  async drain(): Promise<number> {
    const start = this.metricsSent;
    await this.settleHandOffs();
    let backlog = true;
    for (;;) {
      const relayed = await this.relayRound(backlog);
      if (relayed === 0) {
        if (this.dispatching.size === 0) return this.metricsSent - start;
        // Consumers still at work may commit new events: wait for them, then look again.
        await this.settleDispatched();
      }
      backlog = relayed >= this.config.outbox.batchSize;
    }
  }

  /** Publishes one batch; returns how many rows were sent. Exposed for tests and benchmarks. */
  async relayBatch(): Promise<number> {
    if (!this.mysql) return this.dispatchEmbedded();
    // READ COMMITTED: under REPEATABLE READ the locking SELECT takes next-key (gap) locks on
    // the pending index, and concurrent commits inserting outbox rows deadlocked against the
    // relay (found by the two-process fault test). SKIP LOCKED only needs record locks.
    return this.dataSource.transaction('READ COMMITTED', async (manager) => {
      // Rows handed over at commit are this instance's to publish; locked here, their mark waits for this commit.
      const rows = (await this.selectPending(manager, true)).filter((row) => !this.handedOver.has(row.event_id));
      if (rows.length === 0) return 0;
      const sent = await this.publishRows(rows);
      await this.markSent(manager, 'seq', sent);
      if (sent.length < rows.length) throw new Error(`published ${sent.length} of ${rows.length} outbox rows`);
      return sent.length;
    });
  }

  /**
   * Embedded mode (SQLite, in-process bus, one process, no competing relays): hands a batch to the bus and
   * returns without waiting for its consumers. An in-process publish resolves only after every consumer's
   * first attempt, so waiting made each round as slow as its slowest consumer (a bot turn) and every event
   * committed meanwhile, a bot's reply among them, waited for that round. Rows are marked sent when their
   * consumers are done, so a stop in between delivers them again at the next start. No transaction is held
   * while publishing, because in-process consumers open their own. Returns the rows handed over.
   */
  private async dispatchEmbedded(): Promise<number> {
    // Bounded: with a backlog, wait for the oldest batches' consumers before taking more.
    while (this.dispatching.size >= MAX_EMBEDDED_IN_FLIGHT) await Promise.race(this.dispatching.values());
    // Reading on from the last row handed over; once a second from the start, so that a row committed
    // after a higher one (which one connection should never do) is still not left behind.
    const now = Date.now();
    const rescan = now - this.lastRescanAt >= 1000;
    if (rescan) this.lastRescanAt = now;
    const after = rescan ? 0 : this.dispatchedThrough;
    const rows = (await this.selectPending(this.dataSource.manager, false, after)).filter((row) => !this.dispatching.has(Number(row.seq)));
    if (rows.length === 0) return 0;
    // No event leaves before the commit that wrote it is on disk (see WalDurability).
    await this.durability.barrier();
    for (const row of rows) this.dispatchedThrough = Math.max(this.dispatchedThrough, Number(row.seq));
    const delivered = this.publishRows(rows)
      .then(async (sent) => {
        await this.markSentSoon(sent);
        if (sent.length < rows.length) this.redispatch(rows, sent);
      })
      .catch((error: unknown) => {
        this.redispatch(rows, []);
        this.logger.warn({ reason: (error as Error).message }, 'outbox rows not delivered; they stay pending');
      })
      .finally(() => {
        for (const row of rows) this.dispatching.delete(Number(row.seq));
      });
    for (const row of rows) this.dispatching.set(Number(row.seq), delivered);
    return rows.length;
  }

  /**
   * Marks rows sent with one UPDATE for every batch done meanwhile. Embedded: rounds whose consumers finished in the
   * same event-loop turn (each UPDATE is a write transaction on SQLite). MySQL: rows published at their commit within
   * `HANDED_OVER_MARK_DELAY_MS`; not urgent, since a row not yet marked only risks a second, deduplicated publish.
   */
  private markSentSoon(rows: PendingRow[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    this.toMark.push(...rows);
    this.marking ??= new Promise<void>((resolve) => (this.mysql ? setTimeout(resolve, HANDED_OVER_MARK_DELAY_MS) : setImmediate(resolve))).then(async () => {
      const batch = this.toMark.splice(0);
      this.marking = undefined;
      await this.markSent(this.dataSource.manager, this.mysql ? 'event_id' : 'seq', batch);
    });
    return this.marking;
  }

  /** MySQL + NATS: publishes rows a transaction of this instance has just committed. Rows not published stay pending for the poll. */
  private publishCommitted(rows: readonly OutboxRow[]): void {
    const pending: PendingRow[] = rows.map((row) => ({
      seq: 0,
      event_id: row.eventId,
      subject: row.subject,
      envelope: JSON.stringify(row.envelope),
      headers: row.headers ? JSON.stringify(row.headers) : null,
    }));
    for (const row of pending) this.handedOver.add(row.event_id);
    const handOff = this.publishRows(pending, 'commit')
      .catch((error: unknown) => {
        this.logger.warn({ reason: (error as Error).message, rows: pending.length }, 'outbox rows not published at their commit; the poll will');
        return [];
      })
      .then(async (sent) => {
        if (sent.length < pending.length) this.signal.notify();
        await this.markSentSoon(sent);
      })
      .catch((error: unknown) => {
        this.logger.warn({ reason: (error as Error).message }, 'published outbox rows not marked sent; the poll will publish them again (deduplicated)');
      })
      .finally(() => {
        for (const row of pending) this.handedOver.delete(row.event_id);
        this.handOffs.delete(handOff);
      });
    this.handOffs.add(handOff);
  }

  private async settleHandOffs(): Promise<void> {
    while (this.handOffs.size > 0) await Promise.allSettled([...this.handOffs]);
  }

  /** Rows a round could not deliver stay pending: the next rounds read from the first of them again. */
  private redispatch(rows: PendingRow[], sent: PendingRow[]): void {
    const delivered = new Set(sent.map((row) => Number(row.seq)));
    for (const row of rows) {
      const seq = Number(row.seq);
      if (!delivered.has(seq)) this.dispatchedThrough = Math.min(this.dispatchedThrough, seq - 1);
    }
  }

  private async settleDispatched(): Promise<void> {
    while (this.dispatching.size > 0) await Promise.allSettled(new Set(this.dispatching.values()));
  }

  private async selectPending(manager: EntityManager, lock: boolean, afterSeq = 0): Promise<PendingRow[]> {
    const suffix = lock ? ' FOR UPDATE SKIP LOCKED' : '';
    return manager.query(
      `SELECT seq, event_id, subject, envelope, headers FROM outbox WHERE sent_at IS NULL AND seq > ? ORDER BY seq LIMIT ${Number(this.config.outbox.batchSize)}${suffix}`,
      [afterSeq],
    );
  }

  private async publishRows(rows: PendingRow[], path: 'commit' | 'poll' = 'poll'): Promise<PendingRow[]> {
    const results = await Promise.allSettled(
      rows.map((row) => {
        const options = { msgId: row.event_id, headers: row.headers ? (JSON.parse(row.headers) as Record<string, string>) : undefined };
        // The envelope is stored as JSON text: hand it over as is when the adapter can take it.
        return this.bus.publishEncoded
          ? this.bus.publishEncoded(row.subject, row.envelope, options)
          : this.bus.publish(row.subject, JSON.parse(row.envelope) as unknown, options);
      }),
    );
    const sent = rows.filter((_, index) => results[index]!.status === 'fulfilled');
    const failure = results.find((result) => result.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failure && sent.length === 0) throw failure.reason;
    this.metrics.outboxRelayed.inc({ path }, sent.length);
    this.metricsSent += sent.length;
    return sent;
  }

  private async markSent(manager: EntityManager, key: 'seq' | 'event_id', rows: PendingRow[]): Promise<void> {
    if (rows.length === 0) return;
    const now = sqlTime(manager, this.clock.now());
    const ids = rows.map((row) => (key === 'seq' ? Number(row.seq) : row.event_id));
    const placeholders = ids.map(() => '?').join(',');
    await manager.query(`UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE ${key} IN (${placeholders})`, [now, ...ids]);
  }

  private async updateGauges(): Promise<void> {
    const nowMs = Date.now();
    if (nowMs - this.lastGaugeAt < 2000) return;
    this.lastGaugeAt = nowMs;
    const [row] = (await this.dataSource.query('SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM outbox WHERE sent_at IS NULL')) as Array<{
      pending: number | string;
      oldest: string | Date | null;
    }>;
    this.metrics.outboxPending.set(Number(row?.pending ?? 0));
    const oldest = row?.oldest ? new Date(row.oldest instanceof Date ? row.oldest : `${String(row.oldest).replace(' ', 'T')}Z`) : null;
    this.metrics.outboxLagSeconds.set(oldest ? Math.max(0, (this.clock.now().getTime() - oldest.getTime()) / 1000) : 0);
  }
}

/** How long marks of rows published at commit gather before one UPDATE writes them. */
const HANDED_OVER_MARK_DELAY_MS = 100;
/** Batches claimed at once while a backlog lasts (MySQL only). */
const PARALLEL_BATCHES = 3;
/** Embedded mode: rows handed to consumers and not yet done, at most (then the relay waits for the oldest). */
const MAX_EMBEDDED_IN_FLIGHT = 2_000;
