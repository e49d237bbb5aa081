import WebSocket from 'ws';

export interface Frame {
  event: string;
  data: Record<string, unknown>;
}

/** A small test client for the gateway: records frames, waits for them, sends events. */
export class TestSocket {
  readonly frames: Frame[] = [];
  closeCode?: number;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      this.frames.push(JSON.parse(raw.toString()) as Frame);
      this.notify();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.notify();
    });
  }

  static connect(
    baseUrl: string,
    options: { token?: string; visitorToken?: string; query?: string; origin?: string; headers?: Record<string, string> } = {},
  ): Promise<TestSocket> {
    const protocols = ['switchboard.v1'];
    if (options.token) protocols.push(`bearer.${options.token}`);
    if (options.visitorToken) protocols.push(`visitor.${options.visitorToken}`);
    const url = `${baseUrl.replace(/^http/, 'ws')}/ws${options.query ? `?${options.query}` : ''}`;
    const ws = new WebSocket(url, protocols, { headers: { ...(options.origin ? { origin: options.origin } : {}), ...(options.headers ?? {}) } });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new TestSocket(ws)));
      ws.once('unexpected-response', (_request, response) =>
        reject(Object.assign(new Error(`handshake refused: ${response.statusCode}`), { status: response.statusCode })),
      );
      ws.once('error', reject);
    });
  }

  send(event: string, data: Record<string, unknown>): void {
    this.ws.send(JSON.stringify({ event, data }));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  async waitFor<T>(check: () => T | undefined | false, timeoutMs = 10_000, what = 'frame'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last frames: ${JSON.stringify(this.frames.slice(-3))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves with the next frame of this event (after those already recorded) matching `where`. */
  next(event: string, where: (data: Record<string, unknown>) => boolean = () => true, timeoutMs = 10_000): Promise<Frame> {
    const from = this.frames.length;
    return this.waitFor(() => this.frames.slice(from).find((frame) => frame.event === event && where(frame.data)), timeoutMs, event);
  }

  messages(conversationId: string): number[] {
    return this.frames.filter((frame) => frame.event === 'message' && frame.data.conversationId === conversationId).map((frame) => frame.data.seq as number);
  }

  waitClosed(timeoutMs = 10_000): Promise<number> {
    return this.waitFor(() => this.closeCode, timeoutMs, 'close');
  }

  close(): void {
    this.ws.close();
  }

  terminate(): void {
    this.ws.terminate();
  }
}
