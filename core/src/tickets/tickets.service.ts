import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { UnitOfWork, type Tx } from '../platform/database/unit-of-work.js';
import { RowReader } from '../platform/database/row-reader.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { IdempotentConsumers } from '../platform/outbox/idempotent-consumers.js';
import { SchedulerService } from '../platform/scheduler/scheduler.service.js';
import { sqlTime } from '../platform/database/sql-time.js';
import { AccessPolicy } from '../identity/access-policy.js';
import { SYSTEM_ACTOR, type Actor } from '../identity/actor.js';
import { TicketRow } from './entities/ticket.entity.js';
import {
  TicketCommentRow,
  TicketCounterRow,
  TicketFieldRow,
  TicketFollowerRow,
  TicketHistoryRow,
  TicketLinkRow,
  TicketTagRow,
} from './entities/ticket-parts.entity.js';
import { TicketsError, ticketNotFound } from './tickets.error.js';
import {
  TICKET_COMMENT_ADDED,
  TICKET_CREATED,
  TICKET_LINKED,
  TICKET_STATUS_CHANGED,
  TICKET_UPDATED,
  type TicketCommentAddedEvent,
  type TicketCreatedEvent,
  type TicketEventBase,
  type TicketLinkedEvent,
  type TicketStatusChangedEvent,
  type TicketUpdatedEvent,
} from './tickets.events.js';
import {
  TICKET_PRIORITIES,
  canTransition,
  type LinkKind,
  type MutationOptions,
  type TicketPriority,
  type TicketStatus,
  type TicketType,
  type CustomFieldType,
} from './tickets.types.js';
import { formatTicketNumber, parseTicketNumber } from './ticket-number.js';
import { validateCustomFields, type CustomValue } from './custom-fields.js';
import { SLA_TIMER_BREACH, SLA_TIMER_WARN, SlaService, type SlaFired, type SlaTimerPayload } from './sla/sla.service.js';
import { TICKET_CONTACT_DIRECTORY, type TicketContactDirectory } from './contact-directory.js';
import { decodeCursor, encodeCursor, type Page } from './shared/pagination.js';
import { actorType } from './shared/actor.js';
import { stableEventId } from './shared/stable-id.js';
import type { EventEnvelope } from '../platform/outbox/outbox.entity.js';

export interface TicketLinkInput {
  kind: LinkKind;
  refId: string;
}

export interface CreateTicketInput {
  subject: string;
  description?: string;
  type: TicketType;
  priority?: TicketPriority;
  /** `new` (default) or `open`. */
  status?: 'new' | 'open';
  requesterContactId?: string | null;
  teamId?: string | null;
  assigneeId?: string | null;
  tags?: string[];
  customFields?: Record<string, unknown>;
  links?: TicketLinkInput[];
  followers?: string[];
}

export interface UpdateTicketInput {
  subject?: string;
  description?: string;
  type?: TicketType;
  priority?: TicketPriority;
  teamId?: string | null;
  assigneeId?: string | null;
  tags?: string[];
  customFields?: Record<string, unknown>;
  /** Optimistic concurrency: the version you read. */
  expectedVersion?: number;
}

export interface TicketView {
  id: string;
  number: string;
  subject: string;
  description: string;
  type: TicketType;
  status: TicketStatus;
  priority: TicketPriority;
  requesterContactId: string | null;
  assigneeId: string | null;
  teamId: string | null;
  tags: string[];
  customFields: Record<string, CustomValue>;
  slaPolicyId: string | null;
  createdAt: string;
  updatedAt: string;
  solvedAt: string | null;
  closedAt: string | null;
  firstRespondedAt: string | null;
  version: number;
  links?: Array<{ id: string; kind: LinkKind; refId: string; createdAt: string }>;
  followers?: string[];
}

export interface CommentView {
  id: string;
  ticketId: string;
  private: boolean;
  body: string;
  authorType: TicketCommentRow['authorType'];
  authorId: string | null;
  createdAt: string;
}

export interface HistoryView {
  id: number;
  action: string;
  actorType: string;
  actorId: string | null;
  details: unknown;
  createdAt: string;
}

export const TICKET_SORT_FIELDS = ['createdAt', 'updatedAt', 'number'] as const;
export type TicketSortField = (typeof TICKET_SORT_FIELDS)[number];

export interface TicketListQuery {
  status?: TicketStatus[];
  priority?: TicketPriority[];
  type?: TicketType[];
  teamId?: string;
  /** `none` lists unassigned tickets. */
  assigneeId?: string;
  requesterContactId?: string;
  tag?: string;
  sort?: TicketSortField;
  order?: 'asc' | 'desc';
  limit?: number;
  cursor?: string;
}

const SORT_COLUMNS: Record<TicketSortField, { column: string; property: string }> = {
  createdAt: { column: 't.created_at', property: 't.createdAt' },
  updatedAt: { column: 't.updated_at', property: 't.updatedAt' },
  number: { column: 't.number', property: 't.number' },
};

/** Conversation message event, as far as tickets read it (see module-contracts.md). */
interface ConversationMessageEvent {
  conversationId: string;
  messageId: string;
  direction: 'in' | 'out';
  authorType: 'contact' | 'agent' | 'bot' | 'system';
  private: boolean;
}

/**
 * Ticket lifecycle. Every write runs in a UnitOfWork (or the caller's `tx`, so another module
 * can create a ticket atomically with its own write) and emits `sb.evt.ticket.*` through the
 * outbox. Reads and writes check team scopes: an invisible ticket is "not found".
 */
@Injectable()
export class TicketsService implements OnModuleInit, OnApplicationBootstrap {
  /** Ticket links of the conversations in a batch being handled, per transaction (see `prefetchConversationLinks`). */
  private readonly conversationLinks = new WeakMap<Tx, Map<string, TicketLinkRow[]>>();
  private readonly logger = new Logger('tickets');
  private readonly linkRows: RowReader<TicketLinkRow>;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TICKET_CONTACT_DIRECTORY) private readonly contacts: TicketContactDirectory,
    private readonly uow: UnitOfWork,
    private readonly access: AccessPolicy,
    private readonly sla: SlaService,
    private readonly scheduler: SchedulerService,
    private readonly consumers: IdempotentConsumers,
  ) {
    this.linkRows = new RowReader(dataSource, TicketLinkRow);
  }

  onModuleInit(): void {
    this.scheduler.onTimer(SLA_TIMER_BREACH, async (payload, tx) => {
      const fired = await this.sla.fire(tx, 'breach', payload as SlaTimerPayload);
      if (fired) await this.escalate(tx, fired);
    });
    this.scheduler.onTimer(SLA_TIMER_WARN, async (payload, tx) => {
      await this.sla.fire(tx, 'warning', payload as SlaTimerPayload);
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.consumers.register<ConversationMessageEvent>({
      name: 'tickets-conversation-messages',
      subject: 'sb.evt.conversation.message_created',
      handle: async (event, tx) => this.onConversationMessage(event, tx),
      prepare: async (events, tx) => this.prefetchConversationLinks(events, tx),
      // Most conversations have no ticket: one read then, instead of a transaction.
      precheck: async (events) => {
        const ids = [...new Set(events.flatMap((event) => (event.data?.conversationId ? [event.data.conversationId] : [])))];
        const linked = new Set((await this.conversationLinksOf(this.dataSource.manager, ids)).map((link) => link.refId));
        return events.map((event) => !event.data?.conversationId || linked.has(event.data.conversationId));
      },
      batchWaitMs: 20,
      // Only customer messages and public agent replies move a ticket; nothing else needs a transaction.
      filter: (event) =>
        (event.data?.direction === 'in' && event.data.authorType === 'contact') ||
        (event.data?.direction === 'out' && event.data.authorType === 'agent' && !event.data.private),
      batch: 50,
    });
  }

  private run<T>(tx: Tx | undefined, work: (tx: Tx) => Promise<T>): Promise<T> {
    return tx ? work(tx) : this.uow.run(work);
  }

  private lock(_manager: EntityManager): { mode: 'pessimistic_write' } | undefined {
    return this.uow.isMysql ? { mode: 'pessimistic_write' } : undefined;
  }

  // ---------- create ----------

  async create(actor: Actor, input: CreateTicketInput, options: MutationOptions = {}, tx?: Tx): Promise<TicketView> {
    const teamId = input.teamId ?? null;
    const visible = this.access.visibleTeams(actor);
    if (teamId && visible !== 'all' && !visible.includes(teamId)) {
      throw new TicketsError('ticket_team_forbidden', 'You can only create tickets for your own teams.', { teamId });
    }
    const vip = input.requesterContactId ? await this.contacts.isVip(input.requesterContactId).catch(() => false) : false;
    return this.run(tx, async (tx) => {
      const fields = await tx.manager.find(TicketFieldRow);
      const customFields = validateCustomFields(fields, input.customFields ?? {}, 'create');
      const now = this.clock.now();
      const number = await this.allocateNumber(tx.manager);
      const row = Object.assign(new TicketRow(), {
        id: randomUUID(),
        number,
        subject: input.subject,
        description: input.description ?? '',
        type: input.type,
        status: input.status ?? 'new',
        priority: input.priority ?? 'normal',
        requesterContactId: input.requesterContactId ?? null,
        assigneeId: input.assigneeId ?? null,
        teamId,
        tags: normaliseTags(input.tags ?? []),
        customFields,
        slaPolicyId: null as string | null,
        createdBy: actor.id,
        createdAt: now,
        updatedAt: now,
        solvedAt: null,
        closedAt: null,
        firstRespondedAt: null,
        version: 1,
      } satisfies TicketRow);
      await tx.manager.insert(TicketRow, row);
      await this.writeTags(tx, row.id, row.tags);
      const links: TicketLinkInput[] = [];
      for (const link of dedupeLinks(input.links ?? [])) {
        await tx.manager.insert(TicketLinkRow, { id: randomUUID(), ticketId: row.id, kind: link.kind, refId: link.refId, createdBy: actor.id, createdAt: now });
        links.push(link);
      }
      for (const userId of [...new Set(input.followers ?? [])]) {
        await tx.manager.insert(TicketFollowerRow, { ticketId: row.id, userId, createdAt: now });
      }
      row.slaPolicyId = await this.sla.applyPolicy(tx, row, { vip });
      if (row.slaPolicyId) await tx.manager.update(TicketRow, { id: row.id }, { slaPolicyId: row.slaPolicyId });
      await this.history(tx, row.id, actor, options, 'created', { type: row.type, priority: row.priority, status: row.status, teamId, links });
      const data: TicketCreatedEvent = { ...this.base(row, options), type: row.type, status: row.status, priority: row.priority, links };
      await tx.emit({ subject: TICKET_CREATED, data, id: stableEventId(`ticket-created:${row.id}`) });
      for (const link of links) await this.emitLinked(tx, row, link, options);
      return this.view(row, { links: await this.linksOf(tx.manager, row.id), followers: [...new Set(input.followers ?? [])] });
    });
  }

  /** Race-free: the counter row is incremented under its row lock, in the ticket's transaction. */
  private async allocateNumber(manager: EntityManager): Promise<number> {
    await manager
      .createQueryBuilder()
      .update(TicketCounterRow)
      .set({ nextValue: () => 'next_value + 1' })
      .where('name = :name', { name: 'ticket' })
      .execute();
    const row = await manager.findOneOrFail(TicketCounterRow, { where: { name: 'ticket' } });
    return row.nextValue;
  }

  // ---------- reads ----------

  async get(actor: Actor, idOrNumber: string): Promise<TicketView> {
    const row = await this.find(this.dataSource.manager, idOrNumber);
    this.access.assertCanSee(actor, row, ticketNotFound, 'ticket');
    return this.view(row!, {
      links: await this.linksOf(this.dataSource.manager, row!.id),
      followers: await this.followersOf(this.dataSource.manager, row!.id),
    });
  }

  private async find(manager: EntityManager, idOrNumber: string, lock = false): Promise<TicketRow | null> {
    const number = parseTicketNumber(idOrNumber);
    const where = number !== null ? { number } : { id: idOrNumber };
    return manager.findOne(TicketRow, { where, lock: lock ? this.lock(manager) : undefined });
  }

  private async load(tx: Tx, actor: Actor, idOrNumber: string): Promise<TicketRow> {
    const row = await this.find(tx.manager, idOrNumber, true);
    return this.access.assertCanSee(actor, row, ticketNotFound, 'ticket');
  }

  /** System read by id (no team check), optionally in the caller's transaction. */
  async findById(id: string, tx?: Tx): Promise<TicketView | null> {
    const row = await (tx?.manager ?? this.dataSource.manager).findOne(TicketRow, { where: { id } });
    return row ? this.view(row) : null;
  }

  /** Tickets linked to an object, e.g. `findByLink('device', deviceId)`. System view: no team filter. */
  async findByLink(kind: LinkKind, refId: string, tx?: Tx): Promise<TicketView[]> {
    const manager = tx?.manager ?? this.dataSource.manager;
    const links = await manager.find(TicketLinkRow, { where: { kind, refId }, order: { createdAt: 'ASC' } });
    if (!links.length) return [];
    const rows = await manager
      .createQueryBuilder(TicketRow, 't')
      .where('t.id IN (:...ids)', { ids: links.map((l) => l.ticketId) })
      .orderBy('t.number', 'ASC')
      .getMany();
    return rows.map((row) => this.view(row));
  }

  async list(actor: Actor, query: TicketListQuery): Promise<Page<TicketView>> {
    const sort = query.sort ?? 'updatedAt';
    const order = query.order ?? 'desc';
    const limit = Math.min(Math.max(query.limit ?? 25, 1), 100);
    const { column, property } = SORT_COLUMNS[sort];
    const qb = this.dataSource.manager.createQueryBuilder(TicketRow, 't');
    const visible = this.access.visibleTeams(actor);
    if (visible !== 'all') {
      if (visible.length) qb.andWhere('(t.team_id IN (:...visibleTeams) OR t.team_id IS NULL)', { visibleTeams: visible });
      else qb.andWhere('t.team_id IS NULL');
    }
    if (query.status?.length) qb.andWhere('t.status IN (:...status)', { status: query.status });
    if (query.priority?.length) qb.andWhere('t.priority IN (:...priority)', { priority: query.priority });
    if (query.type?.length) qb.andWhere('t.type IN (:...type)', { type: query.type });
    if (query.teamId) {
      if (query.teamId === 'none') qb.andWhere('t.team_id IS NULL');
      else qb.andWhere('t.team_id = :teamId', { teamId: query.teamId });
    }
    if (query.assigneeId) {
      if (query.assigneeId === 'none') qb.andWhere('t.assignee_id IS NULL');
      else qb.andWhere('t.assignee_id = :assigneeId', { assigneeId: query.assigneeId });
    }
    if (query.requesterContactId) qb.andWhere('t.requester_contact_id = :requester', { requester: query.requesterContactId });
    // Through the tag table's (tag, ticket_id) index, not a LIKE over every ticket's JSON.
    if (query.tag) qb.andWhere('t.id IN (SELECT tt.ticket_id FROM ticket_tags tt WHERE tt.tag = :tag)', { tag: query.tag.toLowerCase() });
    if (query.cursor) {
      const [value, id] = decodeCursor(query.cursor, 2);
      const cmp = order === 'desc' ? '<' : '>';
      const param = sort === 'number' ? Number(value) : sqlTime(this.dataSource, new Date(String(value)));
      if (sort === 'number') qb.andWhere(`${column} ${cmp} :cursorValue`, { cursorValue: param });
      else qb.andWhere(`(${column} ${cmp} :cursorValue OR (${column} = :cursorValue AND t.id ${cmp} :cursorId))`, { cursorValue: param, cursorId: id });
    }
    const direction = order === 'desc' ? 'DESC' : 'ASC';
    qb.orderBy(property, direction);
    if (sort !== 'number') qb.addOrderBy('t.id', direction);
    qb.take(limit + 1);
    const rows = await qb.getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor =
      rows.length > limit && last
        ? encodeCursor([sort === 'number' ? last.number : (sort === 'createdAt' ? last.createdAt : last.updatedAt).toISOString(), last.id])
        : null;
    return { items: page.map((row) => this.view(row)), nextCursor };
  }

  async comments(actor: Actor, idOrNumber: string, query: { cursor?: string; limit?: number; includePrivate?: boolean }): Promise<Page<CommentView>> {
    const row = this.access.assertCanSee(actor, await this.find(this.dataSource.manager, idOrNumber), ticketNotFound, 'ticket');
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
    const qb = this.dataSource.manager.createQueryBuilder(TicketCommentRow, 'c').where('c.ticket_id = :id', { id: row.id });
    if (query.includePrivate === false) qb.andWhere('c.is_private = :no', { no: false });
    if (query.cursor) {
      const [createdAt, id] = decodeCursor(query.cursor, 2);
      qb.andWhere('(c.created_at > :at OR (c.created_at = :at AND c.id > :cid))', { at: sqlTime(this.dataSource, new Date(String(createdAt))), cid: id });
    }
    const rows = await qb
      .orderBy('c.createdAt', 'ASC')
      .addOrderBy('c.id', 'ASC')
      .take(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page.map(commentView), nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null };
  }

  async historyOf(actor: Actor, idOrNumber: string, query: { cursor?: string; limit?: number }): Promise<Page<HistoryView>> {
    const row = this.access.assertCanSee(actor, await this.find(this.dataSource.manager, idOrNumber), ticketNotFound, 'ticket');
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
    const qb = this.dataSource.manager.createQueryBuilder(TicketHistoryRow, 'h').where('h.ticket_id = :id', { id: row.id });
    if (query.cursor) qb.andWhere('h.id > :after', { after: Number(decodeCursor(query.cursor, 1)[0]) });
    const rows = await qb
      .orderBy('h.id', 'ASC')
      .take(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((h) => ({
        id: h.id,
        action: h.action,
        actorType: h.actorType,
        actorId: h.actorId,
        details: h.details,
        createdAt: h.createdAt.toISOString(),
      })),
      nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null,
    };
  }

  async slaOf(actor: Actor, idOrNumber: string) {
    const row = this.access.assertCanSee(actor, await this.find(this.dataSource.manager, idOrNumber), ticketNotFound, 'ticket');
    return { ticketId: row.id, policyId: row.slaPolicyId, clocks: await this.sla.clocksOf(row.id) };
  }

  // ---------- writes ----------

  async update(actor: Actor, idOrNumber: string, patch: UpdateTicketInput, options: MutationOptions = {}, tx?: Tx): Promise<TicketView> {
    return this.run(tx, async (tx) => {
      const row = await this.load(tx, actor, idOrNumber);
      if (patch.expectedVersion !== undefined && patch.expectedVersion !== row.version) {
        throw new TicketsError('ticket_version_conflict', `The ticket is at version ${row.version}, not ${patch.expectedVersion}.`, { version: row.version });
      }
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      const set = <K extends keyof TicketRow>(key: K, value: TicketRow[K] | undefined) => {
        if (value === undefined) return;
        if (JSON.stringify(row[key]) === JSON.stringify(value)) return;
        changes[key] = { from: row[key], to: value };
        row[key] = value;
      };
      set('subject', patch.subject);
      set('description', patch.description);
      set('type', patch.type);
      set('priority', patch.priority);
      set('teamId', patch.teamId);
      set('assigneeId', patch.assigneeId);
      if (patch.tags) set('tags', normaliseTags(patch.tags));
      if (patch.customFields) {
        const fields = await tx.manager.find(TicketFieldRow);
        const valid = validateCustomFields(fields, patch.customFields, 'update');
        const merged = { ...row.customFields, ...valid };
        for (const [key, value] of Object.entries(valid)) if (value === null) delete merged[key];
        set('customFields', merged);
      }
      if (!Object.keys(changes).length) return this.view(row);
      await this.persist(tx, row, actor, options, 'updated', { changes }, changes);
      if (changes.tags) await this.writeTags(tx, row.id, row.tags);
      if (changes.priority || changes.type || changes.teamId) await this.reapplySla(tx, row);
      return this.view(row);
    });
  }

  async transition(actor: Actor, idOrNumber: string, to: TicketStatus, options: MutationOptions = {}, tx?: Tx): Promise<TicketView> {
    return this.run(tx, async (tx) => {
      const row = await this.load(tx, actor, idOrNumber);
      const from = row.status;
      if (!canTransition(from, to)) {
        throw new TicketsError('ticket_invalid_transition', `A ticket cannot go from ${from} to ${to}.`, { from, to, allowed: allowedFrom(from) });
      }
      const now = this.clock.now();
      row.status = to;
      if (to === 'solved') row.solvedAt = now;
      if (to === 'closed') row.closedAt = now;
      if (from === 'solved' && to === 'open') row.solvedAt = null;
      await this.persist(tx, row, actor, options, 'status_changed', { from, to });
      const data: TicketStatusChangedEvent = { ...this.base(row, options), from, to };
      await tx.emit({ subject: TICKET_STATUS_CHANGED, data, id: stableEventId(`ticket-status:${row.id}:${row.version}`) });
      await this.sla.onStatusChanged(tx, row);
      return this.view(row);
    });
  }

  /** An agent's reply (public) or internal note (private). Public agent replies count as SLA responses. */
  async addComment(actor: Actor, idOrNumber: string, input: { body: string; private: boolean }, options: MutationOptions = {}, tx?: Tx): Promise<CommentView> {
    return this.run(tx, async (tx) => {
      const row = await this.load(tx, actor, idOrNumber);
      const authorType = options.automation ? 'automation' : actor.kind === 'user' ? 'agent' : 'system';
      const comment = await this.insertComment(tx, row, { body: input.body, private: input.private, authorType, authorId: actor.id }, options);
      if (!input.private && authorType === 'agent') await this.agentResponded(tx, row);
      return comment;
    });
  }

  /** The requester wrote (e.g. a reply arriving over a channel): reopens pending/solved tickets and starts next-response. */
  async addRequesterReply(idOrNumber: string, input: { body: string; contactId: string | null }, tx?: Tx): Promise<CommentView> {
    return this.run(tx, async (tx) => {
      const row = await this.load(tx, SYSTEM_ACTOR, idOrNumber);
      const comment = await this.insertComment(tx, row, { body: input.body, private: false, authorType: 'contact', authorId: input.contactId }, {});
      await this.customerWrote(tx, row);
      return comment;
    });
  }

  private async insertComment(
    tx: Tx,
    row: TicketRow,
    input: { body: string; private: boolean; authorType: TicketCommentRow['authorType']; authorId: string | null },
    options: MutationOptions,
  ): Promise<CommentView> {
    const now = this.clock.now();
    const comment = Object.assign(new TicketCommentRow(), { id: randomUUID(), ticketId: row.id, ...input, createdAt: now });
    await tx.manager.insert(TicketCommentRow, comment);
    await tx.manager.update(TicketRow, { id: row.id }, { updatedAt: now });
    row.updatedAt = now;
    await tx.manager.insert(TicketHistoryRow, {
      ticketId: row.id,
      action: input.private ? 'note_added' : 'reply_added',
      actorType: input.authorType,
      actorId: input.authorId,
      details: { commentId: comment.id },
      createdAt: now,
    });
    const data: TicketCommentAddedEvent = {
      ...this.base(row, options),
      commentId: comment.id,
      private: input.private,
      authorType: input.authorType,
      authorId: input.authorId,
    };
    await tx.emit({ subject: TICKET_COMMENT_ADDED, data, id: stableEventId(`ticket-comment:${comment.id}`) });
    return commentView(comment);
  }

  private async agentResponded(tx: Tx, row: TicketRow): Promise<void> {
    if (!row.firstRespondedAt) {
      row.firstRespondedAt = this.clock.now();
      await tx.manager.update(TicketRow, { id: row.id }, { firstRespondedAt: row.firstRespondedAt });
    }
    await this.sla.onAgentReply(tx, row);
  }

  private async customerWrote(tx: Tx, row: TicketRow): Promise<void> {
    if (row.status === 'pending' || row.status === 'solved') {
      const from = row.status;
      row.status = 'open';
      row.solvedAt = null;
      await this.persist(tx, row, SYSTEM_ACTOR, {}, 'status_changed', { from, to: 'open', reason: 'requester_replied' });
      const data: TicketStatusChangedEvent = { ...this.base(row, {}), from, to: 'open' };
      await tx.emit({ subject: TICKET_STATUS_CHANGED, data, id: stableEventId(`ticket-status:${row.id}:${row.version}`) });
      await this.sla.onStatusChanged(tx, row);
    }
    await this.sla.onCustomerMessage(tx, row);
  }

  /** Links a ticket to another object. Linking twice is a no-op that returns the existing link. */
  async link(actor: Actor, idOrNumber: string, input: TicketLinkInput, options: MutationOptions = {}, tx?: Tx): Promise<TicketView> {
    return this.run(tx, async (tx) => {
      const row = await this.load(tx, actor, idOrNumber);
      const existing = await tx.manager.findOne(TicketLinkRow, { where: { ticketId: row.id, kind: input.kind, refId: input.refId } });
      if (!existing) {
        const now = this.clock.now();
        await tx.manager.insert(TicketLinkRow, {
          id: randomUUID(),
          ticketId: row.id,
          kind: input.kind,
          refId: input.refId,
          createdBy: actor.id,
          createdAt: now,
        });
        await this.history(tx, row.id, actor, options, 'linked', { kind: input.kind, refId: input.refId });
        await this.emitLinked(tx, row, input, options);
      }
      return this.view(row, { links: await this.linksOf(tx.manager, row.id), followers: await this.followersOf(tx.manager, row.id) });
    });
  }

  async unlink(actor: Actor, idOrNumber: string, linkId: string): Promise<void> {
    await this.uow.run(async (tx) => {
      const row = await this.load(tx, actor, idOrNumber);
      const link = await tx.manager.findOne(TicketLinkRow, { where: { id: linkId, ticketId: row.id } });
      if (!link) throw new TicketsError('ticket_link_not_found', 'There is no such link on this ticket.');
      await tx.manager.delete(TicketLinkRow, { id: link.id });
      await this.history(tx, row.id, actor, {}, 'unlinked', { kind: link.kind, refId: link.refId });
    });
  }

  async setFollowers(
    actor: Actor,
    idOrNumber: string,
    input: { add?: string[]; remove?: string[] },
    options: MutationOptions = {},
    tx?: Tx,
  ): Promise<string[]> {
    return this.run(tx, async (tx) => {
      const row = await this.load(tx, actor, idOrNumber);
      const current = new Set(await this.followersOf(tx.manager, row.id));
      const now = this.clock.now();
      const added: string[] = [];
      for (const userId of input.add ?? []) {
        if (current.has(userId)) continue;
        await tx.manager.insert(TicketFollowerRow, { ticketId: row.id, userId, createdAt: now });
        current.add(userId);
        added.push(userId);
      }
      const removed: string[] = [];
      for (const userId of input.remove ?? []) {
        if (!current.delete(userId)) continue;
        await tx.manager.delete(TicketFollowerRow, { ticketId: row.id, userId });
        removed.push(userId);
      }
      if (added.length || removed.length) await this.history(tx, row.id, actor, options, 'followers_changed', { added, removed });
      return [...current].sort();
    });
  }

  // ---------- custom-field schema ----------

  async listFields(): Promise<TicketFieldRow[]> {
    return this.dataSource.manager.find(TicketFieldRow, { order: { key: 'ASC' } });
  }

  async createField(input: { key: string; label: string; type: CustomFieldType; options?: string[]; required?: boolean }): Promise<TicketFieldRow> {
    if (input.type === 'select' && !input.options?.length) {
      throw new TicketsError('ticket_custom_field_invalid', 'A select field needs at least one option.', {
        fields: [{ field: 'options', problem: 'is required for select' }],
      });
    }
    return this.uow.run(async (tx) => {
      if (await tx.manager.findOne(TicketFieldRow, { where: { key: input.key } }))
        throw new TicketsError('ticket_field_exists', `The field ${input.key} already exists.`);
      const row = Object.assign(new TicketFieldRow(), {
        key: input.key,
        label: input.label,
        type: input.type,
        options: input.type === 'select' ? input.options! : null,
        required: input.required ?? false,
        active: true,
        createdAt: this.clock.now(),
      });
      await tx.manager.insert(TicketFieldRow, row);
      return row;
    });
  }

  async updateField(key: string, input: { label?: string; options?: string[]; required?: boolean; active?: boolean }): Promise<TicketFieldRow> {
    return this.uow.run(async (tx) => {
      const row = await tx.manager.findOne(TicketFieldRow, { where: { key } });
      if (!row) throw new TicketsError('ticket_field_not_found', `There is no field ${key}.`);
      if (input.label !== undefined) row.label = input.label;
      if (input.options !== undefined && row.type === 'select') row.options = input.options;
      if (input.required !== undefined) row.required = input.required;
      if (input.active !== undefined) row.active = input.active;
      await tx.manager.save(TicketFieldRow, row);
      return row;
    });
  }

  // ---------- SLA escalation and conversation events ----------

  private async reapplySla(tx: Tx, row: TicketRow): Promise<void> {
    const vip = row.requesterContactId ? await this.contacts.isVip(row.requesterContactId).catch(() => false) : false;
    const policyId = await this.sla.applyPolicy(tx, row, { vip });
    if (policyId !== row.slaPolicyId) {
      row.slaPolicyId = policyId;
      await tx.manager.update(TicketRow, { id: row.id }, { slaPolicyId: policyId });
    }
  }

  /** Escalation actions of the policy, run in the breach timer's transaction. */
  private async escalate(tx: Tx, fired: SlaFired): Promise<void> {
    const escalation = fired.policy?.escalation;
    if (!escalation) return;
    const actor: Actor = { ...SYSTEM_ACTOR, id: 'sla-escalation' };
    const patch: UpdateTicketInput = {};
    if (escalation.setPriority && TICKET_PRIORITIES.indexOf(escalation.setPriority) > TICKET_PRIORITIES.indexOf(fired.ticket.priority))
      patch.priority = escalation.setPriority;
    if (escalation.setTeamId && escalation.setTeamId !== fired.ticket.teamId) patch.teamId = escalation.setTeamId;
    if (Object.keys(patch).length) await this.update(actor, fired.ticket.id, patch, {}, tx);
    if (escalation.addFollowers?.length) await this.setFollowers(actor, fired.ticket.id, { add: escalation.addFollowers }, {}, tx);
    if (escalation.note) await this.addComment(actor, fired.ticket.id, { body: escalation.note, private: true }, {}, tx);
  }

  /** The ticket links of these conversations (none for an empty list). */
  private conversationLinksOf(manager: EntityManager, conversationIds: string[]): Promise<TicketLinkRow[]> {
    return this.linkRows.findBy(manager, { kind: 'conversation', refId: conversationIds });
  }

  /** The ticket links of every conversation in a batch of messages, read at once (see `onConversationMessage`). */
  private async prefetchConversationLinks(events: Array<EventEnvelope<ConversationMessageEvent>>, tx: Tx): Promise<void> {
    const ids = [...new Set(events.map((event) => event.data?.conversationId).filter((id): id is string => typeof id === 'string'))];
    if (!ids.length) return;
    const byConversation = new Map<string, TicketLinkRow[]>(ids.map((id) => [id, []]));
    for (const link of await this.conversationLinksOf(tx.manager, ids)) byConversation.get(link.refId)?.push(link);
    this.conversationLinks.set(tx, byConversation);
  }

  private async onConversationMessage(event: EventEnvelope<ConversationMessageEvent>, tx: Tx): Promise<void> {
    const message = event.data;
    if (!message?.conversationId) return;
    const links = this.conversationLinks.get(tx)?.get(message.conversationId) ?? (await this.conversationLinksOf(tx.manager, [message.conversationId]));
    for (const link of links) {
      const row = await tx.manager.findOne(TicketRow, { where: { id: link.ticketId }, lock: this.lock(tx.manager) });
      if (!row || row.status === 'closed') continue;
      // A consumer that lags must not reopen a ticket with a message written before it was solved.
      const writtenBeforeSolved = row.status === 'solved' && row.solvedAt !== null && new Date(event.occurredAt) < row.solvedAt;
      if (message.direction === 'in' && message.authorType === 'contact' && !writtenBeforeSolved) await this.customerWrote(tx, row);
      else if (message.direction === 'out' && message.authorType === 'agent' && !message.private) await this.agentResponded(tx, row);
    }
  }

  // ---------- helpers ----------

  private async persist(
    tx: Tx,
    row: TicketRow,
    actor: Actor,
    options: MutationOptions,
    action: string,
    details: Record<string, unknown>,
    changes?: Record<string, { from: unknown; to: unknown }>,
  ): Promise<void> {
    const now = this.clock.now();
    row.updatedAt = now;
    row.version += 1;
    await tx.manager.save(TicketRow, row);
    await this.history(tx, row.id, actor, options, action, details);
    if (changes) {
      const data: TicketUpdatedEvent = { ...this.base(row, options), changes };
      await tx.emit({ subject: TICKET_UPDATED, data, id: stableEventId(`ticket-updated:${row.id}:${row.version}`) });
    }
  }

  /** Mirrors a ticket's tags into `ticket_tags` (the index behind the `?tag=` list filter). */
  private async writeTags(tx: Tx, ticketId: string, tags: string[]): Promise<void> {
    await tx.manager.delete(TicketTagRow, { ticketId });
    if (tags.length)
      await tx.manager.insert(
        TicketTagRow,
        tags.map((tag) => ({ ticketId, tag })),
      );
  }

  private async history(tx: Tx, ticketId: string, actor: Actor, options: MutationOptions, action: string, details: Record<string, unknown>): Promise<void> {
    await tx.manager.insert(TicketHistoryRow, {
      ticketId,
      action,
      actorType: actorType(actor, Boolean(options.automation)),
      actorId: actor.id,
      details: options.automation ? { ...details, automation: options.automation } : details,
      createdAt: this.clock.now(),
    });
  }

  private async emitLinked(tx: Tx, row: TicketRow, link: TicketLinkInput, options: MutationOptions): Promise<void> {
    const data: TicketLinkedEvent = { ...this.base(row, options), kind: link.kind, refId: link.refId };
    await tx.emit({ subject: TICKET_LINKED, data, id: stableEventId(`ticket-linked:${row.id}:${link.kind}:${link.refId}`) });
  }

  private base(row: TicketRow, options: MutationOptions): TicketEventBase {
    const base: TicketEventBase = {
      ticketId: row.id,
      number: formatTicketNumber(row.number),
      teamId: row.teamId,
      assigneeId: row.assigneeId,
      requesterContactId: row.requesterContactId,
    };
    if (options.automation) base.automation = options.automation;
    return base;
  }

  private async linksOf(manager: EntityManager, ticketId: string) {
    const links = await manager.find(TicketLinkRow, { where: { ticketId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return links.map((l) => ({ id: l.id, kind: l.kind, refId: l.refId, createdAt: l.createdAt.toISOString() }));
  }

  private async followersOf(manager: EntityManager, ticketId: string): Promise<string[]> {
    return (await manager.find(TicketFollowerRow, { where: { ticketId } })).map((f) => f.userId).sort();
  }

  view(row: TicketRow, extra: Pick<TicketView, 'links' | 'followers'> = {}): TicketView {
    return {
      id: row.id,
      number: formatTicketNumber(row.number),
      subject: row.subject,
      description: row.description,
      type: row.type,
      status: row.status,
      priority: row.priority,
      requesterContactId: row.requesterContactId,
      assigneeId: row.assigneeId,
      teamId: row.teamId,
      tags: row.tags,
      customFields: row.customFields,
      slaPolicyId: row.slaPolicyId,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      solvedAt: row.solvedAt?.toISOString() ?? null,
      closedAt: row.closedAt?.toISOString() ?? null,
      firstRespondedAt: row.firstRespondedAt?.toISOString() ?? null,
      version: row.version,
      ...extra,
    };
  }
}

function commentView(c: TicketCommentRow): CommentView {
  return {
    id: c.id,
    ticketId: c.ticketId,
    private: c.private,
    body: c.body,
    authorType: c.authorType,
    authorId: c.authorId,
    createdAt: c.createdAt.toISOString(),
  };
}

function normaliseTags(tags: string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim().toLowerCase()).filter(Boolean))].sort();
}

function dedupeLinks(links: TicketLinkInput[]): TicketLinkInput[] {
  const seen = new Set<string>();
  return links.filter((link) => {
    const key = `${link.kind}\u0000${link.refId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function allowedFrom(from: TicketStatus): readonly TicketStatus[] {
  return (['new', 'open', 'pending', 'on_hold', 'solved', 'closed'] as const).filter((to) => canTransition(from, to));
}
