import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { ModelRegistry } from '../../src/nlp/registry.service.js';
import { NlpService } from '../../src/nlp/nlp.service.js';
import { ConversationsService } from '../../src/conversations/conversations.service.js';
import { BUS, type Bus } from '../../src/platform/bus/bus.port.js';
import type { EventEnvelope } from '../../src/platform/outbox/outbox.entity.js';
import { NLP_MESSAGE_ANNOTATED, type NlpMessageAnnotatedEvent } from '../../src/nlp/nlp.events.js';
import { CONVERSATION_MESSAGE_CREATED, type MessageCreatedEvent } from '../../src/conversations/conversations.events.js';
import { AnnotationConsumer } from '../../src/nlp/annotation.consumer.js';
import { intentExamples } from './fixtures.js';

const json = { 'content-type': 'application/json' };

describe.each(backends().map((backend) => [backend.name, backend] as const))('nlp on %s', (name, backend) => {
  let first: TestApp;
  let second: TestApp | undefined;
  let admin: Record<string, string>;
  let agent: Record<string, string>;
  const annotated: NlpMessageAnnotatedEvent[] = [];
  const created: MessageCreatedEvent[] = [];

  beforeAll(async () => {
    const env = await backend.env();
    first = await startTestApp({ env: { ...env, SWITCHBOARD_INSTANCE_ID: `nlp-a-${process.pid}` } });
    // A second instance with its own data dir: packs must reach it over the bus.
    if (name === 'mariadb+nats') second = await startTestApp({ env: { ...env, SWITCHBOARD_INSTANCE_ID: `nlp-b-${process.pid}` } });
    admin = { ...json, ...(await first.authHeaders({ roles: ['admin'], sub: 'nlp-admin' })) };
    agent = { ...json, ...(await first.authHeaders({ roles: ['agent'], sub: 'nlp-agent' })) };
    await first.app.get<Bus>(BUS).consume<EventEnvelope<NlpMessageAnnotatedEvent>>({
      name: `nlp-test-annotated-${Date.now()}`,
      subject: NLP_MESSAGE_ANNOTATED,
      delivery: 'each-instance',
      handler: async (message) => void annotated.push(message.data.data),
    });
    await first.app.get<Bus>(BUS).consume<EventEnvelope<MessageCreatedEvent>>({
      name: `nlp-test-created-${Date.now()}`,
      subject: CONVERSATION_MESSAGE_CREATED,
      delivery: 'each-instance',
      handler: async (message) => void created.push(message.data.data),
    });
    await first.app.get(ModelRegistry).whenReady();
  }, 120_000);

  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('registers and activates the default models at first start', async () => {
    const response = await fetch(`${first.url}/api/v1/nlp/models`, { headers: admin });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { items: Array<{ name: string; version: string; status: string }>; live: Record<string, string> };
    for (const model of ['intent', 'emotion', 'language']) {
      expect(body.items).toContainEqual(expect.objectContaining({ name: model, version: 'default-1', status: 'active' }));
      expect(body.live[model]).toBe('default-1');
    }
  });

  it('refuses training and model listing to non-admins', async () => {
    expect((await fetch(`${first.url}/api/v1/nlp/models`, { headers: agent })).status).toBe(403);
    const start = await fetch(`${first.url}/api/v1/nlp/training-jobs`, {
      method: 'POST',
      headers: agent,
      body: JSON.stringify({ task: 'intent', examples: intentExamples() }),
    });
    expect(start.status).toBe(403);
  });

  it('annotates over REST', async () => {
    const response = await fetch(`${first.url}/api/v1/nlp/annotate`, {
      method: 'POST',
      headers: agent,
      body: JSON.stringify({ text: '我要退款，订单号AB1234567' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      language: 'zh',
      intent: 'refund_request',
      entities: [expect.objectContaining({ type: 'order_number', value: 'AB1234567' })],
    });
  });

  it('trains through REST with progress, activates on every instance, hot-swaps under load without dropping a request, rolls back', async () => {
    const nlp = first.app.get(NlpService);
    const registry = first.app.get(ModelRegistry);
    const examples = [
      ...intentExamples(),
      ...intentExamples()
        .filter((e) => e.label === 'greeting')
        .map((e) => ({ text: `${e.text}!!`, label: 'greeting' })),
    ];
    const start = await fetch(`${first.url}/api/v1/nlp/training-jobs`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ task: 'intent', examples, options: { maxEpochs: 8, embeddingDim: 8 } }),
    });
    expect(start.status).toBe(202);
    const job = (await start.json()) as { id: string; status: string };
    expect(job.status).toBe('running');
    const done = await waitFor(
      async () => {
        const body = (await (await fetch(`${first.url}/api/v1/nlp/training-jobs/${job.id}`, { headers: admin })).json()) as {
          status: string;
          modelVersion: string;
          progress: { percent: number; phase: string };
        };
        return body.status !== 'running' && body;
      },
      60_000,
      'training job',
    );
    expect(done).toMatchObject({ status: 'succeeded', progress: { percent: 100, phase: 'done' } });
    const version = done.modelVersion;

    // Load: a steady stream of annotations while the version changes.
    let stop = false;
    let sent = 0;
    const results: Array<Promise<unknown>> = [];
    const pump = (async () => {
      while (!stop) {
        for (let i = 0; i < 20; i++) {
          sent++;
          results.push(nlp.annotate(i % 2 ? 'where is my order' : '我要退款'));
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const swapped = new Promise<void>((resolve) => registry.onSwap((model, v) => model === 'intent' && v === version && resolve()));
    const activate = await fetch(`${first.url}/api/v1/nlp/models/intent/activate`, { method: 'POST', headers: admin, body: JSON.stringify({ version }) });
    expect(activate.status).toBe(200);
    await swapped;
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop = true;
    await pump;
    const settled = await Promise.allSettled(results);
    expect(settled.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(settled.length).toBe(sent);
    expect(sent).toBeGreaterThan(20);
    expect(registry.liveVersions().intent).toBe(version);

    if (second) {
      // The other instance had no files: it fetched them over the bus and swapped too.
      await waitFor(() => second!.app.get(ModelRegistry).liveVersions().intent === version, 20_000, 'second instance swap');
    }

    const rollback = await fetch(`${first.url}/api/v1/nlp/models/intent/rollback`, { method: 'POST', headers: { authorization: admin.authorization } });
    expect(rollback.status).toBe(200);
    expect(await rollback.json()).toMatchObject({ name: 'intent', version: 'default-1', status: 'active' });
    expect(registry.liveVersions().intent).toBe('default-1');
    if (second) await waitFor(() => second!.app.get(ModelRegistry).liveVersions().intent === 'default-1', 20_000, 'second instance rollback');

    const evaluation = await fetch(`${first.url}/api/v1/nlp/models/intent/evaluate`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ version, examples: intentExamples() }),
    });
    expect(evaluation.status).toBe(200);
    expect(((await evaluation.json()) as { accuracy: number }).accuracy).toBeGreaterThan(0.9);
  }, 120_000);

  it('rejects bad requests with module errors', async () => {
    const unknown = await fetch(`${first.url}/api/v1/nlp/models/intent/activate`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ version: 'nope' }),
    });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('nlp_model_not_found');
    const noRollback = await fetch(`${first.url}/api/v1/nlp/models/language/rollback`, { method: 'POST', headers: { authorization: admin.authorization } });
    expect(noRollback.status).toBe(409);
    const missingJob = await fetch(`${first.url}/api/v1/nlp/training-jobs/00000000-0000-0000-0000-000000000000`, { headers: admin });
    expect(missingJob.status).toBe(404);
  });

  it('annotates every inbound message, stores the annotations and emits sb.evt.nlp.message_annotated', async () => {
    const conversations = first.app.get(ConversationsService);
    const inbox = await conversations.createInbox({ name: 'nlp-test', channel: 'api' });
    const { message } = await conversations.ingestInbound({
      inboxId: inbox.id,
      externalContact: { externalId: `nlp-${Date.now()}`, verified: false },
      idempotencyKey: `nlp-${Date.now()}`,
      text: '气死我了，快递到底什么时候到？订单号 AB7654321',
    });
    const stored = await waitFor(
      async () => {
        const m = await conversations.getMessage(message.id);
        return m.annotations.language ? m : undefined;
      },
      20_000,
      'annotations on the message',
    );
    expect(stored.annotations).toMatchObject({ language: 'zh', intent: 'order_status', emotion: 'negative' });
    expect(stored.annotations.flags).toContain('anger');
    const event = await waitFor(() => annotated.find((e) => e.messageId === message.id), 20_000, 'message_annotated event');
    expect(event).toMatchObject({ conversationId: stored.conversationId, language: 'zh', intent: 'order_status', anger: true, sentiment: 'negative' });
    expect(event.entities).toContainEqual(expect.objectContaining({ type: 'order_number', value: 'AB7654321' }));
  }, 60_000);

  /** The events about one message seen within a second after the first: a second annotation would show here. */
  async function eventsFor(messageId: string): Promise<{ annotated: NlpMessageAnnotatedEvent[]; created: MessageCreatedEvent[] }> {
    await waitFor(() => annotated.find((e) => e.messageId === messageId), 20_000, 'message_annotated event');
    await waitFor(() => created.find((e) => e.messageId === messageId), 20_000, 'message_created event');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    return { annotated: annotated.filter((e) => e.messageId === messageId), created: created.filter((e) => e.messageId === messageId) };
  }

  it('annotates a customer message before storing it, once: the annotations and both events commit with the message', async () => {
    const conversations = first.app.get(ConversationsService);
    const inbox = await conversations.createInbox({ name: 'nlp-inline', channel: 'api' });
    const contact = `nlp-inline-${Date.now()}`;
    // The first message opens the conversation (general path); the second joins it (on MariaDB, the batch writer).
    for (const [index, text] of ['I am furious, where is my parcel? Order AB1234567', 'Still furious. Order AB1234567 has not arrived!'].entries()) {
      const { message } = await conversations.ingestInbound({
        inboxId: inbox.id,
        externalContact: { externalId: contact, verified: false },
        idempotencyKey: `${contact}-${index}`,
        text,
      });
      expect(message.seq).toBe(index + 1);
      // Already on the ingest result and on the stored row: no second transaction was needed.
      expect(message.annotations).toMatchObject({ language: 'en', emotion: 'negative' });
      expect(message.annotations.flags).toContain('anger');
      expect((await conversations.getMessage(message.id)).annotations).toEqual(message.annotations);
      const events = await eventsFor(message.id);
      expect(events.created).toHaveLength(1);
      expect(events.created[0]!.annotated).toBe(true);
      expect(events.annotated).toHaveLength(1);
      expect(events.annotated[0]).toMatchObject({ conversationId: message.conversationId, seq: message.seq, language: 'en', anger: true });
      expect(events.annotated[0]!.entities).toContainEqual(expect.objectContaining({ type: 'order_number', value: 'AB1234567' }));
    }
  }, 60_000);

  it('annotates after the commit, once, when the message could not be annotated before it (models loading, a failure)', async () => {
    const conversations = first.app.get(ConversationsService);
    const consumer = first.app.get(AnnotationConsumer);
    const inbox = await conversations.createInbox({ name: 'nlp-fallback', channel: 'api' });
    try {
      for (const [label, annotator] of [
        ['not ready', async () => null],
        [
          'failing',
          async () => {
            throw new Error('model session lost');
          },
        ],
      ] as const) {
        conversations.useInboundAnnotator(annotator);
        const { message } = await conversations.ingestInbound({
          inboxId: inbox.id,
          externalContact: { externalId: `nlp-fallback-${label}-${Date.now()}`, verified: false },
          idempotencyKey: `nlp-fallback-${label}-${Date.now()}`,
          text: '我要退款，太失望了',
        });
        expect(message.annotations).toEqual({ language: null, intent: null, intentConfidence: null, emotion: null, flags: null });
        const events = await eventsFor(message.id);
        expect(events.created).toHaveLength(1);
        expect(events.created[0]!.annotated).toBeUndefined();
        expect(events.annotated).toHaveLength(1);
        expect(events.annotated[0]).toMatchObject({ language: 'zh', messageId: message.id });
        expect((await conversations.getMessage(message.id)).annotations.language).toBe('zh');
      }
    } finally {
      conversations.useInboundAnnotator((text, { inboxId }) => consumer.annotateInbound(text, inboxId));
    }
  }, 60_000);
});
