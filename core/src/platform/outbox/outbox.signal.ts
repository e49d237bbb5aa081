import { Injectable } from '@nestjs/common';

/** Wakes the local relay right after a commit, so events do not wait for the next poll. */
@Injectable()
export class OutboxSignal {
  private waiter?: () => void;
  private pending = false;
  private markReady!: () => void;
  /**
   * Resolves once every module's `onApplicationBootstrap` has run (see `ApplicationReadyHook`), i.e. once every
   * consumer is subscribed. The in-process bus keeps no backlog, so the embedded relay must not publish before.
   */
  readonly applicationReady = new Promise<void>((resolve) => (this.markReady = resolve));

  markApplicationReady(): void {
    this.markReady();
  }

  notify(): void {
    if (this.waiter) {
      const wake = this.waiter;
      this.waiter = undefined;
      wake();
    } else {
      this.pending = true;
    }
  }

  wait(timeoutMs: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve();
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
