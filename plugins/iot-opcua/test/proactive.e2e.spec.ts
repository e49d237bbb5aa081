import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedMail } from 'mailparser';
import { startTestCore, type TestCore } from '@switchboard/plugin-sdk/testing';
import { TestOpcuaServer } from './support/opcua-server.js';
import { freePort } from '../../../core/test/harness/servers.mjs';
import { startSmtpSink } from '../../channel-email/test/support/mail.js';
import { ContactsService } from '../../../core/src/contacts/contacts.service.js';
import { SYSTEM_ACTOR } from '../../../core/src/identity/actor.js';

/**
 * The whole proactive-service path with real parts: a node-opcua server (the PLC), the iot-opcua
 * plugin in the core over SignAndEncrypt, device rules, a fault ticket, and the owner told by
 * email through the email channel plugin into a real SMTP sink.
 */
describe('proactive service from OPC UA telemetry', () => {
  let core: TestCore;
  let plc: TestOpcuaServer;
  let sink: Awaited<ReturnType<typeof startSmtpSink>> | undefined;
  let mails: ParsedMail[] = [];
  const admin = { roles: ['admin' as const] };

  const tickets = async () =>
    (await core.request('GET', '/api/v1/devices/chiller-7/tickets', { as: admin })).json.items as Array<{
      id: string;
      number: string;
      status: string;
      description: string;
    }>;
  const episodes = async () =>
    (await core.request('GET', '/api/v1/devices/chiller-7/episodes', { as: admin })).json.items as Array<{ status: string; occurrences: number }>;

  beforeAll(async () => {
    // The owner's mailbox: a real SMTP server on loopback behind the email channel's outbound.
    sink = await startSmtpSink();
    mails = sink.outbox;
    const sinkPort = sink.port;
    plc = new TestOpcuaServer(await freePort());
    await plc.start();

    core = await startTestCore({
      plugins: [new URL('..', import.meta.url), new URL('../../channel-email', import.meta.url)],
      // The OPC UA client creates its certificate and secure channel at start, which can keep its worker busy for
      // well over the test kit's 3 × 500 ms hang limit on a loaded machine; hang detection is tested elsewhere.
      env: { SWITCHBOARD_PLUGIN_HEARTBEAT_MS: '2000' },
    });
    const inbox = await core.createInbox({ name: 'Service mail', channel: 'email' });
    await core.addInstance('email', {
      inboxId: inbox.id,
      config: { address: 'service@plant.example', displayName: 'Plant Service', outbound: { host: '127.0.0.1', port: sinkPort } },
    });
    const owner = await core.app
      .get(ContactsService)
      .create(SYSTEM_ACTOR, { name: 'Zhang Min', emails: [{ value: 'zhang.min@customer.example', verified: true }], language: 'en-US' });
    expect(
      (
        await core.request('POST', '/api/v1/devices', {
          as: admin,
          body: { id: 'chiller-7', name: 'Chiller 7', model: 'CH-200', site: 'Hall B', ownerContactId: owner.id },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await core.request('POST', '/api/v1/devices/rules', {
          as: admin,
          body: {
            name: 'Overheat',
            scopeModel: 'CH-200',
            kind: 'threshold',
            metric: 'temperature',
            params: { op: '>', value: 80, clearValue: 75 },
            severity: 'major',
            title: 'Temperature too high',
          },
        })
      ).status,
    ).toBe(201);
    await core.addInstance('iot-opcua', {
      config: {
        endpointUrl: plc.endpointUrl,
        securityMode: 'SignAndEncrypt',
        securityPolicy: 'Basic256Sha256',
        trustServerOnFirstUse: true,
        pkiDir: mkdtempSync(join(tmpdir(), 'sb-opcua-plugin-')),
        publishingIntervalMs: 100,
        items: [{ deviceId: 'chiller-7', metric: 'temperature', nodeId: 'ns=1;s=Chiller7.Temperature', samplingIntervalMs: 50 }],
      },
    });
  }, 120_000);

  afterAll(async () => {
    await core?.close();
    await plc?.stop();
    await sink?.close();
  });

  it('opens one ticket with a snapshot and emails the owner', async () => {
    plc.setTemperature(85);
    const [ticket] = await core.waitFor(async () => ((await tickets()).length ? tickets() : undefined), 30_000, 'the fault ticket');
    expect(ticket!.description).toContain('temperature: 85');
    const mail = await core.waitFor(() => mails.find((candidate) => candidate.text?.includes(ticket!.number)), 30_000, 'the owner notification email');
    expect(mail.to && 'text' in mail.to ? mail.to.text : '').toContain('zhang.min@customer.example');
    expect(mail.text).toContain('Chiller 7');
  }, 60_000);

  it('keeps updating the same ticket while the value stays bad, also across a PLC restart', async () => {
    for (let step = 1; step <= 10; step++) {
      plc.setTemperature(85 + step);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await core.waitFor(async () => ((await episodes())[0]?.occurrences ?? 0) >= 11, 30_000, 'eleven occurrences');
    await plc.restart(1000);
    plc.setTemperature(99);
    await core.waitFor(
      async () =>
        (await core.request('GET', '/api/v1/devices/chiller-7/readings?metric=temperature', { as: admin })).json.items.some(
          (reading: { value: number }) => reading.value === 99,
        ),
      60_000,
      'a reading after the PLC restart',
    );
    expect(await tickets()).toHaveLength(1);
    expect((await episodes())[0]!.status).toBe('open');
  }, 120_000);

  it('closes the episode and solves the ticket on recovery', async () => {
    plc.setTemperature(60);
    await core.waitFor(async () => (await episodes())[0]?.status === 'closed', 30_000, 'recovery');
    const [ticket] = await tickets();
    expect(ticket!.status).toBe('solved');
    expect(await tickets()).toHaveLength(1);
  }, 60_000);
});
