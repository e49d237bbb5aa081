import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../database/database.tokens.js';
import { BUS, type Bus, type Closable, type DeliveredMessage, type Delivery } from '../bus/bus.port.js';
import { UnitOfWork, type Tx } from '../database/unit-of-work.js';
import { RowReader } from '../database/row-reader.js';
import { ProcessedEvent } from './processed-event.entity.js';
import { isDuplicateKeyError } from '../database/duplicate-key.js';
import type { EventEnvelope } from './outbox.entity.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { CLOCK, type Clock } from '../clock/clock.js';

export interface IdempotentConsumerSpec<T> {
  name: string;
  subject: string;
  /** Runs inside the same transaction that records the event as processed. */
  handle: (event: EventEnvelope<T>, tx: Tx) => Promise<void>;
  concurrency?: number;
  maxDeliver?: number;
  backoffMs?: number[];
  /**
   * Events that need no work at all: they are acknowledged without a transaction or marker.
   * Only for a cheap test of the event itself (no I/O).
   */
  filter?: (event: EventEnvelope<T>) => boolean;
  /**
   * Handle up to this many pending events per transaction (one marker lookup, one multi-row marker
   * insert, one commit), in stream order. Only for handlers that do all their database work through `tx`:
   * a handler that reads through another connection while its batch holds one can exhaust the pool.
   * A failing batch is split and each event retried alone, so one poison event holds nothing back.
   */
  batch?: number;
  /**
   * With `batch`: how long a partial batch waits for more events (default 0). For consumers nobody
   * waits on (projections), a few tens of milliseconds turn one transaction per event into one per
   * batch when traffic is moderate.
   */
  batchWaitMs?: number;
  /**
   * A test that may read (outside any transaction) whether events need work at all: one answer per event, in
   * order. Events it rejects are acknowledged without a transaction or marker; a batch it rejects entirely opens
   * none. Called with a single event or with a batch's events (one read for all of them).
   */
  precheck?: (events: Array<EventEnvelope<T>>) => Promise<boolean[]>;
  /**
   * Runs once per batch, in its transaction, before the batch's new events are handled: a handler can
   * read for all of them at once (one `IN (…)` instead of one read per event) and keep the result for
   * this `tx`. Not called for a single event.
   */
  prepare?: (events: Array<EventEnvelope<T>>, tx: Tx) => Promise<void>;
  /**
   * Runs once per transaction after its new events were handled (a batch, or a single event): a handler that
   * folds several events into one row defers that row's write to here, one write per batch instead of per event.
   */
  finish?: (tx: Tx) => Promise<void>;
}

/**
 * Records that `consumer` handled `eventId`, in the caller's transaction. False when it already had: a
 * redelivery or a concurrent copy, whose effects must then not be applied again.
 */
export async function markProcessed(tx: Tx, consumer: string, eventId: string, at: Date): Promise<boolean> {
  try {
    await tx.insert(ProcessedEvent, { consumer, eventId, processedAt: at });
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

/**
 * Exactly-once effects on top of at-least-once delivery: the handler's writes and the
 * (consumer, event id) marker commit together, and a redelivered event finds the marker.
 */
@Injectable()
export class IdempotentConsumers implements OnModuleDestroy {
  private readonly handles: Closable[] = [];
  private readonly markers: RowReader<ProcessedEvent>;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly uow: UnitOfWork,
    private readonly metrics: MetricsService,
  ) {
    this.markers = new RowReader(dataSource, ProcessedEvent);
  }

  async register<T>(spec: IdempotentConsumerSpec<T>, delivery: Delivery = 'one-instance'): Promise<Closable> {
    const handle =
      spec.batch && spec.batch > 1 && delivery === 'one-instance'
        ? await this.bus.consumeBatch<EventEnvelope<T>>({
            name: spec.name,
            subject: spec.subject,
            maxBatch: spec.batch,
            maxWaitMs: spec.batchWaitMs,
            maxDeliver: spec.maxDeliver,
            backoffMs: spec.backoffMs,
            handleBatch: (messages) => (messages.length === 1 ? this.handleOne(spec, messages[0]!) : this.handleMany(spec, messages)),
          })
        : await this.bus.consume<EventEnvelope<T>>({
            name: spec.name,
            subject: spec.subject,
            delivery,
            concurrency: spec.concurrency,
            maxDeliver: spec.maxDeliver,
            backoffMs: spec.backoffMs,
            handler: (message) => this.handleOne(spec, message),
          });
    this.handles.push(handle);
    return handle;
  }

  private async handleOne<T>(spec: IdempotentConsumerSpec<T>, message: DeliveredMessage<EventEnvelope<T>>): Promise<void> {
    const event = message.data;
    if (spec.filter && event && !spec.filter(event)) return this.skipped(spec);
    if (spec.precheck && event && !(await spec.precheck([event]))[0]) return this.skipped(spec);
    const eventId = event?.id ?? message.msgId;
    const duplicate = await this.uow.run(async (tx) => {
      if (!(await markProcessed(tx, spec.name, eventId, this.clock.now()))) return true;
      await spec.handle(event, tx);
      await spec.finish?.(tx);
      return false;
    });
    if (duplicate) this.metrics.busConsumed.inc({ consumer: spec.name, outcome: 'duplicate' });
  }

  private async handleMany<T>(spec: IdempotentConsumerSpec<T>, messages: Array<DeliveredMessage<EventEnvelope<T>>>): Promise<void> {
    let wanted = messages.filter((message) => !(spec.filter && message.data && !spec.filter(message.data)));
    if (spec.precheck && wanted.length > 0) {
      const withEvent = wanted.filter((message) => message.data);
      const answers = await spec.precheck(withEvent.map((message) => message.data));
      const rejected = new Set(withEvent.filter((_, index) => !answers[index]));
      wanted = wanted.filter((message) => !rejected.has(message));
    }
    if (wanted.length < messages.length) this.skipped(spec, messages.length - wanted.length);
    if (wanted.length === 0) return;
    const duplicates = await this.uow.run(async (tx) => {
      const ids = wanted.map((message) => message.data?.id ?? message.msgId);
      const done = new Set((await this.markers.findBy(tx.manager, { consumer: spec.name, eventId: ids })).map((row) => row.eventId));
      const fresh: Array<{ id: string; event: EventEnvelope<T> }> = [];
      for (const [index, message] of wanted.entries()) {
        const id = ids[index]!;
        if (done.has(id)) continue;
        done.add(id); // the same event twice in one batch (a redelivery) is handled once
        fresh.push({ id, event: message.data });
      }
      // A concurrent handler of the same event makes this insert fail: the batch is then split and retried one by one.
      const now = this.clock.now();
      await tx.insert(
        ProcessedEvent,
        fresh.map(({ id }) => ({ consumer: spec.name, eventId: id, processedAt: now })),
      );
      if (spec.prepare && fresh.length > 1)
        await spec.prepare(
          fresh.map(({ event }) => event),
          tx,
        );
      for (const { event } of fresh) await spec.handle(event, tx);
      if (fresh.length) await spec.finish?.(tx);
      return wanted.length - fresh.length;
    });
    if (duplicates > 0) this.metrics.busConsumed.inc({ consumer: spec.name, outcome: 'duplicate' }, duplicates);
  }

  private skipped<T>(spec: IdempotentConsumerSpec<T>, count = 1): void {
    this.metrics.busConsumed.inc({ consumer: spec.name, outcome: 'skipped' }, count);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled(this.handles.map((handle) => handle.close()));
  }
}
