import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '../../src/platform/database/data-source.factory.js';
import { WalDurability } from '../../src/platform/database/wal-durability.js';
import { WalCheckpointer } from '../../src/platform/database/wal-checkpointer.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { UnitOfWork } from '../../src/platform/database/unit-of-work.js';
import { ProcessedEvent } from '../../src/platform/outbox/processed-event.entity.js';
import { BUS, type Bus, type Closable } from '../../src/platform/bus/bus.port.js';
import { SQLITE_BACKEND, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';

/** The log fsync of a WalDurability, made countable and holdable: syncs wait while the gate is closed. */
function instrument(durability: WalDurability) {
  const target = durability as unknown as { syncLog: () => Promise<void> };
  const real = target.syncLog.bind(durability);
  const state = { syncs: 0, finished: 0, gate: Promise.resolve(), open: () => {} };
  target.syncLog = async () => {
    state.syncs++;
    await state.gate;
    await real();
    state.finished++;
  };
  return {
    state,
    close() {
      state.gate = new Promise<void>((resolve) => (state.open = resolve));
    },
  };
}

const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await tick();
  return done;
}

describe('WalDurability (group commit for embedded SQLite)', () => {
  let dir: string;
  let dataSource: DataSource;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-wal-'));
    dataSource = createDataSource({ kind: 'sqlite', path: join(dir, 'switchboard.db') });
    await dataSource.initialize();
    await runMigrations(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const write = () =>
    dataSource.query('INSERT INTO processed_events (consumer, event_id, processed_at) VALUES (?, ?, ?)', ['wal-test', randomUUID(), new Date().toISOString()]);

  it('commits without an fsync (synchronous = NORMAL) in WAL mode', async () => {
    const [{ synchronous }] = (await dataSource.query('PRAGMA synchronous')) as Array<{ synchronous: number }>;
    const [{ journal_mode }] = (await dataSource.query('PRAGMA journal_mode')) as Array<{ journal_mode: string }>;
    expect(synchronous).toBe(1);
    expect(journal_mode).toBe('wal');
  });

  it('shares one fsync among everyone waiting at once, and skips it when nothing changed', async () => {
    const durability = new WalDurability(dataSource);
    const { state } = instrument(durability);
    await write();
    await Promise.all(Array.from({ length: 20 }, () => durability.barrier()));
    expect(state.syncs).toBe(1);
    await durability.barrier();
    expect(state.syncs).toBe(1);
    await write();
    await durability.barrier();
    expect(state.syncs).toBe(2);
    await durability.onApplicationShutdown();
  });

  it('does not let a commit made during an fsync count as covered by it', async () => {
    const durability = new WalDurability(dataSource);
    const probe = instrument(durability);
    await write();
    probe.close();
    const first = durability.barrier();
    await tick();
    expect(probe.state.syncs).toBe(1);
    await write(); // after the first fsync started
    const second = durability.barrier();
    const third = durability.barrier();
    probe.state.open();
    probe.close();
    await first;
    expect(await settled(second)).toBe(false); // waits for an fsync that starts after its commit
    expect(probe.state.syncs).toBe(2);
    probe.state.open();
    await Promise.all([second, third]);
    expect(probe.state.syncs).toBe(2); // the two late callers shared the second fsync
    await durability.onApplicationShutdown();
  });

  it('does not count the changes of a transaction still open when the fsync starts', async () => {
    const durability = new WalDurability(dataSource);
    const { state } = instrument(durability);
    const runner = dataSource.createQueryRunner();
    await runner.startTransaction();
    await runner.query('INSERT INTO processed_events (consumer, event_id, processed_at) VALUES (?, ?, ?)', [
      'wal-test',
      randomUUID(),
      new Date().toISOString(),
    ]);
    await durability.barrier(); // runs while the transaction is open
    const before = state.syncs;
    await runner.commitTransaction();
    await runner.release();
    await durability.barrier();
    expect(state.syncs).toBe(before + 1);
    await durability.onApplicationShutdown();
  });

  it('fsyncs the real log file', async () => {
    const durability = new WalDurability(dataSource);
    const { state } = instrument(durability);
    await write();
    await expect(durability.barrier()).resolves.toBeUndefined();
    expect(state.finished).toBe(1);
    await durability.onApplicationShutdown();
  });

  it('is a no-op for an in-memory database', async () => {
    const memory = createDataSource({ kind: 'sqlite', path: ':memory:' });
    await memory.initialize();
    try {
      const durability = new WalDurability(memory);
      expect(durability.active).toBe(false);
      await expect(durability.barrier()).resolves.toBeUndefined();
    } finally {
      await memory.destroy();
    }
  });
});

describe('embedded core: acknowledged and published only once on disk', () => {
  let core: TestApp;
  let consumer: Closable | undefined;

  beforeAll(async () => {
    core = await startTestApp({ env: await SQLITE_BACKEND.env() });
  });

  afterEach(async () => {
    await consumer?.close();
    consumer = undefined;
  });

  afterAll(async () => {
    await core?.close();
  });

  it('UnitOfWork.run resolves, and the relay publishes its event, only after the log fsync', async () => {
    const durability = core.app.get(WalDurability);
    expect(durability.active).toBe(true);
    const bus = core.app.get<Bus>(BUS);
    const seen: string[] = [];
    const subject = 'sb.evt.waltest.written';
    consumer = await bus.consume({ name: 'wal-test', subject, delivery: 'one-instance', handler: async (message) => void seen.push(message.msgId) });
    const probe = instrument(durability);
    probe.close();
    const id = randomUUID();
    const unit = core.app.get(UnitOfWork).run(async (tx) => {
      await tx.emit({ subject, id, data: { id } });
      return id;
    });
    // Committed (readable) but not yet acknowledged to the caller, and not yet published.
    await waitFor(async () => {
      const rows = (await core.app.get<DataSource>(DATA_SOURCE).query('SELECT COUNT(*) AS n FROM outbox WHERE event_id = ?', [id])) as Array<{ n: number }>;
      return Number(rows[0]!.n) === 1;
    });
    await tick(300);
    expect(await settled(unit)).toBe(false);
    expect(seen).not.toContain(id);
    probe.state.open();
    await expect(unit).resolves.toBe(id);
    await waitFor(() => seen.includes(id), 5000, 'the event to be published after the fsync');
  });

  it("checkpoints the log in its own thread, with SQLite's inline checkpoints off", async () => {
    const checkpointer = core.app.get(WalCheckpointer);
    const dataSource = core.app.get<DataSource>(DATA_SOURCE);
    expect(checkpointer.running).toBe(true);
    const [{ wal_autocheckpoint }] = (await dataSource.query('PRAGMA wal_autocheckpoint')) as Array<{ wal_autocheckpoint: number }>;
    expect(wal_autocheckpoint).toBe(0);
    const before = checkpointer.checkpointedPages;
    const uow = core.app.get(UnitOfWork);
    for (let i = 0; i < 50; i++) {
      await uow.run((tx) => tx.insert(ProcessedEvent, { consumer: 'wal-checkpoint-test', eventId: randomUUID(), processedAt: new Date() }));
    }
    await waitFor(() => checkpointer.checkpointedPages > before, 5000, 'the worker to checkpoint the new pages');
    const rows = (await dataSource.query('SELECT COUNT(*) AS n FROM processed_events WHERE consumer = ?', ['wal-checkpoint-test'])) as Array<{ n: number }>;
    expect(Number(rows[0]!.n)).toBe(50);
  });

  it('keeps an event pending when its consumer closes before handling it, and delivers it to the next one (pipelined relay)', async () => {
    const bus = core.app.get<Bus>(BUS);
    const dataSource = core.app.get<DataSource>(DATA_SOURCE);
    const subject = 'sb.evt.waltest.redispatched';
    const name = 'wal-test-redispatch';
    const seen: string[] = [];
    // A batch consumer that holds partial batches for a while, so the event is queued, not handled, when it closes.
    const first = await bus.consumeBatch({ name, subject, maxWaitMs: 2000, handleBatch: async (messages) => void seen.push(...messages.map((m) => m.msgId)) });
    const id = randomUUID();
    await core.app.get(UnitOfWork).run(async (tx) => {
      await tx.emit({ subject, id, data: { id } });
    });
    const sentAt = async () =>
      ((await dataSource.query('SELECT sent_at FROM outbox WHERE event_id = ?', [id])) as Array<{ sent_at: unknown }>)[0]?.sent_at ?? null;
    await tick(300);
    // Closing abandons the queued event: its row stays pending and the relay reads it again. The next consumer
    // of that name subscribes at once (an in-process bus drops an event nobody subscribes to at all).
    await first.close();
    consumer = await bus.consume({ name, subject, delivery: 'one-instance', handler: async (message) => void seen.push(message.msgId) });
    await waitFor(() => seen.includes(id), 5000, 'the pending event to reach the new consumer');
    await waitFor(async () => (await sentAt()) !== null, 5000, 'the row to be marked sent');
    // Handled once, by the second consumer: the first closed with it still queued.
    expect(seen.filter((msgId) => msgId === id)).toHaveLength(1);
  });
});
