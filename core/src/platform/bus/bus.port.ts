/**
 * The bus as the rest of the core sees it. Two adapters implement it: NATS JetStream
 * (production, several instances) and in-process (embedded mode, one process).
 */
export type Headers = Record<string, string>;

export interface PublishOptions {
  /** Deduplication id (`Nats-Msg-Id`). Required: every durable publish is idempotent. */
  msgId: string;
  headers?: Headers;
}

export interface DeliveredMessage<T = unknown> {
  subject: string;
  msgId: string;
  data: T;
  headers: Headers;
  /** 1 on first delivery. */
  deliveryCount: number;
}

export type Delivery = 'one-instance' | 'each-instance';

export interface ConsumerSpec<T = unknown> {
  /** Durable consumer name, unique per purpose, e.g. `settings-cache`. */
  name: string;
  /** One subject pattern, e.g. `sb.evt.settings.>`. */
  subject: string;
  /**
   * `one-instance`: a work queue shared by all core instances (each message handled once).
   * `each-instance`: every instance sees every message from now on (cache refresh, fan-out).
   */
  delivery: Delivery;
  handler: (message: DeliveredMessage<T>) => Promise<void>;
  maxDeliver?: number;
  backoffMs?: number[];
  /** Messages handled in parallel by this instance. Default 1 (ordered). */
  concurrency?: number;
  /**
   * Keep a durable consumer of its own instead of joining the event group (see `startGroups`): for a consumer
   * that closes and subscribes again while the core runs (a plugin instance restarting), which must resume
   * where it stopped rather than miss what the group handled meanwhile.
   */
  ownConsumer?: boolean;
}

/**
 * A work-queue consumer (`one-instance` delivery) that takes several messages at a time, so a
 * handler can write them in one transaction. Messages arrive in stream order and batches are
 * handled one after another per instance.
 */
export interface BatchConsumerSpec<T = unknown> {
  /** Durable consumer name, unique per purpose. */
  name: string;
  /** One subject pattern, e.g. `sb.telemetry.>`. */
  subject: string;
  /**
   * Resolves: every message of the batch is acked (so only after the handler's commit).
   * Throws: the batch is split and each message is tried alone, under the usual retry,
   * backoff and dead-letter policy, so one poison message cannot hold the others back.
   */
  handleBatch: (messages: Array<DeliveredMessage<T>>) => Promise<void>;
  /** Most messages per batch. Default 100. */
  maxBatch?: number;
  /** How long to wait for more messages when fewer than `maxBatch` are pending. Default 0. */
  maxWaitMs?: number;
  maxDeliver?: number;
  backoffMs?: number[];
}

/** A member of a consumer group: a work-queue consumer, one message or a batch per handler call. */
export type GroupMember = { kind: 'single'; spec: ConsumerSpec<unknown> } | { kind: 'batch'; spec: BatchConsumerSpec<unknown> };

/**
 * Work-queue consumers of one stream behind a single durable subscription: each message is delivered to
 * this instance once and handed to every member whose subject matches (see GroupDispatcher).
 */
export interface ConsumerGroupSpec {
  /** Durable name of the shared subscription. */
  name: string;
  /** One subject pattern covering the members', e.g. `sb.evt.>`. */
  subject: string;
  members: GroupMember[];
}

export interface Closable {
  close(): Promise<void>;
}

export interface ConsumerGroupHandle extends Closable {
  /** One member stops taking messages (see GroupDispatcher.removeMember); the others go on. */
  leave(member: string): Promise<void>;
}

export interface Bus {
  readonly kind: 'nats' | 'inprocess';
  start(): Promise<void>;
  /** Durable publish into a stream. Resolves once the bus has stored it. */
  publish<T>(subject: string, data: T, options: PublishOptions): Promise<void>;
  /**
   * Optional fast path for data that is already JSON text (the outbox relay's stored envelopes):
   * same contract as `publish`, without a parse/stringify round trip. Adapters that need the
   * object (in-process) leave it out.
   */
  publishEncoded?(subject: string, json: string, options: PublishOptions): Promise<void>;
  consume<T>(spec: ConsumerSpec<T>): Promise<Closable>;
  /** Like a `one-instance` consume, several messages per handler call (see BatchConsumerSpec). */
  consumeBatch<T>(spec: BatchConsumerSpec<T>): Promise<Closable>;
  /**
   * Optional (NATS): several `one-instance` consumers as one group (see ConsumerGroupSpec). Members keep
   * their names for metrics and dead letters, but have no durable consumer of their own.
   */
  consumeGroup?(spec: ConsumerGroupSpec): Promise<ConsumerGroupHandle>;
  /**
   * Optional (NATS): every module has subscribed. Work-queue consumers of events subscribed before this
   * share one durable consumer from now on; later ones get their own.
   */
  startGroups?(): Promise<void>;
  /** Request/reply for plugin calls. Rejects with BusError('no_responders' | 'timeout'). */
  request<Req, Res>(subject: string, data: Req, options?: { timeoutMs?: number; headers?: Headers }): Promise<Res>;
  /** Serves requests on a subject; instances share the load through a queue group. */
  reply<Req, Res>(subject: string, handler: (data: Req, headers: Headers) => Promise<Res>): Promise<Closable>;
  /** Fire-and-forget fan-out to every instance (`sb.rt.*`): not stored, not retried. */
  broadcast<T>(subject: string, data: T): void;
  listen<T>(subject: string, handler: (data: T, subject: string) => void): Closable;
  isHealthy(): Promise<boolean>;
  close(): Promise<void>;
}

export const BUS = Symbol('BUS');
