import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { BUS, type Bus, type Closable, type DeliveredMessage } from '../../src/platform/bus/bus.port.js';
import { BusError } from '../../src/platform/bus/bus.error.js';
import { MetricsService } from '../../src/platform/metrics/metrics.service.js';

/** A subject token nobody else in the (shared) test NATS server uses. */
const unique = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function counter(metrics: MetricsService, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await metrics.registry.getSingleMetric(name)?.get()) as { values: Array<{ value: number; labels: Record<string, string> }> } | undefined;
  return (metric?.values ?? [])
    .filter((value) => Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted))
    .reduce((sum, value) => sum + value.value, 0);
}

describe.each(backends().map((backend) => [backend.name, backend] as const))('bus on %s', (name, backend) => {
  let core: TestApp;
  let bus: Bus;
  let metrics: MetricsService;
  const handles: Closable[] = [];

  beforeAll(async () => {
    core = await startTestApp({ env: await backend.env() });
    bus = core.app.get<Bus>(BUS);
    metrics = core.app.get(MetricsService);
    expect(bus.kind).toBe(name === 'mariadb+nats' ? 'nats' : 'inprocess');
  });

  afterAll(async () => {
    await Promise.allSettled(handles.map((handle) => handle.close()));
    await core?.close();
  });

  it('drops a re-publish of the same message id', async () => {
    const subject = `sb.evt.${unique('dedup')}.happened`;
    const seen: string[] = [];
    handles.push(
      await bus.consume<{ n: number }>({
        name: unique('dedup-'),
        subject,
        delivery: 'one-instance',
        handler: async (message) => void seen.push(`${message.msgId}:${message.data.n}`),
      }),
    );
    await bus.publish(subject, { n: 1 }, { msgId: 'm-1' });
    await bus.publish(subject, { n: 2 }, { msgId: 'm-1' });
    await bus.publish(subject, { n: 3 }, { msgId: 'm-2' });
    await bus.publish(subject, { n: 4 }, { msgId: 'm-2' });
    await waitFor(() => seen.length >= 2, 10_000, 'two deliveries');
    await sleep(300);
    expect(seen.sort()).toEqual(['m-1:1', 'm-2:3']);
  });

  it('acks only after the handler succeeded, retrying with backoff in between', async () => {
    const subject = `sb.evt.${unique('retry')}.happened`;
    const consumer = unique('retry-');
    const attempts: Array<{ count: number; at: number }> = [];
    let releaseThird!: () => void;
    const thirdMayFinish = new Promise<void>((resolve) => (releaseThird = resolve));
    handles.push(
      await bus.consume({
        name: consumer,
        subject,
        delivery: 'one-instance',
        maxDeliver: 5,
        backoffMs: [150, 300],
        handler: async (message) => {
          attempts.push({ count: message.deliveryCount, at: Date.now() });
          if (message.deliveryCount < 3) throw new Error(`transient failure ${message.deliveryCount}`);
          await thirdMayFinish;
        },
      }),
    );
    await bus.publish(subject, { hello: 'world' }, { msgId: unique('r-') });
    await waitFor(() => attempts.length >= 3, 15_000, 'the third delivery');
    if (name === 'mariadb+nats') {
      // While the handler runs the message is still pending on the server: not acked yet.
      const info = await consumerInfo(core, consumer);
      expect(info.num_ack_pending).toBe(1);
      expect(info.ack_floor.stream_seq).toBe(0);
    }
    releaseThird();
    if (name === 'mariadb+nats') {
      await waitFor(async () => (await consumerInfo(core, consumer)).num_ack_pending === 0, 10_000, 'the ack');
      const info = await consumerInfo(core, consumer);
      expect(info.ack_floor.stream_seq).toBeGreaterThan(0);
      expect(info.num_redelivered).toBe(0);
    }
    await sleep(700);
    // Exactly three deliveries (no redelivery after the ack), spaced by at least the backoff.
    expect(attempts.map((attempt) => attempt.count)).toEqual([1, 2, 3]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(140);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(290);
    expect(await counter(metrics, 'sb_bus_redelivered_total', { consumer })).toBe(2);
    expect(await counter(metrics, 'sb_bus_consumed_total', { consumer, outcome: 'retry' })).toBe(2);
    expect(await counter(metrics, 'sb_bus_consumed_total', { consumer, outcome: 'ack' })).toBe(1);
  });

  it('moves a poison message to sb.dlq.* after maxDeliver, counts it, and keeps consuming', async () => {
    const token = unique('poison');
    const subject = `sb.evt.${token}.happened`;
    const consumer = unique('poison-');
    const attempts: number[] = [];
    const handled: string[] = [];
    const dead: Array<DeliveredMessage<{ bad: boolean }>> = [];
    handles.push(
      await bus.consume<{ bad: boolean }>({
        name: unique('dlq-reader-'),
        subject: `sb.dlq.evt.${token}.>`,
        delivery: 'one-instance',
        handler: async (message) => void dead.push(message),
      }),
    );
    handles.push(
      await bus.consume<{ bad: boolean }>({
        name: consumer,
        subject,
        delivery: 'one-instance',
        maxDeliver: 3,
        backoffMs: [20],
        handler: async (message) => {
          if (message.data.bad) {
            attempts.push(message.deliveryCount);
            throw new Error('cannot handle this');
          }
          handled.push(message.msgId);
        },
      }),
    );
    await bus.publish(subject, { bad: true }, { msgId: 'poison-1' });
    await bus.publish(subject, { bad: false }, { msgId: 'fine-1' });
    await waitFor(() => dead.length === 1 && handled.length === 1, 15_000, 'the dead letter and the good message');
    await sleep(300);
    expect(attempts).toEqual([1, 2, 3]);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.subject).toBe(`sb.dlq.evt.${token}.happened`);
    expect(dead[0]!.data).toEqual({ bad: true });
    expect(dead[0]!.headers['Sb-Dlq-Consumer']).toBe(consumer);
    expect(dead[0]!.headers['Sb-Dlq-Reason']).toContain('cannot handle this');
    expect(handled).toEqual(['fine-1']);
    expect(await counter(metrics, 'sb_bus_dead_lettered_total', { consumer })).toBe(1);
    expect(await counter(metrics, 'sb_bus_consumed_total', { consumer, outcome: 'dead_letter' })).toBe(1);
    if (name === 'mariadb+nats') {
      // The poison message is terminated, not left pending for redelivery.
      await waitFor(async () => (await consumerInfo(core, consumer)).num_ack_pending === 0, 10_000, 'the poison message to be settled');
    }
  });

  it('shares a one-instance consumer between subscribers and delivers each message once', async () => {
    const subject = `sb.evt.${unique('shared')}.happened`;
    const consumer = unique('shared-');
    const seen: string[] = [];
    for (let i = 0; i < 2; i++) {
      handles.push(await bus.consume({ name: consumer, subject, delivery: 'one-instance', concurrency: 4, handler: async (m) => void seen.push(m.msgId) }));
    }
    const ids = Array.from({ length: 50 }, (_, i) => `s-${i}`);
    await Promise.all(ids.map((id) => bus.publish(subject, { id }, { msgId: id })));
    await waitFor(() => seen.length >= ids.length, 15_000, 'all messages');
    await sleep(300);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it('does not count a message as delivered when its batch consumer closes before handling it', async () => {
    const subject = `sb.evt.${unique('closing')}.happened`;
    let releaseFirst!: () => void;
    const firstMayFinish = new Promise<void>((resolve) => (releaseFirst = resolve));
    const handled: string[] = [];
    const handle = await bus.consumeBatch<{ n: number }>({
      name: unique('closing-'),
      subject,
      maxBatch: 1,
      handleBatch: async (messages) => {
        handled.push(...messages.map((message) => message.msgId));
        await firstMayFinish;
      },
    });
    const first = bus.publish(subject, { n: 1 }, { msgId: unique('m1-') });
    await waitFor(() => handled.length === 1, 10_000, 'the first message in the handler');
    const second = bus.publish(subject, { n: 2 }, { msgId: unique('m2-') });
    const secondOutcome = second.then(
      () => 'delivered',
      (error: { code?: string }) => error.code ?? 'failed',
    );
    await sleep(100);
    const closed = handle.close();
    releaseFirst();
    await closed;
    await first;
    if (bus.kind === 'inprocess') {
      // Embedded mode keeps no backlog: the publisher (the outbox relay) must keep the event pending.
      expect(await secondOutcome).toBe('bus_unavailable');
    } else {
      // JetStream keeps it in the stream for the next consumer; the publish itself succeeded.
      expect(await secondOutcome).toBe('delivered');
    }
    expect(handled).toHaveLength(1);
  });

  it('hands a backlog to a batch consumer in batches, in publish order, acking each message after its batch', async () => {
    const subject = `sb.evt.${unique('batch')}.happened`;
    const consumer = unique('batch-');
    const batches: string[][] = [];
    let releaseFirst!: () => void;
    const firstMayFinish = new Promise<void>((resolve) => (releaseFirst = resolve));
    handles.push(
      await bus.consumeBatch<{ n: number }>({
        name: consumer,
        subject,
        maxBatch: 8,
        maxWaitMs: 20,
        handleBatch: async (messages) => {
          batches.push(messages.map((message) => message.msgId));
          if (batches.length === 1) await firstMayFinish;
        },
      }),
    );
    const ids = Array.from({ length: 30 }, (_, i) => `b-${String(i).padStart(2, '0')}`);
    // Not awaited one by one: the in-process bus resolves a publish after its first attempt.
    const published = Promise.all([bus.publish(subject, { n: 0 }, { msgId: ids[0]! })]);
    await waitFor(() => batches.length === 1, 10_000, 'the first batch');
    const rest = ids.slice(1).map((id, i) => bus.publish(subject, { n: i + 1 }, { msgId: id }));
    if (name === 'mariadb+nats') {
      await Promise.all(rest);
      // The first batch's handler has not returned: its message is still pending, nothing is acked.
      await waitFor(async () => (await consumerInfo(core, consumer)).num_ack_pending >= 2, 10_000, 'the backlog to be pending');
      expect((await consumerInfo(core, consumer)).ack_floor.stream_seq).toBe(0);
    }
    releaseFirst();
    await Promise.all([published, ...rest]);
    await waitFor(() => batches.flat().length >= ids.length, 15_000, 'every message');
    await sleep(300);
    expect(batches.flat()).toEqual(ids);
    expect(Math.max(...batches.map((batch) => batch.length))).toBeLessThanOrEqual(8);
    // The backlog went through in a few full batches, not one message at a time.
    expect(batches.length).toBeLessThanOrEqual(12);
    expect(await counter(metrics, 'sb_bus_consumed_total', { consumer, outcome: 'ack' })).toBe(30);
    if (name === 'mariadb+nats') {
      await waitFor(async () => (await consumerInfo(core, consumer)).num_ack_pending === 0, 10_000, 'the acks');
      expect((await consumerInfo(core, consumer)).num_redelivered).toBe(0);
    }
  });

  it('splits a failed batch: the good messages are handled once, a poison message is retried alone and dead-lettered', async () => {
    const token = unique('batchpoison');
    const subject = `sb.evt.${token}.happened`;
    const consumer = unique('batchpoison-');
    const committed: string[] = [];
    const attempts: number[] = [];
    const dead: string[] = [];
    let transient = true;
    handles.push(
      await bus.consume<{ bad: boolean }>({
        name: unique('batch-dlq-reader-'),
        subject: `sb.dlq.evt.${token}.>`,
        delivery: 'one-instance',
        handler: async (message) => void dead.push(message.headers['Sb-Dlq-Consumer'] ?? ''),
      }),
    );
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    handles.push(
      await bus.consumeBatch<{ bad: boolean; n: number }>({
        name: consumer,
        subject,
        maxBatch: 20,
        maxWaitMs: 20,
        maxDeliver: 3,
        backoffMs: [30],
        handleBatch: async (messages) => {
          await gate;
          // A failure rolls the whole batch back: nothing of it counts as committed.
          if (messages.length > 1 && transient) {
            transient = false;
            throw new Error('deadlock, say');
          }
          const bad = messages.find((message) => message.data.bad);
          if (bad) {
            if (messages.length === 1) attempts.push(bad.deliveryCount);
            throw new Error('cannot handle this');
          }
          committed.push(...messages.map((message) => message.msgId));
        },
      }),
    );
    const ids = Array.from({ length: 10 }, (_, i) => `p-${i}`);
    const publishes = ids.map((id, i) => bus.publish(subject, { bad: i === 4, n: i }, { msgId: id }));
    await sleep(name === 'mariadb+nats' ? 300 : 50);
    release();
    await Promise.all(publishes);
    await waitFor(() => dead.length === 1 && committed.length === 9, 15_000, 'the good messages and the dead letter');
    await sleep(300);
    expect([...committed].sort()).toEqual(ids.filter((id) => id !== 'p-4').sort());
    expect(attempts).toEqual([1, 2, 3]);
    expect(dead).toEqual([consumer]);
    expect(await counter(metrics, 'sb_bus_dead_lettered_total', { consumer })).toBe(1);
    if (name === 'mariadb+nats') {
      await waitFor(async () => (await consumerInfo(core, consumer)).num_ack_pending === 0, 10_000, 'every message to be settled');
    }
  });

  it('shares a batch consumer between subscribers and hands each message to one of them', async () => {
    const subject = `sb.evt.${unique('batchshared')}.happened`;
    const consumer = unique('batchshared-');
    const seen: string[] = [];
    for (let i = 0; i < 2; i++) {
      handles.push(
        await bus.consumeBatch({ name: consumer, subject, maxBatch: 5, handleBatch: async (messages) => void seen.push(...messages.map((m) => m.msgId)) }),
      );
    }
    const ids = Array.from({ length: 40 }, (_, i) => `bs-${i}`);
    await Promise.all(ids.map((id) => bus.publish(subject, { id }, { msgId: id })));
    await waitFor(() => seen.length >= ids.length, 15_000, 'all messages');
    await sleep(300);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it('answers requests, reports remote errors, and says no_responders when nobody serves', async () => {
    const subject = `sb.plugin.${unique('echo')}.call`;
    handles.push(
      await bus.reply<{ text: string }, { echoed: string }>(subject, async (data) => {
        if (data.text === 'fail') throw new Error('plugin exploded');
        return { echoed: data.text.toUpperCase() };
      }),
    );
    await expect(bus.request(subject, { text: 'hi 你好' })).resolves.toEqual({ echoed: 'HI 你好' });
    const remote = await bus.request(subject, { text: 'fail' }).catch((error: unknown) => error);
    expect(remote).toBeInstanceOf(BusError);
    expect((remote as BusError).code).toBe('remote_error');
    expect((remote as BusError).message).toContain('plugin exploded');

    const nobody = await bus.request(`sb.plugin.${unique('nobody')}.call`, {}, { timeoutMs: 2000 }).catch((error: unknown) => error);
    expect(nobody).toBeInstanceOf(BusError);
    expect((nobody as BusError).code).toBe('no_responders');
    expect((nobody as BusError).status).toBe(503);

    const slowSubject = `sb.plugin.${unique('slow')}.call`;
    handles.push(await bus.reply(slowSubject, () => sleep(1000).then(() => 'late')));
    const slow = await bus.request(slowSubject, {}, { timeoutMs: 100 }).catch((error: unknown) => error);
    expect((slow as BusError).code).toBe('timeout');
  });

  it('fans out broadcasts to listeners', async () => {
    const subject = `sb.rt.${unique('fan')}`;
    const got: unknown[] = [];
    handles.push(bus.listen(subject, (data) => void got.push(data)));
    if (name === 'mariadb+nats') await sleep(100);
    bus.broadcast(subject, { hello: 1 });
    await waitFor(() => got.length === 1, 5000, 'the broadcast');
    expect(got).toEqual([{ hello: 1 }]);
  });

  it('counts publishes in the metrics', async () => {
    const before = await counter(metrics, 'sb_bus_published_total', {});
    await bus.publish(`sb.evt.${unique('count')}.x`, {}, { msgId: unique('c-') });
    expect(await counter(metrics, 'sb_bus_published_total', {})).toBe(before + 1);
  });
});

interface ConsumerInfoLike {
  num_ack_pending: number;
  num_redelivered: number;
  ack_floor: { stream_seq: number };
}

async function consumerInfo(core: TestApp, consumer: string): Promise<ConsumerInfoLike> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: core.config.bus.kind === 'nats' ? core.config.bus.url : '' });
  try {
    const jsm = await jetstreamManager(nc);
    return (await jsm.consumers.info('SB_EVENTS', consumer)) as unknown as ConsumerInfoLike;
  } finally {
    await nc.close();
  }
}
