/**
 * Runs work for one key at a time, in the order it was asked for, while work for different keys runs
 * concurrently: per-conversation order inside a consumer that handles many conversations in parallel.
 * A failure is its caller's alone; the next piece of work for the key runs regardless.
 */
export class KeyedSerializer {
  private readonly chains = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    const tracked = next.finally(() => {
      if (this.chains.get(key) === tracked) this.chains.delete(key);
    });
    // The tracked promise is only ever awaited through `next`; its own rejection is the caller's.
    tracked.catch(() => undefined);
    this.chains.set(key, tracked);
    return next;
  }

  /** Settles once everything queued so far has run (for shutdown). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
  }
}
