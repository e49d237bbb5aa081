/**
 * The Switchboard WebSocket protocol, version 1 (`switchboard.v1`). See docs/realtime.md.
 * Every frame is one JSON object `{ "event": string, "data": object }`.
 */
export const SUBPROTOCOL = 'switchboard.v1';
export const WS_PATH = '/ws';

/** Close codes the server uses. 1xxx are RFC 6455; 4xxx are ours. */
export const CLOSE = {
  /** Server shutting down or restarting: reconnect and resume. */
  GOING_AWAY: 1001,
  /** A frame was not valid JSON of the expected shape. */
  PROTOCOL_ERROR: 1002,
  /** A frame exceeded `realtime.maxPayloadBytes` (sent by ws itself). */
  MESSAGE_TOO_BIG: 1009,
  /** The credentials expired or were revoked while connected: get a new token, reconnect. */
  AUTH_EXPIRED: 4001,
  /** The client fell behind: more than `realtime.maxBufferedBytes` waited to be sent. Reconnect and resume. */
  SLOW_CONSUMER: 4008,
  /** The client did not answer pings: the connection was presumed dead. */
  HEARTBEAT_TIMEOUT: 4009,
  /** Too many frames per second from this client. */
  RATE_LIMITED: 4029,
} as const;

export type Topic = 'conversation' | 'inbox' | 'ticket' | 'agent' | 'presence';
export const TOPICS: readonly Topic[] = ['conversation', 'inbox', 'ticket', 'agent', 'presence'];

export interface SubscribeRequest {
  topic: Topic;
  /** Conversation, inbox or ticket id; omitted for `agent` (yourself) and `presence`. */
  id?: string;
  /** Conversations: last seq the client has; everything after it is replayed from the database. */
  afterSeq?: number;
  /** Echoed in the reply so the client can match it. */
  ref?: string;
}

export type ErrorCode = 'bad_request' | 'not_found' | 'forbidden' | 'unsupported_topic' | 'too_many_subscriptions' | 'send_failed' | 'internal_error';

/** What every sb.rt.* broadcast carries. */
export interface RtEnvelope {
  kind: 'message' | 'event' | 'typing' | 'read' | 'assignment' | 'presence' | 'ticket';
  conversationId?: string;
  seq?: number;
  private?: boolean;
  /** For typing/read: the socket that caused it, to not echo back to it. */
  origin?: string;
  data: Record<string, unknown>;
}

export const rtToken = (id: string) => id.replace(/[^A-Za-z0-9_-]/g, '_');
export const rtConversation = (id: string) => `sb.rt.conv.${rtToken(id)}`;
export const rtInbox = (id: string) => `sb.rt.inbox.${rtToken(id)}`;
export const rtTicket = (id: string) => `sb.rt.ticket.${rtToken(id)}`;
export const rtAgent = (id: string) => `sb.rt.agent.${rtToken(id)}`;
export const RT_PRESENCE = 'sb.rt.presence';
