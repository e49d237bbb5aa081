import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { In, type DataSource } from 'typeorm';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { BUS, type Bus, type Closable } from '../../src/platform/bus/bus.port.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { UnitOfWork } from '../../src/platform/database/unit-of-work.js';
import { IdempotentConsumers } from '../../src/platform/outbox/idempotent-consumers.js';
import type { EventEnvelope } from '../../src/platform/outbox/outbox.entity.js';
import { OutboxRow } from '../../src/platform/outbox/outbox.entity.js';
import { ProcessedEvent } from '../../src/platform/outbox/processed-event.entity.js';
import { MetricsService } from '../../src/platform/metrics/metrics.service.js';

const unique = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(backends().map((backend) => [backend.name, backend] as const))('outbox on %s', (name, backend) => {
  /** Two instances on one store with MariaDB+NATS (both relay); one in embedded mode. */
  const cores: TestApp[] = [];
  const handles: Closable[] = [];
  let dataSource: DataSource;

  beforeAll(async () => {
    const env = await backend.env();
    cores.push(await startTestApp({ env }));
    if (name === 'mariadb+nats') cores.push(await startTestApp({ env }));
    dataSource = cores[0]!.app.get<DataSource>(DATA_SOURCE);
  });

  afterAll(async () => {
    await Promise.allSettled(handles.map((handle) => handle.close()));
    for (const core of cores.reverse()) await core.close();
  });

  it('publishes every committed event exactly once, and never a rolled-back one', async () => {
    const module = unique('relay');
    const subject = `sb.evt.${module}.happened`;
    const deliveries = new Map<string, number>();
    const bus = cores[0]!.app.get<Bus>(BUS);
    handles.push(
      await bus.consume<EventEnvelope<{ n: number }>>({
        name: unique('relay-count-'),
        subject,
        delivery: 'one-instance',
        concurrency: 8,
        handler: async (message) => {
          expect(message.msgId).toBe(message.data.id);
          deliveries.set(message.data.id, (deliveries.get(message.data.id) ?? 0) + 1);
        },
      }),
    );
    const committed: string[] = [];
    const rolledBack: string[] = [];
    const total = 300;
    await Promise.all(
      Array.from({ length: total }, async (_, n) => {
        const core = cores[n % cores.length]!;
        const id = randomUUID();
        const fail = n % 7 === 3;
        try {
          await core.app.get(UnitOfWork).run(async (tx) => {
            await tx.emit({ subject, id, data: { n } });
            // A second event per transaction on every tenth one.
            if (n % 10 === 0) {
              const second = randomUUID();
              await tx.emit({ subject, id: second, data: { n } });
              tx.afterCommit(() => committed.push(second));
              if (fail) rolledBack.push(second);
            }
            if (fail) throw new Error('rolled back on purpose');
          });
          committed.push(id);
        } catch {
          rolledBack.push(id);
        }
      }),
    );
    expect(rolledBack.length).toBeGreaterThan(0);
    await waitFor(() => committed.every((id) => deliveries.has(id)), 30_000, 'every committed event');
    await sleep(500);
    const duplicates = [...deliveries.entries()].filter(([, count]) => count !== 1);
    expect(duplicates).toEqual([]);
    expect(rolledBack.filter((id) => deliveries.has(id))).toEqual([]);
    expect(deliveries.size).toBe(committed.length);
    // Every row is marked sent; none is left pending.
    await waitFor(async () => (await pendingRows(dataSource, subject)) === 0, 10_000, 'the outbox to drain');

    if (name === 'mariadb+nats') {
      // The stream itself holds each event once (the two relays never double-published).
      const stored = await readStream(cores[0]!, subject);
      expect(stored.length).toBe(committed.length);
      expect(new Set(stored).size).toBe(committed.length);
    }
  });

  if (name === 'mariadb+nats') {
    it('publishes an event at its commit, not in a poll round, and leaves one it could not publish to the poll', async () => {
      // A store of its own, so that no other instance's poll publishes these events.
      const core = await startTestApp({ env: await backend.env() });
      const relayed = async (path: 'commit' | 'poll') =>
        (await core.app.get(MetricsService).outboxRelayed.get()).values.find((value) => value.labels.path === path)?.value ?? 0;
      try {
        const subject = `sb.evt.${unique('handoff')}.happened`;
        const deliveries = new Map<string, number>();
        const bus = core.app.get<Bus>(BUS);
        handles.push(
          await bus.consume<EventEnvelope<{ n: number }>>({
            name: unique('handoff-count-'),
            subject,
            delivery: 'one-instance',
            handler: async (message) => void deliveries.set(message.data.id, (deliveries.get(message.data.id) ?? 0) + 1),
          }),
        );
        const emit = (id: string) => core.app.get(UnitOfWork).run(async (tx) => void (await tx.emit({ subject, id, data: { n: 1 } })));
        const sentAt = async (id: string) => (await core.app.get<DataSource>(DATA_SOURCE).getRepository(OutboxRow).findOneByOrFail({ eventId: id })).sentAt;

        const handedOver = randomUUID();
        await emit(handedOver);
        await waitFor(() => deliveries.has(handedOver), 5_000, 'the event published at its commit');
        // Counted once the publish is acknowledged, which may come after the delivery.
        await waitFor(async () => (await relayed('commit')) >= 1, 5_000, 'the publish at commit counted');
        const polledBefore = await relayed('poll');
        await waitFor(async () => (await sentAt(handedOver)) !== null, 5_000, 'the row marked sent');

        // Fault injection: NATS refuses this one publish at commit. The row stays pending, and the poll it wakes publishes it.
        const refused = randomUUID();
        const publishEncoded = bus.publishEncoded!.bind(bus);
        let attempts = 0;
        bus.publishEncoded = async (subjectOut, json, options) => {
          if (options.msgId === refused && attempts++ === 0) throw new Error('injected: NATS unavailable');
          return publishEncoded(subjectOut, json, options);
        };
        try {
          await emit(refused);
          await waitFor(() => deliveries.has(refused), 5_000, 'the refused event published by the poll');
        } finally {
          bus.publishEncoded = publishEncoded;
        }
        expect(attempts).toBe(2);
        await waitFor(async () => (await relayed('poll')) > polledBefore, 5_000, 'the poll counted it');
        await waitFor(async () => (await sentAt(refused)) !== null, 5_000, 'the refused row marked sent');
        await sleep(300);
        expect(deliveries.get(handedOver)).toBe(1);
        expect(deliveries.get(refused)).toBe(1);
      } finally {
        await core.close();
      }
    });
  }

  it('processes a redelivered or re-published event once (idempotent consumer)', async () => {
    const module = unique('idem');
    const subject = `sb.evt.${module}.happened`;
    const effectSubject = `sb.evt.${module}.effect`;
    const consumer = unique('idem-consumer-');
    const committedEffects: string[] = [];
    let calls = 0;
    let failFirst = true;
    const register = (core: TestApp) =>
      core.app.get(IdempotentConsumers).register<{ n: number }>({
        name: consumer,
        subject,
        backoffMs: [20],
        handle: async (event, tx) => {
          calls++;
          // Its effect is a write in the same transaction as the processed marker.
          await tx.emit({ subject: effectSubject, id: `effect:${event.id}`, data: { of: event.id } });
          if (failFirst) {
            failFirst = false;
            throw new Error('fails once after writing');
          }
          tx.afterCommit(() => committedEffects.push(event.id));
        },
      });
    for (const core of cores) handles.push(await register(core));

    const envelope = testEnvelope(subject, { n: 1 });
    const bus = cores[0]!.app.get<Bus>(BUS);
    // The same event arrives three times under different message ids (a relay crash, a replay).
    await bus.publish(subject, envelope, { msgId: envelope.id });
    await waitFor(() => committedEffects.length === 1, 10_000, 'the effect');
    await bus.publish(subject, envelope, { msgId: `${envelope.id}:replay-1` });
    await bus.publish(subject, envelope, { msgId: `${envelope.id}:replay-2` });
    await sleep(700);
    expect(committedEffects).toEqual([envelope.id]);
    expect(calls).toBe(2); // the failed attempt and the one that committed; copies never reach the handler
    expect(await dataSource.manager.countBy(ProcessedEvent, { consumer, eventId: envelope.id })).toBe(1);
    expect(await dataSource.manager.countBy(OutboxRow, { eventId: `effect:${envelope.id}` })).toBe(1);
  });

  it('batches an idempotent consumer: events share transactions, copies and filtered events never reach the handler, a poison event holds nothing back', async () => {
    const module = unique('batch');
    const subject = `sb.evt.${module}.happened`;
    const consumer = unique('batch-consumer-');
    const handled: number[] = [];
    const transactions = new Set<unknown>();
    let poisonAttempts = 0;
    const bus = cores[0]!.app.get<Bus>(BUS);
    const envelopes = Array.from({ length: 120 }, (_, n) => testEnvelope(subject, { n, skip: n % 10 === 9 }));
    for (const core of cores)
      handles.push(
        await core.app.get(IdempotentConsumers).register<{ n: number; skip: boolean }>({
          name: consumer,
          subject,
          batch: 25,
          backoffMs: [20],
          filter: (event) => !event.data.skip,
          handle: async (event, tx) => {
            transactions.add(tx);
            if (event.data.n === 42 && poisonAttempts++ < 1) throw new Error('poison, once');
            tx.afterCommit(() => handled.push(event.data.n));
          },
        }),
      );
    // Published all at once, so they queue up behind the first batch and arrive in batches.
    await Promise.all(envelopes.map((envelope) => bus.publish(subject, envelope, { msgId: envelope.id })));
    // The same event again under another message id (a replay): handled once.
    await bus.publish(subject, envelopes[3]!, { msgId: `${envelopes[3]!.id}:replay` });
    const expected = envelopes.filter((envelope) => !envelope.data.skip).map((envelope) => envelope.data.n);
    await waitFor(() => handled.length >= expected.length, 20_000, 'every wanted event handled');
    await sleep(500);
    expect([...handled].sort((a, b) => a - b)).toEqual(expected);
    expect(poisonAttempts).toBe(2);
    // 108 wanted events in far fewer transactions (batches of up to 25, a split batch runs its events alone).
    expect(transactions.size).toBeLessThan(60);
    expect(await dataSource.manager.countBy(ProcessedEvent, { consumer })).toBe(expected.length);
    expect(await dataSource.manager.countBy(ProcessedEvent, { consumer, eventId: envelopes[9]!.id })).toBe(0);
  });

  it('prepares and finishes each batch once in its transaction, waits for partial batches, and lets a precheck skip events, single or batched, without a transaction', async () => {
    const module = unique('prep');
    const subject = `sb.evt.${module}.happened`;
    const bus = cores[0]!.app.get<Bus>(BUS);
    const envelope = (n: number, wanted = true) => testEnvelope(subject, { n, wanted });

    // Batches: prepare sees the batch's new events, in the batch's own transaction, before the handler.
    const batchConsumer = unique('prep-batch-');
    const prepared = new Map<unknown, number[]>();
    const seenByHandler: Array<{ n: number; preparedInTx: boolean }> = [];
    const precheckedBatches: number[][] = [];
    const handledIn: unknown[] = [];
    const finished: unknown[] = [];
    for (const core of cores)
      handles.push(
        await core.app.get(IdempotentConsumers).register<{ n: number; wanted: boolean }>({
          name: batchConsumer,
          subject,
          batch: 50,
          batchWaitMs: 150,
          precheck: async (events) => {
            precheckedBatches.push(events.map((event) => event.data.n));
            return events.map((event) => event.data.wanted);
          },
          prepare: async (events, tx) => {
            prepared.set(
              tx,
              events.map((event) => event.data.n),
            );
          },
          handle: async (event, tx) => {
            seenByHandler.push({ n: event.data.n, preparedInTx: prepared.get(tx)?.includes(event.data.n) ?? false });
            handledIn.push(tx);
          },
          finish: async (tx) => void finished.push(tx),
        }),
      );
    // Published one by one with pauses shorter than the wait: they still end up in few batches.
    // (Not awaited one by one: the in-process bus resolves a publish only after its first delivery attempt.)
    // Among them three that the precheck rejects (n 20-22): never handled, never marked.
    const published: Array<Promise<void>> = [];
    const unwantedIds: string[] = [];
    for (let n = 0; n < 12; n++) {
      const event = envelope(n);
      published.push(bus.publish(subject, event, { msgId: event.id }));
      if (n % 4 === 1) {
        const unwantedEvent = envelope(20 + (n - 1) / 4, false);
        unwantedIds.push(unwantedEvent.id);
        published.push(bus.publish(subject, unwantedEvent, { msgId: unwantedEvent.id }));
      }
      await sleep(5);
    }
    await Promise.all(published);
    await waitFor(() => seenByHandler.length >= 12, 15_000, 'every event handled');
    await waitFor(() => [20, 21, 22].every((n) => precheckedBatches.flat().includes(n)), 10_000, 'the unwanted events prechecked');
    expect(seenByHandler.map((seen) => seen.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, n) => n));
    expect(await dataSource.manager.countBy(ProcessedEvent, { consumer: batchConsumer, eventId: In(unwantedIds) })).toBe(0);
    // finish ran once in every transaction that handled events (batched or single), after them.
    await waitFor(() => new Set(handledIn).size === finished.length, 5_000, 'every transaction finished');
    expect(new Set(finished).size).toBe(finished.length);
    expect(new Set(finished)).toEqual(new Set(handledIn));
    // Every event of a prepared batch was in its prepare call; single events are never prepared.
    const batched = seenByHandler.filter((seen) => seen.preparedInTx).length;
    expect([...prepared.values()].every((ns) => ns.length > 1)).toBe(true);
    if (bus.kind === 'nats') {
      // Spaced events waited for each other (batchWaitMs) and were prechecked and prepared together.
      expect(precheckedBatches.some((batch) => batch.length > 1)).toBe(true);
      expect(batched).toBeGreaterThanOrEqual(10);
      expect(prepared.size).toBeLessThanOrEqual(4);
    } else {
      // In-process publishes wait for the consumer, so a partial batch is never held back there.
      expect(prepared.size).toBeLessThanOrEqual(12);
    }

    // Single events: a rejecting precheck means no transaction and no marker; an accepting one proceeds.
    const singleConsumer = unique('prep-single-');
    const handled: number[] = [];
    const prechecked: number[] = [];
    for (const core of cores)
      handles.push(
        await core.app.get(IdempotentConsumers).register<{ n: number; wanted: boolean }>({
          name: singleConsumer,
          subject,
          precheck: async (events) => {
            prechecked.push(...events.map((event) => event.data.n));
            await sleep(1); // a precheck may do I/O
            return events.map((event) => event.data.wanted);
          },
          handle: async (event, tx) => tx.afterCommit(() => handled.push(event.data.n)),
        }),
      );
    const wanted = envelope(100);
    const unwanted = envelope(101, false);
    await bus.publish(subject, wanted, { msgId: wanted.id });
    await bus.publish(subject, unwanted, { msgId: unwanted.id });
    await waitFor(() => prechecked.includes(100) && prechecked.includes(101) && handled.includes(100), 10_000, 'both prechecked');
    await sleep(300);
    expect(handled.filter((n) => n >= 100)).toEqual([100]);
    expect(await dataSource.manager.countBy(ProcessedEvent, { consumer: singleConsumer, eventId: wanted.id })).toBe(1);
    expect(await dataSource.manager.countBy(ProcessedEvent, { consumer: singleConsumer, eventId: unwanted.id })).toBe(0);
  });
});

/** A domain event envelope as the outbox writes them, with a fresh id. */
function testEnvelope<T>(subject: string, data: T): EventEnvelope<T> {
  return { id: randomUUID(), subject, occurredAt: new Date().toISOString(), source: 'test', data };
}

async function pendingRows(dataSource: DataSource, subject: string): Promise<number> {
  const [row] = (await dataSource.query('SELECT COUNT(*) AS n FROM outbox WHERE subject = ? AND sent_at IS NULL', [subject])) as Array<{ n: number | string }>;
  return Number(row?.n ?? 0);
}

/** Every event id stored in SB_EVENTS under `subject`, read straight from the stream. */
export async function readStream(core: TestApp, subject: string): Promise<string[]> {
  if (core.config.bus.kind !== 'nats') throw new Error('readStream needs NATS');
  const { connect } = await import('@nats-io/transport-node');
  const { jetstream, DeliverPolicy } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: core.config.bus.url });
  try {
    const js = jetstream(nc);
    const consumer = await js.consumers.get('SB_EVENTS', { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
    const ids: string[] = [];
    const pending = (await consumer.info(true)).num_pending;
    if (pending === 0) return ids;
    const messages = await consumer.fetch({ max_messages: pending, expires: 5000 });
    for await (const message of messages) {
      ids.push((message.json() as { id: string }).id);
      if (message.info.pending === 0) break;
    }
    return ids;
  } finally {
    await nc.close();
  }
}
