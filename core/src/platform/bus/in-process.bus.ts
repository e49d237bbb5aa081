import { Logger } from '@nestjs/common';
import type { BatchConsumerSpec, Bus, Closable, ConsumerSpec, DeliveredMessage, Headers, PublishOptions } from './bus.port.js';
import { BusError } from './bus.error.js';
import { DUPLICATE_WINDOW_MS, deadLetterSubject, subjectMatches } from './subjects.js';
import { runBatch, runHandler, type Outcome } from './consumer-runner.js';
import type { MetricsService } from '../metrics/metrics.service.js';

interface Subscription {
  spec: ConsumerSpec<unknown>;
  active: number;
  waiting: Array<() => void>;
  closed: boolean;
}

interface BatchSubscription {
  spec: BatchConsumerSpec<unknown>;
  /** Pending messages, each with the resolver of its publisher (called after the first attempt). */
  queue: Array<{ message: DeliveredMessage<unknown>; attempted: () => void; abandoned: (error: Error) => void }>;
  draining: boolean;
  closed: boolean;
}

interface Route {
  single: Subscription[][];
  batch: BatchSubscription[][];
}

function groupByName<S extends { spec: { name: string; subject: string } }>(subscriptions: Iterable<S>, subject: string): S[][] {
  const byName = new Map<string, S[]>();
  for (const subscription of subscriptions) {
    if (!subjectMatches(subscription.spec.subject, subject)) continue;
    const group = byName.get(subscription.spec.name);
    if (group) group.push(subscription);
    else byName.set(subscription.spec.name, [subscription]);
  }
  return [...byName.values()];
}

function pick<S>(group: S[]): S {
  return group[Math.floor(Math.random() * group.length)]!;
}

/**
 * Embedded-mode bus: one process, no network. It keeps the NATS adapter's contract
 * (dedup by msgId, retries with backoff, dead-lettering, request/reply) so modules behave
 * the same in both modes. `publish` resolves after each matching consumer's first attempt,
 * which lets the outbox relay mark a row sent only once it was handled (see architecture.md).
 */
export class InProcessBus implements Bus {
  readonly kind = 'inprocess' as const;
  private readonly logger = new Logger('bus');
  private readonly subscriptions = new Set<Subscription>();
  private readonly batchSubscriptions = new Set<BatchSubscription>();
  private readonly responders = new Map<string, (data: unknown, headers: Headers) => Promise<unknown>>();
  private readonly listeners = new Set<{ subject: string; handler: (data: unknown, subject: string) => void }>();
  private readonly seen = new Map<string, number>();
  private readonly routes = new Map<string, Route>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Dead letters are kept in memory for inspection in embedded mode. */
  readonly deadLetters: Array<DeliveredMessage<unknown> & { reason: string }> = [];
  private closed = false;

  constructor(
    private readonly metrics: MetricsService,
    private readonly defaults: { maxDeliver: number; backoffMs: number[] },
  ) {}

  async start(): Promise<void> {}

  async publish<T>(subject: string, data: T, options: PublishOptions): Promise<void> {
    return this.publishCopies(subject, () => structuredClone(data), options);
  }

  /** The outbox hands over stored JSON: each consumer gets its own parse of it, which is cheaper than a clone. */
  async publishEncoded(subject: string, json: string, options: PublishOptions): Promise<void> {
    return this.publishCopies(subject, () => JSON.parse(json) as unknown, options);
  }

  /** Delivers to every consumer group subscribed to `subject`; each delivery gets its own copy of the data. */
  private async publishCopies(subject: string, copy: () => unknown, options: PublishOptions): Promise<void> {
    if (this.closed) throw new BusError('bus_unavailable', 'The bus is closed.');
    const now = Date.now();
    this.forgetOldIds(now);
    if (this.seen.has(options.msgId)) return;
    this.seen.set(options.msgId, now);
    this.metrics.busPublished.inc({ stream: subject.split('.').slice(0, 2).join('.') });
    const headers = options.headers ?? {};
    const message = (): DeliveredMessage<unknown> => ({ subject, msgId: options.msgId, data: copy(), headers: { ...headers }, deliveryCount: 1 });
    const route = this.routeFor(subject);
    const deliveries: Promise<void>[] = [];
    // Competing subscriptions with one durable name share the work, as on JetStream.
    for (const group of route.single) deliveries.push(this.deliver(pick(group), message()));
    for (const group of route.batch) deliveries.push(this.enqueue(pick(group), message()));
    try {
      await Promise.all(deliveries);
    } catch (error) {
      // Not delivered everywhere (a consumer closed with the message still queued): the publisher keeps it
      // (the outbox row stays pending) and may publish it again under the same id.
      this.seen.delete(options.msgId);
      throw error;
    }
  }

  /** The consumer groups a subject reaches, grouped by durable name; cached until a consumer comes or goes. */
  private routeFor(subject: string): Route {
    let route = this.routes.get(subject);
    if (!route) {
      route = { single: groupByName(this.subscriptions, subject), batch: groupByName(this.batchSubscriptions, subject) };
      this.routes.set(subject, route);
    }
    return route;
  }

  private forgetOldIds(now: number): void {
    if (this.seen.size < 10_000) return;
    // Oldest first (a Map keeps insertion order): stop at the first id still inside the window, so a busy
    // bus does not walk ten thousand live ids on every publish.
    for (const [id, at] of this.seen) {
      if (now - at <= DUPLICATE_WINDOW_MS) break;
      this.seen.delete(id);
    }
  }

  private async deliver(subscription: Subscription, message: DeliveredMessage<unknown>): Promise<void> {
    if (subscription.closed) return;
    await this.acquire(subscription);
    let outcome;
    try {
      outcome = await runHandler(subscription.spec, message, this.defaults, this.metrics, this.logger);
    } finally {
      this.release(subscription);
    }
    if (outcome.kind === 'retry') {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.deliver(subscription, { ...message, deliveryCount: message.deliveryCount + 1 });
      }, outcome.delayMs);
      timer.unref();
      this.timers.add(timer);
    } else if (outcome.kind === 'dead_letter') {
      this.deadLetters.push({ ...message, reason: outcome.reason });
      if (this.deadLetters.length > 1000) this.deadLetters.shift();
      await this.publish(deadLetterSubject(message.subject), message.data, {
        msgId: `dlq:${subscription.spec.name}:${message.msgId}`,
        headers: { ...message.headers, 'Sb-Dlq-Consumer': subscription.spec.name, 'Sb-Dlq-Reason': outcome.reason.slice(0, 500) },
      }).catch(() => undefined);
    }
  }

  private acquire(subscription: Subscription): Promise<void> {
    const limit = subscription.spec.concurrency ?? 1;
    if (subscription.active < limit) {
      subscription.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => subscription.waiting.push(() => resolve()));
  }

  private release(subscription: Subscription): void {
    const next = subscription.waiting.shift();
    if (next) next();
    else subscription.active--;
  }

  async consume<T>(spec: ConsumerSpec<T>): Promise<Closable> {
    const subscription: Subscription = { spec: spec as ConsumerSpec<unknown>, active: 0, waiting: [], closed: false };
    this.subscriptions.add(subscription);
    this.routes.clear();
    return {
      close: async () => {
        subscription.closed = true;
        this.subscriptions.delete(subscription);
        this.routes.clear();
      },
    };
  }

  async consumeBatch<T>(spec: BatchConsumerSpec<T>): Promise<Closable> {
    const subscription: BatchSubscription = { spec: spec as BatchConsumerSpec<unknown>, queue: [], draining: false, closed: false };
    this.batchSubscriptions.add(subscription);
    this.routes.clear();
    return { close: async () => this.closeBatch(subscription) };
  }

  private closeBatch(subscription: BatchSubscription): void {
    subscription.closed = true;
    this.batchSubscriptions.delete(subscription);
    this.routes.clear();
    // Nothing will handle these any more: their publishers fail, so the outbox keeps the events pending and
    // publishes them again (after a restart, to the new consumer) instead of counting them as delivered.
    for (const item of subscription.queue.splice(0))
      item.abandoned(new BusError('bus_unavailable', `Consumer ${subscription.spec.name} closed before handling the message.`));
  }

  /** Queues a message for a batch subscription; resolves after the message's first attempt. */
  private enqueue(subscription: BatchSubscription, message: DeliveredMessage<unknown>): Promise<void> {
    if (subscription.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      subscription.queue.push({ message, attempted: resolve, abandoned: reject });
      if (!subscription.draining) void this.drain(subscription);
    });
  }

  /** Takes batches off the queue, one at a time, in publish order. */
  private async drain(subscription: BatchSubscription): Promise<void> {
    subscription.draining = true;
    const maxBatch = Math.max(1, subscription.spec.maxBatch ?? 100);
    try {
      while (subscription.queue.length > 0 && !subscription.closed) {
        // Let publishers of the same moment join the batch, or, with `maxWaitMs`, those of the next few
        // milliseconds: a projection then commits once per batch instead of once per event. Holding a partial
        // batch back holds only its own events: the outbox relay hands on later events without waiting.
        if (subscription.queue.length < maxBatch) {
          const waitMs = subscription.spec.maxWaitMs ?? 0;
          await new Promise((resolve) => (waitMs > 0 ? setTimeout(resolve, waitMs) : setImmediate(resolve)));
        }
        const items = subscription.queue.splice(0, maxBatch);
        let outcomes: Outcome[];
        try {
          outcomes = await runBatch(
            subscription.spec,
            items.map((item) => item.message),
            this.defaults,
            this.metrics,
            this.logger,
          );
        } catch (error) {
          // runBatch does not throw; if it ever did, retry everything rather than lose it.
          this.logger.error({ consumer: subscription.spec.name, err: error }, 'batch runner failed');
          outcomes = items.map(() => ({ kind: 'retry', delayMs: 1000 }));
        }
        items.forEach((item, index) => {
          const outcome = outcomes[index]!;
          if (outcome.kind === 'retry') {
            const timer = setTimeout(() => {
              this.timers.delete(timer);
              void this.enqueue(subscription, { ...item.message, deliveryCount: item.message.deliveryCount + 1 });
            }, outcome.delayMs);
            timer.unref();
            this.timers.add(timer);
          } else if (outcome.kind === 'dead_letter') {
            this.deadLetter(subscription.spec.name, item.message, outcome.reason);
          }
          item.attempted();
        });
      }
    } finally {
      subscription.draining = false;
    }
  }

  private deadLetter(consumer: string, message: DeliveredMessage<unknown>, reason: string): void {
    this.deadLetters.push({ ...message, reason });
    if (this.deadLetters.length > 1000) this.deadLetters.shift();
    void this.publish(deadLetterSubject(message.subject), message.data, {
      msgId: `dlq:${consumer}:${message.msgId}`,
      headers: { ...message.headers, 'Sb-Dlq-Consumer': consumer, 'Sb-Dlq-Reason': reason.slice(0, 500) },
    }).catch(() => undefined);
  }

  async request<Req, Res>(subject: string, data: Req, options: { timeoutMs?: number; headers?: Headers } = {}): Promise<Res> {
    const responder = [...this.responders.entries()].find(([pattern]) => subjectMatches(pattern, subject))?.[1];
    if (!responder) throw new BusError('no_responders', `Nothing serves ${subject}.`);
    const timeoutMs = options.timeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    // Same contract as the NATS adapter: a responder's failure arrives as `remote_error`.
    const answer = Promise.resolve()
      .then(() => responder(structuredClone(data), options.headers ?? {}))
      .then(
        (result) => structuredClone(result),
        (error: unknown) => {
          throw new BusError('remote_error', error instanceof Error ? error.message : 'The responder failed.', 502);
        },
      );
    try {
      return (await Promise.race([
        answer,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new BusError('timeout', `${subject} did not answer within ${timeoutMs} ms.`, 504)), timeoutMs);
        }),
      ])) as Res;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  async reply<Req, Res>(subject: string, handler: (data: Req, headers: Headers) => Promise<Res>): Promise<Closable> {
    this.responders.set(subject, handler as (data: unknown, headers: Headers) => Promise<unknown>);
    return { close: async () => void this.responders.delete(subject) };
  }

  broadcast<T>(subject: string, data: T): void {
    for (const listener of this.listeners) {
      if (!subjectMatches(listener.subject, subject)) continue;
      const copy = structuredClone(data);
      queueMicrotask(() => {
        try {
          listener.handler(copy, subject);
        } catch (error) {
          this.logger.warn({ subject, err: error }, 'broadcast listener failed');
        }
      });
    }
  }

  listen<T>(subject: string, handler: (data: T, subject: string) => void): Closable {
    const entry = { subject, handler: handler as (data: unknown, subject: string) => void };
    this.listeners.add(entry);
    return { close: async () => void this.listeners.delete(entry) };
  }

  async isHealthy(): Promise<boolean> {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const subscription of this.subscriptions) subscription.closed = true;
    this.subscriptions.clear();
    for (const subscription of [...this.batchSubscriptions]) this.closeBatch(subscription);
    this.routes.clear();
    this.listeners.clear();
    this.responders.clear();
  }
}
