import { Logger } from '@nestjs/common';
import { connect, headers as natsHeaders, nanos, type NatsConnection, type MsgHdrs } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type ConsumerMessages,
  type StreamConfig,
} from '@nats-io/jetstream';
import type {
  BatchConsumerSpec,
  Bus,
  Closable,
  ConsumerGroupHandle,
  ConsumerGroupSpec,
  ConsumerSpec,
  DeliveredMessage,
  GroupMember,
  Headers,
  PublishOptions,
} from './bus.port.js';
import { GroupDispatcher } from './consumer-group.js';
import { BusError } from './bus.error.js';
import { DUPLICATE_WINDOW_MS, STREAMS, deadLetterSubject, streamFor } from './subjects.js';
import { runBatch, runHandler, type Outcome } from './consumer-runner.js';
import { TurnCoalescer } from './turn-coalescer.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import type { NatsBusConfig } from '../config/app-config.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface ReplyEnvelope {
  ok: boolean;
  data?: unknown;
  error?: { code: string; message: string };
}

/**
 * Production bus on NATS JetStream. Streams are created or updated at start; consumers are
 * durable pull consumers with explicit acks, acked only after the handler returned (that is,
 * after its transaction committed). Redelivery uses nak-with-delay; after `maxDeliver`
 * deliveries a message is copied to `sb.dlq.*` and terminated.
 */
export class NatsBus implements Bus {
  readonly kind = 'nats' as const;
  private readonly logger = new Logger('bus');
  private nc?: NatsConnection;
  private js?: JetStreamClient;
  private jsm?: JetStreamManager;
  private readonly loops = new Set<{ stop: () => void; done: Promise<void> }>();
  private closing = false;
  /** Acks, naks and broadcasts leave together once per event-loop turn (see TurnCoalescer). */
  private readonly outbound = new TurnCoalescer((error) =>
    // The connection is gone: the server redelivers an unacknowledged message after ack_wait.
    this.logger.warn({ reason: (error as Error).message }, 'settling a message failed'),
  );

  /**
   * Work-queue consumers of events subscribed between groupEventConsumers() and startGroups(), to share one
   * durable consumer (see GroupDispatcher). `handle` is set once it started (or can no longer start).
   */
  private eventGroup?: { members: GroupMember[]; handle?: Promise<ConsumerGroupHandle | undefined>; fallback?: NodeJS.Timeout };

  constructor(
    private readonly config: NatsBusConfig,
    private readonly instanceId: string,
    private readonly metrics: MetricsService,
    private readonly defaults: { maxDeliver: number; backoffMs: number[] },
  ) {}

  async start(): Promise<void> {
    this.nc = await connect({
      servers: this.config.url.split(',').map((server) => server.trim()),
      name: `switchboard-core-${this.instanceId}`,
      user: this.config.user,
      pass: this.config.password,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: false,
      timeout: 5000,
      // Every request (each JetStream publish) would otherwise allocate an Error up front just in case it
      // times out, for its stack: about 3 % of the core's CPU under load. Our errors name the subject instead.
      noAsyncTraces: true,
    });
    void this.watchStatus(this.nc);
    this.jsm = await jetstreamManager(this.nc, { timeout: 5000 });
    this.js = jetstream(this.nc, { timeout: 5000 });
    await this.ensureStreams();
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnect') {
        this.logger.warn({ status: status.type }, 'nats connection status changed');
      }
    }
  }

  private async ensureStreams(): Promise<void> {
    const jsm = this.requireManager();
    for (const spec of STREAMS) {
      const wanted: Partial<StreamConfig> & { name: string } = {
        name: spec.name,
        subjects: spec.subjects,
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        max_age: nanos(spec.maxAgeMs),
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
        num_replicas: this.config.replicas,
      };
      try {
        const info = await jsm.streams.info(spec.name);
        const current = info.config;
        if (
          current.max_age !== wanted.max_age ||
          current.duplicate_window !== wanted.duplicate_window ||
          current.subjects.join(',') !== spec.subjects.join(',')
        ) {
          await jsm.streams.update(spec.name, { ...current, ...wanted } as StreamConfig);
          this.logger.log({ stream: spec.name }, 'stream updated');
        }
      } catch (error) {
        if (!isNotFound(error)) throw error;
        await jsm.streams.add(wanted);
        this.logger.log({ stream: spec.name }, 'stream created');
      }
    }
  }

  async publish<T>(subject: string, data: T, options: PublishOptions): Promise<void> {
    return this.publishEncoded(subject, JSON.stringify(data), options);
  }

  async publishEncoded(subject: string, json: string, options: PublishOptions): Promise<void> {
    const js = this.requireClient();
    const stream = streamFor(subject);
    if (!stream) throw new BusError('subject_not_allowed', `No stream stores ${subject}.`, 500);
    try {
      await js.publish(subject, encoder.encode(json), {
        msgID: options.msgId,
        headers: toNatsHeaders(options.headers),
        timeout: 5000,
      });
      this.metrics.busPublished.inc({ stream: stream.name });
    } catch (error) {
      throw new BusError('bus_unavailable', `Publishing to ${subject} failed: ${(error as Error).message}`);
    }
  }

  async consume<T>(spec: ConsumerSpec<T>): Promise<Closable> {
    const stream = streamFor(spec.subject);
    if (!stream) throw new BusError('subject_not_allowed', `No stream stores ${spec.subject}.`, 500);
    if (spec.delivery === 'one-instance' && !spec.ownConsumer) {
      const joined = this.joinEventGroup(stream.name, { kind: 'single', spec: spec as ConsumerSpec<unknown> });
      if (joined) return joined;
    }
    const jsm = this.requireManager();
    const js = this.requireClient();
    const concurrency = spec.concurrency ?? 1;
    let getConsumer: () => ReturnType<JetStreamClient['consumers']['get']>;
    if (spec.delivery === 'one-instance') {
      const config = {
        durable_name: spec.name,
        ack_policy: AckPolicy.Explicit,
        filter_subject: spec.subject,
        deliver_policy: DeliverPolicy.All,
        // Retry policy is ours (nak with delay, then dead-letter), so the server never gives up first.
        max_deliver: -1,
        ack_wait: nanos(60_000),
        max_ack_pending: Math.max(64, concurrency * 4),
      };
      try {
        const existing = await jsm.consumers.info(stream.name, spec.name);
        if (existing.config.filter_subject !== spec.subject) {
          await jsm.consumers.update(stream.name, spec.name, { filter_subject: spec.subject });
        }
      } catch (error) {
        if (!isNotFound(error)) throw error;
        await jsm.consumers.add(stream.name, config);
      }
      getConsumer = () => js.consumers.get(stream.name, spec.name);
    } else {
      // Ordered ephemeral consumer: every instance reads everything published from now on.
      getConsumer = () => js.consumers.get(stream.name, { filter_subjects: spec.subject, deliver_policy: DeliverPolicy.New });
    }

    const stop = new StopSignal();
    const workQueue = spec.delivery === 'one-instance';
    const subscription: Subscription = {};
    const inFlight = new Set<Promise<void>>();
    const done = (async () => {
      await this.pull(spec.name, stop, getConsumer, Math.max(64, concurrency * 4), workQueue, subscription, (message) => {
        const task = this.handle(spec, message, !workQueue, stop).finally(() => inFlight.delete(task));
        inFlight.add(task);
        return inFlight.size >= concurrency ? Promise.race(inFlight) : undefined;
      });
      await Promise.allSettled(inFlight);
    })();
    return this.track(stop, subscription, done);
  }

  /** Registers a consumer loop for close(); its handle stops the loop and waits for it to end. */
  private track(stop: StopSignal, subscription: Subscription, done: Promise<void>, onStop?: () => void): Closable {
    const loop = {
      stop: () => {
        stop.trigger();
        void subscription.current?.close();
        onStop?.();
      },
      done,
    };
    this.loops.add(loop);
    return {
      close: async () => {
        loop.stop();
        await done;
        this.loops.delete(loop);
      },
    };
  }

  /**
   * The reading loop of consume() and consumeBatch(): subscribes (get + consume), hands each message
   * to `take` (whose promise, if any, holds the next one back), resubscribes after an interruption, and
   * ends when `stop` fires. Neither subscription step is waited for after the stop (it can come right
   * after start, or while the server is slow), and what they return late is closed. Messages the
   * subscription still yields after the stop go back to the server unhandled when `releaseOnStop`.
   */
  private async pull(
    name: string,
    stop: StopSignal,
    getConsumer: () => ReturnType<JetStreamClient['consumers']['get']>,
    maxMessages: number,
    releaseOnStop: boolean,
    subscription: Subscription,
    take: (message: JsMsg) => Promise<unknown> | undefined,
  ): Promise<void> {
    while (!stop.stopped && !this.closing) {
      try {
        const consumer = await stop.unlessStopped(getConsumer());
        if (!consumer || stop.stopped) break;
        // The client asks for more whenever fewer than `threshold_messages` requested ones are still to come:
        // by default 75 %, one pull request (a write on both sides) every few messages under load.
        const messages = await stop.unlessStopped(
          consumer.consume({ max_messages: maxMessages, threshold_messages: Math.max(1, Math.floor(maxMessages / 4)), expires: PULL_EXPIRES_MS }),
          (late) => void late.close(),
        );
        if (!messages) break;
        subscription.current = messages;
        // Stopped after the value arrived but before `current` was set: stop() found nothing to close.
        if (stop.stopped) void messages.close();
        for await (const message of messages) {
          // The iterator ends once it has yielded what it had buffered.
          if (stop.stopped) {
            if (releaseOnStop) release(message);
            continue;
          }
          await take(message);
        }
      } catch (error) {
        if (stop.stopped || this.closing) break;
        this.logger.warn({ consumer: name, reason: (error as Error).message }, 'consumer loop interrupted; resuming');
      } finally {
        subscription.current = undefined;
      }
      if (!stop.stopped && !this.closing) await stop.sleep(500);
    }
  }

  /** A JetStream message as handlers see it; undefined (and logged) when its body is not JSON. */
  private decode<T>(consumer: string, message: JsMsg): DeliveredMessage<T> | undefined {
    let data: T;
    try {
      data = JSON.parse(decoder.decode(message.data)) as T;
    } catch {
      this.logger.error({ consumer, subject: message.subject }, 'undecodable message; terminating');
      return undefined;
    }
    const headers = fromNatsHeaders(message.headers);
    return {
      subject: message.subject,
      msgId: headers['Nats-Msg-Id'] ?? `${message.info.stream}:${message.seq}`,
      data,
      headers,
      deliveryCount: message.info.deliveryCount,
    };
  }

  private async handle<T>(spec: ConsumerSpec<T>, message: JsMsg, ordered: boolean, stop: StopSignal): Promise<void> {
    const first = this.decode<T>(spec.name, message);
    if (!first) {
      // No reason string: nats-server before 2.10 ignores `+TERM <reason>` (see terminate()).
      if (!ordered) message.term();
      return;
    }
    let deliveryCount = first.deliveryCount;
    for (;;) {
      const delivered: DeliveredMessage<T> = { ...first, deliveryCount };
      const outcome = await runHandler(spec, delivered, this.defaults, this.metrics, this.logger);
      if (!ordered) return this.settle(spec.name, message, delivered, outcome);
      if (outcome.kind === 'ack') return;
      if (outcome.kind === 'dead_letter') {
        await this.deadLetter(spec.name, delivered, outcome.reason).catch((error: unknown) =>
          this.logger.error({ consumer: spec.name, reason: (error as Error).message }, 'dead-letter publish failed'),
        );
        return;
      }
      // Ordered consumers cannot nak; retry in place (not after close: this instance stops caring).
      if (!(await stop.sleep(outcome.delayMs))) return;
      deliveryCount++;
    }
  }

  /** Acks, naks or dead-letters a work-queue message after its handler ran. */
  private async settle(consumer: string, message: JsMsg, delivered: DeliveredMessage<unknown>, outcome: Outcome): Promise<void> {
    if (outcome.kind === 'ack') {
      this.outbound.run(() => message.ack());
    } else if (outcome.kind === 'retry') {
      this.outbound.run(() => message.nak(outcome.delayMs));
    } else {
      try {
        await this.deadLetter(consumer, delivered, outcome.reason);
        // Plain `+TERM`: nats-server 2.9 silently ignores `+TERM <reason>`, which left the
        // poison message pending and redelivered every ack_wait. The reason is in the DLQ headers.
        message.term();
      } catch (error) {
        // Keep the message: it is retried rather than lost if the DLQ write failed.
        this.logger.error({ consumer, reason: (error as Error).message }, 'dead-letter publish failed');
        message.nak(5000);
      }
    }
  }

  private deadLetter(consumer: string, delivered: DeliveredMessage<unknown>, reason: string): Promise<void> {
    return this.publish(deadLetterSubject(delivered.subject), delivered.data, {
      msgId: `dlq:${consumer}:${delivered.msgId}`,
      headers: { ...delivered.headers, 'Sb-Dlq-Consumer': consumer, 'Sb-Dlq-Reason': reason.slice(0, 500).replace(/[\r\n]/g, ' ') },
    });
  }

  /**
   * Batches from a durable pull consumer: a reader keeps up to two batches of messages
   * buffered, a worker hands up to `maxBatch` of them at a time to the handler and settles each
   * one after it returned (acks only after the handler's commit).
   */
  async consumeBatch<T>(spec: BatchConsumerSpec<T>): Promise<Closable> {
    const stream = streamFor(spec.subject);
    if (!stream) throw new BusError('subject_not_allowed', `No stream stores ${spec.subject}.`, 500);
    const joined = this.joinEventGroup(stream.name, { kind: 'batch', spec: spec as BatchConsumerSpec<unknown> });
    if (joined) return joined;
    const jsm = this.requireManager();
    const js = this.requireClient();
    const maxBatch = Math.max(1, spec.maxBatch ?? 100);
    const maxWaitMs = spec.maxWaitMs ?? 0;
    const maxAckPending = Math.max(64, maxBatch * 4);
    try {
      const existing = await jsm.consumers.info(stream.name, spec.name);
      if (existing.config.filter_subject !== spec.subject || (existing.config.max_ack_pending ?? 0) < maxAckPending) {
        await jsm.consumers.update(stream.name, spec.name, { filter_subject: spec.subject, max_ack_pending: maxAckPending });
      }
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await jsm.consumers.add(stream.name, {
        durable_name: spec.name,
        ack_policy: AckPolicy.Explicit,
        filter_subject: spec.subject,
        deliver_policy: DeliverPolicy.All,
        max_deliver: -1,
        ack_wait: nanos(60_000),
        max_ack_pending: maxAckPending,
      });
    }

    const stop = new StopSignal();
    const subscription: Subscription = {};
    const buffer: JsMsg[] = [];
    let wakeWorker: (() => void) | undefined;
    let wakeReader: (() => void) | undefined;
    const signalWorker = () => {
      const wake = wakeWorker;
      wakeWorker = undefined;
      wake?.();
    };
    const signalReader = () => {
      const wake = wakeReader;
      wakeReader = undefined;
      wake?.();
    };
    const reader = (async () => {
      await this.pull(
        spec.name,
        stop,
        () => js.consumers.get(stream.name, spec.name),
        maxBatch * 2,
        true,
        subscription,
        (message) => {
          buffer.push(message);
          signalWorker();
          if (buffer.length >= maxBatch * 2 && !stop.stopped) return new Promise<void>((resolve) => (wakeReader = resolve));
        },
      );
      signalWorker();
    })();
    const worker = (async () => {
      while (!stop.stopped && !this.closing) {
        if (buffer.length === 0) {
          await new Promise<void>((resolve) => (wakeWorker = resolve));
          continue;
        }
        if (buffer.length < maxBatch && maxWaitMs > 0 && !(await stop.sleep(maxWaitMs))) break;
        const batch = buffer.splice(0, maxBatch);
        signalReader();
        await this.handleBatch(spec, batch);
      }
    })();
    // Buffered messages no batch took are handed back to the server (not acked), for another instance now.
    const done = Promise.allSettled([reader, worker]).then(() => buffer.splice(0).forEach(release));
    return this.track(stop, subscription, done, () => {
      signalWorker();
      signalReader();
    });
  }

  private async handleBatch<T>(spec: BatchConsumerSpec<T>, batch: JsMsg[]): Promise<void> {
    const decoded: Array<{ raw: JsMsg; delivered: DeliveredMessage<T> }> = [];
    for (const message of batch) {
      const delivered = this.decode<T>(spec.name, message);
      if (delivered) decoded.push({ raw: message, delivered });
      else message.term();
    }
    const outcomes = await runBatch(
      spec,
      decoded.map((entry) => entry.delivered),
      this.defaults,
      this.metrics,
      this.logger,
    );
    await Promise.all(decoded.map((entry, index) => this.settle(spec.name, entry.raw, entry.delivered as DeliveredMessage<unknown>, outcomes[index]!)));
  }

  /**
   * Work-queue consumers of events subscribed before startGroups() join the instance's event group
   * instead of getting a durable consumer each. Null when it is too late (or not an event consumer).
   */
  private joinEventGroup(stream: string, member: GroupMember): Closable | null {
    const group = this.eventGroup;
    if (!group || group.handle || stream !== EVENT_STREAM) return null;
    group.members.push(member);
    // An app assembled without the hook that calls startGroups() must not wait forever.
    group.fallback ??= setTimeout(() => void this.startGroups(), GROUP_START_FALLBACK_MS).unref();
    return {
      close: async () => {
        const index = group.members.indexOf(member);
        if (index < 0) return;
        group.members.splice(index, 1);
        await (await group.handle)?.leave(member.spec.name);
      },
    };
  }

  /**
   * From now until startGroups(), work-queue consumers of events join the instance's event group. Called by
   * the platform module when it creates the bus; a bus used on its own keeps a durable consumer per consumer.
   */
  groupEventConsumers(): void {
    this.eventGroup ??= { members: [] };
  }

  /** Starts the event group with the consumers subscribed so far; later ones get their own durable consumer. */
  async startGroups(): Promise<void> {
    const group = this.eventGroup;
    if (!group) return;
    clearTimeout(group.fallback);
    group.handle ??= (async () => {
      if (group.members.length === 0 || this.closing) return undefined;
      try {
        return await this.consumeGroup({ name: EVENT_GROUP, subject: 'sb.evt.>', members: [...group.members] });
      } catch (error) {
        this.logger.error({ reason: (error as Error).message }, 'event consumer group failed to start; its consumers wait for a restart');
        return undefined;
      }
    })();
    await group.handle;
  }

  /**
   * One durable pull consumer for several work-queue consumers (see GroupDispatcher). The first start
   * after an upgrade takes over from the members' own durable consumers: the group begins at the oldest
   * message any of them had not acknowledged (members are idempotent, so the overlap is harmless) and
   * theirs are deleted. A member whose own consumer still has a backlog while the group already exists
   * runs on its own consumer this time, so nothing it had not handled is skipped.
   */
  async consumeGroup(spec: ConsumerGroupSpec): Promise<ConsumerGroupHandle> {
    const stream = streamFor(spec.subject);
    if (!stream) throw new BusError('subject_not_allowed', `No stream stores ${spec.subject}.`, 500);
    const jsm = this.requireManager();
    const js = this.requireClient();
    const own = new Map<string, { startSeq: number; backlog: number }>();
    for (const member of spec.members) {
      try {
        const info = await jsm.consumers.info(stream.name, member.spec.name);
        own.set(member.spec.name, { startSeq: info.ack_floor.stream_seq + 1, backlog: info.num_pending + info.num_ack_pending });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    let members = spec.members;
    const standalone: GroupMember[] = [];
    try {
      const existing = await jsm.consumers.info(stream.name, spec.name);
      if (existing.config.filter_subject !== spec.subject || (existing.config.max_ack_pending ?? 0) < GROUP_MAX_ACK_PENDING) {
        await jsm.consumers.update(stream.name, spec.name, { filter_subject: spec.subject, max_ack_pending: GROUP_MAX_ACK_PENDING });
      }
      members = spec.members.filter((member) => {
        const backlog = own.get(member.spec.name)?.backlog ?? 0;
        if (backlog > 0) standalone.push(member);
        return backlog === 0;
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      const starts = [...own.values()].map((entry) => entry.startSeq);
      await jsm.consumers.add(stream.name, {
        durable_name: spec.name,
        ack_policy: AckPolicy.Explicit,
        filter_subject: spec.subject,
        ...(starts.length > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.min(...starts) } : { deliver_policy: DeliverPolicy.All }),
        max_deliver: -1,
        ack_wait: nanos(60_000),
        max_ack_pending: GROUP_MAX_ACK_PENDING,
      });
      if (starts.length > 0)
        this.logger.log({ group: spec.name, members: [...own.keys()], startSeq: Math.min(...starts) }, 'consumer group took over its members’ consumers');
    }
    for (const member of members) if (own.has(member.spec.name)) await jsm.consumers.delete(stream.name, member.spec.name).catch(() => undefined);
    const standaloneHandles = new Map<string, Closable>();
    for (const member of standalone) {
      const handle = member.kind === 'single' ? await this.consume({ ...member.spec, delivery: 'one-instance' }) : await this.consumeBatch(member.spec);
      standaloneHandles.set(member.spec.name, handle);
    }

    const dispatcher = new GroupDispatcher({
      members,
      defaults: this.defaults,
      metrics: this.metrics,
      logger: this.logger,
      deadLetter: (consumer, message, reason) => this.deadLetter(consumer, message, reason),
    });
    const stop = new StopSignal();
    const subscription: Subscription = {};
    const done = (async () => {
      await this.pull(
        spec.name,
        stop,
        () => js.consumers.get(stream.name, spec.name),
        256,
        true,
        subscription,
        (message) => {
          const delivered = this.decode(spec.name, message);
          if (!delivered) {
            message.term();
            return undefined;
          }
          dispatcher.dispatch(message.seq, delivered, {
            ack: () => this.outbound.run(() => message.ack()),
            working: () => this.outbound.run(() => message.working()),
            release: () => release(message),
          });
          return undefined;
        },
      );
      await dispatcher.close();
    })();
    const loop = this.track(stop, subscription, done);
    return {
      close: async () => {
        await loop.close();
        await Promise.all([...standaloneHandles.values()].map((handle) => handle.close()));
      },
      leave: async (member) => {
        const handle = standaloneHandles.get(member);
        standaloneHandles.delete(member);
        await (handle ? handle.close() : dispatcher.removeMember(member));
      },
    };
  }

  async request<Req, Res>(subject: string, data: Req, options: { timeoutMs?: number; headers?: Headers } = {}): Promise<Res> {
    const nc = this.requireConnection();
    let reply;
    try {
      reply = await nc.request(subject, encoder.encode(JSON.stringify(data)), {
        timeout: options.timeoutMs ?? 5000,
        headers: toNatsHeaders(options.headers),
      });
    } catch (error) {
      const text = `${(error as Error).name} ${(error as Error).message}`;
      if (/no ?responders/i.test(text)) throw new BusError('no_responders', `Nothing serves ${subject}.`);
      if (/timeout/i.test(text)) throw new BusError('timeout', `${subject} did not answer in time.`, 504);
      throw new BusError('bus_unavailable', `Request to ${subject} failed: ${(error as Error).message}`);
    }
    const envelope = JSON.parse(decoder.decode(reply.data)) as ReplyEnvelope;
    if (!envelope.ok) throw new BusError('remote_error', envelope.error?.message ?? 'The responder failed.', 502);
    return envelope.data as Res;
  }

  async reply<Req, Res>(subject: string, handler: (data: Req, headers: Headers) => Promise<Res>): Promise<Closable> {
    const nc = this.requireConnection();
    const subscription = nc.subscribe(subject, {
      queue: 'sb-core',
      callback: (error, message) => {
        if (error) return;
        void (async () => {
          let envelope: ReplyEnvelope;
          try {
            const data = JSON.parse(decoder.decode(message.data)) as Req;
            envelope = { ok: true, data: await handler(data, fromNatsHeaders(message.headers)) };
          } catch (failure) {
            envelope = { ok: false, error: { code: (failure as { code?: string }).code ?? 'error', message: (failure as Error).message } };
          }
          message.respond(encoder.encode(JSON.stringify(envelope)));
        })();
      },
    });
    return { close: async () => subscription.unsubscribe() };
  }

  broadcast<T>(subject: string, data: T): void {
    const payload = encoder.encode(JSON.stringify(data));
    // Fire-and-forget, so it can wait for the turn's other writes (see TurnCoalescer).
    this.outbound.run(() => {
      try {
        this.requireConnection().publish(subject, payload);
      } catch (error) {
        this.logger.warn({ subject, reason: (error as Error).message }, 'broadcast failed');
      }
    });
  }

  listen<T>(subject: string, handler: (data: T, subject: string) => void): Closable {
    const subscription = this.requireConnection().subscribe(subject, {
      callback: (error, message) => {
        if (error) return;
        try {
          handler(JSON.parse(decoder.decode(message.data)) as T, message.subject);
        } catch (failure) {
          this.logger.warn({ subject, reason: (failure as Error).message }, 'listener failed');
        }
      },
    });
    return { close: async () => subscription.unsubscribe() };
  }

  async isHealthy(): Promise<boolean> {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return false;
    try {
      return await within(
        nc.flush().then(() => true),
        1000,
        false,
      );
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.eventGroup) {
      clearTimeout(this.eventGroup.fallback);
      this.eventGroup.handle ??= Promise.resolve(undefined);
    }
    for (const loop of this.loops) loop.stop();
    // Bounded waits whose timers are cleared: a pending 3 s timer kept test workers (and
    // processes) alive after close().
    await within(Promise.allSettled([...this.loops].map((loop) => loop.done)), 3000, undefined);
    this.loops.clear();
    this.outbound.flush();
    if (this.nc && !this.nc.isClosed()) {
      await within(
        this.nc.drain().catch(() => this.nc?.close()),
        3000,
        undefined,
      );
      if (!this.nc.isClosed()) await this.nc.close();
    }
  }

  private requireConnection(): NatsConnection {
    if (!this.nc) throw new BusError('bus_unavailable', 'The bus is not started.');
    return this.nc;
  }
  private requireClient(): JetStreamClient {
    if (!this.js) throw new BusError('bus_unavailable', 'The bus is not started.');
    return this.js;
  }
  private requireManager(): JetStreamManager {
    if (!this.jsm) throw new BusError('bus_unavailable', 'The bus is not started.');
    return this.jsm;
  }
}

function isNotFound(error: unknown): boolean {
  const text = `${(error as { code?: unknown }).code ?? ''} ${(error as Error).message ?? ''}`;
  return /not found|10059|10014/i.test(text);
}

function toNatsHeaders(headers?: Headers): MsgHdrs | undefined {
  if (!headers || Object.keys(headers).length === 0) return undefined;
  const result = natsHeaders();
  for (const [key, value] of Object.entries(headers)) result.set(key, value);
  return result;
}

function fromNatsHeaders(headers?: MsgHdrs): Headers {
  const result: Headers = {};
  if (!headers) return result;
  for (const [key, values] of headers) result[key] = values[0] ?? '';
  return result;
}

/** A consumer loop's current subscription, for stop() to close. */
interface Subscription {
  current?: ConsumerMessages;
}

/** The durable consumer this instance's event consumers share (see startGroups). */
export const EVENT_GROUP = 'core-events';
const EVENT_STREAM = 'SB_EVENTS';
/** If nothing calls startGroups() (an app assembled without AppModule), the group starts anyway. */
const GROUP_START_FALLBACK_MS = 30_000;

/** A group's window of unacknowledged messages: a member waiting out a retry holds the others back only once it is full. */
const GROUP_MAX_ACK_PENDING = 4096;

/** How long one pull request of a consumer waits on the server for messages. */
const PULL_EXPIRES_MS = 5000;

/**
 * Hands a work-queue message this instance received but will not handle back to the server
 * (nak), so another instance gets it in seconds rather than after ack_wait (60 s). Delayed past
 * the closed subscription's pull requests: the server (2.9) still serves those until they expire
 * and would redeliver the message into them, where nobody reads it any more.
 */
function release(message: JsMsg): void {
  try {
    message.nak(PULL_EXPIRES_MS + 1000);
  } catch {
    // Connection gone: the server redelivers it after ack_wait anyway.
  }
}

/** The stop of one consumer loop: waits that end early when it is triggered. */
class StopSignal {
  stopped = false;
  private readonly waiters = new Set<() => void>();

  trigger(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const waiter of [...this.waiters]) waiter();
    this.waiters.clear();
  }

  /**
   * `work`'s value, or undefined as soon as the loop is stopped (at once if it already is). A value
   * that arrives after that goes to `discard`; a late failure is ignored.
   */
  unlessStopped<T>(work: Promise<T>, discard?: (late: T) => void): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      let settled = false;
      const onStop = () => {
        if (settled) return;
        settled = true;
        resolve(undefined);
      };
      work.then(
        (value) => {
          if (settled) return discard?.(value);
          settled = true;
          this.waiters.delete(onStop);
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          this.waiters.delete(onStop);
          reject(error as Error);
        },
      );
      if (this.stopped) onStop();
      else this.waiters.add(onStop);
    });
  }

  /** Waits `ms`; false when the loop was stopped first (the timer is cleared). */
  async sleep(ms: number): Promise<boolean> {
    if (this.stopped) return false;
    let timer: NodeJS.Timeout | undefined;
    const elapsed = await this.unlessStopped(new Promise<true>((resolve) => (timer = setTimeout(() => resolve(true), ms))));
    clearTimeout(timer);
    return elapsed === true;
  }
}

/** `promise`, or `fallback` after `ms`; the timer never outlives the race. */
async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
