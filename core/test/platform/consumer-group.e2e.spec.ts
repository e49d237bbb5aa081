import { afterAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { backends, isolatedNatsUrl, startTestApp, waitFor } from '../harness/test-app.js';
import { NatsBus, EVENT_GROUP } from '../../src/platform/bus/nats.bus.js';
import { MetricsService } from '../../src/platform/metrics/metrics.service.js';
import type { DeliveredMessage } from '../../src/platform/bus/bus.port.js';

/**
 * The event consumer group on a real nats-server: consumers subscribed before startGroups() share one
 * durable consumer, each keeps its own retries and dead letters, and the group takes over from the
 * durable consumers the members had before.
 */
const unique = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('event consumer group (NatsBus)', () => {
  const buses: NatsBus[] = [];
  const managers: Array<{ close: () => Promise<void> }> = [];
  afterAll(async () => {
    await Promise.allSettled(buses.map((bus) => bus.close()));
    await Promise.allSettled(managers.map((manager) => manager.close()));
  });

  async function newBus(url: string, backoffMs = [30, 60]): Promise<NatsBus> {
    const bus = new NatsBus({ kind: 'nats', url, replicas: 1 }, unique('t-'), new MetricsService(), { maxDeliver: 3, backoffMs });
    bus.groupEventConsumers();
    await bus.start();
    buses.push(bus);
    return bus;
  }

  async function manager(url: string): Promise<JetStreamManager> {
    const nc = await connect({ servers: url });
    managers.push({ close: () => nc.close() });
    return jetstreamManager(nc);
  }

  async function consumerNames(jsm: JetStreamManager): Promise<string[]> {
    const names: string[] = [];
    for await (const info of jsm.consumers.list('SB_EVENTS')) names.push(info.name);
    return names.sort();
  }

  it('gives each member the messages of its subject through one durable consumer, acked once all are done', async () => {
    const url = await isolatedNatsUrl();
    const bus = await newBus(url);
    const tickets: string[] = [];
    const everything: string[] = [];
    const batches: number[] = [];
    await bus.consume<{ n: number }>({
      name: 'tickets-member',
      subject: 'sb.evt.ticket.*',
      delivery: 'one-instance',
      handler: async (message) => void tickets.push(`${message.subject}:${message.data.n}`),
    });
    await bus.consume<{ n: number }>({
      name: 'all-member',
      subject: 'sb.evt.>',
      delivery: 'one-instance',
      concurrency: 4,
      handler: async (message) => {
        await sleep(5);
        everything.push(`${message.subject}:${message.data.n}`);
      },
    });
    await bus.consumeBatch<{ n: number }>({
      name: 'batch-member',
      subject: 'sb.evt.conversation.>',
      maxBatch: 10,
      maxWaitMs: 20,
      handleBatch: async (messages) => void batches.push(messages.length),
    });
    await bus.startGroups();
    const jsm = await manager(url);
    expect(await consumerNames(jsm)).toEqual([EVENT_GROUP]);

    for (let n = 0; n < 20; n++) await bus.publish(`sb.evt.conversation.message_created`, { n }, { msgId: `c-${n}` });
    for (let n = 0; n < 5; n++) await bus.publish(`sb.evt.ticket.created`, { n }, { msgId: `t-${n}` });
    await waitFor(() => everything.length === 25 && tickets.length === 5 && batches.reduce((a, b) => a + b, 0) === 20, 10_000, 'all handled');
    expect(tickets).toEqual([0, 1, 2, 3, 4].map((n) => `sb.evt.ticket.created:${n}`));
    expect(batches.some((size) => size > 1)).toBe(true);
    await waitFor(
      async () => {
        const info = await jsm.consumers.info('SB_EVENTS', EVENT_GROUP);
        return info.num_ack_pending === 0 && info.num_pending === 0;
      },
      5000,
      'every message acked',
    );
    await sleep(200);
    expect(everything).toHaveLength(25);
  });

  it('retries and dead-letters a failing member on its own while the others go on', async () => {
    const url = await isolatedNatsUrl();
    const bus = await newBus(url, [300, 300]);
    const failing: Array<{ n: number; deliveryCount: number; at: number }> = [];
    const healthy: Array<{ n: number; at: number }> = [];
    const dead: Array<DeliveredMessage<{ n: number }>> = [];
    await bus.consume<{ n: number }>({
      name: 'failing-member',
      subject: 'sb.evt.thing.*',
      delivery: 'one-instance',
      handler: async (message) => {
        failing.push({ n: message.data.n, deliveryCount: message.deliveryCount, at: Date.now() });
        if (message.data.n === 0) throw new Error('poison');
      },
    });
    await bus.consume<{ n: number }>({
      name: 'healthy-member',
      subject: 'sb.evt.thing.*',
      delivery: 'one-instance',
      handler: async (message) => void healthy.push({ n: message.data.n, at: Date.now() }),
    });
    await bus.startGroups();
    const late = await bus.consume<{ n: number }>({
      name: 'dlq-watcher',
      subject: 'sb.dlq.evt.thing.*',
      delivery: 'one-instance',
      handler: async (message) => void dead.push(message),
    });

    const started = Date.now();
    for (let n = 0; n < 3; n++) await bus.publish('sb.evt.thing.happened', { n }, { msgId: `x-${n}` });
    await waitFor(() => healthy.length === 3, 5000, 'the healthy member handled everything');
    // Not held back by the failing member's backoff (300 ms per retry).
    expect(healthy[2]!.at - started).toBeLessThan(250);
    await waitFor(() => dead.length === 1, 5000, 'the poison message dead-lettered');
    expect(dead[0]!.data.n).toBe(0);
    expect(dead[0]!.headers['Sb-Dlq-Consumer']).toBe('failing-member');
    const poison = failing.filter((entry) => entry.n === 0);
    expect(poison.map((entry) => entry.deliveryCount)).toEqual([1, 2, 3]);
    expect(poison[1]!.at - poison[0]!.at).toBeGreaterThanOrEqual(280);
    expect(failing.filter((entry) => entry.n !== 0).map((entry) => entry.n)).toEqual([1, 2]);
    await late.close();
  });

  it('takes over from the members’ own durable consumers without skipping what they had not handled', async () => {
    const url = await isolatedNatsUrl();
    // Before the group existed: the member had a durable consumer of its own, then stopped with a backlog.
    const before = await newBus(url);
    await before.startGroups();
    const seenBefore: number[] = [];
    const own = await before.consume<{ n: number }>({
      name: 'upgraded-member',
      subject: 'sb.evt.upgrade.*',
      delivery: 'one-instance',
      handler: async (message) => void seenBefore.push(message.data.n),
    });
    for (let n = 0; n < 3; n++) await before.publish('sb.evt.upgrade.done', { n }, { msgId: `u-${n}` });
    await waitFor(() => seenBefore.length === 3, 5000, 'handled before the upgrade');
    await own.close();
    for (let n = 3; n < 6; n++) await before.publish('sb.evt.upgrade.done', { n }, { msgId: `u-${n}` });
    const jsm = await manager(url);
    expect(await consumerNames(jsm)).toEqual(['upgraded-member']);

    const after = await newBus(url);
    const seenAfter: number[] = [];
    await after.consume<{ n: number }>({
      name: 'upgraded-member',
      subject: 'sb.evt.upgrade.*',
      delivery: 'one-instance',
      handler: async (message) => void seenAfter.push(message.data.n),
    });
    await after.startGroups();
    await waitFor(() => seenAfter.length >= 3, 5000, 'the backlog handled by the group');
    await sleep(200);
    expect(seenAfter).toEqual([3, 4, 5]);
    expect(await consumerNames(jsm)).toEqual([EVENT_GROUP]);
  });

  it('a consumer with ownConsumer keeps its durable consumer and resumes where it stopped after subscribing again', async () => {
    const url = await isolatedNatsUrl();
    const bus = await newBus(url);
    const seen: number[] = [];
    const subscribe = () =>
      bus.consume<{ n: number }>({
        name: 'restarting-plugin',
        subject: 'sb.evt.reply.*',
        delivery: 'one-instance',
        ownConsumer: true,
        handler: async (message) => void seen.push(message.data.n),
      });
    const first = await subscribe();
    await bus.consume<{ n: number }>({ name: 'grouped', subject: 'sb.evt.reply.*', delivery: 'one-instance', handler: async () => undefined });
    await bus.startGroups();
    expect(await consumerNames(await manager(url))).toEqual([EVENT_GROUP, 'restarting-plugin']);
    await bus.publish('sb.evt.reply.sent', { n: 1 }, { msgId: 'r-1' });
    await waitFor(() => seen.length === 1, 5000, 'the first reply');
    await first.close();
    // Published while it is gone: the group acks it for its own member, the plugin's consumer keeps it.
    await bus.publish('sb.evt.reply.sent', { n: 2 }, { msgId: 'r-2' });
    await sleep(200);
    await subscribe();
    await waitFor(() => seen.length === 2, 5000, 'the reply published meanwhile');
    expect(seen).toEqual([1, 2]);
  });

  it('a member that leaves takes nothing more; the others go on', async () => {
    const url = await isolatedNatsUrl();
    const bus = await newBus(url);
    const leaving: number[] = [];
    const staying: number[] = [];
    const handle = await bus.consume<{ n: number }>({
      name: 'leaving-member',
      subject: 'sb.evt.leave.*',
      delivery: 'one-instance',
      handler: async (message) => void leaving.push(message.data.n),
    });
    await bus.consume<{ n: number }>({
      name: 'staying-member',
      subject: 'sb.evt.leave.*',
      delivery: 'one-instance',
      handler: async (message) => void staying.push(message.data.n),
    });
    await bus.startGroups();
    await bus.publish('sb.evt.leave.x', { n: 1 }, { msgId: 'l-1' });
    await waitFor(() => leaving.length === 1 && staying.length === 1, 5000, 'both handled the first');
    await handle.close();
    await bus.publish('sb.evt.leave.x', { n: 2 }, { msgId: 'l-2' });
    await waitFor(() => staying.length === 2, 5000, 'the staying member handled the second');
    await sleep(200);
    expect(leaving).toEqual([1]);
  });

  it('in the application, the modules’ event consumers share core-events once it has started', async () => {
    const backend = backends().find((candidate) => candidate.name === 'mariadb+nats');
    if (!backend) throw new Error('the mariadb+nats backend is not available');
    const env = await backend.env();
    const core = await startTestApp({ env });
    try {
      const names = await consumerNames(await manager(env.NATS_URL!));
      expect(names).toContain(EVENT_GROUP);
      // Module consumers (bot, analytics, tickets, NLP annotation, …) have no durable consumer of their own.
      for (const member of ['bot-inbound', 'bot-conversation-resolved', 'tickets-conversation-messages']) expect(names).not.toContain(member);
    } finally {
      await core.close();
    }
  });
});
