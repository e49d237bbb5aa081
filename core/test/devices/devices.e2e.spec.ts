import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backends, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { ContactsService } from '../../src/contacts/contacts.service.js';
import { ConversationsService } from '../../src/conversations/conversations.service.js';
import { SYSTEM_ACTOR } from '../../src/identity/actor.js';
import { TelemetryService } from '../../src/devices/telemetry.service.js';
import { UnitOfWork } from '../../src/platform/database/unit-of-work.js';
import type { DeliveredMessage } from '../../src/platform/bus/bus.port.js';

const json = { 'content-type': 'application/json' };

describe.each(backends().map((backend) => [backend.name, backend] as const))('device faults on %s', (_name, backend) => {
  let app: TestApp;
  let admin: Record<string, string>;
  let telemetryKey: string;
  let ownerId: string;

  beforeAll(async () => {
    const env = await backend.env();
    app = await startTestApp({ env });
    admin = { ...(await app.authHeaders({ roles: ['admin'] })), ...json };
    const contacts = app.app.get(ContactsService);
    const owner = await contacts.create(SYSTEM_ACTOR, { name: 'Li Wei', emails: [{ value: 'li.wei@example.com', verified: true }], language: 'zh-CN' });
    ownerId = owner.id;
    await app.app.get(ConversationsService).createInbox({ name: 'Support email', channel: 'email' });
    const key = await fetch(`${app.url}/api/v1/api-keys`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ name: 'gateway', scopes: ['telemetry:write'] }),
    });
    expect(key.status).toBe(201);
    telemetryKey = ((await key.json()) as { key: string }).key;
    const device = await fetch(`${app.url}/api/v1/devices`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ id: 'chiller-07', name: 'Chiller 7', model: 'CH-200', site: 'Building B', ownerContactId: ownerId, tags: ['hvac'] }),
    });
    expect(device.status).toBe(201);
    const rule = await fetch(`${app.url}/api/v1/devices/rules`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({
        name: 'Overheat',
        scopeModel: 'CH-200',
        kind: 'threshold',
        metric: 'temperature',
        params: { op: '>', value: 80, clearValue: 75 },
        severity: 'major',
        title: 'Temperature too high',
      }),
    });
    expect(rule.status).toBe(201);
  });

  afterAll(async () => {
    await app?.close();
  });

  const send = (
    target: TestApp,
    readings: Array<{ metric: string; value: number | string; quality?: string }>,
    headers: Record<string, string> = { 'x-api-key': telemetryKey, ...json },
    deviceId = 'chiller-07',
  ) => fetch(`${target.url}/api/v1/telemetry`, { method: 'POST', headers, body: JSON.stringify({ deviceId, readings }) });

  const ticketsOf = async (deviceId = 'chiller-07') => {
    const response = await fetch(`${app.url}/api/v1/devices/${deviceId}/tickets`, { headers: admin });
    return (
      (await response.json()) as {
        items: Array<{ id: string; number: string; status: string; type: string; priority: string; description: string; requesterContactId: string }>;
      }
    ).items;
  };
  const episodesOf = async (deviceId = 'chiller-07') => {
    const response = await fetch(`${app.url}/api/v1/devices/${deviceId}/episodes`, { headers: admin });
    return ((await response.json()) as { items: Array<{ status: string; occurrences: number; ticketId: string; ownerNotified: boolean }> }).items;
  };

  it('refuses bad keys, malformed bodies and unknown devices', async () => {
    expect((await send(app, [{ metric: 'temperature', value: 20 }], { 'x-api-key': 'sbk_not_a_real_key', ...json })).status).toBe(401);
    const malformed = await send(app, [{ metric: 'temp erature', value: 20 }]);
    expect(malformed.status).toBe(400);
    const unknown = await send(app, [{ metric: 'temperature', value: 20 }], undefined, 'no-such-device');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('device_not_found');
  });

  it('opens exactly one ticket per episode, updates it while faulty and resolves it on recovery', async () => {
    expect((await send(app, [{ metric: 'temperature', value: 70 }])).status).toBe(202);
    expect(
      (
        await send(app, [
          { metric: 'temperature', value: 85 },
          { metric: 'pressure', value: 3.1 },
        ])
      ).status,
    ).toBe(202);
    const [ticket] = await waitFor(async () => ((await ticketsOf()).length === 1 ? ticketsOf() : undefined), 15_000, 'the fault ticket');
    expect(ticket).toMatchObject({ type: 'device_fault', priority: 'high', requesterContactId: ownerId, status: 'open' });
    expect(ticket!.description).toContain('temperature: 85');
    expect(ticket!.description).toContain('pressure: 3.1');

    // Ten more bad samples: still one ticket, one episode (two core processes: devices.processes.e2e.spec.ts).
    for (let index = 0; index < 10; index++) {
      expect((await send(app, [{ metric: 'temperature', value: 86 + index }])).status).toBe(202);
    }
    await waitFor(async () => (await episodesOf())[0]?.occurrences === 11, 15_000, 'eleven occurrences');
    expect(await ticketsOf()).toHaveLength(1);
    const comments = await fetch(`${app.url}/api/v1/tickets/${ticket!.id}/comments?includePrivate=true`, { headers: admin });
    const bodies = ((await comments.json()) as { items: Array<{ body: string }> }).items.map((comment) => comment.body);
    expect(bodies.some((body) => body.includes('Still faulty: 10 occurrences'))).toBe(true);

    // Within the hysteresis band: still open. Below the clear value: closed and solved.
    expect((await send(app, [{ metric: 'temperature', value: 78 }])).status).toBe(202);
    expect((await send(app, [{ metric: 'temperature', value: 70 }])).status).toBe(202);
    await waitFor(async () => (await episodesOf())[0]?.status === 'closed', 15_000, 'the episode to close');
    const [solved] = await ticketsOf();
    expect(solved!.status).toBe('solved');
  });

  it('tells the owner on their preferred channel, in their language', async () => {
    const episode = await waitFor(async () => (await episodesOf()).find((candidate) => candidate.ownerNotified), 15_000, 'the owner notification');
    const conversations = app.app.get(ConversationsService);
    const history = await conversations.contactHistory(SYSTEM_ACTOR, ownerId);
    expect(history.items).toHaveLength(1);
    const messages = await conversations.listMessages(history.items[0]!.id, { afterSeq: 0, limit: 10 });
    const [ticket] = await ticketsOf();
    expect(messages[0]!.text).toContain('Chiller 7');
    expect(messages[0]!.text).toContain(ticket!.number);
    expect(messages[0]!.text).toContain('您好');
    expect(episode.ticketId).toBe(ticket!.id);
  });

  it('keeps one ticket when a fault flaps back within the flap window', async () => {
    expect((await send(app, [{ metric: 'temperature', value: 90 }])).status).toBe(202);
    await waitFor(async () => (await episodesOf())[0]?.status === 'open', 15_000, 'the episode to reopen');
    const tickets = await ticketsOf();
    expect(tickets).toHaveLength(1);
    expect(tickets[0]!.status).toBe('open');
    expect((await send(app, [{ metric: 'temperature', value: 60 }])).status).toBe(202);
    await waitFor(async () => (await episodesOf())[0]?.status === 'closed', 15_000, 'the episode to close again');
  });

  it('registers unknown devices when configured', async () => {
    const on = await fetch(`${app.url}/api/v1/settings/devices.autoRegister`, { method: 'PUT', headers: admin, body: JSON.stringify({ value: true }) });
    expect(on.status).toBe(200);
    expect((await send(app, [{ metric: 'temperature', value: 20 }], undefined, 'new-gadget')).status).toBe(202);
    await waitFor(async () => (await fetch(`${app.url}/api/v1/devices/new-gadget`, { headers: admin })).status === 200, 15_000, 'the auto-registered device');
  });

  it('imports devices from CSV and filters the fleet', async () => {
    const csv = 'id,name,model,site,tags\npump-1,Pump 1,P-9,Plant A,water;critical\npump-2,"Pump 2, spare",P-9,Plant B,water\nbad id,Broken,P-9,,\n';
    const response = await fetch(`${app.url}/api/v1/devices/import`, { method: 'POST', headers: { ...admin, 'content-type': 'text/csv' }, body: csv });
    expect(response.status).toBe(201);
    const result = (await response.json()) as { created: number; errors: Array<{ line: number }> };
    expect(result.created).toBe(2);
    expect(result.errors.map((error) => error.line)).toEqual([4]);
    const list = await fetch(`${app.url}/api/v1/devices?model=P-9&site=Plant%20B`, { headers: admin });
    const items = ((await list.json()) as { items: Array<{ id: string; name: string }> }).items;
    expect(items).toEqual([expect.objectContaining({ id: 'pump-2', name: 'Pump 2, spare' })]);

    const renamed = await fetch(`${app.url}/api/v1/devices/pump-2`, {
      method: 'PATCH',
      headers: admin,
      body: JSON.stringify({ name: 'Pump 2', firmware: '1.4.2' }),
    });
    expect(await renamed.json()).toMatchObject({ id: 'pump-2', name: 'Pump 2', firmware: '1.4.2', site: 'Plant B' });
    const idChange = await fetch(`${app.url}/api/v1/devices/pump-2`, { method: 'PATCH', headers: admin, body: JSON.stringify({ id: 'pump-9' }) });
    expect(idChange.status).toBe(400);
  });

  describe('the batched telemetry consumer', () => {
    const delivered = (msgId: string, deviceId: string, readings: Array<{ metric: string; value: number }>, deliveryCount = 1): DeliveredMessage<unknown> => ({
      subject: `sb.telemetry.${deviceId}`,
      msgId,
      data: { deviceId, readings },
      headers: {},
      deliveryCount,
    });
    const applyBatch = (messages: Array<DeliveredMessage<unknown>>) =>
      app.app.get(UnitOfWork).run((tx) => app.app.get(TelemetryService).ingestBatchInTx(tx, messages));
    const readingsOf = async (deviceId: string, metric: string) => {
      const response = await fetch(`${app.url}/api/v1/devices/${deviceId}/readings?metric=${metric}`, { headers: admin });
      expect(response.status).toBe(200);
      return ((await response.json()) as { items: Array<{ value: number }> }).items;
    };

    it('applies a message once per message id: repeated in a batch or redelivered later', async () => {
      const first = delivered('redelivery-1', 'chiller-07', [{ metric: 'humidity', value: 41 }]);
      expect(await applyBatch([first, first, delivered('redelivery-2', 'chiller-07', [{ metric: 'humidity', value: 42 }])])).toBe(2);
      expect(await applyBatch([{ ...first, deliveryCount: 2 }])).toBe(0);
      const values = (await readingsOf('chiller-07', 'humidity')).map((reading) => reading.value).sort();
      expect(values).toEqual([41, 42]);
    });

    it("runs the rules on a batch's messages in arrival order, per device", async () => {
      const created = await fetch(`${app.url}/api/v1/devices`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ id: 'chiller-08', name: 'Chiller 8', model: 'CH-200' }),
      });
      expect(created.status).toBe(201);
      // One batch, two devices interleaved: chiller-08 faults twice then recovers; chiller-07 stays fine.
      await applyBatch([
        delivered('order-1', 'chiller-08', [{ metric: 'temperature', value: 90 }]),
        delivered('order-2', 'chiller-07', [{ metric: 'temperature', value: 60 }]),
        delivered('order-3', 'chiller-08', [{ metric: 'temperature', value: 91 }]),
        delivered('order-4', 'chiller-08', [{ metric: 'temperature', value: 60 }]),
      ]);
      const episodes = await episodesOf('chiller-08');
      expect(episodes).toHaveLength(1);
      expect(episodes[0]).toMatchObject({ status: 'closed', occurrences: 2 });
      const tickets = await ticketsOf('chiller-08');
      expect(tickets).toHaveLength(1);
      expect(tickets[0]!.status).toBe('solved');
      // The snapshot stops at the reading that opened the episode, not at the batch's last one.
      expect(tickets[0]!.description).toContain('temperature: 90');
      expect(tickets[0]!.description).not.toContain('temperature: 60');
      expect(((await (await fetch(`${app.url}/api/v1/devices/chiller-08`, { headers: admin })).json()) as { state: string }).state).toBe('ok');

      // Flapping inside one batch: back, recovered, back again. Same episode and ticket, which ends open.
      await applyBatch([
        delivered('flap-1', 'chiller-08', [{ metric: 'temperature', value: 92 }]),
        delivered('flap-2', 'chiller-08', [{ metric: 'temperature', value: 60 }]),
        delivered('flap-3', 'chiller-08', [{ metric: 'temperature', value: 93 }]),
      ]);
      const flapped = (await (await fetch(`${app.url}/api/v1/devices/chiller-08/episodes`, { headers: admin })).json()) as {
        items: Array<{ status: string; flaps: number }>;
      };
      expect(flapped.items).toHaveLength(1);
      expect(flapped.items[0]).toMatchObject({ status: 'open', flaps: 2 });
      const [reopened] = await ticketsOf('chiller-08');
      expect((await ticketsOf('chiller-08')).length).toBe(1);
      expect(reopened!.status).toBe('open');
    });
  });
});
