import { Injectable } from '@nestjs/common';
import type { OutboxRow } from './outbox.entity.js';

/**
 * Tells the local relay about commits, so events do not wait for the next poll: either the committed rows
 * themselves (`committed`, which the MySQL relay publishes at once) or a wake-up to look for them (`notify`).
 */
@Injectable()
export class OutboxSignal {
  private waiter?: () => void;
  private pending = false;
  private markReady!: () => void;
  private takeCommitted?: (rows: readonly OutboxRow[]) => void;
  /**
   * Resolves once every module's `onApplicationBootstrap` has run (see `ApplicationReadyHook`), i.e. once every
   * consumer is subscribed. The in-process bus keeps no backlog, so the embedded relay must not publish before.
   */
  readonly applicationReady = new Promise<void>((resolve) => (this.markReady = resolve));

  markApplicationReady(): void {
    this.markReady();
  }

  /** The relay takes committed rows from here on (until `null`); without a taker, a commit only wakes the poll. */
  handCommittedTo(taker: ((rows: readonly OutboxRow[]) => void) | null): void {
    this.takeCommitted = taker ?? undefined;
  }

  /** A transaction of this instance committed these outbox rows. */
  committed(rows: readonly OutboxRow[]): void {
    if (rows.length === 0) return;
    if (this.takeCommitted) this.takeCommitted(rows);
    else this.notify();
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
