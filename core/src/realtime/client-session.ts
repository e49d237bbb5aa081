import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Principal } from './handshake-auth.js';
import { CLOSE } from './protocol.js';

const OPEN = 1;

/**
 * One connected socket. Sends are bounded: when more than `maxBufferedBytes` are waiting in
 * the socket (a slow or stalled client), the client is closed with 4008 instead of letting
 * the server's memory grow; it reconnects and resumes from its last seq.
 */
export class ClientSession {
  readonly id = randomBytes(6).toString('base64url');
  readonly subscriptions = new Map<string, { close(): void }>();
  /** Conversations a visitor created through this socket (authorised without a contact id). */
  readonly ownConversations = new Set<string>();
  alive = true;
  closed = false;
  private tokens: number;
  private refilledAt = Date.now();

  constructor(
    readonly ws: WebSocket,
    readonly principal: Principal,
    private readonly limits: { maxBufferedBytes: number; framesPerSecond: number },
  ) {
    this.tokens = limits.framesPerSecond * 2;
  }

  get isVisitor(): boolean {
    return this.principal.kind === 'visitor';
  }

  get userId(): string | null {
    return this.principal.kind === 'user' ? this.principal.actor.id : null;
  }

  send(event: string, data: unknown): boolean {
    return this.sendRaw(JSON.stringify({ event, data }));
  }

  /** Sends a frame serialised once for many recipients. */
  sendRaw(frame: string): boolean {
    if (this.closed || this.ws.readyState !== OPEN) return false;
    if (this.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.close(CLOSE.SLOW_CONSUMER, 'slow consumer');
      return false;
    }
    this.ws.send(frame);
    return true;
  }

  /** Token bucket on incoming frames; false means the client is over its rate. */
  takeToken(): boolean {
    const now = Date.now();
    const refill = ((now - this.refilledAt) / 1000) * this.limits.framesPerSecond;
    this.tokens = Math.min(this.limits.framesPerSecond * 2, this.tokens + refill);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const subscription of this.subscriptions.values()) subscription.close();
    this.subscriptions.clear();
    try {
      this.ws.close(code, reason);
    } catch {
      // already closing
    }
    // A stalled client may never read our close frame: do not wait for it forever.
    const timer = setTimeout(() => this.ws.terminate(), 2000);
    timer.unref();
  }

  detach(): void {
    this.closed = true;
    for (const subscription of this.subscriptions.values()) subscription.close();
    this.subscriptions.clear();
  }
}
