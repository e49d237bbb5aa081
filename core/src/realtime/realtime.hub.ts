import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { BUS, type Bus, type Closable } from '../platform/bus/bus.port.js';
import type { ClientSession } from './client-session.js';
import { stripForClient, type FeedMessage } from './conversation-feed.js';
import type { RtEnvelope } from './protocol.js';

export interface HubListener {
  session: ClientSession;
  onBroadcast(envelope: RtEnvelope, frame: (visitor: boolean) => string): void;
}

/** Builds the frame a client receives for a broadcast, once per envelope and audience. */
export function frameBuilder(envelope: RtEnvelope): (visitor: boolean) => string {
  const cache: [string?, string?] = [];
  return (visitor) => {
    const index = visitor ? 1 : 0;
    return (cache[index] ??= JSON.stringify(toFrame(envelope, visitor)));
  };
}

function toFrame(envelope: RtEnvelope, visitor: boolean): { event: string; data: unknown } {
  switch (envelope.kind) {
    case 'message':
      return {
        event: 'message',
        data: { conversationId: envelope.conversationId, seq: envelope.seq, message: stripForClient(envelope.data as unknown as FeedMessage, visitor) },
      };
    case 'event':
      return { event: 'conversation.event', data: { conversationId: envelope.conversationId, seq: envelope.seq, ...envelope.data } };
    case 'typing':
      return {
        event: 'typing',
        data: visitor
          ? { conversationId: envelope.conversationId, state: envelope.data.state, from: envelope.data.fromType }
          : { conversationId: envelope.conversationId, ...envelope.data },
      };
    case 'read':
      return { event: 'read', data: { conversationId: envelope.conversationId, ...envelope.data } };
    default:
      return { event: envelope.kind, data: envelope.data };
  }
}

/**
 * This instance's side of the fan-out: one `sb.rt.>` subscription on the bus, routed to the
 * local clients subscribed to each subject. Every instance receives every broadcast, so a
 * client gets its events whichever instance it is connected to.
 */
@Injectable()
export class RealtimeHub implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('realtime');
  private readonly bySubject = new Map<string, Set<HubListener>>();
  readonly sessions = new Set<ClientSession>();
  private listener?: Closable;
  delivered = 0;

  constructor(@Inject(BUS) private readonly bus: Bus) {}

  onModuleInit(): void {
    this.listener = this.bus.listen<RtEnvelope>('sb.rt.>', (envelope, subject) => this.dispatch(subject, envelope));
  }

  async onModuleDestroy(): Promise<void> {
    await this.listener?.close();
  }

  add(subject: string, listener: HubListener): () => void {
    let set = this.bySubject.get(subject);
    if (!set) {
      set = new Set();
      this.bySubject.set(subject, set);
    }
    set.add(listener);
    return () => {
      const current = this.bySubject.get(subject);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.bySubject.delete(subject);
    };
  }

  dispatch(subject: string, envelope: RtEnvelope): void {
    const listeners = this.bySubject.get(subject);
    if (!listeners || !envelope || typeof envelope !== 'object') return;
    const frame = frameBuilder(envelope);
    for (const listener of listeners) {
      try {
        listener.onBroadcast(envelope, frame);
        this.delivered++;
      } catch (error) {
        this.logger.warn({ subject, reason: (error as Error).message }, 'realtime delivery failed');
      }
    }
  }

  publish(subject: string, envelope: RtEnvelope): void {
    this.bus.broadcast(subject, envelope);
  }

  /** Agents (users) with at least one open socket on this instance. */
  connectedUsers(): string[] {
    const ids = new Set<string>();
    for (const session of this.sessions) if (!session.closed && session.userId) ids.add(session.userId);
    return [...ids];
  }
}
