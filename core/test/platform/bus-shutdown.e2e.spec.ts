import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { backends, isolatedNatsUrl, mysqlAvailable, startTestApp, waitFor } from '../harness/test-app.js';
import type { Bus, Closable, DeliveredMessage } from '../../src/platform/bus/bus.port.js';
import { NatsBus } from '../../src/platform/bus/nats.bus.js';
import { MetricsService } from '../../src/platform/metrics/metrics.service.js';
import { OutboxRelay } from '../../src/platform/outbox/outbox.relay.js';
import { OutboxSignal } from '../../src/platform/outbox/outbox.signal.js';
import { WalDurability } from '../../src/platform/database/wal-durability.js';
import type { AppConfig } from '../../src/platform/config/app-config.js';
import type { DataSource } from 'typeorm';
import { systemClock } from '../../src/platform/clock/clock.js';

/**
 * Shutdown right after start: closing a consumer whose loop has not subscribed yet (its first
 * `consumers.get` / `consume()` still pending) used to hang forever, because the loop subscribed
 * afterwards and then waited for messages nobody would send. `BotRuntime.onModuleDestroy` (and every
 * other module closing consumers) then never returned.
 */
const CLOSE_BOUND_MS = 10_000;
const unique = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the time `work` took; rejects when it takes longer than `ms`. */
async function bounded(work: () => Promise<unknown>, ms: number, what: string): Promise<number> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return Date.now() - started;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

describe.each(backends().map((backend) => [backend.name, backend] as const))('app shutdown right after start on %s', (_name, backend) => {
  it('closes within the bound when closed before it is ready (twice)', async () => {
    for (let round = 0; round < 2; round++) {
      const core = await startTestApp({ env: await backend.env() });
      await bounded(() => core.close(), CLOSE_BOUND_MS, `app.close() (round ${round + 1})`);
    }
  });
});

describe('embedded outbox relay destroyed before the application was ready', () => {
  it('stops at once instead of waiting for the ready signal (up to 30 s)', async () => {
    const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used before ready')) });
    const relay = new OutboxRelay(
      unused as DataSource,
      { outbox: { batchSize: 10, pollIntervalMs: 50 } } as AppConfig,
      { kind: 'inprocess' } as Bus,
      systemClock,
      new MetricsService(),
      new OutboxSignal(), // never marked ready: no AppModule hook ran
      new WalDurability(unused as DataSource),
    );
    relay.onApplicationBootstrap();
    const took = await bounded(() => relay.onModuleDestroy(), CLOSE_BOUND_MS, 'relay.onModuleDestroy()');
    expect(took).toBeLessThan(1000);
  });
});

const natsDescribe = mysqlAvailable() ? describe : describe.skip;

natsDescribe('NatsBus consumer closed while it is still subscribing', () => {
  let bus: NatsBus;
  /** A second bus (another "instance") that checks what the first one left on the server. */
  let other: NatsBus;
  const handles: Closable[] = [];

  const newBus = (url: string) => new NatsBus({ kind: 'nats', url, replicas: 1 }, unique('t-'), new MetricsService(), { maxDeliver: 5, backoffMs: [20, 50] });

  beforeAll(async () => {
    const url = await isolatedNatsUrl();
    bus = newBus(url);
    other = newBus(url);
    await bus.start();
    await other.start();
  });

  afterAll(async () => {
    await Promise.allSettled(handles.map((handle) => handle.close()));
    await bus?.close();
    await other?.close();
  });

  /** Makes the bus's next `js.consumers.get` wait until the returned gate is opened. */
  function holdConsumersGet(target: NatsBus): { opened: Promise<void>; open: () => void; restore: () => void } {
    const js = (target as unknown as { js: { consumers: { get: (...args: unknown[]) => Promise<unknown> } } }).js;
    const original = js.consumers.get.bind(js.consumers);
    const gate = deferred<void>();
    const called = deferred<void>();
    js.consumers.get = async (...args: unknown[]) => {
      called.resolve();
      await gate.promise;
      return original(...args);
    };
    return { opened: called.promise, open: () => gate.resolve(), restore: () => (js.consumers.get = original) };
  }

  it.each(['one-instance', 'each-instance', 'batch'] as const)('%s: close() returns at once, also when consumers.get answers afterwards', async (kind) => {
    const subject = `sb.evt.${unique('early')}.happened`;
    const seen: string[] = [];
    const hold = holdConsumersGet(bus);
    try {
      const handle =
        kind === 'batch'
          ? await bus.consumeBatch({ name: unique('early-'), subject, maxBatch: 10, handleBatch: async (ms) => void seen.push(...ms.map((m) => m.msgId)) })
          : await bus.consume({ name: unique('early-'), subject, delivery: kind, handler: async (m) => void seen.push(m.msgId) });
      await hold.opened;
      const closing = handle.close();
      await sleep(50);
      hold.open();
      const took = await bounded(() => closing, CLOSE_BOUND_MS, `${kind} consumer close()`);
      expect(took).toBeLessThan(2000);
    } finally {
      hold.restore();
    }
    // Nothing subscribes behind the closed handle.
    await bus.publish(subject, { n: 1 }, { msgId: unique('m-') });
    await sleep(500);
    expect(seen).toEqual([]);
  });

  it('close() does not wait for a consumers.get that never answers', async () => {
    const hold = holdConsumersGet(bus);
    try {
      const plain = await bus.consume({
        name: unique('stuck-'),
        subject: `sb.evt.${unique('stuck')}.happened`,
        delivery: 'one-instance',
        handler: async () => undefined,
      });
      const batch = await bus.consumeBatch({ name: unique('stuck-'), subject: `sb.evt.${unique('stuck')}.happened`, handleBatch: async () => undefined });
      await hold.opened;
      const took = await bounded(() => Promise.all([plain.close(), batch.close()]), CLOSE_BOUND_MS, 'close() of stuck consumers');
      expect(took).toBeLessThan(2000);
    } finally {
      hold.open();
      hold.restore();
    }
  });

  it.each(['consume', 'consumeBatch'] as const)('%s: closing right after subscribing, repeatedly, never hangs and loses nothing', async (kind) => {
    const subject = `sb.evt.${unique('churn')}.happened`;
    const name = unique('churn-');
    const handled = new Set<string>();
    const ids = Array.from({ length: 20 }, (_, index) => `churn-${index}-${randomBytes(3).toString('hex')}`);
    const open = async (target: NatsBus): Promise<Closable> => {
      const record = async (messages: Array<DeliveredMessage<unknown>>) => {
        for (const message of messages) handled.add(message.msgId);
      };
      return kind === 'consume'
        ? target.consume({ name, subject, delivery: 'one-instance', concurrency: 4, handler: (message) => record([message]) })
        : target.consumeBatch({ name, subject, maxBatch: 5, handleBatch: record });
    };
    // Create the durable consumer, then publish a backlog for it.
    await bounded(async () => (await open(bus)).close(), CLOSE_BOUND_MS, 'first close()');
    for (const id of ids) await bus.publish(subject, { id }, { msgId: id });
    // Open and close at once, at several points of the subscription; each close is bounded.
    for (const delayMs of [0, 0, 1, 5, 20, 50]) {
      const handle = await open(bus);
      if (delayMs) await sleep(delayMs);
      await bounded(() => handle.close(), CLOSE_BOUND_MS, `close() after ${delayMs} ms`);
    }
    // Another instance gets every message that was not handled: none was acknowledged unhandled.
    // (Unhandled ones the closed consumers held are nak'd at close; a short ack_wait covers any
    // that were still on their way to a closed subscription.)
    const jsm = (other as unknown as { jsm: { consumers: { update: (stream: string, name: string, config: object) => Promise<unknown> } } }).jsm;
    await jsm.consumers.update('SB_EVENTS', name, { ack_wait: 1_000_000_000 });
    const handle = await open(other);
    handles.push(handle);
    await waitFor(() => ids.every((id) => handled.has(id)), 20_000, 'every message handled');
  });
  it.each(['consume', 'consumeBatch'] as const)(
    '%s: messages received but not handled when closed go back to the server within seconds, unacknowledged',
    async (kind) => {
      const subject = `sb.evt.${unique('held')}.happened`;
      const name = unique('held-');
      const ids = Array.from({ length: 10 }, (_, index) => `held-${index}-${randomBytes(3).toString('hex')}`);
      const first: string[] = [];
      const later: string[] = [];
      const gate = deferred<void>();
      const started = deferred<void>();
      const blockingHandler = async (messages: Array<DeliveredMessage<unknown>>) => {
        started.resolve();
        await gate.promise;
        first.push(...messages.map((message) => message.msgId));
      };
      // Create the durable consumer, publish a backlog, then take part of it and block in the handler.
      const open = (target: NatsBus, record: (messages: Array<DeliveredMessage<unknown>>) => Promise<void>) =>
        kind === 'consume'
          ? target.consume({ name, subject, delivery: 'one-instance', handler: (message) => record([message]) })
          : target.consumeBatch({ name, subject, maxBatch: 2, handleBatch: record });
      await (await open(bus, async () => undefined)).close();
      for (const id of ids) await bus.publish(subject, { id }, { msgId: id });
      const handle = await open(bus, blockingHandler);
      await started.promise;
      await sleep(300); // the subscription buffers more than the handler holds
      const closing = handle.close();
      await sleep(50);
      gate.resolve(); // the message(s) in the handler finish and are acked; the rest are handed back
      await bounded(() => closing, CLOSE_BOUND_MS, 'close()');
      expect(first.length).toBeGreaterThan(0);
      expect(first.length).toBeLessThan(ids.length);
      // ack_wait is 60 s: getting the rest within seconds means they were handed back (nak'd after
      // the closed subscription's pull requests expired), not left pending. (A duplicate is allowed.)
      handles.push(await open(other, async (messages) => void later.push(...messages.map((message) => message.msgId))));
      const all = () => new Set([...first, ...later]);
      await waitFor(() => all().size >= ids.length, 20_000, 'the rest of the backlog on the other instance');
      expect([...all()].sort()).toEqual([...ids].sort());
    },
  );
});
