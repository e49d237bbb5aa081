import { extractWith } from './flow-preview.js';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { KeyedSerializer } from '../platform/concurrency/keyed-serializer.js';
import type { DataSource } from 'typeorm';
import { createSafeFetch } from '@switchboard/plugin-sdk';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { RowReader } from '../platform/database/row-reader.js';
import { RowUpdater } from '../platform/database/row-updater.js';
import { RowInserter } from '../platform/database/row-inserter.js';
import type { Criteria } from '../platform/database/row-reader.js';
import type { EventToEmit } from '../platform/outbox/outbox.writer.js';
import { UnitOfWork, type Tx } from '../platform/database/unit-of-work.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { BUS, type Bus, type Closable } from '../platform/bus/bus.port.js';
import type { EventEnvelope } from '../platform/outbox/outbox.entity.js';
import { IdempotentConsumers } from '../platform/outbox/idempotent-consumers.js';
import { SchedulerService } from '../platform/scheduler/scheduler.service.js';
import type { Actor } from '../identity/actor.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import {
  CONVERSATION_ASSIGNED,
  CONVERSATION_MESSAGE_CREATED,
  CONVERSATION_RESOLVED,
  type ConversationAssignedEvent,
  type ConversationResolvedEvent,
  type MessageCreatedEvent,
} from '../conversations/conversations.events.js';
import { ContactsService } from '../contacts/contacts.service.js';
import { NlpService } from '../nlp/nlp.service.js';
import type { Annotation } from '../nlp/annotator.js';
import { RoutingService } from '../routing/routing.service.js';
import { KnowledgeService } from '../knowledge/knowledge.service.js';
import type { KbHit } from '../knowledge/knowledge.types.js';
import { AssistService } from '../assist/assist.service.js';
import { PluginHostService } from '../platform/plugin-host/plugin-host.service.js';
import { trendLine } from '../assist/analysis.js';
import { BotSessionRow, BotTurnRow } from './entities/bot.entity.js';
import { BotService } from './bot.service.js';
import {
  emptySession,
  type BotAction,
  type BotConfig,
  type Branch,
  type CallStep,
  type FlowDefinition,
  type FlowStep,
  type LocalText,
  type SessionState,
} from './bot.types.js';
import { BOT_HANDED_OVER, BOT_TURN, type BotHandedOverEvent, type BotTurnEvent, type HandoverReason } from './bot.events.js';
import { evaluate, localise, renderDeep, renderTemplate } from './flow.js';

export const BOT_ACTOR: Actor = { kind: 'system', id: 'bot', displayName: 'Bot', roles: ['admin'], teamIds: [], scopes: [] };
const FLOW_TIMEOUT = 'bot.flow-timeout';
const MAX_STEPS_PER_TURN = 25;
const SESSION_CHANGED = 'bot session changed concurrently; the turn is retried';
const GREETING_INTENTS = new Set(['greeting']);
const THANKS_INTENTS = new Set(['thanks', 'goodbye']);

interface Reply {
  text: string;
  content?: Record<string, unknown> | null;
}

interface Outcome {
  action: BotAction;
  reason?: string | null;
  replies: Reply[];
  handover?: HandoverReason;
  kbEntryId?: string | null;
  kbScore?: number | null;
  unanswered?: string;
  resolve?: boolean;
  /** The flow waits for the customer: (re)arm its timeout. */
  awaiting?: { seconds: number };
}

interface TurnContext {
  config: BotConfig;
  state: SessionState;
  text: string;
  annotation: Annotation;
  language: string;
  event: MessageCreatedEvent;
  bestHit?: KbHit;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Case-insensitive phrase match: whole words for Latin phrases, substrings for CJK. */
export function matchesPhrase(text: string, phrases: string[]): string | null {
  const lower = text.toLowerCase().normalize('NFKC');
  for (const phrase of phrases) {
    const p = phrase.toLowerCase().normalize('NFKC').trim();
    if (!p) continue;
    if (/^[\x20-\x7e]+$/.test(p)) {
      if (new RegExp(`(^|[^a-z0-9])${esc(p)}($|[^a-z0-9])`, 'i').test(lower)) return phrase;
    } else if (lower.includes(p)) return phrase;
  }
  return null;
}

export function withinBusinessHours(hours: BotConfig['businessHours'], now: Date): boolean {
  if (!hours) return true;
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: hours.timezone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'));
  const minutes = Number(get('hour')) * 60 + Number(get('minute'));
  const [oh, om] = hours.open.split(':').map(Number);
  const [ch, cm] = hours.close.split(':').map(Number);
  const open = oh * 60 + om;
  const close = ch * 60 + cm;
  if (!hours.days.includes(day)) return false;
  return open <= close ? minutes >= open && minutes < close : minutes >= open || minutes < close;
}

/**
 * The dialogue engine. Consumes every customer message (`message_created`, in, contact) on
 * inboxes with an enabled bot, one turn at a time per conversation:
 * explicit hand-over phrases, VIP, anger / strong negative emotion → hand over; an active flow
 * continues (slots validated by the entity extractor, calls, branches, templates); a flow
 * trigger starts one; otherwise the knowledge base answers by confidence (high → answer,
 * medium → "Did you mean…" buttons, low → clarify once, then hand over).
 *
 * Replies go out through ConversationsService.postMessage with idempotency keys derived from
 * the customer's message, then the session, the turn log and `sb.evt.bot.turn` /
 * `sb.evt.bot.handed_over` commit together. A plain consumer (not a consumer transaction):
 * the replies run their own transactions, which must not nest on SQLite.
 */
@Injectable()
export class BotRuntime implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('bot-runtime');
  private readonly inserter = new RowInserter();
  private readonly handles: Closable[] = [];
  /** One turn at a time per conversation; conversations run in parallel. */
  private readonly perConversation = new KeyedSerializer();
  private readonly fetchers = new Map<boolean, ReturnType<typeof createSafeFetch>>();
  readonly stats = { turns: 0, handovers: 0 };

  /** Read on every turn: by key, without a query builder per call. */
  private readonly sessionRows: RowReader<BotSessionRow>;
  private readonly sessionUpdates: RowUpdater<BotSessionRow>;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(BUS) private readonly bus: Bus,
    private readonly uow: UnitOfWork,
    private readonly consumers: IdempotentConsumers,
    private readonly scheduler: SchedulerService,
    private readonly bot: BotService,
    private readonly conversations: ConversationsService,
    private readonly contacts: ContactsService,
    private readonly nlp: NlpService,
    private readonly routing: RoutingService,
    private readonly knowledge: KnowledgeService,
    private readonly assist: AssistService,
    private readonly plugins: PluginHostService,
  ) {
    this.sessionRows = new RowReader(dataSource, BotSessionRow);
    this.sessionUpdates = new RowUpdater(dataSource, BotSessionRow);
  }

  onModuleInit(): void {
    this.routing.holdAutoRoute((event) => this.bot.handlesInbox(event.inboxId));
    this.scheduler.onTimer(FLOW_TIMEOUT, async (payload, tx) => this.onFlowTimeout(payload as { conversationId: string; turns: number; language: string }, tx));
  }

  async onApplicationBootstrap(): Promise<void> {
    this.handles.push(
      await this.bus.consume<EventEnvelope<MessageCreatedEvent>>({
        name: 'bot-inbound',
        subject: CONVERSATION_MESSAGE_CREATED,
        delivery: 'one-instance',
        concurrency: 16,
        handler: async (message) => {
          const data = message.data?.data;
          if (!data || data.direction !== 'in' || data.authorType !== 'contact') return;
          const config = this.bot.configFor(data.inboxId);
          if (!config?.enabled) return;
          await this.serial(data.conversationId, () => this.turn(data, config));
        },
      }),
      await this.consumers.register<ConversationResolvedEvent>({
        name: 'bot-conversation-resolved',
        subject: CONVERSATION_RESOLVED,
        handle: async (event, tx) => {
          // Resolved: the bot is back in charge for the next conversation turn, with a fresh state.
          await tx.manager.delete(BotSessionRow, { conversationId: event.data.conversationId });
          await this.scheduler.cancel(tx, `bot-flow:${event.data.conversationId}`);
        },
      }),
      await this.bus.consume<EventEnvelope<ConversationAssignedEvent>>({
        name: 'bot-conversation-assigned',
        subject: CONVERSATION_ASSIGNED,
        delivery: 'one-instance',
        handler: async (message) => {
          const data = message.data?.data;
          if (data?.agentId) await this.serial(data.conversationId, () => this.agentTookOver(data.conversationId, message.data.id));
        },
      }),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled(this.handles.map((h) => h.close()));
    await this.perConversation.idle();
  }

  /**
   * What a turn starts from, in one statement: whether this message already had its turn (a redelivery), and the
   * conversation's session. The probe row makes the statement return a row even without a session.
   */
  private async turnStart(event: MessageCreatedEvent): Promise<{ done: boolean; existing: BotSessionRow | null }> {
    const [raw] = (await this.dataSource.query(
      `SELECT ${this.sessionRows.selectList}, (SELECT 1 FROM bot_turns WHERE message_id = ?) AS turn_done FROM (SELECT 1 AS probe) probe LEFT JOIN bot_sessions ON bot_sessions.conversation_id = ?`,
      [event.messageId, event.conversationId],
    )) as Array<Record<string, unknown>>;
    return {
      done: raw?.turn_done !== null && raw?.turn_done !== undefined,
      existing: raw?.conversation_id ? this.sessionRows.hydrate(raw) : null,
    };
  }

  /** One turn at a time per conversation on this instance (the session row's version guards across instances). */
  private serial(conversationId: string, work: () => Promise<void>): Promise<void> {
    return this.perConversation.run(conversationId, work);
  }

  // ---------------------------------------------------------------- one turn

  async turn(event: MessageCreatedEvent, config: BotConfig): Promise<void> {
    const started = performance.now();
    const { done, existing } = await this.turnStart(event);
    if (done) return;
    if (existing?.mode === 'handed_over') return;
    const state: SessionState = existing ? { ...emptySession(), ...existing.state } : emptySession();
    const [message, vip] = await Promise.all([
      this.conversations.getMessage(event.messageId, { recent: true }),
      existing ? Promise.resolve(state.vip) : this.contacts.isVip(event.contactId).catch(() => false),
    ]);
    state.vip = vip;
    const text = (message.text ?? '').slice(0, 4000);
    const annotation = await this.nlp.annotateMessage(event.messageId, text, { scope: event.inboxId });
    const language =
      annotation.language === 'zh'
        ? 'zh'
        : annotation.language && annotation.languageConfidence >= 0.5
          ? annotation.language
          : (state.language ?? config.defaultLanguage);
    state.language = language;
    const emotion = annotation.anger ? 'anger' : annotation.anxiety ? 'anxiety' : annotation.sentiment;
    state.turns++;
    state.emotions = [...state.emotions, emotion].slice(-20);
    state.intents = [...state.intents, { intent: annotation.intent ?? annotation.intentCandidate, confidence: annotation.intentConfidence }].slice(-20);
    const ctx: TurnContext = { config, state, text, annotation, language, event };

    let outcome = await this.decide(ctx);
    // Greeting and off-hours notice go first, once per session.
    const prefix: Reply[] = [];
    if (!state.greeted && config.greeting && outcome.action !== 'greeting' && !outcome.handover && state.turns === 1)
      prefix.push({ text: localise(config.greeting, language) });
    state.greeted = true;
    const offHours = !withinBusinessHours(config.businessHours, this.clock.now());
    if (offHours && !state.offHoursNotified && config.offHoursMessage && !outcome.handover) {
      prefix.push({ text: localise(config.offHoursMessage, language) });
      state.offHoursNotified = true;
    }
    if (outcome.handover) {
      const handoverText = localise(offHours ? config.messages.handoverOffHours : config.messages.handover, language);
      outcome = { ...outcome, replies: [...outcome.replies, { text: handoverText }] };
    }
    const replies = [...prefix, ...outcome.replies];

    const latencyMs = Math.round((performance.now() - started) * 100) / 100;
    const intent = annotation.intent ?? annotation.intentCandidate;
    // The replies, the turn log and the session commit together: one transaction per turn, and a turn that
    // fails leaves nothing half-done for its retry.
    const posts = replies
      .filter((reply) => reply.text.trim() || reply.content)
      .map((reply, k) => ({
        text: reply.text,
        content: reply.content ?? null,
        idempotencyKey: `bot:${event.messageId}:${k}`,
        authorType: 'bot' as const,
        authorId: `bot:${event.inboxId}`,
      }));
    const session = this.sessionWrite(event, existing, state, outcome.handover ?? null);
    const turnRow = Object.assign(new BotTurnRow(), {
      id: randomUUID(),
      messageId: event.messageId,
      conversationId: event.conversationId,
      inboxId: event.inboxId,
      intent,
      confidence: annotation.intentConfidence,
      action: outcome.action,
      kbEntryId: outcome.kbEntryId ?? null,
      kbScore: outcome.kbScore ?? null,
      language,
      emotion,
      flowName: state.flow?.name ?? null,
      reason: (outcome.reason ?? outcome.handover ?? null)?.slice(0, 100) ?? null,
      label: null,
      latencyMs,
      createdAt: this.clock.now(),
    });
    const turn: BotTurnEvent = {
      conversationId: event.conversationId,
      messageId: event.messageId,
      inboxId: event.inboxId,
      intent,
      confidence: annotation.intentConfidence,
      action: outcome.action,
      reason: outcome.reason ?? outcome.handover ?? null,
      kbEntryId: outcome.kbEntryId ?? null,
      kbScore: outcome.kbScore ?? null,
      flow: state.flow?.name ?? null,
      language,
      emotion,
    };
    const events: Array<EventToEmit<unknown>> = [{ subject: BOT_TURN, id: `bot-turn:${event.messageId}`, data: turn }];
    if (outcome.handover) {
      const data: BotHandedOverEvent = {
        conversationId: event.conversationId,
        inboxId: event.inboxId,
        reason: outcome.handover,
        messageId: event.messageId,
        intent,
        slots: { ...state.slots, ...(state.flow?.slots ?? {}) },
      };
      events.push({ subject: BOT_HANDED_OVER, id: `bot-handover:${event.conversationId}:${event.messageId}`, data });
    }
    const timerKey = `bot-flow:${event.conversationId}`;
    const scheduleTimer = Boolean(outcome.awaiting && !outcome.handover);
    const cancelTimer = !scheduleTimer && Boolean(existing?.state.flow);
    // Most turns (no flow timer to set or clear) commit in two round trips on MySQL; the rest, and SQLite, in a unit of work.
    const pipelined =
      !scheduleTimer &&
      !cancelTimer &&
      (await this.conversations.postMessagesWith(BOT_ACTOR, event.conversationId, posts, {
        first: session.update ? [this.sessionUpdates.render(session.update.where, session.update.set)!] : [],
        check: (results) => {
          if (session.update && (results[0] as { affectedRows?: number }).affectedRows !== 1) throw new Error(SESSION_CHANGED);
        },
        last: [
          ...(session.insert ? this.inserter.render(this.dataSource, BotSessionRow, [session.insert]) : []),
          ...this.inserter.render(this.dataSource, BotTurnRow, [turnRow]),
        ],
        events,
      }));
    if (!pipelined)
      await this.uow.run(async (tx) => {
        for (const post of posts) await this.conversations.postMessageInTx(tx, BOT_ACTOR, event.conversationId, post);
        if (session.insert) await tx.insert(BotSessionRow, session.insert);
        else if ((await this.sessionUpdates.update(tx.manager, session.update.where, session.update.set)) !== 1) throw new Error(SESSION_CHANGED);
        await tx.insert(BotTurnRow, turnRow);
        for (const emitted of events) await tx.emit(emitted);
        if (scheduleTimer)
          await this.scheduler.schedule(tx, {
            key: timerKey,
            kind: FLOW_TIMEOUT,
            dueAt: new Date(this.clock.now().getTime() + outcome.awaiting!.seconds * 1000),
            payload: { conversationId: event.conversationId, turns: state.turns, language },
          });
        else if (cancelTimer) await this.scheduler.cancel(tx, timerKey);
      });
    this.stats.turns++;

    if (outcome.handover) await this.completeHandover(event, state, outcome.handover, language);
    if (outcome.unanswered) {
      await this.knowledge
        .recordUnanswered({
          kbId: config.kbId,
          messageId: event.messageId,
          conversationId: event.conversationId,
          question: text,
          language,
          reason: outcome.unanswered,
          bestEntryId: ctx.bestHit?.entryId ?? null,
          bestScore: ctx.bestHit?.score ?? null,
        })
        .catch((error: Error) => this.logger.warn({ reason: error.message }, 'unanswered question not recorded'));
    }
    if (outcome.resolve) await this.conversations.setStatus(event.conversationId, { status: 'resolved' }).catch(() => undefined);
  }

  /** The session's write for this turn: the first turn inserts it, later ones update it if no other turn moved it meanwhile (its version). */
  private sessionWrite(
    event: MessageCreatedEvent,
    existing: BotSessionRow | null,
    state: SessionState,
    handover: HandoverReason | null,
  ): { insert: BotSessionRow; update?: undefined } | { insert?: undefined; update: { where: Criteria<BotSessionRow>; set: Partial<BotSessionRow> } } {
    const now = this.clock.now();
    const mode = handover ? 'handed_over' : 'bot';
    if (!existing) {
      return {
        insert: Object.assign(new BotSessionRow(), {
          conversationId: event.conversationId,
          inboxId: event.inboxId,
          mode,
          state: state as never,
          version: 1,
          handoverReason: handover,
          handedOverAt: handover ? now : null,
          createdAt: now,
          updatedAt: now,
        }),
      };
    }
    return {
      update: {
        where: { conversationId: event.conversationId, version: existing.version },
        set: {
          mode,
          state: state as never,
          version: existing.version + 1,
          handoverReason: handover ?? existing.handoverReason,
          handedOverAt: handover ? now : existing.handedOverAt,
          updatedAt: now,
        },
      },
    };
  }

  // ---------------------------------------------------------------- decisions

  private async decide(ctx: TurnContext): Promise<Outcome> {
    const { config, state, text, annotation } = ctx;
    const trimmed = text.trim();

    // Buttons: a chosen suggestion, or feedback on an answer.
    const chosen = /^#kb:([0-9a-f-]{36})$/i.exec(trimmed)?.[1] ?? this.pickOffered(state, trimmed);
    if (chosen) {
      const hit = this.knowledge.liveHit(config.kbId, chosen);
      if (hit) return this.answer(ctx, hit, 'suggestion_chosen');
    }
    const feedback = /^#fb:([0-9a-f-]{36}):([01])$/i.exec(trimmed);
    if (feedback) {
      await this.knowledge
        .feedback({
          entryId: feedback[1],
          helpful: feedback[2] === '1',
          source: 'customer',
          conversationId: ctx.event.conversationId,
          dedupeKey: `customer:${ctx.event.conversationId}:${feedback[1]}`,
        })
        .catch(() => undefined);
      return { action: 'feedback', replies: [{ text: localise(config.messages.feedbackThanks, ctx.language) }] };
    }

    if (matchesPhrase(text, config.handoverPhrases)) return { action: 'handover', handover: 'explicit_request', replies: [] };
    if (config.handoverOnVip && state.vip) return { action: 'handover', handover: 'vip', replies: [] };
    if (config.handoverOnAnger && annotation.anger) return { action: 'handover', handover: 'anger', replies: [] };

    // An explicit "start over" is a command, not a negative message: it goes before the negative streak.
    if (matchesPhrase(text, config.startOverPhrases)) {
      const flow = state.flow;
      state.flow = null;
      state.negativeStreak = 0;
      state.failedTurns = 0;
      state.clarified = false;
      state.lastOffered = [];
      if (flow) {
        const active = this.bot.activeFlow(flow.name);
        if (active) {
          const restarted = await this.startFlow(ctx, active.definition, active.version, false);
          return { ...restarted, action: 'start_over', replies: [{ text: localise(config.messages.startOver, ctx.language) }, ...restarted.replies] };
        }
      }
      return { action: 'start_over', replies: [{ text: localise(config.messages.startOver, ctx.language) }] };
    }

    state.negativeStreak = annotation.sentiment === 'negative' && annotation.emotionConfidence >= 0.6 ? state.negativeStreak + 1 : 0;
    if (config.negativeStreak > 0 && state.negativeStreak >= config.negativeStreak) return { action: 'handover', handover: 'negative_emotion', replies: [] };

    if (state.flow) {
      const definition = await this.bot.flowDefinition(state.flow.name, state.flow.version);
      if (definition) return this.runFlow(ctx, definition, text);
      state.flow = null;
    }

    // A flow whose trigger phrase the message contains wins over one whose intent matches.
    const flows = config.flows.map((name) => this.bot.activeFlow(name)).filter((f) => f !== undefined);
    const triggered = flows.find((f) => this.triggeredByPhrase(f.definition, ctx)) ?? flows.find((f) => this.triggeredByIntent(f.definition, ctx));
    if (triggered) return this.startFlow(ctx, triggered.definition, triggered.version, true);

    const hits = this.knowledge.searchPublic(config.kbId, text, 3, ctx.event.teamId ?? null);
    const top = hits[0];
    ctx.bestHit = top;
    const intent = annotation.intent;
    const confident = (annotation.intentConfidence ?? 0) >= 0.5;
    if (intent && confident && GREETING_INTENTS.has(intent) && (!top || top.score < config.thresholds.high)) {
      return { action: 'greeting', reason: 'greeting', replies: [{ text: localise(config.greeting ?? DEFAULT_GREETING, ctx.language) }] };
    }
    if (intent && confident && THANKS_INTENTS.has(intent) && (!top || top.score < config.thresholds.high)) {
      return {
        action: 'smalltalk',
        reason: intent,
        replies: [{ text: localise(config.messages.thanks, ctx.language) }],
        resolve: config.resolveOnThanks && state.answered > 0,
      };
    }
    const clear = !hits[1] || top.score - hits[1].score >= config.thresholds.margin;
    if (top && top.score >= config.thresholds.high && clear && top.support >= config.thresholds.minSupport) return this.answer(ctx, top, 'confident');
    if (top && top.score >= config.thresholds.medium) {
      const options = hits.filter((h) => h.score >= Math.max(config.thresholds.medium * 0.6, top.score - 0.4)).slice(0, 3);
      state.lastOffered = options.map((o) => ({ entryId: o.entryId, title: o.question }));
      for (const o of options)
        if (!state.offered.some((x) => x.entryId === o.entryId)) state.offered.push({ entryId: o.entryId, title: o.question, score: o.score });
      state.offered = state.offered.slice(-10);
      const prompt = localise(config.messages.suggest, ctx.language);
      return {
        action: 'suggest',
        reason: 'medium_confidence',
        kbEntryId: top.entryId,
        kbScore: top.score,
        replies: [
          {
            text: [prompt, ...options.map((o, i) => `${i + 1}. ${o.question}`)].join('\n'),
            content: { type: 'buttons', text: prompt, buttons: options.map((o) => ({ label: o.question.slice(0, 200), value: `#kb:${o.entryId}` })) },
          },
        ],
      };
    }
    // Low confidence: clarify once, then hand over; N failed turns hand over too.
    state.failedTurns++;
    const unanswered = top ? 'low_confidence' : 'fallback';
    if (state.failedTurns >= config.maxFailedTurns)
      return { action: 'handover', handover: 'failed_turns', replies: [], unanswered, kbEntryId: top?.entryId, kbScore: top?.score };
    if (!state.clarified) {
      state.clarified = true;
      return {
        action: 'clarify',
        reason: unanswered,
        replies: [{ text: localise(config.messages.clarify, ctx.language) }],
        unanswered,
        kbEntryId: top?.entryId,
        kbScore: top?.score,
      };
    }
    return { action: 'handover', handover: 'low_confidence', replies: [], unanswered, kbEntryId: top?.entryId, kbScore: top?.score };
  }

  /** "2" or the exact text of an offered suggestion picks it. */
  private pickOffered(state: SessionState, text: string): string | null {
    if (!state.lastOffered.length) return null;
    const n = /^\s*([1-9])\s*[.)、]?\s*$/.exec(text)?.[1];
    if (n && state.lastOffered[Number(n) - 1]) return state.lastOffered[Number(n) - 1].entryId;
    const lower = text.trim().toLowerCase();
    return state.lastOffered.find((o) => o.title.trim().toLowerCase() === lower)?.entryId ?? null;
  }

  private answer(ctx: TurnContext, hit: KbHit, reason: string): Outcome {
    const { state, config } = ctx;
    state.answered++;
    state.failedTurns = 0;
    state.clarified = false;
    state.lastOffered = [];
    if (!state.offered.some((x) => x.entryId === hit.entryId)) state.offered.push({ entryId: hit.entryId, title: hit.question, score: hit.score });
    state.offered = state.offered.slice(-10);
    const content = config.askFeedback
      ? {
          type: 'buttons',
          text: localise(config.messages.feedbackPrompt, ctx.language),
          buttons: [
            { label: '👍', value: `#fb:${hit.entryId}:1` },
            { label: '👎', value: `#fb:${hit.entryId}:0` },
          ],
        }
      : null;
    return { action: 'answer', reason, kbEntryId: hit.entryId, kbScore: hit.score, replies: [{ text: hit.answerText, content }] };
  }

  // ---------------------------------------------------------------- flows

  private triggeredByPhrase(flow: FlowDefinition, ctx: TurnContext): boolean {
    const phrases = flow.trigger?.phrases;
    return Boolean(phrases?.length && matchesPhrase(ctx.text, phrases));
  }

  private triggeredByIntent(flow: FlowDefinition, ctx: TurnContext): boolean {
    const trigger = flow.trigger;
    const intent = ctx.annotation.intent ?? ctx.annotation.intentCandidate;
    return Boolean(trigger && intent && trigger.intents?.includes(intent) && (ctx.annotation.intentConfidence ?? 0) >= (trigger.minConfidence ?? 0.5));
  }

  private async startFlow(ctx: TurnContext, flow: FlowDefinition, version: number, prefill: boolean): Promise<Outcome> {
    ctx.state.flow = {
      name: flow.name,
      version,
      stepId: flow.start ?? flow.steps[0].id,
      slots: {},
      results: {},
      attempts: 0,
      startedAt: this.clock.now().toISOString(),
    };
    if (prefill) {
      for (const step of flow.steps) {
        if (step.type !== 'ask') continue;
        const value = this.extract(step, ctx.text);
        if (value) ctx.state.flow.slots[step.slot] = value;
      }
    }
    const outcome = await this.runFlow(ctx, flow, null);
    return { ...outcome, reason: outcome.reason ?? `flow_started:${flow.name}` };
  }

  /** The same slot extraction the flow editor's dry run uses (`extractWith`), on the live entity extractor. */
  private readonly extract = extractWith((text) => this.nlp.entities(text));

  private async runFlow(ctx: TurnContext, flow: FlowDefinition, input: string | null): Promise<Outcome> {
    const state = ctx.state;
    const run = state.flow!;
    const replies: Reply[] = [];
    const context = () => ({ slots: run.slots, results: run.results, contact: { language: ctx.language } });
    const indexOf = (id: string) => flow.steps.findIndex((s) => s.id === id);
    const finish = (extra: Partial<Outcome> = {}): Outcome => {
      state.slots = { ...state.slots, ...run.slots };
      state.flow = null;
      state.failedTurns = 0;
      return { action: 'flow', reason: `flow_done:${flow.name}`, replies, ...extra };
    };
    const handover = (reason: HandoverReason, text?: LocalText): Outcome => {
      if (text) replies.push({ text: renderTemplate(localise(text, ctx.language), context()) });
      state.slots = { ...state.slots, ...run.slots };
      return { action: 'handover', handover: reason, reason: `flow:${flow.name}:${run.stepId}`, replies };
    };
    const goto = (target: string | undefined, current: FlowStep): boolean => {
      if (target === 'handover') return false;
      const next = target ?? flow.steps[indexOf(current.id) + 1]?.id;
      if (!next) return false;
      run.stepId = next;
      run.attempts = target === current.id ? run.attempts : 0;
      return true;
    };

    for (let guard = 0; guard < MAX_STEPS_PER_TURN; guard++) {
      const step = flow.steps[indexOf(run.stepId)];
      if (!step) return finish();
      switch (step.type) {
        case 'ask': {
          if (run.slots[step.slot] !== undefined) {
            if (!goto(step.next, step)) return finish();
            continue;
          }
          if (input !== null) {
            const value = this.extract(step, input);
            input = null;
            if (value) {
              run.slots[step.slot] = value;
              run.attempts = 0;
              if (!goto(step.next, step)) return finish();
              continue;
            }
            run.attempts++;
            state.failedTurns++;
            if (run.attempts >= (step.maxAttempts ?? 3)) {
              if (!step.onFail || step.onFail === 'handover') return handover('flow_failed');
              run.stepId = step.onFail;
              run.attempts = 0;
              continue;
            }
            replies.push({ text: renderTemplate(localise(step.invalid ?? step.prompt, ctx.language), context()) });
            return { action: 'flow', reason: `flow_invalid:${flow.name}:${step.id}`, replies, awaiting: { seconds: flow.timeoutSeconds ?? 600 } };
          }
          replies.push({ text: renderTemplate(localise(step.prompt, ctx.language), context()) });
          return { action: 'flow', reason: `flow_ask:${flow.name}:${step.id}`, replies, awaiting: { seconds: flow.timeoutSeconds ?? 600 } };
        }
        case 'call': {
          const result = await this.call(step, ctx, context());
          run.results[step.result] = result;
          if (!result.ok && result.error) {
            if (!step.onError || step.onError === 'handover') return handover('flow_failed');
            run.stepId = step.onError;
            continue;
          }
          const next = Array.isArray(step.next) ? this.branch(step.next, context()) : step.next;
          if (!goto(next, step)) return finish();
          continue;
        }
        case 'branch': {
          const next = this.branch(step.branches, context()) ?? step.default;
          if (!goto(next, step)) return finish();
          continue;
        }
        case 'set': {
          for (const [slot, template] of Object.entries(step.slots)) run.slots[slot] = renderTemplate(String(template), context());
          if (!goto(step.next, step)) return finish();
          continue;
        }
        case 'reply': {
          replies.push({ text: renderTemplate(localise(step.text, ctx.language), context()) });
          if (step.end || !goto(step.next, step)) return finish();
          continue;
        }
        case 'handover':
          return handover('flow_step', step.text);
      }
    }
    this.logger.warn({ flow: flow.name }, 'flow exceeded the steps allowed in one turn');
    return handover('flow_failed');
  }

  private branch(branches: Branch[], context: unknown): string | undefined {
    return branches.find((b) => evaluate(b.when, context))?.goto;
  }

  private async call(step: CallStep, ctx: TurnContext, context: unknown): Promise<{ ok: boolean; httpStatus?: number; data?: unknown; error?: string }> {
    if (step.plugin) {
      try {
        const params = renderDeep(step.plugin.params ?? {}, context);
        const data = await this.plugins.callConnector(step.plugin.instance, step.plugin.action, params, Math.min(step.plugin.timeoutMs ?? 5000, 30_000));
        return { ok: true, data };
      } catch (error) {
        this.logger.warn({ step: step.id, instance: step.plugin.instance, reason: (error as Error).message }, 'flow plugin call failed');
        return { ok: false, error: (error as Error).message.slice(0, 200) };
      }
    }
    const http = step.http!;
    const url = renderTemplate(http.url, context, true);
    let host: string;
    try {
      host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
    } catch {
      return { ok: false, error: 'invalid url' };
    }
    const allowPrivate = ctx.config.allowedPrivateHosts.map((h) => h.toLowerCase()).includes(host);
    let fetcher = this.fetchers.get(allowPrivate);
    if (!fetcher) this.fetchers.set(allowPrivate, (fetcher = createSafeFetch({ allowPrivate })));
    try {
      const method = http.method ?? 'GET';
      const body = method === 'GET' || http.body === undefined ? undefined : JSON.stringify(renderDeep(http.body, context));
      const headers: Record<string, string> = { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) };
      for (const [k, v] of Object.entries(http.headers ?? {})) headers[k.toLowerCase()] = renderTemplate(String(v), context);
      const response = await fetcher(url, {
        method,
        headers,
        body,
        timeoutMs: Math.min(http.timeoutMs ?? 5000, 30_000),
        maxRedirects: 0,
        maxBodyBytes: 1_000_000,
      });
      let data: unknown = null;
      try {
        data = response.json();
      } catch {
        data = response.text().slice(0, 2000);
      }
      return { ok: response.ok, httpStatus: response.status, data };
    } catch (error) {
      this.logger.warn({ step: step.id, reason: (error as Error).message }, 'flow call failed');
      return { ok: false, error: (error as Error).message.slice(0, 200) };
    }
  }

  private async onFlowTimeout(payload: { conversationId: string; turns: number; language: string }, tx: Tx): Promise<void> {
    const session = await this.sessionRows.findOneBy(tx.manager, { conversationId: payload.conversationId });
    if (!session || session.mode !== 'bot' || !session.state.flow || session.state.turns !== payload.turns) return;
    const definition = await this.bot.flowDefinition(session.state.flow.name, session.state.flow.version);
    const config = this.bot.configFor(session.inboxId);
    const state: SessionState = { ...session.state, flow: null, slots: { ...session.state.slots, ...session.state.flow.slots } };
    await tx.manager.update(
      BotSessionRow,
      { conversationId: session.conversationId },
      { state: state as never, version: session.version + 1, updatedAt: this.clock.now() },
    );
    const text = localise(definition?.timeoutMessage ?? config?.messages.flowTimeout ?? '', payload.language);
    if (text)
      tx.afterCommit(
        () =>
          void this.conversations
            .postMessage(BOT_ACTOR, session.conversationId, {
              text,
              idempotencyKey: `bot-timeout:${session.conversationId}:${payload.turns}`,
              authorType: 'bot',
              authorId: `bot:${session.inboxId}`,
            })
            .catch((error: Error) => this.logger.warn({ reason: error.message }, 'flow timeout message not sent')),
      );
  }

  // ---------------------------------------------------------------- hand-over

  private async completeHandover(event: MessageCreatedEvent, state: SessionState, reason: HandoverReason, language: string): Promise<void> {
    this.stats.handovers++;
    const note = await this.handoverNote(event.conversationId, state, reason).catch(
      (error: Error) => `Bot hand-over (${reason}). The note could not be built: ${error.message}`,
    );
    await this.conversations.postMessage(BOT_ACTOR, event.conversationId, {
      text: note,
      private: true,
      idempotencyKey: `bot-handover-note:${event.messageId}`,
      authorType: 'bot',
      authorId: `bot:${event.inboxId}`,
    });
    const config = this.bot.configFor(event.inboxId);
    if (config?.handoverTeamId && config.handoverTeamId !== event.teamId) {
      await this.conversations
        .assign(event.conversationId, { agentId: null, teamId: config.handoverTeamId })
        .catch((error: Error) => this.logger.warn({ reason: error.message }, 'hand-over team not set'));
    }
    const latest = state.emotions[state.emotions.length - 1];
    await this.routing.requestRouting(event.conversationId, {
      emotion: latest === 'anger' ? 'angry' : latest === 'negative' || latest === 'anxiety' ? 'negative' : undefined,
      language,
      vip: state.vip || undefined,
    });
  }

  /** The private note agents see: reason, intent, emotion trend, slots, articles offered and a short extractive summary. */
  async handoverNote(conversationId: string, state: SessionState, reason: HandoverReason): Promise<string> {
    const intents = state.intents.filter((i) => i.intent);
    const lastIntent = intents[intents.length - 1];
    const slots = { ...state.slots, ...(state.flow?.slots ?? {}) };
    const summary = (await this.assist.summary(null, conversationId, 3)).summary;
    const lines = [
      `🤖 Bot hand-over: ${REASONS[reason] ?? reason}`,
      `Intent: ${lastIntent ? `${lastIntent.intent} (${Math.round((lastIntent.confidence ?? 0) * 100)}%)` : 'unknown'}`,
      `Emotion trend: ${trendLine(state.emotions)}`,
      `Collected slots: ${
        Object.keys(slots).length
          ? Object.entries(slots)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ')
          : 'none'
      }`,
      `Articles offered: ${state.offered.length ? state.offered.map((o) => `"${o.title}"`).join('; ') : 'none'}`,
      ...(state.flow ? [`Flow in progress: ${state.flow.name} at step ${state.flow.stepId}`] : []),
      `Summary:\n${summary || '(no customer text)'}`,
    ];
    return lines.join('\n').slice(0, 60_000);
  }

  private async agentTookOver(conversationId: string, eventId: string): Promise<void> {
    const session = await this.sessionRows.findOneBy(this.dataSource.manager, { conversationId });
    if (!session || session.mode !== 'bot') return;
    await this.uow.run(async (tx) => {
      const moved = await tx.manager.update(
        BotSessionRow,
        { conversationId, version: session.version },
        { mode: 'handed_over', handoverReason: 'agent_took_over', handedOverAt: this.clock.now(), version: session.version + 1 },
      );
      if (!moved.affected) return;
      const data: BotHandedOverEvent = {
        conversationId,
        inboxId: session.inboxId,
        reason: 'agent_took_over',
        messageId: null,
        intent: null,
        slots: session.state.slots,
      };
      await tx.emit({ subject: BOT_HANDED_OVER, id: `bot-handover:${conversationId}:${eventId}`, data });
      await this.scheduler.cancel(tx, `bot-flow:${conversationId}`);
    });
  }
}

const DEFAULT_GREETING: LocalText = { en: 'Hello! How can I help?', zh: '您好！请问有什么可以帮您？' };

const REASONS: Record<string, string> = {
  explicit_request: 'the customer asked for a human',
  failed_turns: 'too many turns the bot could not handle',
  low_confidence: 'the bot could not find an answer after asking to clarify',
  anger: 'the customer is angry',
  negative_emotion: 'strong negative emotion',
  vip: 'VIP contact',
  flow_step: 'a flow step hands over',
  flow_failed: 'a flow could not complete',
  agent_took_over: 'an agent took over',
};
