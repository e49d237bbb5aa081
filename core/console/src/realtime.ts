/**
 * Client of the core's WebSocket gateway (`/ws`, subprotocol `switchboard.v1`). Authenticates with
 * the session cookie (same origin). Keeps its subscriptions across reconnects and resumes each
 * conversation feed from the last seq it saw (`afterSeq`), so nothing is missed while offline.
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface Frame {
  event: string;
  data: Record<string, unknown>;
}

interface Subscription {
  topic: 'conversation' | 'inbox' | 'ticket' | 'agent' | 'presence';
  id?: string;
  afterSeq?: number;
  count: number;
}

type Listener = (frame: Frame) => void;

export class RealtimeClient {
  private ws?: WebSocket;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly listeners = new Set<Listener>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private attempt = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private stopped = false;
  state: ConnectionState = 'connecting';

  constructor(private readonly url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close(1000, 'bye');
    this.setState('closed');
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  /** Subscribes (reference-counted); returns the unsubscribe function. */
  subscribe(topic: Subscription['topic'], id?: string, afterSeq?: number): () => void {
    const key = `${topic}:${id ?? ''}`;
    const existing = this.subscriptions.get(key);
    if (existing) {
      existing.count++;
    } else {
      const subscription: Subscription = { topic, id, afterSeq, count: 1 };
      this.subscriptions.set(key, subscription);
      this.sendSubscribe(subscription);
    }
    return () => {
      const current = this.subscriptions.get(key);
      if (!current) return;
      current.count--;
      if (current.count > 0) return;
      this.subscriptions.delete(key);
      this.send('unsubscribe', { topic, id });
    };
  }

  send(event: string, data: Record<string, unknown>): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({ event, data }));
    return true;
  }

  private sendSubscribe(subscription: Subscription): void {
    this.send('subscribe', {
      topic: subscription.topic,
      id: subscription.id,
      afterSeq: subscription.afterSeq,
      ref: `${subscription.topic}:${subscription.id ?? ''}`,
    });
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private connect(): void {
    if (this.stopped) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url, ['switchboard.v1']);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.setState('open');
      // Resume: every subscription again, conversations from the last seq seen.
      for (const subscription of this.subscriptions.values()) this.sendSubscribe(subscription);
    };
    ws.onmessage = (event) => {
      let frame: Frame;
      try {
        frame = JSON.parse(String(event.data)) as Frame;
      } catch {
        return;
      }
      if (frame.event === 'message') {
        const conversationId = String(frame.data.conversationId ?? '');
        const seq = Number(frame.data.seq);
        const subscription = this.subscriptions.get(`conversation:${conversationId}`);
        if (subscription && Number.isFinite(seq)) subscription.afterSeq = Math.max(subscription.afterSeq ?? 0, seq);
      }
      for (const listener of this.listeners) listener(frame);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.scheduleReconnect();
    };
    ws.onerror = () => undefined;
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.setState('reconnecting');
    const delay = Math.min(15_000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt++;
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
