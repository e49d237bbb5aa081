import type { INestApplicationContext } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { SYSTEM_ACTOR, type Actor } from '../identity/actor.js';
import { Authenticator } from '../identity/authenticator.js';
import { TeamsService } from '../identity/teams.service.js';
import { ApiKeysService } from '../identity/api-keys.service.js';
import { createLocalAdmin, generatePassword } from '../identity/local-accounts.js';
import { ContactsService } from '../contacts/contacts.service.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { TicketsService } from '../tickets/tickets.service.js';
import { SlaAdminService } from '../tickets/sla/sla-admin.service.js';
import { AutomationService } from '../automation/automation.service.js';
import { DevicesService } from '../devices/devices.service.js';
import { DeviceRulesService } from '../devices/rules.service.js';
import { TelemetryService } from '../devices/telemetry.service.js';
import { AnalyticsService } from '../analytics/analytics.service.js';
import { CsatService } from '../csat/csat.service.js';
import { OutboxRelay } from '../platform/outbox/outbox.relay.js';
import { KnowledgeService } from '../knowledge/knowledge.service.js';
import { BotService } from '../bot/bot.service.js';
import { parseFlowSource } from '../bot/flow.js';
import {
  DEMO_AGENTS,
  DEMO_BOT_CONFIG,
  DEMO_CANNED,
  DEMO_CONVERSATIONS,
  DEMO_CUSTOMERS,
  DEMO_DEVICES,
  DEMO_FLOWS,
  DEMO_INBOXES,
  DEMO_KB,
  DEMO_TEAMS,
  DEMO_UNANSWERED,
} from './demo-data.js';

export interface SeedOptions {
  log(line: string): void;
  /** Create (or keep) the local admin and report its password when created. */
  adminUsername?: string;
  /** How long to wait for the event flow (analytics, CSAT) to catch up. */
  settleMs?: number;
}

export interface SeedSummary {
  teams: number;
  agents: number;
  contacts: number;
  conversations: number;
  tickets: number;
  devices: number;
  readings: number;
  csatAnswers: number;
  /** Knowledge-base entries created (published). */
  kbEntries: number;
  /** Bot flow versions created (active). */
  flows: number;
  /** Inboxes whose bot was configured now. */
  botInboxes: number;
  /** Knowledge-base proposals waiting for review (mining and agent answers), created now. */
  kbProposals: number;
  adminPassword?: string;
  /** API key for `switchboard demo simulate` (telemetry:write), when the devices were created now. */
  simulatorKey?: string;
  skipped: string[];
}

const DEMO_ISSUER = 'urn:switchboard:demo';
const MINUTE = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Seeds realistic zh/en demo data through the modules' services, so every event (analytics facts,
 * CSAT surveys, device episodes and their tickets, SLA clocks) comes out of the normal event flow.
 * Past activity is placed on earlier days by moving the shared clock while seeding; it is restored
 * afterwards. Running it twice adds nothing twice (idempotency keys and existence checks).
 */
export async function seedDemo(app: INestApplicationContext, options: SeedOptions): Promise<SeedSummary> {
  const log = options.log;
  const summary: SeedSummary = {
    teams: 0,
    agents: 0,
    contacts: 0,
    conversations: 0,
    tickets: 0,
    devices: 0,
    readings: 0,
    csatAnswers: 0,
    kbEntries: 0,
    flows: 0,
    botInboxes: 0,
    kbProposals: 0,
    skipped: [],
  };
  const clock = app.get<Clock>(CLOCK);
  const realNow = clock.now.bind(clock);
  let simulated: number | null = null;
  const setTime = (ms: number | null) => {
    simulated = ms === null ? null : Math.min(ms, Date.now());
  };
  (clock as { now: () => Date }).now = () => (simulated === null ? realNow() : new Date(simulated));
  try {
    const system: Actor = { ...SYSTEM_ACTOR, id: 'demo-seed' };

    // Local admin for the console (embedded mode).
    if (options.adminUsername) {
      const password = generatePassword();
      const created = await createLocalAdmin(app.get<DataSource>(DATA_SOURCE), { username: options.adminUsername, password, onlyIfNone: true });
      if (created.created) summary.adminPassword = password;
    }

    // Teams and agents (agents are IdP users; here they are created as if they had signed in once).
    const teams = app.get(TeamsService);
    const existingTeams = new Set((await teams.list()).map((team) => team.id));
    for (const team of DEMO_TEAMS) {
      if (existingTeams.has(team.id)) continue;
      await teams.create(system, team);
      summary.teams++;
    }
    const authenticator = app.get(Authenticator);
    const agents = new Map<string, Actor>();
    for (const agent of DEMO_AGENTS) {
      const actor = await authenticator.actorFromClaims({
        iss: DEMO_ISSUER,
        sub: agent.sub,
        name: agent.name,
        email: agent.email,
        realm_access: { roles: agent.roles },
        groups: agent.groups,
      });
      agents.set(agent.sub, actor);
      summary.agents++;
    }

    // Inboxes, canned responses, macros, SLA.
    const conversations = app.get(ConversationsService);
    const inboxes = new Map<string, string>();
    const existingInboxes = await conversations.listInboxes(null);
    for (const inbox of DEMO_INBOXES) {
      const found = existingInboxes.find((candidate) => candidate.name === inbox.name);
      inboxes.set(inbox.key, found?.id ?? (await conversations.createInbox({ name: inbox.name, channel: inbox.channel, teamId: inbox.teamId })).id);
    }
    const automation = app.get(AutomationService);
    const canned = await automation.listCanned(system);
    if (canned.length === 0) {
      for (const item of DEMO_CANNED) await automation.createCanned(system, item);
      await automation.createMacro(system, {
        name: '升级到二线 Escalate to L2',
        actions: [
          { type: 'set_priority', value: 'high' },
          { type: 'add_note', body: 'Escalated to L2 / 已升级二线' },
        ],
      });
      await automation.createMacro(system, {
        name: 'VIP 关怀 VIP care',
        actions: [
          { type: 'set_tags', add: ['vip-care'] },
          { type: 'set_priority', value: 'high' },
        ],
      });
    }
    const sla = app.get(SlaAdminService);
    if ((await sla.listPolicies()).length === 0) {
      const calendar = await sla.createCalendar({
        name: '工作时间 Business hours (Asia/Shanghai)',
        timeZone: 'Asia/Shanghai',
        hours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => [day, [['09:00', '18:00']]])),
        holidays: ['2026-10-01', '2026-10-02', '2026-10-03'],
      } as Parameters<SlaAdminService['createCalendar']>[0]);
      await sla.createPolicy({
        name: '紧急 Urgent',
        position: 0,
        conditions: { priorities: ['urgent'] },
        targets: { firstResponseMinutes: 30, resolutionMinutes: 240 },
        warningMinutes: 10,
      });
      await sla.createPolicy({
        name: '标准 Standard',
        position: 1,
        conditions: {},
        targets: { firstResponseMinutes: 240, resolutionMinutes: 2880 },
        warningMinutes: 60,
        calendarId: calendar.id,
      });
    }

    // Customers.
    const contacts = app.get(ContactsService);
    const contactIds = new Map<string, string>();
    const resolveCustomer = async (key: string, channel: string) => {
      const customer = DEMO_CUSTOMERS.find((candidate) => candidate.key === key)!;
      const { contact, created } = await contacts.resolveIdentity({
        channel,
        externalId: channel === 'email' && customer.email ? customer.email : `demo-${customer.key}`,
        verified: true,
        name: customer.name,
        email: customer.email,
        phone: customer.phone,
        language: customer.language,
      });
      if (created) summary.contacts++;
      if (!contactIds.has(key)) {
        contactIds.set(key, contact.id);
        if (customer.vip && !contact.vip) await contacts.update(system, contact.id, { vip: true, tags: ['vip'] });
      }
      return contact.id;
    };

    // Conversations, spread over the last two weeks.
    const tickets = app.get(TicketsService);
    const today = new Date();
    today.setUTCHours(2, 0, 0, 0); // 10:00 in Shanghai
    const resolved: string[] = [];
    const csatWanted = new Map<string, number>();
    for (const [index, demo] of DEMO_CONVERSATIONS.entries()) {
      const inboxId = inboxes.get(demo.inbox)!;
      const channel = DEMO_INBOXES.find((inbox) => inbox.key === demo.inbox)!.channel;
      const start = today.getTime() - demo.daysAgo * 86_400_000 + (index % 5) * 47 * MINUTE;
      const agent = demo.agent ? agents.get(demo.agent) : undefined;
      const customer = DEMO_CUSTOMERS.find((candidate) => candidate.key === demo.customer)!;
      await resolveCustomer(demo.customer, channel);
      let conversationId: string | undefined;
      let duplicate = false;
      for (const [step, message] of demo.messages.entries()) {
        setTime(start + message.afterMinutes * MINUTE + step * 1000);
        if (message.from === 'customer') {
          const result = await conversations.ingestInbound({
            inboxId,
            externalContact: {
              externalId: channel === 'email' && customer.email ? customer.email : `demo-${customer.key}`,
              verified: true,
              name: customer.name,
              email: customer.email,
              language: customer.language,
            },
            idempotencyKey: `demo:${index}:${step}`,
            threadKey: `demo-${index}`,
            text: message.text,
          });
          conversationId = result.conversation.id;
          if (step === 0 && result.duplicate) duplicate = true;
          if (step === 0 && !result.duplicate) {
            summary.conversations++;
            if (agent) await conversations.assign(conversationId, { agentId: agent.id }, system);
            if (demo.priority || demo.tags)
              await conversations.update(system, conversationId, {
                ...(demo.priority ? { priority: demo.priority } : {}),
                ...(demo.tags ? { tags: demo.tags } : {}),
              });
          }
        } else if (conversationId && !duplicate) {
          const author = message.from === 'bot' ? { ...SYSTEM_ACTOR, id: 'demo-bot' } : (agent ?? system);
          await conversations.postMessage(author, conversationId, {
            text: message.text,
            private: message.from === 'note',
            idempotencyKey: `demo:${index}:${step}`,
          });
        }
      }
      if (!conversationId || duplicate) continue;
      const last = demo.messages.at(-1)!.afterMinutes;
      if (demo.ticket) {
        setTime(start + (last + 2) * MINUTE);
        const ticket = await tickets.create(agent ?? system, {
          subject: demo.ticket.subject,
          description: demo.messages[0]!.text,
          type: demo.ticket.type,
          priority: demo.ticket.priority,
          requesterContactId: contactIds.get(demo.customer) ?? null,
          teamId: DEMO_INBOXES.find((inbox) => inbox.key === demo.inbox)!.teamId,
          assigneeId: agent?.id ?? null,
          links: [{ kind: 'conversation', refId: conversationId }],
        });
        summary.tickets++;
        if (demo.ticket.solve) {
          setTime(start + (last + 30) * MINUTE);
          await tickets.transition(agent ?? system, ticket.id, 'open').catch(() => undefined);
          await tickets.transition(agent ?? system, ticket.id, 'solved');
        }
      }
      if (demo.resolve) {
        setTime(start + (last + 5) * MINUTE);
        await conversations.setStatus(conversationId, { status: 'resolved' }, agent ?? system);
        resolved.push(conversationId);
        if (demo.csat) csatWanted.set(conversationId, demo.csat);
      }
    }
    setTime(null);

    // Devices: registry, rules, 24 h of telemetry and a live fault on one cold room.
    const devices = app.get(DevicesService);
    const rules = app.get(DeviceRulesService);
    if (!rules.list().some((rule) => rule.name === '冷库温度过高 Cold room over temperature')) {
      await rules.create({
        name: '冷库温度过高 Cold room over temperature',
        scopeModel: 'ColdRoom X200',
        kind: 'threshold',
        metric: 'temperature',
        params: { op: '>', value: -10, clearValue: -15 },
        debounceSamples: 2,
        severity: 'major',
        title: '冷库温度过高 / Cold room over temperature',
        autoResolve: true,
      });
      await rules.create({
        name: '路由器过热 Router overheating',
        scopeModel: 'Router AX3000',
        kind: 'threshold',
        metric: 'temperature',
        params: { op: '>', value: 80, clearValue: 70 },
        debounceSamples: 3,
        severity: 'minor',
        title: '路由器过热 / Router overheating',
        autoResolve: true,
      });
    }
    const telemetry = app.get(TelemetryService);
    const existingDevices = new Set((await devices.list(system, { limit: 500 } as never)).items.map((device) => device.id));
    for (const device of DEMO_DEVICES) {
      if (existingDevices.has(device.id)) continue;
      const ownerContactId = contactIds.get(device.owner) ?? (await resolveCustomer(device.owner, 'api'));
      await devices.create(system, {
        id: device.id,
        name: device.name,
        model: device.model,
        site: device.site,
        firmware: device.firmware,
        serialNumber: `SN-${device.id}`,
        ownerContactId,
        teamId: 'iot-ops',
        tags: [device.model.startsWith('Cold') ? 'cold-chain' : 'cpe'],
      });
      summary.devices++;
      const now = Date.now();
      const points = 96; // every 15 minutes for 24 hours
      for (let i = points; i >= 0; i--) {
        const ts = new Date(now - i * 15 * MINUTE);
        const wave = Math.sin((i / points) * Math.PI * 4);
        const faulty = device.fault && i <= 3;
        const readings = Object.entries(device.base).map(([metric, base]) => {
          let value = base + wave * (Math.abs(base) * 0.04 + 0.5) + ((i * 7919) % 10) / 20;
          if (faulty && metric === 'temperature') value = -6 + (3 - i) * 1.5;
          return { metric, value: Math.round(value * 100) / 100, ts: ts.toISOString() };
        });
        await telemetry.accept({ deviceId: device.id, readings }, `demo:${device.id}:${i}`);
        summary.readings += readings.length;
      }
    }

    // With NATS, telemetry is processed asynchronously: wait until the fault has been detected.
    const faultDeadline = Date.now() + (options.settleMs ?? 30_000);
    for (const device of DEMO_DEVICES.filter((candidate) => 'fault' in candidate && candidate.fault)) {
      while (Date.now() < faultDeadline && (await devices.get(system, device.id)).state !== 'fault') await sleep(250);
    }

    if (summary.devices > 0) {
      const created = await app.get(ApiKeysService).create(system, { name: 'demo telemetry simulator', scopes: ['telemetry:write'] });
      summary.simulatorKey = created.key;
    }

    // Let the event flow catch up: CSAT surveys reach the resolved conversations; customers answer through the survey link.
    const deadline = Date.now() + (options.settleMs ?? 30_000);
    const csat = app.get(CsatService);
    const pending = new Map(csatWanted);
    const ratings: number[] = [];
    while (pending.size > 0 && Date.now() < deadline) {
      for (const [conversationId, rating] of pending) {
        const messages = await conversations.listMessages(conversationId, { afterSeq: 0, limit: 200 });
        const survey = messages.find((message) => (message.content as { type?: string } | null)?.type === 'buttons');
        const button = ((survey?.content as { buttons?: Array<{ value: string }> } | null)?.buttons ?? [])[rating - 1];
        if (!button) continue;
        // What the survey link does (POST /api/v1/csat/public/:token): the token is in the button value.
        const token = button.value.split(':')[1] ?? '';
        try {
          await csat.answer(token, rating, rating >= 4 ? null : '等待时间有点长 / waited a bit long');
        } catch (error) {
          summary.skipped.push(`a CSAT answer (${(error as Error).message})`);
          pending.delete(conversationId);
          continue;
        }
        summary.csatAnswers++;
        ratings.push(rating);
        pending.delete(conversationId);
      }
      if (pending.size > 0) await sleep(500);
    }
    if (pending.size > 0) summary.skipped.push(`${pending.size} CSAT answers (surveys not delivered in time)`);

    // Analytics facts come from the events; wait until they are counted, CSAT answers included
    // (the command exits right after: events still in the outbox would reach the analytics
    // only at the next start).
    const relay = app.get(OutboxRelay);
    const analytics = app.get(AnalyticsService);
    const from = new Date(today.getTime() - 15 * 86_400_000);
    const csatAverage = ratings.length ? Math.round((ratings.reduce((sum, rating) => sum + rating, 0) / ratings.length) * 100) / 100 : null;
    while (Date.now() < deadline) {
      await relay.drain();
      const report = await analytics.report(system, { from, to: new Date(Date.now() + MINUTE), groupBy: ['day'] });
      const csatCounted = csatAverage === null || (report.totals.csatAverage !== null && Math.abs(report.totals.csatAverage - csatAverage) < 0.006);
      if (report.totals.conversationsCreated >= summary.conversations && csatCounted) break;
      await sleep(500);
    }
    // Knowledge base, bot flows and the web chat's bot, last: the bot only answers messages that
    // arrive after it is configured, so the seeded history above stays as it was.
    const knowledge = app.get(KnowledgeService);
    const editor = agents.get('demo-chen-sup') ?? system;
    const existingTitles = new Set((await knowledge.list(system, { status: undefined, limit: 1000 })).items.map((entry) => entry.title));
    for (const entry of DEMO_KB) {
      if (existingTitles.has(entry.title)) continue;
      const { laterVariants, ...content } = entry;
      const created = await knowledge.create(editor, { ...content, audience: entry.audience ?? 'public', publish: true });
      if (laterVariants) await knowledge.update(editor, created.id, { questions: [...entry.questions, ...laterVariants], publish: true });
      summary.kbEntries++;
    }
    // The review queue: unanswered web-chat questions (as the bot records them) and an agent's answer.
    const pendingBefore = (await knowledge.proposals(system, { status: 'pending' })).length;
    const webchatInbox = inboxes.get('webchat')!;
    const agentLi = agents.get('demo-li-na') ?? system;
    let agentAnswered = false;
    const reviewQueueStart = Date.now() - 3 * 60 * MINUTE;
    for (const [index, item] of DEMO_UNANSWERED.entries()) {
      const customer = DEMO_CUSTOMERS.find((candidate) => candidate.key === item.customer)!;
      // Within the last few hours, whatever the time of day: the learning loop only pairs an agent's answer with
      // questions of the last 24 h (based on "today 10:00 Shanghai" this fell outside that window after 08:00 UTC).
      setTime(reviewQueueStart + index * 30 * MINUTE);
      const result = await conversations.ingestInbound({
        inboxId: webchatInbox,
        externalContact: { externalId: `demo-${customer.key}`, verified: true, name: customer.name, language: customer.language },
        idempotencyKey: `demo:kb:${index}:0`,
        threadKey: `demo-kb-${index}`,
        text: item.text,
      });
      if (result.duplicate) continue;
      await knowledge.recordUnanswered({
        kbId: 'default',
        messageId: result.message.id,
        conversationId: result.conversation.id,
        question: item.text,
        language: customer.language,
        reason: 'low_confidence',
      });
      if (item.agentReply) {
        setTime(reviewQueueStart + index * 30 * MINUTE + 4 * MINUTE);
        await conversations.assign(result.conversation.id, { agentId: agentLi.id }, system);
        await conversations.postMessage(agentLi, result.conversation.id, { text: item.agentReply, idempotencyKey: `demo:kb:${index}:1` });
        agentAnswered = true;
      }
    }
    setTime(null);
    if (agentAnswered) {
      // The learning loop is a consumer of the agent's message: wait for its proposal.
      const learningDeadline = Date.now() + 15_000;
      while (Date.now() < learningDeadline) {
        await relay.drain();
        if ((await knowledge.proposals(system, { status: 'pending' })).some((proposal) => proposal.source === 'agent_answer')) break;
        await sleep(300);
      }
    }
    await knowledge.mine('default');
    summary.kbProposals = (await knowledge.proposals(system, { status: 'pending' })).length - pendingBefore;

    const bot = app.get(BotService);
    const existingFlows = new Set((await bot.listFlows()).map((flow) => flow.name));
    for (const source of DEMO_FLOWS) {
      const { name } = parseFlowSource(source, 'yaml') as { name: string };
      if (existingFlows.has(name)) continue;
      await bot.createFlow(editor, { format: 'yaml', source, activate: true });
      summary.flows++;
    }
    const webchat = inboxes.get('webchat');
    if (webchat && !(await bot.getConfig(system, webchat)).configured) {
      await bot.putConfig(editor, webchat, DEMO_BOT_CONFIG);
      summary.botInboxes++;
    }
    await relay.drain();
    log(
      `demo data: ${summary.conversations} conversations, ${summary.tickets} tickets, ${summary.devices} devices (${summary.readings} readings), ${summary.contacts} contacts, ${summary.kbEntries} knowledge-base entries, ${summary.flows} bot flows`,
    );
    return summary;
  } finally {
    (clock as { now: () => Date }).now = realNow;
  }
}
