/**
 * Runs queued calls together at the end of the current event-loop turn (one `setImmediate`).
 *
 * nats.js flushes its outbound buffer from a microtask, so commands issued from separate I/O callbacks
 * (the acks of handlers whose transactions committed one after another) each cost a write syscall. On
 * loopback one write costs tens of microseconds of CPU, on the sender and on the server, and acks were
 * half of all the core's writes under message load. Queued here, the acks of one turn leave in one write.
 */
export class TurnCoalescer {
  private pending: Array<() => void> = [];
  private scheduled?: NodeJS.Immediate;

  constructor(private readonly onError: (error: unknown) => void = () => undefined) {}

  run(call: () => void): void {
    this.pending.push(call);
    this.scheduled ??= setImmediate(() => this.flush());
  }

  /** Runs everything queued now (before a drain or close, so nothing queued is dropped). */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const calls = this.pending;
    this.pending = [];
    for (const call of calls) {
      try {
        call();
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
