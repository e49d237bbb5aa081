import type { ClientSession } from './client-session.js';
import type { RtEnvelope } from './protocol.js';

export interface FeedMessage {
  seq: number;
  private: boolean;
  [key: string]: unknown;
}

export type FetchMessages = (conversationId: string, afterSeq: number, limit: number) => Promise<FeedMessage[]>;

const PAGE = 200;

/**
 * One client's subscription to one conversation: an ordered, duplicate-free stream of its
 * messages by `seq`. Replay from the database and live events go through one serial queue:
 * a live message at `lastSeq + 1` is sent as is; an older one is dropped (duplicate); a newer
 * one means something was missed (dropped broadcast, another instance, a restart), so the gap
 * is read from the database first. The client therefore sees every seq exactly once, in order.
 */
export class ConversationFeed {
  private readonly queue: Array<() => Promise<void>> = [];
  private running = false;
  private closed = false;

  constructor(
    readonly session: ClientSession,
    readonly conversationId: string,
    public lastSeq: number,
    private readonly fetch: FetchMessages,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Replays everything after `lastSeq` (the client's resume point), then follows live events. */
  start(): void {
    this.push(() => this.fill(Number.MAX_SAFE_INTEGER));
  }

  onBroadcast(envelope: RtEnvelope, frame: (visitor: boolean) => string): void {
    if (envelope.kind === 'message' && typeof envelope.seq === 'number') {
      const seq = envelope.seq;
      const message = envelope.data as unknown as FeedMessage;
      this.push(async () => {
        if (seq <= this.lastSeq) return;
        if (seq > this.lastSeq + 1) await this.fill(seq - 1);
        if (seq !== this.lastSeq + 1) return;
        this.lastSeq = seq;
        if (message.private && this.session.isVisitor) return;
        this.session.sendRaw(frame(this.session.isVisitor));
      });
      return;
    }
    // Unsequenced events (assignment, status, typing, read) go out in arrival order, after
    // whatever messages are already queued for this client.
    if (this.session.isVisitor && !visitorMaySee(envelope)) return;
    if (envelope.origin && envelope.origin === this.session.id) return;
    this.push(async () => void this.session.sendRaw(frame(this.session.isVisitor)));
  }

  /** Reads and sends messages after `lastSeq` up to `untilSeq` from the database. */
  private async fill(untilSeq: number): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const page = await this.fetch(this.conversationId, this.lastSeq, PAGE);
      for (const message of page) {
        if (message.seq <= this.lastSeq || message.seq > untilSeq) continue;
        this.lastSeq = message.seq;
        if (message.private && this.session.isVisitor) continue;
        this.session.send('message', { conversationId: this.conversationId, seq: message.seq, message: stripForClient(message, this.session.isVisitor) });
      }
      if (page.length < PAGE || this.lastSeq >= untilSeq) return;
    }
  }

  private push(task: () => Promise<void>): void {
    if (this.closed) return;
    this.queue.push(task);
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length && !this.closed) {
        const task = this.queue.shift()!;
        try {
          await task();
        } catch (error) {
          this.onError(error as Error);
        }
      }
    } finally {
      this.running = false;
    }
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }
}

function visitorMaySee(envelope: RtEnvelope): boolean {
  if (envelope.kind === 'typing' || envelope.kind === 'read') return true;
  if (envelope.kind === 'event') return ['resolved', 'reopened'].includes(String(envelope.data.type));
  return false;
}

/** What a client sees of a message. Visitors do not see agents' internal fields. */
export function stripForClient(message: FeedMessage, visitor: boolean): Record<string, unknown> {
  if (!visitor) return message;
  const { annotations: _annotations, idempotencyKey: _key, externalMessageId: _external, ...rest } = message as Record<string, unknown>;
  return rest;
}
