import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import type { Tx } from '../platform/database/unit-of-work.js';
import { RowReader } from '../platform/database/row-reader.js';
import { RowUpdater } from '../platform/database/row-updater.js';
import type { EventEnvelope } from '../platform/outbox/outbox.entity.js';
import { ConversationFactRow, ResponseFactRow, TicketFactRow } from './entities/analytics-facts.entity.js';
import type { BotEventData, ConversationEventData, CsatEventData, TicketEventData } from './analytics.events.js';

const blankConversation = (conversationId: string): ConversationFactRow =>
  Object.assign(new ConversationFactRow(), {
    conversationId,
    contactId: null,
    inboxId: null,
    channel: null,
    teamId: null,
    agentId: null,
    createdAt: null,
    firstInboundAt: null,
    firstResponseAt: null,
    awaitingSince: null,
    resolvedAt: null,
    resolvedCount: 0,
    reopenCount: 0,
    botReplied: false,
    handedOver: false,
    csatRequested: false,
    csatScore: null,
  });

/** Conversation events that change a fact; the others (annotations, …) are acknowledged without a transaction. */
const CONVERSATION_EVENTS = new Set(['created', 'assigned', 'updated', 'resolved', 'reopened', 'message_created']);

interface LoadedFact {
  fact: ConversationFactRow;
  /** The columns as stored, or null when the row does not exist yet. */
  stored: Record<string, unknown> | null;
  /** Changed by an event of this transaction and not yet written (see `finish`). */
  dirty?: boolean;
}

const factColumns = (fact: ConversationFactRow): Record<string, unknown> => {
  const columns: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fact)) columns[key] = value instanceof Date ? value.getTime() : value;
  return columns;
};

/**
 * Folds domain events into the analytics read model. Runs inside the idempotent consumer's
 * transaction, so each event is applied exactly once. Events may arrive before the
 * conversation's `created` event (different streams), so every handler upserts.
 */
@Injectable()
export class AnalyticsProjector {
  /**
   * Conversation facts read in a transaction, so that a batch of events about one conversation reads
   * its row once and writes only when something changed. Keyed by the transaction (not its manager, which
   * SQLite reuses): a batch that is rolled back and retried starts from the database again.
   */
  private readonly loaded = new WeakMap<Tx, Map<string, LoadedFact>>();
  private readonly conversationFacts: RowReader<ConversationFactRow>;
  private readonly factUpdates: RowUpdater<ConversationFactRow>;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    this.conversationFacts = new RowReader(dataSource, ConversationFactRow);
    this.factUpdates = new RowUpdater(dataSource, ConversationFactRow);
  }

  /** Whether `apply` does anything with the event (a cheap test of the subject, for the consumer's filter). */
  handles(envelope: EventEnvelope<unknown>): boolean {
    const kind = envelope.subject.replace(/^sb\.evt\./, '');
    return !kind.startsWith('conversation.') || CONVERSATION_EVENTS.has(kind.slice('conversation.'.length));
  }

  /** Reads the conversation facts a batch of events touches in one query (see `loadConversation`). */
  async prefetch(envelopes: Array<EventEnvelope<unknown>>, tx: Tx): Promise<void> {
    const known = this.factsOf(tx);
    const ids = new Set<string>();
    for (const envelope of envelopes) {
      const id = (envelope.data as { conversationId?: unknown } | null)?.conversationId;
      if (envelope.subject.startsWith('sb.evt.conversation.') && typeof id === 'string' && !known.has(id)) ids.add(id);
    }
    if (ids.size < 2) return;
    const rows = await this.conversationFacts.findBy(tx.manager, { conversationId: [...ids] });
    for (const row of rows) known.set(row.conversationId, { fact: row, stored: factColumns(row) });
    for (const id of ids) if (!known.has(id)) known.set(id, { fact: blankConversation(id), stored: null });
  }

  async apply(envelope: EventEnvelope<unknown>, tx: Tx): Promise<void> {
    const manager = tx.manager;
    const at = new Date(envelope.occurredAt);
    const kind = envelope.subject.replace(/^sb\.evt\./, '');
    if (kind.startsWith('conversation.')) return this.conversation(kind.slice('conversation.'.length), envelope.data as ConversationEventData, at, tx);
    if (kind.startsWith('ticket.')) return this.ticket(kind.slice('ticket.'.length), envelope.data as TicketEventData, at, manager);
    if (kind.startsWith('csat.')) return this.csat(kind.slice('csat.'.length), envelope.data as CsatEventData, tx);
    if (kind === 'bot.handed_over') return this.handedOver(envelope.data as BotEventData, tx);
  }

  /** The facts this transaction has read so far. */
  private factsOf(tx: Tx): Map<string, LoadedFact> {
    let facts = this.loaded.get(tx);
    if (!facts) this.loaded.set(tx, (facts = new Map()));
    return facts;
  }

  private async loadConversation(tx: Tx, conversationId: string): Promise<ConversationFactRow> {
    const facts = this.factsOf(tx);
    const known = facts.get(conversationId);
    if (known) return known.fact;
    const row = await this.conversationFacts.findOneBy(tx.manager, { conversationId });
    facts.set(conversationId, { fact: row ?? blankConversation(conversationId), stored: row ? factColumns(row) : null });
    return facts.get(conversationId)!.fact;
  }

  /** Marks a loaded fact changed; `finish` writes it once for the whole transaction. */
  private markChanged(tx: Tx, fact: ConversationFactRow): void {
    this.factsOf(tx).get(fact.conversationId)!.dirty = true;
  }

  /**
   * Writes the facts this transaction's events changed: new ones in one insert, the others by the columns that
   * changed since they were read (never the whole row). A conversation's created event, its first message and the
   * bot's reply usually share a batch, and so one insert.
   */
  async finish(tx: Tx): Promise<void> {
    const inserts: ConversationFactRow[] = [];
    for (const loaded of this.loaded.get(tx)?.values() ?? []) {
      if (!loaded.dirty) continue;
      loaded.dirty = false;
      const now = factColumns(loaded.fact);
      if (!loaded.stored) {
        inserts.push(loaded.fact);
      } else {
        const changed: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(now)) if (loaded.stored[key] !== value) changed[key] = loaded.fact[key as keyof ConversationFactRow];
        if (Object.keys(changed).length) await this.factUpdates.update(tx.manager, { conversationId: loaded.fact.conversationId }, changed);
      }
      loaded.stored = now;
    }
    if (inserts.length) await tx.insert(ConversationFactRow, inserts);
  }

  private async conversation(event: string, data: ConversationEventData, at: Date, tx: Tx): Promise<void> {
    if (!data?.conversationId) return;
    const fact = await this.loadConversation(tx, data.conversationId);
    fact.contactId = data.contactId ?? fact.contactId;
    fact.inboxId = data.inboxId ?? fact.inboxId;
    fact.channel = data.channel ?? fact.channel;
    if (data.teamId !== undefined && event !== 'message_created') fact.teamId = data.teamId;
    if (fact.teamId === null && data.teamId) fact.teamId = data.teamId;

    switch (event) {
      case 'created':
        fact.createdAt = fact.createdAt && fact.createdAt < at ? fact.createdAt : at;
        break;
      case 'assigned':
        if (data.agentId !== undefined) fact.agentId = data.agentId;
        break;
      case 'updated':
        if (data.changes && 'teamId' in data.changes) fact.teamId = (data.changes.teamId as string | null) ?? null;
        break;
      case 'resolved':
        fact.resolvedAt = at;
        fact.resolvedCount += 1;
        break;
      case 'reopened':
        fact.reopenCount += 1;
        fact.resolvedAt = null;
        break;
      case 'message_created':
        await this.message(fact, data, at, tx.manager);
        break;
      default:
        break;
    }
    fact.createdAt ??= at;
    this.markChanged(tx, fact);
  }

  private async message(fact: ConversationFactRow, data: ConversationEventData, at: Date, manager: EntityManager): Promise<void> {
    if (data.private) return;
    if (data.direction === 'in' && data.authorType === 'contact') {
      fact.firstInboundAt ??= at;
      fact.awaitingSince ??= at;
      return;
    }
    if (data.direction !== 'out') return;
    if (data.authorType === 'bot') {
      fact.botReplied = true;
      return;
    }
    if (data.authorType !== 'agent') return;
    if (data.authorId) fact.agentId = data.authorId;
    const waitingSince = fact.awaitingSince;
    const isFirst = fact.firstResponseAt === null;
    if (isFirst) fact.firstResponseAt = at;
    fact.awaitingSince = null;
    if (waitingSince && data.messageId) {
      await manager.insert(ResponseFactRow, {
        messageId: data.messageId,
        conversationId: fact.conversationId,
        agentId: data.authorId ?? null,
        teamId: fact.teamId,
        channel: fact.channel,
        waitingSince,
        respondedAt: at,
        isFirst,
      });
    }
  }

  private async ticket(event: string, data: TicketEventData, at: Date, manager: EntityManager): Promise<void> {
    if (!data?.ticketId) return;
    const fact =
      (await manager.findOne(TicketFactRow, { where: { ticketId: data.ticketId } })) ??
      Object.assign(new TicketFactRow(), {
        ticketId: data.ticketId,
        teamId: null,
        agentId: null,
        createdAt: null,
        solvedAt: null,
        slaBreached: false,
        hasSla: false,
      });
    if (data.teamId !== undefined) fact.teamId = data.teamId;
    if (data.assigneeId !== undefined) fact.agentId = data.assigneeId;
    if (event === 'created') fact.createdAt = at;
    if (event === 'status_changed') {
      if (data.to === 'solved' || data.to === 'closed') fact.solvedAt ??= at;
      else if (data.from === 'solved' || data.from === 'closed') fact.solvedAt = null;
    }
    if (event === 'sla_breached') fact.slaBreached = true;
    if (event === 'sla_breached' || event === 'sla_warning' || event === 'sla_applied') fact.hasSla = true;
    fact.createdAt ??= at;
    await manager.save(TicketFactRow, fact);
  }

  private async csat(event: string, data: CsatEventData, tx: Tx): Promise<void> {
    const conversationId = data?.conversationId ?? (data?.subjectType === 'conversation' ? data.subjectId : undefined);
    if (!conversationId) return;
    const fact = await this.loadConversation(tx, conversationId);
    if (event === 'requested') fact.csatRequested = true;
    if (event === 'responded' && typeof data.rating === 'number') {
      fact.csatRequested = true;
      fact.csatScore = data.rating;
    }
    this.markChanged(tx, fact);
  }

  private async handedOver(data: BotEventData, tx: Tx): Promise<void> {
    if (!data?.conversationId) return;
    const fact = await this.loadConversation(tx, data.conversationId);
    fact.handedOver = true;
    fact.botReplied = true;
    this.markChanged(tx, fact);
  }
}
