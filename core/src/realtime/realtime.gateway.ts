import { Inject, Logger, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import { APP_CONFIG } from '../platform/config/config.module.js';
import type { AppConfig } from '../platform/config/app-config.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { TicketsService } from '../tickets/tickets.service.js';
import { AccessPolicy } from '../identity/access-policy.js';
import type { Actor } from '../identity/actor.js';
import { RoutingAgentsService } from '../routing/routing-agents.service.js';
import { HandshakeAuth, type Principal } from './handshake-auth.js';
import { ClientSession } from './client-session.js';
import { ConversationFeed, type FeedMessage } from './conversation-feed.js';
import { RealtimeHub, type HubListener } from './realtime.hub.js';
import { realtimeConfig, type RealtimeConfig } from './realtime.config.js';
import {
  CLOSE,
  RT_PRESENCE,
  TOPICS,
  WS_PATH,
  rtAgent,
  rtConversation,
  rtInbox,
  rtTicket,
  type ErrorCode,
  type RtEnvelope,
  type SubscribeRequest,
  type Topic,
} from './protocol.js';

const MAX_SUBSCRIPTIONS = 1000;
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

type Frame = Record<string, unknown> | undefined;

const isSupervisor = (actor: Actor) => actor.kind === 'system' || actor.roles.includes('admin') || actor.roles.includes('supervisor');

/**
 * The WebSocket gateway (`/ws`, protocol `switchboard.v1`, see docs/realtime.md). Runs on the
 * ws library through @nestjs/platform-ws, attached to the Fastify HTTP server.
 */
@WebSocketGateway({ path: WS_PATH })
export class RealtimeGateway
  implements OnGatewayInit<WebSocketServer>, OnGatewayConnection<WebSocket>, OnGatewayDisconnect<WebSocket>, OnModuleDestroy, OnApplicationShutdown
{
  private readonly logger = new Logger('realtime');
  private readonly config: RealtimeConfig;
  private readonly principals = new WeakMap<IncomingMessage, Principal>();
  private readonly sessions = new WeakMap<WebSocket, ClientSession>();
  private pingTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private server?: WebSocketServer;

  constructor(
    @Inject(APP_CONFIG) appConfig: AppConfig,
    private readonly auth: HandshakeAuth,
    private readonly hub: RealtimeHub,
    private readonly conversations: ConversationsService,
    private readonly tickets: TicketsService,
    private readonly access: AccessPolicy,
    private readonly agents: RoutingAgentsService,
  ) {
    this.config = realtimeConfig(appConfig);
  }

  afterInit(server: WebSocketServer): void {
    this.server = server;
    // ws reads these options at each upgrade, so they can be set here, with DI available.
    const options = server.options as WebSocketServer['options'] & { verifyClient?: unknown; handleProtocols?: unknown };
    options.maxPayload = this.config.maxPayloadBytes;
    options.handleProtocols = (protocols: Set<string>) => HandshakeAuth.selectProtocol(protocols);
    options.verifyClient = (info: { req: IncomingMessage }, callback: (ok: boolean, code?: number, message?: string) => void) => {
      this.auth.authenticate(info.req).then(
        (outcome) => {
          if (!outcome.ok || !outcome.principal) {
            this.logger.log({ status: outcome.status, reason: outcome.reason }, 'websocket handshake refused');
            callback(false, outcome.status ?? 401, outcome.status === 403 ? 'Forbidden' : 'Unauthorized');
            return;
          }
          this.principals.set(info.req, outcome.principal);
          callback(true);
        },
        () => callback(false, 500, 'Internal Server Error'),
      );
    };
    this.pingTimer = setInterval(() => this.pingAll(), this.config.pingIntervalMs);
    this.pingTimer.unref();
    this.scheduleHeartbeatFlush();
  }

  /** Reports connected agents to presence often enough to stay inside the heartbeat timeout. */
  private scheduleHeartbeatFlush(): void {
    const timeoutMs = this.agents.heartbeatTimeoutMs();
    const every = Math.max(250, Math.min(5000, Math.floor(timeoutMs / 3)));
    this.heartbeatTimer = setTimeout(() => {
      const users = this.hub.connectedUsers();
      void this.agents
        .heartbeat(users)
        .catch((error: Error) => this.logger.warn({ reason: error.message }, 'presence heartbeat flush failed'))
        .finally(() => {
          if (this.heartbeatTimer) this.scheduleHeartbeatFlush();
        });
    }, every);
    this.heartbeatTimer.unref();
  }

  private pingAll(): void {
    for (const session of this.hub.sessions) {
      if (!session.alive) {
        session.close(CLOSE.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
        session.ws.terminate();
        continue;
      }
      session.alive = false;
      try {
        session.ws.ping();
      } catch {
        // closing
      }
    }
  }

  handleConnection(ws: WebSocket, request: IncomingMessage): void {
    const principal = this.principals.get(request);
    if (!principal) {
      ws.close(CLOSE.PROTOCOL_ERROR, 'unauthenticated');
      return;
    }
    const session = new ClientSession(ws, principal, { maxBufferedBytes: this.config.maxBufferedBytes, framesPerSecond: 50 });
    this.sessions.set(ws, session);
    this.hub.sessions.add(session);
    ws.on('pong', () => (session.alive = true));
    ws.on('message', () => {
      session.alive = true;
      if (!session.takeToken()) session.close(CLOSE.RATE_LIMITED, 'rate limited');
    });
    session.send('welcome', {
      sessionId: session.id,
      principal:
        principal.kind === 'user'
          ? { kind: 'user', id: principal.actor.id }
          : { kind: 'visitor', visitorId: principal.visitor.visitorId, inboxId: principal.visitor.inboxId },
      maxPayloadBytes: this.config.maxPayloadBytes,
    });
    if (principal.kind === 'visitor') {
      const expiresInMs = principal.visitor.exp * 1000 - Date.now();
      const timer = setTimeout(() => session.close(CLOSE.AUTH_EXPIRED, 'token expired'), Math.min(Math.max(expiresInMs, 0), 2 ** 31 - 1));
      timer.unref();
      ws.once('close', () => clearTimeout(timer));
    }
  }

  handleDisconnect(ws: WebSocket): void {
    const session = this.sessions.get(ws);
    if (!session) return;
    session.detach();
    this.hub.sessions.delete(session);
  }

  onModuleDestroy(): void {
    this.shutdownSockets();
  }

  onApplicationShutdown(): void {
    this.shutdownSockets();
  }

  private shutdownSockets(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.pingTimer = undefined;
    this.heartbeatTimer = undefined;
    for (const session of this.hub.sessions) session.close(CLOSE.GOING_AWAY, 'server shutting down');
    this.hub.sessions.clear();
    void this.server;
  }

  // ------------------------------------------------------------------ messages

  @SubscribeMessage('ping')
  ping(@ConnectedSocket() ws: WebSocket, @MessageBody() data: Frame): void {
    this.sessions.get(ws)?.send('pong', { t: typeof data?.t === 'number' ? data.t : Date.now() });
  }

  @SubscribeMessage('subscribe')
  async subscribe(@ConnectedSocket() ws: WebSocket, @MessageBody() data: Frame): Promise<void> {
    const session = this.sessions.get(ws);
    if (!session || session.closed) return;
    const request = (data ?? {}) as Partial<SubscribeRequest>;
    const ref = typeof request.ref === 'string' ? request.ref.slice(0, 64) : undefined;
    const fail = (code: ErrorCode, message: string): void => void session.send('error', { code, message, ref, topic: request.topic, id: request.id });
    try {
      if (!request.topic || !TOPICS.includes(request.topic)) return fail('unsupported_topic', `topic must be one of ${TOPICS.join(', ')}`);
      if (request.id !== undefined && (typeof request.id !== 'string' || !ID.test(request.id))) return fail('bad_request', 'id must be a string id');
      if (request.afterSeq !== undefined && (!Number.isInteger(request.afterSeq) || request.afterSeq < 0))
        return fail('bad_request', 'afterSeq must be a non-negative integer');
      if (session.subscriptions.size >= MAX_SUBSCRIPTIONS) return fail('too_many_subscriptions', `at most ${MAX_SUBSCRIPTIONS} subscriptions per socket`);
      const key = `${request.topic}:${request.id ?? ''}`;
      session.subscriptions.get(key)?.close();
      session.subscriptions.delete(key);
      const reply = await this.open(session, request.topic, request.id, request.afterSeq, key);
      if (typeof reply === 'string') return fail(reply, reply === 'forbidden' ? 'You may not subscribe to this.' : 'There is no such object.');
      session.send('subscribed', { topic: request.topic, id: request.id, ref, ...reply.info });
      reply.start();
    } catch (error) {
      this.logger.warn({ topic: request.topic, reason: (error as Error).message }, 'subscribe failed');
      fail('internal_error', 'Subscribing failed; retry.');
    }
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() ws: WebSocket, @MessageBody() data: Frame): void {
    const session = this.sessions.get(ws);
    if (!session) return;
    const key = `${String(data?.topic)}:${data?.id === undefined ? '' : String(data.id)}`;
    session.subscriptions.get(key)?.close();
    session.subscriptions.delete(key);
    session.send('unsubscribed', { topic: data?.topic, id: data?.id });
  }

  /** Typing indicators: ephemeral, never stored, only to the conversation's current subscribers. */
  @SubscribeMessage('typing')
  typing(@ConnectedSocket() ws: WebSocket, @MessageBody() data: Frame): void {
    const session = this.sessions.get(ws);
    const conversationId = typeof data?.conversationId === 'string' ? data.conversationId : '';
    if (!session || !session.subscriptions.has(`conversation:${conversationId}`)) return;
    const state = data?.state === 'stop' ? 'stop' : 'start';
    this.hub.publish(rtConversation(conversationId), {
      kind: 'typing',
      conversationId,
      origin: session.id,
      data: { state, fromType: session.isVisitor ? 'contact' : 'agent', fromId: session.userId },
    });
  }

  /** Read receipts: ephemeral, like typing. */
  @SubscribeMessage('read')
  read(@ConnectedSocket() ws: WebSocket, @MessageBody() data: Frame): void {
    const session = this.sessions.get(ws);
    const conversationId = typeof data?.conversationId === 'string' ? data.conversationId : '';
    if (!session || !session.subscriptions.has(`conversation:${conversationId}`) || !Number.isInteger(data?.seq)) return;
    this.hub.publish(rtConversation(conversationId), {
      kind: 'read',
      conversationId,
      origin: session.id,
      data: { seq: data!.seq, byType: session.isVisitor ? 'contact' : 'agent', byId: session.userId },
    });
  }

  /**
   * Sends a message. Visitors write into their web-chat inbox (a conversation is created on
   * the first message); agents post into a conversation they can see. Acked with its seq.
   */
  @SubscribeMessage('message.send')
  async sendMessage(@ConnectedSocket() ws: WebSocket, @MessageBody() data: Frame): Promise<void> {
    const session = this.sessions.get(ws);
    if (!session || session.closed) return;
    const clientMessageId = typeof data?.clientMessageId === 'string' && ID.test(data.clientMessageId) ? data.clientMessageId : undefined;
    const text = typeof data?.text === 'string' ? data.text : undefined;
    const fail = (code: ErrorCode, message: string): void => void session.send('error', { code, message, ref: clientMessageId });
    if (!clientMessageId || text === undefined) return fail('bad_request', 'message.send needs clientMessageId (1–128 id characters) and text');
    try {
      if (session.principal.kind === 'visitor') {
        const visitor = session.principal.visitor;
        const result = await this.conversations.ingestInbound({
          inboxId: visitor.inboxId,
          externalContact: { externalId: visitor.visitorId, verified: false },
          idempotencyKey: `webchat:${visitor.visitorId}:${clientMessageId}`,
          text,
          content: data?.content && typeof data.content === 'object' ? (data.content as Record<string, unknown>) : undefined,
        });
        const conversationId = result.conversation.id;
        session.ownConversations.add(conversationId);
        this.publishCommitted(conversationId, result.message);
        session.send('message.ack', { clientMessageId, conversationId, messageId: result.message.id, seq: result.message.seq, duplicate: result.duplicate });
        const key = `conversation:${conversationId}`;
        if (!session.subscriptions.has(key)) {
          const reply = await this.open(session, 'conversation', conversationId, result.message.seq, key);
          if (typeof reply !== 'string') {
            session.send('subscribed', { topic: 'conversation', id: conversationId, ...reply.info });
            reply.start();
          }
        }
        return;
      }
      const conversationId = typeof data?.conversationId === 'string' ? data.conversationId : '';
      if (!ID.test(conversationId)) return fail('bad_request', 'conversationId is required');
      const result = await this.conversations.postMessage(session.principal.actor, conversationId, {
        text,
        private: data?.private === true,
        idempotencyKey: `ws:${session.principal.actor.id}:${clientMessageId}`,
      });
      this.publishCommitted(conversationId, result.message);
      session.send('message.ack', { clientMessageId, conversationId, messageId: result.message.id, seq: result.message.seq, duplicate: result.duplicate });
    } catch (error) {
      const status = (error as { status?: number }).status;
      const code = (error as { code?: string }).code;
      if (status === 404) return fail('not_found', 'There is no such conversation.');
      if (status && status < 500) return fail('send_failed', code ?? 'rejected');
      this.logger.warn({ reason: (error as Error).message }, 'message.send failed');
      fail('internal_error', 'Sending failed; retry with the same clientMessageId.');
    }
  }

  /**
   * Fast path for messages written through this gateway: the message is committed, so it is
   * broadcast at once instead of after the outbox relay. The fan-out consumer broadcasts it again
   * later; feeds drop the repeat by seq.
   */
  private publishCommitted(conversationId: string, message: { seq: number; private: boolean }): void {
    this.hub.publish(rtConversation(conversationId), {
      kind: 'message',
      conversationId,
      seq: message.seq,
      private: message.private,
      data: message as unknown as Record<string, unknown>,
    });
  }

  // ------------------------------------------------------------------ subscriptions

  private async open(
    session: ClientSession,
    topic: Topic,
    id: string | undefined,
    afterSeq: number | undefined,
    key: string,
  ): Promise<ErrorCode | { info: Record<string, unknown>; start: () => void }> {
    const principal = session.principal;
    if (topic === 'conversation') {
      if (!id) return 'bad_request';
      // Only "no such conversation" means not found; anything else (a saturated or lost database) is an
      // internal error the client should retry, not a reason to give up on the conversation.
      const conversation = await this.conversations.get(id).catch((error: { code?: string }) => {
        if (error?.code === 'conversation_not_found') return null;
        throw error;
      });
      if (!conversation) return 'not_found';
      if (principal.kind === 'visitor') {
        const v = principal.visitor;
        const own = session.ownConversations.has(id) || (v.contactId !== null && conversation.contactId === v.contactId);
        if (!own || conversation.inboxId !== v.inboxId) return 'not_found';
      } else if (!this.access.canSee(principal.actor, conversation)) {
        // Cross-team: the same answer as for an unknown id, and no data; the denial is audited like an HTTP one.
        this.access.denied(principal.actor, 'conversation', id, 'team_scope');
        return 'not_found';
      }
      const feed = new ConversationFeed(
        session,
        id,
        afterSeq ?? conversation.lastSeq,
        (conversationId, after, limit) => this.fetch(conversationId, after, limit),
        (error) => this.logger.warn({ reason: error.message }, 'conversation feed failed'),
      );
      const remove = this.hub.add(rtConversation(id), feed);
      session.subscriptions.set(key, { close: () => (feed.close(), remove()) });
      return { info: { fromSeq: feed.lastSeq, headSeq: conversation.lastSeq }, start: () => feed.start() };
    }
    if (principal.kind === 'visitor') return 'forbidden';
    const actor = principal.actor;
    let subject: string;
    let filter: (envelope: RtEnvelope) => boolean = () => true;
    const teamVisible = (envelope: RtEnvelope) => {
      const teamId = envelope.data.teamId as string | null | undefined;
      return teamId === undefined || this.access.canSee(actor, { teamId });
    };
    if (topic === 'inbox') {
      if (!id) return 'bad_request';
      const inbox = await this.conversations.getInboxForActor(actor, id).catch(() => null);
      if (!inbox) return 'not_found';
      subject = rtInbox(id);
      filter = teamVisible;
    } else if (topic === 'ticket') {
      if (!id) return 'bad_request';
      const ticket = await this.tickets.get(actor, id).catch(() => null);
      if (!ticket) return 'not_found';
      subject = rtTicket(ticket.id);
      filter = teamVisible;
    } else if (topic === 'agent') {
      if (id && id !== actor.id && !isSupervisor(actor)) return 'forbidden';
      const agentId = id ?? actor.id;
      subject = rtAgent(agentId);
      filter = (envelope) => envelope.data.agentId === agentId || envelope.data.previousAgentId === agentId;
    } else {
      if (!isSupervisor(actor)) return 'forbidden';
      subject = RT_PRESENCE;
      const teams = this.access.visibleTeams(actor);
      filter = (envelope) => teams === 'all' || ((envelope.data.teamIds as string[] | undefined) ?? []).some((team) => teams.includes(team));
    }
    const listener: HubListener = {
      session,
      onBroadcast: (envelope, frame) => {
        if (filter(envelope)) session.sendRaw(frame(false));
      },
    };
    const remove = this.hub.add(subject, listener);
    session.subscriptions.set(key, { close: remove });
    return { info: {}, start: () => undefined };
  }

  private async fetch(conversationId: string, afterSeq: number, limit: number): Promise<FeedMessage[]> {
    return (await this.conversations.listMessages(conversationId, { afterSeq, limit })) as unknown as FeedMessage[];
  }
}
