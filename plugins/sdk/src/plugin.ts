/**
 * The plugin contract. Everything that crosses between a plugin and the core is
 * JSON-serializable, so the host can run a plugin in a worker thread, in its own process
 * (over IPC or NATS) or in its test kit without the plugin noticing.
 */
import type { SafeFetch } from './safe-fetch.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface PluginLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A small per-instance key/value store, kept in the core's database. Values are JSON. */
export interface KvStore {
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** `ttlMs`: the value disappears after that long (checked on read and purged periodically). */
  set(key: string, value: unknown, options?: { ttlMs?: number }): Promise<void>;
  /** Sets only when the key is absent (or expired); resolves true when it was set. Use it for replay guards. */
  setIfAbsent(key: string, value: unknown, options?: { ttlMs?: number }): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix`, at most `limit` (default 100). */
  list(prefix: string, limit?: number): Promise<string[]>;
}

/** Bus access limited to the plugin's own namespace: topic `x` is the subject `sb.plugin.<id>.evt.x`. */
export interface PluginBus {
  publish(topic: string, data: unknown): Promise<void>;
  subscribe(topic: string, handler: (data: unknown, topic: string) => void | Promise<void>): Promise<() => Promise<void>>;
}

export interface PluginHttpRequest {
  method: string;
  /** The path below `/plugins/<id>`, e.g. `/acme/messages`. */
  path: string;
  params: Record<string, string>;
  query: Record<string, string>;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The body exactly as received (UTF-8), for signature checks. */
  rawBody: string;
  /** The body as base64, for binary uploads. Only set when the body is not valid UTF-8 text. */
  rawBodyBase64?: string;
  ip: string;
}

export interface PluginHttpResponse {
  status: number;
  headers?: Record<string, string>;
  /** Objects and arrays are sent as JSON (they must be JSON-serializable); strings as they are. */
  body?: unknown;
  /** Binary bodies as base64. */
  bodyBase64?: string;
}

export type RouteHandler = (request: PluginHttpRequest) => Promise<PluginHttpResponse> | PluginHttpResponse;

export interface PluginHttp {
  /**
   * Serves `METHOD /plugins/<id><path>`. `path` may hold `:params` and a trailing `*`. A route
   * with an `:inbox` param is dispatched to the instance serving that inbox. Routes are public:
   * the plugin authenticates callers itself (see `verifySignature`).
   */
  route(method: string, path: string, handler: RouteHandler): void;
}

export interface PluginTimers {
  setTimeout(fn: () => void | Promise<void>, ms: number): number;
  setInterval(fn: () => void | Promise<void>, ms: number): number;
  clear(handle: number): void;
}

export interface ExternalContact {
  /** The contact's id on this channel: an email address, a phone number, a visitor id. */
  externalId: string;
  /** True only when the channel proved the identity (a verified HMAC, a signed webhook for a known user). Only verified identities merge contacts. */
  verified: boolean;
  name?: string;
  email?: string;
  phone?: string;
  language?: string;
}

/** A stored attachment, as the core's conversations keep it. */
export interface AttachmentRef {
  /** Set for files stored with `ctx.uploadAttachment` (the conversation attachment's id). */
  id?: string;
  name: string;
  contentType: string;
  size: number;
  /** Where the core stored the bytes (`plugins/<instance>/<sha256>`). */
  storageKey: string;
  sha256?: string;
}

export interface InboundMessage {
  externalContact: ExternalContact;
  /** Stable per message; a repeat with the same key is a no-op (`duplicate: true`). */
  idempotencyKey: string;
  text: string;
  /** Structured content (e.g. sanitised HTML, form fields). */
  content?: Record<string, JsonValue>;
  attachments?: AttachmentRef[];
  externalMessageId?: string;
  /** Groups messages into one conversation, e.g. an email thread's root Message-ID. */
  threadKey?: string;
}

export interface InboundResult {
  conversationId: string;
  messageId: string;
  contactId: string;
  createdConversation: boolean;
  duplicate: boolean;
}

export interface OutboundMessage {
  messageId: string;
  conversationId: string;
  inboxId: string;
  contactId: string;
  seq: number;
  text: string;
  content?: Record<string, JsonValue>;
  attachments?: AttachmentRef[];
  authorType: 'agent' | 'bot' | 'system';
  /** 1 on the first attempt. Use `messageId` as the idempotency key downstream. */
  attempt: number;
  /** The conversation's thread key, when it has one: replies carrying it must come back with it. */
  threadKey?: string | null;
  /**
   * How to reach the contact when the conversation did not start on this channel (a proactive
   * message): their name, primary email and phone (verified first), and their oldest identity on this
   * channel. A contact merged since the message was written is followed to the contact it was merged into.
   */
  recipient?: { name?: string; email?: string; phone?: string; externalId?: string };
}

export interface SendResult {
  /** The id the channel gave the message (an SMTP Message-ID, the webhook's id). */
  externalId: string;
}

export interface TelemetryReading {
  deviceId: string;
  at?: string;
  metrics?: Record<string, number>;
  faultCodes?: string[];
  attributes?: Record<string, JsonValue>;
}

export interface StoredAttachmentInput {
  filename: string;
  contentType: string;
  /** The file's bytes as base64. */
  dataBase64: string;
}

export interface DownloadedAttachment {
  name: string;
  contentType: string;
  size: number;
  dataBase64: string;
}

/** Whether anyone can chat live on an inbox right now (routing presence). */
export interface InboxPresence {
  inboxId: string;
  /** The inbox's team; null when any agent may serve it. */
  teamId: string | null;
  /** True when at least one agent of that team (or any agent, for a team-less inbox) is `online`. */
  online: boolean;
  onlineAgents: number;
}

export type PluginTicketType = 'question' | 'incident' | 'problem' | 'task';
export type PluginTicketPriority = 'low' | 'normal' | 'high' | 'urgent';

/**
 * A ticket for a conversation of this instance's inbox (e.g. a web-chat visitor's offline message).
 * The core sets the requester to the conversation's contact and the team to the conversation's team,
 * and links the ticket to the conversation.
 */
export interface TicketRequest {
  /** A conversation of this instance's inbox, usually `inbound(...).conversationId`. */
  conversationId: string;
  /** 1–200 characters. */
  subject: string;
  /** Up to 20000 characters. */
  description?: string;
  /** Default `question`. */
  type?: PluginTicketType;
  priority?: PluginTicketPriority;
  /** Up to 10 tags. */
  tags?: string[];
  /** Stable per request (1–150 characters): a repeat returns the same ticket with `duplicate: true`. */
  idempotencyKey: string;
}

export interface TicketResult {
  ticketId: string;
  /** Like `T-1042`. */
  number: string;
  duplicate: boolean;
}

export interface PluginContext<Config = Record<string, unknown>> {
  readonly pluginId: string;
  readonly instanceId: string;
  /** The inbox this instance serves (channels), or null. */
  readonly inboxId: string | null;
  /** Public base URL of the core, e.g. `https://support.example.com`, when configured. */
  readonly publicUrl: string | null;
  readonly logger: PluginLogger;
  /** The instance's validated config, secrets decrypted. */
  readonly config: Config;
  readonly kv: KvStore;
  readonly bus: PluginBus;
  readonly http: PluginHttp;
  readonly timers: PluginTimers;
  /** `fetch` that refuses loopback, private and link-local targets unless the config allows them. */
  readonly fetch: SafeFetch;
  /** Channels: hands a customer's message to the core. */
  inbound(message: InboundMessage): Promise<InboundResult>;
  /** Devices: reports a reading. */
  telemetry(reading: TelemetryReading): Promise<void>;
  /**
   * Channels: a token for the core's realtime gateway (`/ws`, subprotocol `visitor.<token>`), bound to
   * this instance's inbox, with which a web visitor follows their conversations (see docs/realtime.md).
   */
  visitorToken(claims: { visitorId: string; contactId?: string | null; ttlSeconds?: number }): Promise<{ token: string; expiresAt: string }>;
  /** Stores an attachment in the core (size and type limits apply) and returns a reference for `inbound`. */
  storeAttachment(input: StoredAttachmentInput): Promise<AttachmentRef>;
  /**
   * Channels: stores a customer's file as a conversation attachment (type detected from the bytes and
   * checked against the core's allow-list, size limit, encrypted at rest, downloadable by the agents of
   * the conversation) and returns a reference for `inbound`. Fails with an error whose `code` is
   * `attachment_too_large`, `attachment_type_not_allowed`, `attachment_type_mismatch` or `attachment_invalid`.
   */
  uploadAttachment(input: StoredAttachmentInput): Promise<AttachmentRef>;
  /**
   * Channels: the bytes of a conversation attachment for the customer `contactId` (e.g. a web visitor
   * opening a file): only from a conversation of this instance's inbox whose contact it is, and never
   * from an internal note. Anything else fails with code `attachment_not_found`.
   */
  downloadAttachment(input: { id: string; contactId: string }): Promise<DownloadedAttachment>;
  /** Channels: is any agent online for this instance's inbox (its team's agents, or any agent when it has no team)? */
  presence(): Promise<InboxPresence>;
  /** Channels: opens a ticket for a conversation of this instance's inbox (requester = the conversation's contact). */
  createTicket(request: TicketRequest): Promise<TicketResult>;
}

export interface PluginHealth {
  status: 'up' | 'degraded' | 'down';
  detail?: string;
}

export interface TestResult {
  ok: boolean;
  detail?: string;
}

export interface ChannelCapability<Config = Record<string, unknown>> {
  /** Delivers an agent's or bot's message. Throw to have the host retry with backoff. */
  send(outbound: OutboundMessage, ctx: PluginContext<Config>): Promise<SendResult>;
  /**
   * Whether this instance, as configured, sends anything (default: yes). Answer false for a receive-only setup,
   * such as an API channel without a webhook whose clients read replies through the REST API: the core then
   * hands it no outbound messages and keeps no delivery records for it. Asked once per start, after `init`.
   */
  sends?(config: Config): boolean;
}

export interface CustomerQuery {
  email?: string;
  phone?: string;
  externalId?: string;
}

export interface CustomerRecord {
  externalId: string;
  name?: string;
  email?: string;
  phone?: string;
  attributes?: Record<string, JsonValue>;
}

export interface TicketSnapshot {
  ticketId: string;
  subject: string;
  status: string;
  priority: string;
  requesterContactId?: string;
  externalId?: string;
  updatedAt: string;
}

export interface ConnectorCapability<Config = Record<string, unknown>> {
  lookupCustomer(query: CustomerQuery, ctx: PluginContext<Config>): Promise<CustomerRecord[]>;
  syncTicket(ticket: TicketSnapshot, ctx: PluginContext<Config>): Promise<{ externalId: string }>;
}

export interface PluginDefinition<Config = Record<string, unknown>> {
  /** Prepare: register routes, read config. Runs before `start`. */
  init?(ctx: PluginContext<Config>): Promise<void> | void;
  /** Start listeners and pollers. Throwing (or hanging past the host's timeout) counts as a crash. */
  start?(ctx: PluginContext<Config>): Promise<void> | void;
  stop?(): Promise<void> | void;
  health?(): Promise<PluginHealth> | PluginHealth;
  /** The admin's "test" action: check connectivity with the given config. */
  test?(ctx: PluginContext<Config>): Promise<TestResult> | TestResult;
  channel?: ChannelCapability<Config>;
  connector?: ConnectorCapability<Config>;
}

export const PLUGIN_BRAND = '__switchboardPlugin';

export type DefinedPlugin<Config = Record<string, unknown>> = PluginDefinition<Config> & { readonly [PLUGIN_BRAND]: number };

/** Declares a plugin. `export default definePlugin({ ... })` from the package's entry point. */
export function definePlugin<Config = Record<string, unknown>>(definition: PluginDefinition<Config>): DefinedPlugin<Config> {
  for (const hook of ['init', 'start', 'stop', 'health', 'test'] as const) {
    if (definition[hook] !== undefined && typeof definition[hook] !== 'function') throw new TypeError(`definePlugin: "${hook}" must be a function`);
  }
  if (definition.channel && typeof definition.channel.send !== 'function') throw new TypeError('definePlugin: channel.send must be a function');
  if (definition.channel?.sends !== undefined && typeof definition.channel.sends !== 'function')
    throw new TypeError('definePlugin: channel.sends must be a function');
  if (definition.connector && (typeof definition.connector.lookupCustomer !== 'function' || typeof definition.connector.syncTicket !== 'function')) {
    throw new TypeError('definePlugin: a connector implements lookupCustomer and syncTicket');
  }
  return Object.freeze({ ...definition, [PLUGIN_BRAND]: 1 }) as DefinedPlugin<Config>;
}

export function isDefinedPlugin(value: unknown): value is DefinedPlugin {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[PLUGIN_BRAND] === 1;
}
