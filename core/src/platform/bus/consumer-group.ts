import type { Logger } from '@nestjs/common';
import type { MetricsService } from '../metrics/metrics.service.js';
import type { BatchConsumerSpec, ConsumerSpec, DeliveredMessage, GroupMember } from './bus.port.js';
import { runBatch, runHandler, type Outcome } from './consumer-runner.js';
import { subjectMatches } from './subjects.js';

/** How the group settles one message with the bus once every member is done with it. */
export interface GroupSettlement {
  ack(): void;
  /** Tells the server the message is still being worked on (a member is waiting out a retry backoff). */
  working(): void;
  /** Hands the message back unhandled (on close), for another instance. */
  release(): void;
}

interface GroupEntry {
  seq: number;
  message: DeliveredMessage<unknown>;
  settlement: GroupSettlement;
  /** Members still to finish it. */
  waiting: Set<MemberLane>;
  /** A member left before handling it: released at the end instead of acked, so it comes back. */
  incomplete: boolean;
  since: number;
}

interface Queued {
  entry: GroupEntry;
  deliveryCount: number;
}

export interface GroupDispatcherOptions {
  members: GroupMember[];
  defaults: { maxDeliver: number; backoffMs: number[] };
  metrics: MetricsService;
  logger: Logger;
  deadLetter: (consumer: string, message: DeliveredMessage<unknown>, reason: string) => Promise<void>;
  /** Messages pending longer than this get a `working()` every interval (below the bus's ack wait). */
  workingIntervalMs?: number;
}

/**
 * Hands each message of one subscription to every member whose subject matches, and settles it once
 * all of them are done (acked, or dead-lettered after their own retries). Every member keeps its own
 * queue, concurrency, batching, retry backoff and dead-letter policy, so a slow or failing member holds
 * the others back only through the subscription's window of unacknowledged messages.
 *
 * Why: nine modules consume `message_created`. As nine durable consumers, each message was sent, parsed,
 * tracked and acked nine times, which cost the core more CPU than the handlers themselves.
 */
export class GroupDispatcher {
  private readonly lanes: MemberLane[];
  private readonly inFlight = new Map<number, GroupEntry>();
  /** The lanes wanting each subject seen so far: a stream has few subjects, matching is per message. */
  private readonly lanesBySubject = new Map<string, MemberLane[]>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: GroupDispatcherOptions) {
    this.lanes = options.members.map((member) => new MemberLane(member, options, (entry, lane) => this.memberDone(entry, lane)));
    const interval = options.workingIntervalMs ?? 20_000;
    this.timer = setInterval(() => this.keepAlive(interval), interval);
    this.timer.unref();
  }

  dispatch(seq: number, message: DeliveredMessage<unknown>, settlement: GroupSettlement): void {
    if (this.closed) return settlement.release();
    const current = this.inFlight.get(seq);
    if (current) {
      // The server redelivered a message still in progress here: settle the newest delivery instead.
      current.settlement = settlement;
      return;
    }
    const lanes = this.lanesFor(message.subject);
    if (lanes.length === 0) return settlement.ack();
    const entry: GroupEntry = { seq, message, settlement, waiting: new Set(lanes), incomplete: false, since: Date.now() };
    this.inFlight.set(seq, entry);
    for (const lane of lanes) lane.push({ entry, deliveryCount: message.deliveryCount });
  }

  /** Stops taking messages, lets running handlers finish, and releases what is left. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled(this.lanes.map((lane) => lane.stop()));
    for (const entry of this.inFlight.values()) entry.settlement.release();
    this.inFlight.clear();
  }

  /**
   * One member leaves (its handle was closed): it finishes what it is running and takes nothing more.
   * Messages it had not handled yet go back to the server once the others are done with them.
   */
  async removeMember(name: string): Promise<void> {
    const lane = this.lanes.find((candidate) => candidate.name === name);
    if (!lane) return;
    this.lanes.splice(this.lanes.indexOf(lane), 1);
    this.lanesBySubject.clear();
    await lane.stop();
    for (const entry of [...this.inFlight.values()]) {
      if (!entry.waiting.has(lane)) continue;
      entry.incomplete = true;
      this.memberDone(entry, lane);
    }
  }

  private lanesFor(subject: string): MemberLane[] {
    let lanes = this.lanesBySubject.get(subject);
    if (!lanes) {
      lanes = this.lanes.filter((lane) => lane.wants(subject));
      this.lanesBySubject.set(subject, lanes);
    }
    return lanes;
  }

  private memberDone(entry: GroupEntry, lane: MemberLane): void {
    // Also while closing: the member's work has committed, so the message must not come back for it.
    if (!entry.waiting.delete(lane) || entry.waiting.size > 0) return;
    this.inFlight.delete(entry.seq);
    if (entry.incomplete) entry.settlement.release();
    else entry.settlement.ack();
  }

  private keepAlive(interval: number): void {
    const before = Date.now() - interval;
    for (const entry of this.inFlight.values()) if (entry.since < before) entry.settlement.working();
  }
}

/** One member's queue: its handler calls in stream order, at its concurrency or in its batches. */
class MemberLane {
  private readonly queue: Queued[] = [];
  private running = 0;
  private readonly retries = new Set<NodeJS.Timeout>();
  private batchTimer?: NodeJS.Timeout;
  private stopped = false;
  private idle?: () => void;

  constructor(
    private readonly member: GroupMember,
    private readonly options: GroupDispatcherOptions,
    private readonly done: (entry: GroupEntry, lane: MemberLane) => void,
  ) {}

  get name(): string {
    return this.member.spec.name;
  }

  wants(subject: string): boolean {
    return subjectMatches(this.member.spec.subject, subject);
  }

  push(item: Queued, first = false): void {
    if (first) this.queue.unshift(item);
    else this.queue.push(item);
    this.pump();
  }

  stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
    clearTimeout(this.batchTimer);
    this.queue.length = 0;
    return this.running === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.idle = resolve));
  }

  private pump(): void {
    if (this.stopped) return;
    if (this.member.kind === 'single') {
      const concurrency = Math.max(1, this.member.spec.concurrency ?? 1);
      while (this.running < concurrency && this.queue.length > 0) void this.runOne(this.queue.shift()!);
      return;
    }
    if (this.running > 0 || this.queue.length === 0 || this.batchTimer) return;
    const maxBatch = Math.max(1, this.member.spec.maxBatch ?? 100);
    const waitMs = this.member.spec.maxWaitMs ?? 0;
    if (this.queue.length < maxBatch && waitMs > 0) {
      this.batchTimer = setTimeout(() => {
        this.batchTimer = undefined;
        this.takeBatch(maxBatch);
      }, waitMs);
      return;
    }
    this.takeBatch(maxBatch);
  }

  private takeBatch(maxBatch: number): void {
    if (this.stopped || this.running > 0 || this.queue.length === 0) return;
    void this.runBatch(this.queue.splice(0, maxBatch));
  }

  private async runOne(item: Queued): Promise<void> {
    this.running++;
    try {
      const spec = this.member.spec as ConsumerSpec<unknown>;
      const outcome = await runHandler(spec, this.delivered(item), this.options.defaults, this.options.metrics, this.options.logger);
      await this.settle(item, outcome);
    } finally {
      this.finished();
    }
  }

  private async runBatch(items: Queued[]): Promise<void> {
    this.running++;
    try {
      const spec = this.member.spec as BatchConsumerSpec<unknown>;
      const outcomes = await runBatch(
        spec,
        items.map((item) => this.delivered(item)),
        this.options.defaults,
        this.options.metrics,
        this.options.logger,
      );
      await Promise.all(items.map((item, index) => this.settle(item, outcomes[index]!)));
    } finally {
      this.finished();
    }
  }

  private finished(): void {
    this.running--;
    if (this.stopped) {
      if (this.running === 0) this.idle?.();
      return;
    }
    this.pump();
  }

  private delivered(item: Queued): DeliveredMessage<unknown> {
    return item.deliveryCount === item.entry.message.deliveryCount ? item.entry.message : { ...item.entry.message, deliveryCount: item.deliveryCount };
  }

  private async settle(item: Queued, outcome: Outcome): Promise<void> {
    if (outcome.kind === 'ack') return this.done(item.entry, this);
    if (outcome.kind === 'retry') return this.later(outcome.delayMs, { entry: item.entry, deliveryCount: item.deliveryCount + 1 });
    try {
      await this.options.deadLetter(this.member.spec.name, this.delivered(item), outcome.reason);
      this.done(item.entry, this);
    } catch (error) {
      // Kept, not lost: dead-lettering is tried again rather than the message acked without a copy.
      this.options.logger.error({ consumer: this.member.spec.name, reason: (error as Error).message }, 'dead-letter publish failed');
      this.later(5000, item);
    }
  }

  /** Back into this member's queue after `delayMs`, ahead of messages that came meanwhile. */
  private later(delayMs: number, item: Queued): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      this.push(item, true);
    }, delayMs);
    this.retries.add(timer);
  }
}
