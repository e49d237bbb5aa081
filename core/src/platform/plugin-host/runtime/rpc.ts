/**
 * The wire protocol between the host and a plugin runtime (worker thread, child process over
 * IPC, or child process over NATS). Frames are plain JSON.
 */
export type Frame =
  | { t: 'hello' }
  | { t: 'call'; id: number; method: string; params: unknown }
  | { t: 'result'; id: number; ok: true; value: unknown }
  | { t: 'result'; id: number; ok: false; error: { code: string; message: string } }
  | { t: 'ping'; n: number }
  | { t: 'pong'; n: number }
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string; fields?: Record<string, unknown> };

export class RpcError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

type Handler = (method: string, params: unknown) => Promise<unknown>;

/** Calls in both directions over one frame channel, each with a timeout. */
export class RpcPeer {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  private closed?: Error;

  constructor(
    private readonly send: (frame: Frame) => void,
    private readonly handler: Handler,
  ) {}

  call<T = unknown>(method: string, params: unknown, timeoutMs: number): Promise<T> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RpcError('timeout', `${method} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      try {
        this.send({ t: 'call', id, method, params });
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new RpcError('unavailable', (error as Error).message));
      }
    });
  }

  /** Feeds one incoming frame. Returns false for frames that are not calls or results. */
  receive(frame: Frame): boolean {
    if (frame.t === 'result') {
      const entry = this.pending.get(frame.id);
      if (!entry) return true;
      this.pending.delete(frame.id);
      clearTimeout(entry.timer);
      if (frame.ok) entry.resolve(frame.value);
      else entry.reject(new RpcError(frame.error.code, frame.error.message));
      return true;
    }
    if (frame.t === 'call') {
      void this.handler(frame.method, frame.params).then(
        (value) => this.safeSend({ t: 'result', id: frame.id, ok: true, value: value === undefined ? null : value }),
        (error: unknown) =>
          this.safeSend({
            t: 'result',
            id: frame.id,
            ok: false,
            error: {
              code: String((error as { code?: unknown })?.code ?? 'plugin_error').slice(0, 64),
              message: String((error as Error)?.message ?? error).slice(0, 2000),
            },
          }),
      );
      return true;
    }
    return false;
  }

  private safeSend(frame: Frame): void {
    try {
      this.send(frame);
    } catch {
      // The other side is gone; its supervisor notices.
    }
  }

  close(error: Error): void {
    this.closed = error;
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(error);
      this.pending.delete(id);
    }
  }
}
