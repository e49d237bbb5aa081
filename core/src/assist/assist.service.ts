import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { AccessPolicy } from '../identity/access-policy.js';
import { SYSTEM_ACTOR, type Actor } from '../identity/actor.js';
import { SettingsService } from '../settings/settings.service.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import type { ConversationView, MessageView } from '../conversations/conversations.types.js';
import { ContactsService } from '../contacts/contacts.service.js';
import { NlpService } from '../nlp/nlp.service.js';
import type { EntityDictionary } from '../nlp/entities.js';
import { KnowledgeService } from '../knowledge/knowledge.service.js';
import { AutomationService } from '../automation/automation.service.js';
import { jaccard, shingles } from '../knowledge/text.js';
import { AssistFeedbackRow } from './entities/assist.entity.js';
import { AssistError } from './assist.error.js';
import { emotionTrend, extractiveSummary } from './analysis.js';

export const ASSIST_SETTINGS = {
  kbId: 'assist.kbId',
  products: 'assist.products',
  maxSuggestions: 'assist.maxSuggestions',
} as const;

export interface Suggestion {
  /** `kb:<entryId>` or `canned:<id>`: send it back with feedback. */
  id: string;
  text: string;
  score: number;
  source: { type: 'kb'; entryId: string; title: string; kbId: string } | { type: 'canned'; cannedResponseId: string; name: string };
}

export interface KeyFact {
  type: string;
  value: unknown;
  text: string;
  seq: number;
  source: 'message' | 'contact';
}

export interface AssistSnapshot {
  conversationId: string;
  basedOnSeq: number;
  suggestions: Suggestion[];
  facts: KeyFact[];
  emotions: Array<{ seq: number; messageId: string; emotion: string }>;
  emotionTrend: { trend: 'improving' | 'worsening' | 'stable'; latest: string | null };
  generatedAt: string;
}

const HISTORY = 200;

/**
 * Agent assist: for the conversation an agent has open, suggested replies (published KB answers
 * and canned responses filled with contact variables, each with its source), key facts
 * (order numbers, products, dates, amounts, contact data), emotion per customer message and its
 * trend, and an extractive summary. Agents' feedback (used / edited / ignored) re-ranks later
 * suggestions for everyone.
 */
@Injectable()
export class AssistService {
  private readonly logger = new Logger('assist');
  private readonly weights = new Map<string, { used: number; edited: number; ignored: number }>();
  private weightsLoaded?: Promise<void>;
  private readonly emotionCache = new Map<string, string>();

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly access: AccessPolicy,
    private readonly settings: SettingsService,
    private readonly conversations: ConversationsService,
    private readonly contacts: ContactsService,
    private readonly nlp: NlpService,
    private readonly knowledge: KnowledgeService,
    private readonly automation: AutomationService,
  ) {
    this.settings.define({
      key: ASSIST_SETTINGS.kbId,
      description: 'Knowledge base agent assist suggests answers from',
      default: 'default',
      validate: (v) => (typeof v === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(v) ? null : 'must be a knowledge base id'),
    });
    this.settings.define({
      key: ASSIST_SETTINGS.products,
      description: 'Product names recognised as key facts: { "canonical name": ["synonym", …] }',
      default: {},
      validate: (v) =>
        v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((s) => Array.isArray(s) && s.every((x) => typeof x === 'string'))
          ? null
          : 'must map names to lists of synonyms',
    });
    this.settings.define({
      key: ASSIST_SETTINGS.maxSuggestions,
      description: 'Suggested replies shown to the agent',
      default: 4,
      validate: (v) => (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 10 ? null : 'must be 1–10'),
    });
  }

  private async conversationFor(actor: Actor | null, conversationId: string): Promise<ConversationView> {
    try {
      return actor ? await this.conversations.getForActor(actor, conversationId) : await this.conversations.get(conversationId);
    } catch {
      throw new AssistError('assist_conversation_not_found', 'There is no such conversation.', { conversationId });
    }
  }

  private async history(conversation: ConversationView): Promise<MessageView[]> {
    return this.conversations.listMessages(conversation.id, { beforeSeq: conversation.lastSeq + 1, limit: HISTORY });
  }

  /** Everything assist shows for a conversation. `actor` null = system (the push path; canned responses limited to the conversation's team). */
  async snapshot(actor: Actor | null, conversationId: string): Promise<AssistSnapshot> {
    const conversation = await this.conversationFor(actor, conversationId);
    const messages = await this.history(conversation);
    const customer = messages.filter((m) => m.direction === 'in' && m.authorType === 'contact');
    const emotions = await this.emotions(customer);
    const last = customer[customer.length - 1];
    const [suggestions, facts] = await Promise.all([
      last
        ? this.suggest(
            actor,
            conversation,
            last.text ?? '',
            customer
              .slice(-2)
              .map((m) => m.text)
              .join('\n'),
          )
        : Promise.resolve([]),
      this.facts(conversation, customer),
    ]);
    const trend = emotionTrend(emotions.map((e) => e.emotion));
    return {
      conversationId,
      basedOnSeq: conversation.lastSeq,
      suggestions,
      facts,
      emotions,
      emotionTrend: { trend: trend.trend, latest: trend.latest },
      generatedAt: this.clock.now().toISOString(),
    };
  }

  /** The emotion of each customer message: the stored NLP annotation, else annotated now (cached). */
  async emotions(customer: MessageView[]): Promise<Array<{ seq: number; messageId: string; emotion: string }>> {
    const out: Array<{ seq: number; messageId: string; emotion: string }> = [];
    for (const m of customer) {
      let emotion = this.emotionCache.get(m.id);
      if (!emotion) {
        const flags = m.annotations?.flags ?? [];
        if (m.annotations?.emotion) emotion = flags.includes('anger') ? 'anger' : flags.includes('anxiety') ? 'anxiety' : m.annotations.emotion;
        else {
          const a = await this.nlp.annotate(m.text ?? '');
          emotion = a.anger ? 'anger' : a.anxiety ? 'anxiety' : a.sentiment;
        }
        if (this.emotionCache.size > 20_000) this.emotionCache.clear();
        this.emotionCache.set(m.id, emotion);
      }
      out.push({ seq: m.seq, messageId: m.id, emotion });
    }
    return out;
  }

  private async facts(conversation: ConversationView, customer: MessageView[]): Promise<KeyFact[]> {
    const products = this.settings.get<Record<string, string[]>>(ASSIST_SETTINGS.products) ?? {};
    const dictionaries: EntityDictionary[] = Object.keys(products).length ? [{ type: 'product', entries: products }] : [];
    const seen = new Set<string>();
    const facts: KeyFact[] = [];
    for (const m of customer) {
      for (const e of this.nlp.entities(m.text ?? '', dictionaries.length ? { dictionaries } : undefined)) {
        const key = `${e.type}:${JSON.stringify(e.value)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        facts.push({ type: e.type, value: e.value, text: e.text, seq: m.seq, source: 'message' });
      }
    }
    try {
      const contact = await this.contacts.get(conversation.contactId);
      if (contact.name) facts.push({ type: 'contact_name', value: contact.name, text: contact.name, seq: 0, source: 'contact' });
      for (const email of contact.emails ?? [])
        if (!seen.has(`email:${JSON.stringify(email.value.toLowerCase())}`))
          facts.push({ type: 'email', value: email.value, text: email.value, seq: 0, source: 'contact' });
      for (const phone of contact.phones ?? []) {
        const value = (phone as { value?: string }).value ?? String(phone);
        facts.push({ type: 'phone', value, text: value, seq: 0, source: 'contact' });
      }
      if (contact.vip) facts.push({ type: 'vip', value: true, text: 'VIP', seq: 0, source: 'contact' });
      if (contact.language) facts.push({ type: 'language', value: contact.language, text: contact.language, seq: 0, source: 'contact' });
    } catch {
      // a deleted or merged contact: message facts only
    }
    return facts;
  }

  private async loadWeights(): Promise<void> {
    this.weightsLoaded ??= (async () => {
      const rows = await this.dataSource.manager
        .createQueryBuilder(AssistFeedbackRow, 'f')
        .select('f.suggestion_key', 'key')
        .addSelect('f.action', 'action')
        .addSelect('COUNT(*)', 'n')
        .groupBy('f.suggestion_key')
        .addGroupBy('f.action')
        .getRawMany<{ key: string; action: 'used' | 'edited' | 'ignored'; n: string | number }>();
      for (const row of rows) {
        const w = this.weights.get(row.key) ?? { used: 0, edited: 0, ignored: 0 };
        w[row.action] += Number(row.n);
        this.weights.set(row.key, w);
      }
    })();
    await this.weightsLoaded;
  }

  /** Multiplier from past feedback: 1 with none; up to ~1.4 for always-used, down to ~0.6 for always-ignored. */
  weightOf(key: string): number {
    const w = this.weights.get(key);
    if (!w) return 1;
    const positive = w.used + 0.6 * w.edited;
    const total = w.used + w.edited + w.ignored;
    return 0.6 + 0.8 * ((positive + 1) / (total + 2));
  }

  /** Suggestions for the customer's last message (or the last two together when the last alone finds nothing). */
  private async suggest(actor: Actor | null, conversation: ConversationView, lastText: string, context: string): Promise<Suggestion[]> {
    await this.loadWeights();
    const max = this.settings.get<number>(ASSIST_SETTINGS.maxSuggestions);
    const kbId = this.settings.get<string>(ASSIST_SETTINGS.kbId);
    const teams = actor ? this.access.visibleTeams(actor) : conversation.teamId ? [conversation.teamId] : [];
    const out: Suggestion[] = [];
    let hits = this.knowledge.searchForAgent(kbId, lastText, 3, teams);
    if (!hits.length || hits[0].score < 0.2) hits = this.knowledge.searchForAgent(kbId, context, 3, teams);
    const query = lastText;
    for (const hit of hits) {
      if (hit.score < 0.05) continue;
      out.push({ id: `kb:${hit.entryId}`, text: hit.answerText, score: hit.score, source: { type: 'kb', entryId: hit.entryId, title: hit.title, kbId } });
    }
    const cannedActor: Actor = actor ?? { ...SYSTEM_ACTOR, kind: 'user', roles: ['agent'], teamIds: conversation.teamId ? [conversation.teamId] : [] };
    const canned = await this.automation.listCanned(cannedActor).catch(() => []);
    const q = shingles(query);
    const ranked = canned
      .map((c) => ({ c, score: jaccard(q, shingles(`${c.name} ${c.shortcut ?? ''} ${c.body}`)) }))
      .filter((x) => x.score >= 0.08)
      .sort((a, b) => b.score - a.score)
      .slice(0, 3);
    for (const { c, score } of ranked) {
      let text = c.body;
      try {
        text = (await this.automation.renderCanned(cannedActor, c.id, { conversationId: conversation.id })).text;
      } catch (error) {
        this.logger.debug({ reason: (error as Error).message }, 'canned response not rendered');
      }
      out.push({ id: `canned:${c.id}`, text, score: Math.min(1, score * 1.5), source: { type: 'canned', cannedResponseId: c.id, name: c.name } });
    }
    return out
      .map((s) => ({ ...s, score: Math.round(s.score * this.weightOf(s.id) * 10000) / 10000 }))
      .sort((a, b) => b.score - a.score)
      .slice(0, max);
  }

  /** An extractive summary of the conversation (customer's key sentences and the last reply). */
  async summary(actor: Actor | null, conversationId: string, maxSentences = 3): Promise<{ conversationId: string; summary: string; basedOnSeq: number }> {
    const conversation = await this.conversationFor(actor, conversationId);
    const messages = await this.history(conversation);
    return {
      conversationId,
      summary: extractiveSummary(
        messages.map((m) => ({ seq: m.seq, direction: m.direction, authorType: m.authorType, text: m.text ?? '', private: m.private })),
        maxSentences,
      ),
      basedOnSeq: conversation.lastSeq,
    };
  }

  async feedback(
    actor: Actor,
    input: { conversationId: string; suggestionId: string; action: 'used' | 'edited' | 'ignored' },
  ): Promise<{ recorded: true; weight: number }> {
    await this.conversationFor(actor, input.conversationId);
    if (!/^(kb|canned):[A-Za-z0-9-]{1,64}$/.test(input.suggestionId))
      throw new AssistError('assist_invalid', 'suggestionId must be kb:<id> or canned:<id>.', { field: 'suggestionId' });
    await this.loadWeights();
    await this.dataSource.manager.insert(AssistFeedbackRow, {
      id: randomUUID(),
      conversationId: input.conversationId,
      agentId: actor.id,
      suggestionKey: input.suggestionId,
      action: input.action,
      createdAt: this.clock.now(),
    });
    const w = this.weights.get(input.suggestionId) ?? { used: 0, edited: 0, ignored: 0 };
    w[input.action]++;
    this.weights.set(input.suggestionId, w);
    return { recorded: true, weight: Math.round(this.weightOf(input.suggestionId) * 1000) / 1000 };
  }
}
