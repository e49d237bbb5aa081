import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { Brackets, In, type DataSource, type EntityManager } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import type { EventToEmit } from '../platform/outbox/outbox.writer.js';
import type { Statement } from '../platform/database/statement.js';
import { UnitOfWork, type Tx } from '../platform/database/unit-of-work.js';
import { RowReader } from '../platform/database/row-reader.js';
import { RowUpdater } from '../platform/database/row-updater.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { sqlTime } from '../platform/database/sql-time.js';
import { IdempotentConsumers } from '../platform/outbox/idempotent-consumers.js';
import { SchedulerService } from '../platform/scheduler/scheduler.service.js';
import { AccessPolicy } from '../identity/access-policy.js';
import type { Actor } from '../identity/actor.js';
import { ContactsService } from '../contacts/contacts.service.js';
import { isDuplicateKeyError } from '../platform/database/duplicate-key.js';
import { CONTACT_MERGED, type ContactMergedEvent } from '../contacts/contacts.events.js';
import { decodeCursor, encodeCursor, parseSort, type Page } from '../contacts/pagination.js';
import {
  CHANNEL_PATTERN,
  ConversationRow,
  InboxRow,
  MessageRow,
  type AuthorType,
  type ConversationStatus,
  type Priority,
} from './entities/conversation.entity.js';
import { ConversationsError } from './conversations.error.js';
import {
  CONVERSATION_ASSIGNED,
  CONVERSATION_CREATED,
  CONVERSATION_MESSAGE_ANNOTATED,
  CONVERSATION_REOPENED,
  CONVERSATION_RESOLVED,
  CONVERSATION_UPDATED,
  type ConversationAssignedEvent,
  type ConversationChanges,
  type ConversationCreatedEvent,
  type ConversationReopenedEvent,
  type ConversationResolvedEvent,
  type ConversationUpdatedEvent,
  type MessageAnnotatedEvent,
} from './conversations.events.js';
import type {
  Attachment,
  AttachmentInput,
  ConversationFilter,
  ConversationView,
  InboxView,
  IngestInboundInput,
  IngestInboundResult,
  MessageAnnotations,
  MessageView,
  PostMessageInput,
  PostMessageResult,
} from './conversations.types.js';
import { AttachmentsService } from './attachments/attachments.service.js';
import { ExpiringCache } from '../platform/cache/expiring-cache.js';
import { annotationColumns, messageEvents, messageRowFor, type NewMessage } from './message-rows.js';
import type { InboundAnnotation, InboundAnnotator } from './inbound-annotator.js';
import { MessageBatchWriter } from './message-batch.writer.js';

/** Largest message text, in UTF-8 bytes. Longer is refused with 413 `message_too_large`. */
export const MAX_TEXT_BYTES = 64 * 1024;
const MAX_CONTENT_BYTES = 64 * 1024;
const MAX_ATTACHMENTS = 20;
const SORTABLE = ['createdAt', 'updatedAt'] as const;
type SortField = (typeof SORTABLE)[number];
const SORT_COLUMNS: Record<SortField, string> = { createdAt: 'c.created_at', updatedAt: 'c.updated_at' };
const UNSNOOZE = 'conversation.unsnooze';

class DuplicateMessage extends Error {}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** How long an inbox row is reused for inbound messages before it is read again. */
const INBOX_CACHE_MS = 2_000;

/**
 * Messages this instance committed stay in memory this long, so the consumers of `message_created`
 * running here (fan-out, NLP annotation, CSAT) do not each read back the row that was just written.
 * Only small messages are kept, and at most RECENT_MESSAGES of them.
 */
const RECENT_MESSAGE_MS = 10_000;
const RECENT_MESSAGES = 4_000;
const RECENT_MESSAGE_MAX_TEXT = 4_096;

/**
 * Conversations and messages. Every message gets the next per-conversation `seq` in the same
 * transaction that inserts it: the conversation row's counter is bumped with an atomic UPDATE,
 * which also serialises writers to one conversation, so numbers are unique and gap-free (a
 * rolled-back insert rolls the counter back too).
 */
@Injectable()
export class ConversationsService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('conversations');
  private readonly inboxCache = new ExpiringCache<string, InboxRow>(INBOX_CACHE_MS);
  private readonly recentMessages = new ExpiringCache<string, Readonly<MessageView>>(RECENT_MESSAGE_MS, RECENT_MESSAGES);

  /** Hot reads by key, without a query builder per call. */
  private readonly conversationRows: RowReader<ConversationRow>;
  private readonly messageRows: RowReader<MessageRow>;
  private readonly inboxRows: RowReader<InboxRow>;
  private readonly messageUpdates: RowUpdater<MessageRow>;
  private inboundAnnotator: InboundAnnotator | null = null;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly uow: UnitOfWork,
    private readonly access: AccessPolicy,
    private readonly contacts: ContactsService,
    private readonly consumers: IdempotentConsumers,
    private readonly scheduler: SchedulerService,
    private readonly attachments: AttachmentsService,
    private readonly batchWriter: MessageBatchWriter,
  ) {
    this.conversationRows = new RowReader(dataSource, ConversationRow);
    this.messageRows = new RowReader(dataSource, MessageRow);
    this.inboxRows = new RowReader(dataSource, InboxRow);
    this.messageUpdates = new RowUpdater(dataSource, MessageRow);
  }

  onModuleInit(): void {
    this.scheduler.onTimer(UNSNOOZE, async (payload, tx) => {
      const { conversationId } = payload as { conversationId: string };
      const row = await this.lockConversation(tx, conversationId).catch(() => null);
      if (!row || row.status !== 'snoozed' || !row.snoozedUntil || row.snoozedUntil.getTime() > this.clock.now().getTime()) return;
      await this.applyStatus(tx, row, 'open', null, 'system');
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    // Conversations follow a merged contact to the survivor, so every history query finds them.
    await this.consumers.register<ContactMergedEvent>({
      name: 'conversations-contact-merged',
      subject: CONTACT_MERGED,
      handle: async (event, tx) => {
        await this.repointContact(tx, event.data.mergedId, event.data.survivorId);
      },
    });
  }

  // ---------------------------------------------------------------- inboxes

  async createInbox(input: { name: string; channel: string; teamId?: string | null; settings?: Record<string, unknown> }): Promise<InboxView> {
    if (!CHANNEL_PATTERN.test(input.channel))
      throw new ConversationsError('conversation_invalid', 'channel must be lower-case letters, digits, "_" or "-"', { field: 'channel' });
    const now = this.clock.now();
    const row: InboxRow = Object.assign(new InboxRow(), {
      id: randomUUID(),
      name: input.name,
      channel: input.channel,
      teamId: input.teamId ?? null,
      settings: input.settings ?? {},
      createdAt: now,
      updatedAt: now,
    });
    await this.dataSource.manager.insert(InboxRow, row as never);
    return inboxView(row);
  }

  async getInbox(id: string): Promise<InboxView> {
    const row = await this.inboxRows.findOneBy(this.dataSource.manager, { id });
    if (!row) throw ConversationsError.inboxNotFound(id);
    return inboxView(row);
  }

  async getInboxForActor(actor: Actor, id: string): Promise<InboxView> {
    const row = await this.inboxRows.findOneBy(this.dataSource.manager, { id });
    return inboxView(this.access.assertCanSee(actor, row, () => ConversationsError.inboxNotFound(id)));
  }

  async listInboxes(actor: Actor | null, filter: { channel?: string; teamId?: string } = {}): Promise<InboxView[]> {
    const qb = this.dataSource.manager.createQueryBuilder(InboxRow, 'i');
    if (actor) {
      const teams = this.access.visibleTeams(actor);
      if (teams !== 'all') {
        qb.andWhere(
          new Brackets((w) => (teams.length ? w.where('i.team_id IS NULL').orWhere('i.team_id IN (:...teams)', { teams }) : w.where('i.team_id IS NULL'))),
        );
      }
    }
    if (filter.channel) qb.andWhere('i.channel = :channel', { channel: filter.channel });
    if (filter.teamId) qb.andWhere('i.team_id = :teamId', { teamId: filter.teamId });
    const rows = await qb.orderBy('i.created_at', 'ASC').addOrderBy('i.id', 'ASC').take(500).getMany();
    return rows.map(inboxView);
  }

  async updateInbox(id: string, patch: { name?: string; teamId?: string | null; settings?: Record<string, unknown> }): Promise<InboxView> {
    return this.uow.run(async (tx) => {
      const row = await this.inboxRows.findOneBy(tx.manager, { id });
      if (!row) throw ConversationsError.inboxNotFound(id);
      if (patch.name !== undefined) row.name = patch.name;
      if (patch.teamId !== undefined) row.teamId = patch.teamId;
      if (patch.settings !== undefined) row.settings = patch.settings;
      row.updatedAt = this.clock.now();
      await tx.manager.update(InboxRow, { id }, { name: row.name, teamId: row.teamId, settings: row.settings, updatedAt: row.updatedAt } as never);
      tx.afterCommit(() => this.inboxCache.delete(id));
      return inboxView(row);
    });
  }

  // ---------------------------------------------------------------- inbound

  /** Customer messages are annotated by `annotator` before they are stored (see InboundAnnotator). */
  useInboundAnnotator(annotator: InboundAnnotator | null): void {
    this.inboundAnnotator = annotator;
  }

  /** The inbound annotation of a message about to be stored; `null` leaves it to the consumer after the commit. */
  private async annotateInbound(text: string, inboxId: string): Promise<InboundAnnotation | null> {
    if (!this.inboundAnnotator) return null;
    try {
      return await this.inboundAnnotator(text, { inboxId });
    } catch (error) {
      this.logger.warn({ reason: (error as Error).message, inboxId }, 'inbound annotation failed; the message is annotated after it is stored');
      return null;
    }
  }

  /**
   * Every inbound message needs its inbox (channel, team); inboxes rarely change, so rows are kept for
   * INBOX_CACHE_MS. A change applies at once on the instance that made it, within that time elsewhere.
   */
  private async inboxForIngest(id: string): Promise<InboxRow | null> {
    const cached = this.inboxCache.get(id);
    if (cached) return cached;
    const row = await this.inboxRows.findOneBy(this.dataSource.manager, { id });
    if (row) this.inboxCache.set(id, row);
    return row;
  }

  /**
   * A customer's message from a channel: resolves the contact, finds the open conversation for
   * (inbox, contact, thread) or opens one, and appends the message. A repeated `idempotencyKey`
   * for the same inbox returns the original message with `duplicate: true`.
   */
  async ingestInbound(raw: IngestInboundInput): Promise<IngestInboundResult> {
    // A channel's stored upload is referenced by id; the metadata comes from the stored file, not the channel.
    const input: IngestInboundInput = raw.attachments
      ? { ...raw, attachments: raw.attachments.map((item) => (hasUploadId(item) ? { id: item.id } : item)) }
      : raw;
    validateMessageBody(input.text, input.content ?? null, input.attachments ?? null);
    if (!input.idempotencyKey || input.idempotencyKey.length > 191)
      throw new ConversationsError('message_invalid', 'idempotencyKey must be 1–191 characters', { field: 'idempotencyKey' });
    const inbox = await this.inboxForIngest(input.inboxId);
    if (!inbox) throw ConversationsError.inboxNotFound(input.inboxId);
    const inboundKey = sha256(`${inbox.id}\u0000${input.idempotencyKey}`);

    // No lookup of the key first: the unique index on inbound_key turns a repeat into a duplicate-key error,
    // and the retry loop below returns the original (one read less for every message that is not a repeat).
    const identity = { channel: inbox.channel, ...input.externalContact };
    // A first message's contact is created in the ingest transaction below (`knownContactId` null).
    const [knownContactId, annotation] = await Promise.all([
      this.contacts.resolveContactIdUnlessNew(identity),
      this.annotateInbound(input.text ?? '', inbox.id),
    ]);
    const threadKey = input.threadKey ?? null;
    const openKeyOf = (contactId: string) => sha256(`${inbox.id}\u0000${contactId}\u0000${threadKey ?? ''}`);

    const newMessage = (contactId: string): NewMessage => ({
      direction: 'in',
      authorType: 'contact',
      authorId: contactId,
      text: input.text,
      content: input.content ?? null,
      attachments: linkOnly(input.attachments),
      private: false,
      idempotencyKey: input.idempotencyKey,
      inboundKey,
      externalMessageId: input.externalMessageId ?? null,
      annotation,
    });
    if (knownContactId && this.batchable(input.attachments)) {
      const outcome = await this.batchWriter.append({ openKey: openKeyOf(knownContactId), message: newMessage(knownContactId), wakes: true });
      if (outcome) {
        const message = this.remember(messageView(outcome.stored));
        return { conversation: conversationView(outcome.conversation), message, contactId: knownContactId, createdConversation: false, duplicate: false };
      }
    }

    // A first contact on MySQL: contact, identity, conversation, message and events in one round trip.
    const newContact = !knownContactId && this.batchable(input.attachments) ? this.contacts.newContactStatements(identity) : null;
    if (newContact) {
      const { contactId } = newContact;
      const conversation = this.newConversationRow({ contactId, inbox, threadKey, openKey: openKeyOf(contactId), priority: 'normal', firstMessage: true });
      const stored = await this.batchWriter.open({
        statements: newContact.statements,
        events: [...newContact.events, conversationCreatedEvent(conversation)],
        conversation,
        message: newMessage(contactId),
      });
      if (stored)
        return {
          conversation: conversationView(conversation),
          message: this.remember(messageView(stored)),
          contactId,
          createdConversation: true,
          duplicate: false,
        };
    }

    const ingest = async (tx: Tx, contactId: string, newContact = false) => {
      const openKey = openKeyOf(contactId);
      // A contact created in this transaction has no conversation to look for.
      const open = newContact ? null : await this.conversationRows.findOneBy(tx.manager, { openKey });
      const { row, message } = open
        ? await this.appendMessage(tx, open.id, newMessage(contactId))
        : await this.appendMessage(
            tx,
            await this.insertConversation(tx, { contactId, inbox, threadKey, openKey, priority: 'normal', firstMessage: true }),
            newMessage(contactId),
          );
      const createdConversation = !open;
      await this.linkUploads(tx, row.id, message, input.attachments, true);
      // A customer writing again wakes a pending or snoozed conversation.
      if (row.status === 'pending' || row.status === 'snoozed') await this.applyStatus(tx, row, 'open', null, 'system');
      return { conversation: conversationView(row), message, contactId, createdConversation, duplicate: false };
    };
    const attempt = () =>
      knownContactId
        ? this.uow.run((tx) => ingest(tx, knownContactId), { coalesce: openKeyOf(knownContactId) })
        : // A new contact: not coalesced, since the lane key (the open-conversation key) needs the contact's id.
          this.uow.run(async (tx) => {
            const { contactId, createdHere } = await this.contacts.resolveContactIdInTx(tx, identity);
            return ingest(tx, contactId, createdHere);
          });

    for (let round = 0; ; round++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof DuplicateMessage) && !isDuplicateKeyError(error)) throw error;
        // Lost a race: either the same message (return it) or the conversation was opened meanwhile (retry).
        const original = await this.findInbound(this.dataSource.manager, inboundKey);
        if (original) return original;
        if (round >= 2) throw error;
      }
    }
  }

  private async findInbound(m: EntityManager, inboundKey: string): Promise<IngestInboundResult | null> {
    const message = await this.messageRows.findOneBy(m, { inboundKey });
    if (!message) return null;
    const conversation = await this.conversationRows.findOneBy(m, { id: message.conversationId });
    if (!conversation) return null;
    return {
      conversation: conversationView(conversation),
      message: messageView(message),
      contactId: conversation.contactId,
      createdConversation: false,
      duplicate: true,
    };
  }

  // ---------------------------------------------------------------- outbound and notes

  /** Opens a conversation from the agent side (outbound first contact). */
  async createConversation(
    actor: Actor,
    input: { contactId: string; inboxId: string; priority?: Priority; tags?: string[]; threadKey?: string | null },
  ): Promise<ConversationView> {
    const inbox = await this.inboxRows.findOneBy(this.dataSource.manager, { id: input.inboxId });
    this.access.assertCanSee(actor, inbox, () => ConversationsError.inboxNotFound(input.inboxId));
    const contactId = await this.contacts.resolveSurvivorId(input.contactId).catch(() => {
      throw new ConversationsError('conversation_invalid', 'There is no such contact.', { field: 'contactId' });
    });
    // With a thread key, the contact's replies on that thread (e.g. an email answer) land here,
    // and asking again for the same open thread returns the same conversation.
    const threadKey = input.threadKey ?? null;
    const openKey = threadKey ? sha256(`${inbox!.id}\u0000${contactId}\u0000${threadKey}`) : null;
    return this.uow.run(async (tx) => {
      if (openKey) {
        const existing = await this.conversationRows.findOneBy(tx.manager, { openKey });
        if (existing) return conversationView(existing);
      }
      const row = await this.insertConversation(tx, {
        contactId,
        inbox: inbox!,
        threadKey,
        openKey,
        priority: input.priority ?? 'normal',
        tags: input.tags,
      });
      return conversationView(row);
    });
  }

  /**
   * A message from an agent (user or API key), a bot or the system (`actor.kind === 'system'`,
   * `authorType` bot by default). A repeated `idempotencyKey` returns the original message.
   */
  async postMessage(actor: Actor, conversationId: string, input: PostMessageInput): Promise<PostMessageResult> {
    const newMessage = outgoingMessage(actor, input);
    if (this.batchable(input.attachments)) {
      const outcome = await this.batchWriter.append({ conversationId, message: newMessage, actor, wakes: false });
      if (outcome) return { message: this.remember(messageView(outcome.stored)), duplicate: false };
    }
    try {
      const message = await this.uow.run(
        async (tx) => {
          const { message } = await this.appendMessage(tx, conversationId, newMessage, actor);
          await this.linkUploads(tx, conversationId, message, input.attachments);
          return message;
        },
        { coalesce: conversationId },
      );
      return { message, duplicate: false };
    } catch (error) {
      if (!(error instanceof DuplicateMessage) && !isDuplicateKeyError(error)) throw error;
      const original = await this.messageRows.findOneBy(this.dataSource.manager, { conversationId, idempotencyKey: input.idempotencyKey });
      if (!original) throw error;
      return { message: messageView(original), duplicate: true };
    }
  }

  /**
   * Posts a message inside the caller's transaction, so that it commits together with the caller's own writes
   * (the bot's reply with its turn log and session). A repeated idempotency key fails the transaction
   * (`DuplicateMessage`) instead of returning the original: the caller's unit is then retried as a whole.
   * Uploads by reference are not supported here.
   */
  async postMessageInTx(tx: Tx, actor: Actor, conversationId: string, input: Omit<PostMessageInput, 'attachments'>): Promise<MessageView> {
    const { message } = await this.appendMessage(tx, conversationId, outgoingMessage(actor, input), actor);
    return message;
  }

  /**
   * MySQL: posts messages together with a caller's own statements in one transaction of two round trips (see
   * `MessageBatchWriter.appendWith`), the pipelined twin of `postMessageInTx` in the caller's `uow.run`. Null when
   * that is not available or declined; the caller then runs its general path.
   */
  async postMessagesWith(
    actor: Actor,
    conversationId: string,
    inputs: Array<Omit<PostMessageInput, 'attachments'>>,
    caller: { first: Statement[]; check: (results: unknown[]) => void; last: Statement[]; events: Array<EventToEmit<unknown>> },
  ): Promise<MessageView[] | null> {
    if (!this.batchWriter.available) return null;
    const outcome = await this.batchWriter.appendWith({ conversationId, messages: inputs.map((input) => outgoingMessage(actor, input)), actor, ...caller });
    return outcome ? outcome.stored.map((row) => this.remember(messageView(row))) : null;
  }

  /**
   * Attaches the uploads a new message references (`{ id }` entries) after the message row exists
   * (so a repeated idempotency key is detected first), keeping the order the writer gave.
   */
  private async linkUploads(tx: Tx, conversationId: string, message: MessageView, input: AttachmentInput[] | null | undefined, inbound = false): Promise<void> {
    const ids = (input ?? []).filter(isUploadRef).map((item) => item.id);
    if (!ids.length) return;
    const linked = new Map((await this.attachments.linkToMessage(tx, conversationId, message.id, ids, { inbound })).map((item) => [item.id, item]));
    const merged = input!.map((item) => (isUploadRef(item) ? linked.get(item.id)! : item));
    await tx.manager.update(MessageRow, { id: message.id }, { attachments: merged as never });
    message.attachments = merged;
  }

  /**
   * Bumps the conversation's counter (locking its row until commit), inserts the message with the
   * new seq and emits `message_created`. A unique-key clash rolls everything back, counter included.
   * The conversation is given by id, or as a row this transaction has just inserted with the message
   * already counted (`insertConversation` with `firstMessage`), which then needs no counter update.
   */
  private async appendMessage(
    tx: Tx,
    conversation: string | ConversationRow,
    message: NewMessage,
    actor?: Actor,
  ): Promise<{ row: ConversationRow; message: MessageView }> {
    const m = tx.manager;
    const now = this.clock.now();
    const at = sqlTime(m, now);
    const conversationId = typeof conversation === 'string' ? conversation : conversation.id;
    const bump = 'UPDATE conversations SET last_seq = last_seq + 1, last_message_at = ?, updated_at = ? WHERE id = ?';
    let row: ConversationRow | null;
    if (typeof conversation !== 'string') {
      row = conversation;
    } else if (this.uow.isMysql) {
      await m.query(bump, [at, at, conversationId]);
      row = await this.conversationRows.findOneBy(m, { id: conversationId });
    } else {
      // SQLite reads the bumped row back in the same statement (MariaDB has no UPDATE … RETURNING).
      const [raw] = (await m.query(`${bump} RETURNING ${this.conversationRows.selectList}`, [at, at, conversationId])) as Array<Record<string, unknown>>;
      row = raw ? this.conversationRows.hydrate(raw) : null;
    }
    if (!row) throw ConversationsError.notFound(conversationId);
    if (actor) this.access.assertCanSee(actor, row, () => ConversationsError.notFound(conversationId));
    const stored = messageRowFor(conversationId, row.lastSeq, message, now);
    try {
      await tx.insert(MessageRow, stored);
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new DuplicateMessage();
      throw error;
    }
    for (const event of messageEvents(row, stored, message)) await tx.emit(event);
    const view = messageView(stored);
    // Uploads are linked to `view` after this returns, but before the commit: the snapshot is taken then.
    tx.afterCommit(() => this.remember(view));
    return { row, message: view };
  }

  /** Whether the batch writer can take a message: on MySQL, with no uploads to link (those take the general path). */
  private batchable(attachments: AttachmentInput[] | null | undefined): boolean {
    return this.batchWriter.available && !(attachments ?? []).some(isUploadRef);
  }

  /** Keeps a committed message's snapshot for this instance's consumers (see RECENT_MESSAGE_MS); returns it. */
  private remember(view: MessageView): MessageView {
    if ((view.text?.length ?? 0) <= RECENT_MESSAGE_MAX_TEXT) this.recentMessages.set(view.id, Object.freeze({ ...view }));
    return view;
  }

  private async insertConversation(tx: Tx, input: NewConversation): Promise<ConversationRow> {
    const row = this.newConversationRow(input);
    await tx.insert(ConversationRow, row);
    await tx.emit(conversationCreatedEvent(row));
    return row;
  }

  private newConversationRow(input: NewConversation): ConversationRow {
    const now = this.clock.now();
    return Object.assign(new ConversationRow(), {
      id: randomUUID(),
      contactId: input.contactId,
      inboxId: input.inbox.id,
      channel: input.inbox.channel,
      status: 'open' as const,
      snoozedUntil: null,
      priority: input.priority,
      assigneeId: null,
      teamId: input.inbox.teamId,
      tags: uniqueTags(input.tags ?? []),
      threadKey: input.threadKey,
      openKey: input.openKey,
      lastSeq: input.firstMessage ? 1 : 0,
      lastMessageAt: input.firstMessage ? now : null,
      createdAt: now,
      updatedAt: now,
      resolvedAt: null,
    });
  }

  // ---------------------------------------------------------------- reads

  async get(id: string): Promise<ConversationView> {
    const row = await this.conversationRows.findOneBy(this.dataSource.manager, { id });
    if (!row) throw ConversationsError.notFound(id);
    return conversationView(row);
  }

  async getForActor(actor: Actor, id: string): Promise<ConversationView> {
    const row = await this.conversationRows.findOneBy(this.dataSource.manager, { id });
    return conversationView(this.access.assertCanSee(actor, row, () => ConversationsError.notFound(id)));
  }

  /** Messages in `seq` order: after `afterSeq` (oldest first), or the last `limit` before `beforeSeq`. */
  async listMessages(
    conversationId: string,
    options: { afterSeq?: number; beforeSeq?: number; limit?: number; includePrivate?: boolean } = {},
  ): Promise<MessageView[]> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
    const qb = this.dataSource.manager.createQueryBuilder(MessageRow, 'm').where('m.conversation_id = :conversationId', { conversationId });
    if (options.includePrivate === false) qb.andWhere('m.private = :private', { private: false });
    if (options.beforeSeq !== undefined) {
      qb.andWhere('m.seq < :beforeSeq', { beforeSeq: options.beforeSeq }).orderBy('m.seq', 'DESC');
      const rows = await qb.take(limit).getMany();
      return rows.reverse().map(messageView);
    }
    qb.andWhere('m.seq > :afterSeq', { afterSeq: options.afterSeq ?? 0 }).orderBy('m.seq', 'ASC');
    return (await qb.take(limit).getMany()).map(messageView);
  }

  async listMessagesForActor(actor: Actor, conversationId: string, options: { afterSeq?: number; beforeSeq?: number; limit?: number }): Promise<MessageView[]> {
    await this.getForActor(actor, conversationId);
    return this.listMessages(conversationId, options);
  }

  /**
   * A message by id. With `recent`, the snapshot this instance took when it committed the message may
   * answer instead of the database: for consumers of `message_created`, which need the message as it
   * was created (its annotations may since have changed).
   */
  async getMessage(messageId: string, options: { recent?: boolean } = {}): Promise<MessageView> {
    if (options.recent) {
      const recent = this.recentMessages.get(messageId);
      if (recent) return { ...recent };
    }
    const row = await this.messageRows.findOneBy(this.dataSource.manager, { id: messageId });
    if (!row) throw new ConversationsError('message_not_found', 'There is no such message.', { id: messageId });
    return messageView(row);
  }

  async list(actor: Actor | null, filter: ConversationFilter): Promise<Page<ConversationView>> {
    const limit = Math.min(Math.max(filter.limit ?? 25, 1), 100);
    const sort = parseSort<SortField>(filter.sort, SORTABLE, { field: 'updatedAt', direction: 'DESC' });
    const column = SORT_COLUMNS[sort.field];
    const m = this.dataSource.manager;
    const qb = m.createQueryBuilder(ConversationRow, 'c');
    if (actor) this.scopeToTeams(qb, actor);
    if (filter.status) qb.andWhere('c.status = :status', { status: filter.status });
    if (filter.inboxId) qb.andWhere('c.inbox_id = :inboxId', { inboxId: filter.inboxId });
    if (filter.teamId) qb.andWhere('c.team_id = :teamId', { teamId: filter.teamId });
    if (filter.assigneeId) qb.andWhere('c.assignee_id = :assigneeId', { assigneeId: filter.assigneeId });
    if (filter.unassigned) qb.andWhere('c.assignee_id IS NULL');
    if (filter.priority) qb.andWhere('c.priority = :priority', { priority: filter.priority });
    if (filter.channel) qb.andWhere('c.channel = :channel', { channel: filter.channel });
    if (filter.tag) qb.andWhere("c.tags LIKE :tag ESCAPE '!'", { tag: `%${likeEscape(JSON.stringify(filter.tag))}%` });
    if (filter.contactId)
      qb.andWhere('c.contact_id IN (:...contactIds)', { contactIds: await this.contacts.historyIds(filter.contactId).catch(() => [filter.contactId!]) });
    const cursor = decodeCursor(filter.cursor);
    if (cursor) {
      if (typeof cursor.v !== 'string' || Number.isNaN(Date.parse(cursor.v))) throw new ConversationsError('invalid_cursor', 'The cursor is not valid.');
      const op = sort.direction === 'DESC' ? '<' : '>';
      const value = sqlTime(m, new Date(cursor.v));
      qb.andWhere(
        new Brackets((w) => w.where(`${column} ${op} :cv`, { cv: value }).orWhere(`(${column} = :cv AND c.id ${op} :cid)`, { cv: value, cid: cursor.id })),
      );
    }
    const rows = await qb
      .orderBy(column, sort.direction)
      .addOrderBy('c.id', sort.direction)
      .take(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(conversationView),
      nextCursor:
        rows.length > limit && last ? encodeCursor({ v: (sort.field === 'createdAt' ? last.createdAt : last.updatedAt).toISOString(), id: last.id }) : null,
    };
  }

  /** A contact's conversations across every channel (including contacts merged into it), newest first. */
  async contactHistory(actor: Actor, contactId: string, options: { cursor?: string; limit?: number; sort?: string } = {}): Promise<Page<ConversationView>> {
    await this.contacts.getMany([contactId]).then((found) => {
      const contact = found[0];
      this.access.assertCanSee(actor, contact, () => new ConversationsError('conversation_not_found', 'There is no such contact.', { contactId }));
    });
    return this.list(actor, { contactId, cursor: options.cursor, limit: options.limit, sort: options.sort ?? '-createdAt' });
  }

  /** A contact's messages across all channels and conversations, newest first (keyset on time). */
  async contactTimeline(actor: Actor, contactId: string, options: { cursor?: string; limit?: number } = {}): Promise<Page<MessageView>> {
    const contact = (await this.contacts.getMany([contactId]))[0];
    this.access.assertCanSee(actor, contact, () => new ConversationsError('conversation_not_found', 'There is no such contact.', { contactId }));
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
    const m = this.dataSource.manager;
    const ids = await this.contacts.historyIds(contactId);
    const conversations = m.createQueryBuilder(ConversationRow, 'c').select('c.id').where('c.contact_id IN (:...ids)', { ids });
    this.scopeToTeams(conversations, actor);
    const visible = (await conversations.getMany()).map((row) => row.id);
    if (!visible.length) return { items: [], nextCursor: null };
    const qb = m.createQueryBuilder(MessageRow, 'm').where('m.conversation_id IN (:...visible)', { visible });
    const cursor = decodeCursor(options.cursor);
    if (cursor) {
      if (typeof cursor.v !== 'string' || Number.isNaN(Date.parse(cursor.v))) throw new ConversationsError('invalid_cursor', 'The cursor is not valid.');
      const value = sqlTime(m, new Date(cursor.v));
      qb.andWhere(
        new Brackets((w) => w.where('m.created_at < :cv', { cv: value }).orWhere('(m.created_at = :cv AND m.id < :cid)', { cv: value, cid: cursor.id })),
      );
    }
    const rows = await qb
      .orderBy('m.created_at', 'DESC')
      .addOrderBy('m.id', 'DESC')
      .take(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map(messageView), nextCursor: rows.length > limit && last ? encodeCursor({ v: last.createdAt.toISOString(), id: last.id }) : null };
  }

  private scopeToTeams(qb: { andWhere: (where: Brackets) => unknown }, actor: Actor): void {
    const teams = this.access.visibleTeams(actor);
    if (teams === 'all') return;
    qb.andWhere(
      new Brackets((w) => (teams.length ? w.where('c.team_id IS NULL').orWhere('c.team_id IN (:...teams)', { teams }) : w.where('c.team_id IS NULL'))),
    );
  }

  // ---------------------------------------------------------------- state changes

  async assign(conversationId: string, input: { agentId: string | null; teamId?: string | null }, actor?: Actor): Promise<ConversationView> {
    return this.uow.run(async (tx) => {
      const row = await this.lockConversation(tx, conversationId, actor);
      if (actor && input.teamId && !this.access.canSee(actor, { teamId: input.teamId })) {
        throw new ConversationsError('conversation_invalid', 'You cannot assign to that team.', { field: 'teamId' });
      }
      const previousAgentId = row.assigneeId;
      const teamId = input.teamId !== undefined ? input.teamId : row.teamId;
      const teamChanged = teamId !== row.teamId;
      if (previousAgentId === input.agentId && !teamChanged) return conversationView(row);
      row.assigneeId = input.agentId;
      row.teamId = teamId;
      row.updatedAt = this.clock.now();
      await tx.manager.update(ConversationRow, { id: row.id }, { assigneeId: row.assigneeId, teamId: row.teamId, updatedAt: row.updatedAt });
      await tx.emit<ConversationAssignedEvent>({
        subject: CONVERSATION_ASSIGNED,
        data: { conversationId: row.id, agentId: row.assigneeId, teamId: row.teamId, previousAgentId },
      });
      if (teamChanged) await this.emitUpdated(tx, row, { teamId: row.teamId });
      return conversationView(row);
    });
  }

  async setStatus(conversationId: string, input: { status: ConversationStatus; snoozedUntil?: Date | null }, actor?: Actor): Promise<ConversationView> {
    if (input.status === 'snoozed' && (!input.snoozedUntil || input.snoozedUntil.getTime() <= this.clock.now().getTime())) {
      throw new ConversationsError('conversation_invalid', 'Snoozing needs snoozedUntil in the future.', { field: 'snoozedUntil' });
    }
    return this.uow.run(async (tx) => {
      const row = await this.lockConversation(tx, conversationId, actor);
      await this.applyStatus(tx, row, input.status, input.status === 'snoozed' ? input.snoozedUntil! : null, actor?.id ?? 'system');
      return conversationView(row);
    });
  }

  async setPriority(conversationId: string, priority: Priority, actor?: Actor): Promise<ConversationView> {
    return this.uow.run(async (tx) => {
      const row = await this.lockConversation(tx, conversationId, actor);
      if (row.priority === priority) return conversationView(row);
      row.priority = priority;
      row.updatedAt = this.clock.now();
      await tx.manager.update(ConversationRow, { id: row.id }, { priority, updatedAt: row.updatedAt });
      await this.emitUpdated(tx, row, { priority });
      return conversationView(row);
    });
  }

  async setTags(conversationId: string, tags: string[], actor?: Actor): Promise<ConversationView> {
    return this.uow.run(async (tx) => {
      const row = await this.lockConversation(tx, conversationId, actor);
      row.tags = uniqueTags(tags);
      row.updatedAt = this.clock.now();
      await tx.manager.update(ConversationRow, { id: row.id }, { tags: row.tags, updatedAt: row.updatedAt });
      await this.emitUpdated(tx, row, { tags: row.tags });
      return conversationView(row);
    });
  }

  /** One PATCH: any of status (+snoozedUntil), priority, tags; applied in one transaction. */
  async update(
    actor: Actor,
    conversationId: string,
    patch: { status?: ConversationStatus; snoozedUntil?: Date | null; priority?: Priority; tags?: string[] },
  ): Promise<ConversationView> {
    if (patch.status === 'snoozed' && (!patch.snoozedUntil || patch.snoozedUntil.getTime() <= this.clock.now().getTime())) {
      throw new ConversationsError('conversation_invalid', 'Snoozing needs snoozedUntil in the future.', { field: 'snoozedUntil' });
    }
    return this.uow.run(async (tx) => {
      const row = await this.lockConversation(tx, conversationId, actor);
      const changes: ConversationChanges = {};
      const now = this.clock.now();
      if (patch.priority && patch.priority !== row.priority) changes.priority = row.priority = patch.priority;
      if (patch.tags) changes.tags = row.tags = uniqueTags(patch.tags);
      if (Object.keys(changes).length) {
        row.updatedAt = now;
        await tx.manager.update(ConversationRow, { id: row.id }, { priority: row.priority, tags: row.tags, updatedAt: now });
        await this.emitUpdated(tx, row, changes);
      }
      if (patch.status) await this.applyStatus(tx, row, patch.status, patch.status === 'snoozed' ? patch.snoozedUntil! : null, actor.id);
      return conversationView(row);
    });
  }

  private async applyStatus(tx: Tx, row: ConversationRow, status: ConversationStatus, snoozedUntil: Date | null, by: string): Promise<void> {
    const previous = row.status;
    if (previous === status && (row.snoozedUntil?.getTime() ?? null) === (snoozedUntil?.getTime() ?? null)) return;
    const now = this.clock.now();
    row.status = status;
    row.snoozedUntil = snoozedUntil;
    row.updatedAt = now;
    if (status === 'resolved') {
      row.resolvedAt = now;
      row.openKey = null;
    } else if (previous === 'resolved') {
      row.resolvedAt = null;
      // Take the thread back unless a newer conversation holds it; then this one only gets agent replies.
      const key = sha256(`${row.inboxId}\u0000${row.contactId}\u0000${row.threadKey ?? ''}`);
      const holder = await tx.manager.findOne(ConversationRow, { where: { openKey: key }, select: { id: true } });
      row.openKey = holder ? null : key;
    }
    await tx.manager.update(ConversationRow, { id: row.id }, { status, snoozedUntil, updatedAt: now, resolvedAt: row.resolvedAt, openKey: row.openKey });
    await this.emitUpdated(tx, row, { status, snoozedUntil: snoozedUntil?.toISOString() ?? null });
    if (status === 'resolved') {
      await tx.emit<ConversationResolvedEvent>({
        subject: CONVERSATION_RESOLVED,
        data: { conversationId: row.id, contactId: row.contactId, resolvedBy: by, resolvedAt: now.toISOString() },
      });
    } else if (previous === 'resolved') {
      await tx.emit<ConversationReopenedEvent>({ subject: CONVERSATION_REOPENED, data: { conversationId: row.id } });
    }
    if (status === 'snoozed' && snoozedUntil) {
      await this.scheduler.schedule(tx, { key: `${UNSNOOZE}:${row.id}`, kind: UNSNOOZE, dueAt: snoozedUntil, payload: { conversationId: row.id } });
    } else if (previous === 'snoozed') {
      await this.scheduler.cancel(tx, `${UNSNOOZE}:${row.id}`);
    }
  }

  /**
   * Stores NLP annotations on a message (language, intent, emotion, flags) and emits `message_annotated`;
   * in the caller's transaction when given one. A caller that already holds the message (`known`, read
   * with `getMessage`) saves the read; the update then tells whether the message still exists.
   */
  async annotateMessage(messageId: string, annotations: Partial<MessageAnnotations>, callerTx?: Tx, known?: MessageView): Promise<MessageView> {
    const run = <T>(work: (tx: Tx) => Promise<T>) => (callerTx ? work(callerTx) : this.uow.run(work));
    return run(async (tx) => {
      const row = known?.id === messageId ? knownMessageRow(known) : await this.messageRows.findOneBy(tx.manager, { id: messageId });
      if (!row) throw new ConversationsError('message_not_found', 'There is no such message.', { id: messageId });
      const set = annotationColumns(annotations);
      if (!Object.keys(set).length) return messageView(row);
      Object.assign(row, set);
      const updated = await this.messageUpdates.update(tx.manager, { id: messageId }, set);
      if (known && updated === 0) throw new ConversationsError('message_not_found', 'There is no such message.', { id: messageId });
      await tx.emit<MessageAnnotatedEvent>({
        subject: CONVERSATION_MESSAGE_ANNOTATED,
        data: {
          conversationId: row.conversationId,
          messageId: row.id,
          seq: row.seq,
          language: row.language,
          intent: row.intent,
          intentConfidence: row.intentConfidence,
          emotion: row.emotion,
          flags: row.flags,
        },
      });
      return messageView(row);
    });
  }

  private async emitUpdated(tx: Tx, row: ConversationRow, changes: ConversationChanges): Promise<void> {
    await tx.emit<ConversationUpdatedEvent>({ subject: CONVERSATION_UPDATED, data: { conversationId: row.id, seq: row.lastSeq, changes } });
  }

  private async lockConversation(tx: Tx, id: string, actor?: Actor): Promise<ConversationRow> {
    const row = await tx.manager.findOne(ConversationRow, { where: { id }, lock: this.uow.isMysql ? { mode: 'pessimistic_write' } : undefined });
    if (!row) throw ConversationsError.notFound(id);
    if (actor) this.access.assertCanSee(actor, row, () => ConversationsError.notFound(id));
    return row;
  }

  /** Moves a merged contact's conversations to the survivor (consumer of `sb.evt.contact.merged`). */
  async repointContact(tx: Tx, mergedId: string, survivorId: string): Promise<number> {
    const rows = await tx.manager.find(ConversationRow, { where: { contactId: mergedId } });
    for (const row of rows) {
      let openKey: string | null = null;
      if (row.openKey) {
        const key = sha256(`${row.inboxId}\u0000${survivorId}\u0000${row.threadKey ?? ''}`);
        const holder = await tx.manager.findOne(ConversationRow, { where: { openKey: key }, select: { id: true } });
        openKey = holder ? null : key;
      }
      await tx.manager.update(ConversationRow, { id: row.id }, { contactId: survivorId, openKey });
      row.contactId = survivorId;
      await tx.emit<ConversationUpdatedEvent>({
        subject: CONVERSATION_UPDATED,
        id: `conversation.contact:${row.id}:${mergedId}`,
        data: { conversationId: row.id, seq: row.lastSeq, changes: { contactId: survivorId } },
      });
    }
    return rows.length;
  }

  /** Ids of conversations among `ids` that exist (for other modules' link checks). */
  async existing(ids: string[]): Promise<string[]> {
    if (!ids.length) return [];
    const rows = await this.dataSource.manager.find(ConversationRow, { where: { id: In(ids) }, select: { id: true } });
    return rows.map((row) => row.id);
  }
}

// ---------------------------------------------------------------- validation and views

function hasUploadId(item: AttachmentInput): item is AttachmentInput & { id: string } {
  return Boolean(item) && typeof (item as { id?: unknown }).id === 'string';
}

/** `{ id }` alone: a reference to an upload of the conversation. */
function isUploadRef(item: AttachmentInput): item is { id: string } {
  return Boolean(item) && typeof (item as { id?: unknown }).id === 'string' && (item as { url?: unknown }).url === undefined && !('name' in item && item.name);
}

/** Link attachments as given; upload references are filled in by `linkUploads` once the message exists. */
function linkOnly(items: AttachmentInput[] | null | undefined): Attachment[] | null {
  const links = (items ?? []).filter((item) => !isUploadRef(item)) as Attachment[];
  return links.length ? links : null;
}

export function validateMessageBody(text: unknown, content: Record<string, unknown> | null, attachments: AttachmentInput[] | null): void {
  if (typeof text !== 'string') throw new ConversationsError('message_invalid', 'text must be a string', { field: 'text' });
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_TEXT_BYTES) {
    throw new ConversationsError('message_too_large', `Message text is ${bytes} bytes; the limit is ${MAX_TEXT_BYTES}.`, { limitBytes: MAX_TEXT_BYTES, bytes });
  }
  if (!text.trim() && !content && !attachments?.length)
    throw new ConversationsError('message_invalid', 'A message needs text, content or attachments.', { field: 'text' });
  if (content) validateContent(content);
  if (attachments) {
    if (!Array.isArray(attachments) || attachments.length > MAX_ATTACHMENTS) {
      throw new ConversationsError('message_content_invalid', `At most ${MAX_ATTACHMENTS} attachments.`, { field: 'attachments' });
    }
    attachments.forEach((item, index) => {
      if (isUploadRef(item)) {
        if (item.id.length < 1 || item.id.length > 36)
          throw new ConversationsError('message_content_invalid', `attachments[${index}].id must be an attachment id`, { field: `attachments[${index}]` });
        return;
      }
      const attachment = item as Attachment;
      const ok =
        attachment &&
        typeof attachment.name === 'string' &&
        attachment.name.length <= 255 &&
        typeof attachment.contentType === 'string' &&
        attachment.contentType.length <= 255 &&
        attachment.id === undefined &&
        (attachment.sha256 === undefined || (typeof attachment.sha256 === 'string' && /^[0-9a-f]{64}$/.test(attachment.sha256))) &&
        Number.isInteger(attachment.size) &&
        attachment.size >= 0 &&
        (attachment.url === undefined || (typeof attachment.url === 'string' && /^https?:\/\//.test(attachment.url))) &&
        (attachment.storageKey === undefined || typeof attachment.storageKey === 'string');
      if (!ok)
        throw new ConversationsError(
          'message_content_invalid',
          `attachments[${index}] needs name, contentType, size and an optional http(s) url, or an upload id alone`,
          {
            field: `attachments[${index}]`,
          },
        );
    });
  }
}

const str = (value: unknown, max: number) => typeof value === 'string' && value.length <= max;
const optStr = (value: unknown, max: number) => value === undefined || str(value, max);
const url = (value: unknown) => value === undefined || (typeof value === 'string' && value.length <= 2048 && /^https?:\/\//.test(value));

function validButton(button: unknown): boolean {
  const b = button as Record<string, unknown>;
  return (
    Boolean(b) &&
    typeof b === 'object' &&
    str(b.label, 200) &&
    b.label !== '' &&
    optStr(b.value, 1000) &&
    url(b.url) &&
    (b.value !== undefined || b.url !== undefined)
  );
}

/**
 * Structured content: `{ type: 'buttons', text?, buttons: [{ label, value? | url? }] }`,
 * `{ type: 'cards', cards: [{ title, subtitle?, imageUrl?, buttons? }] }` or
 * `{ type: 'quick_replies', replies: [{ label, value }] }`.
 */
export function validateContent(content: Record<string, unknown>): void {
  const fail = (why: string) => {
    throw new ConversationsError('message_content_invalid', `content: ${why}`, { field: 'content' });
  };
  if (typeof content !== 'object' || content === null || Array.isArray(content)) fail('must be an object');
  if (Buffer.byteLength(JSON.stringify(content), 'utf8') > MAX_CONTENT_BYTES) fail(`must be at most ${MAX_CONTENT_BYTES} bytes of JSON`);
  const allowedKeys: Record<string, string[]> = { buttons: ['type', 'text', 'buttons'], cards: ['type', 'cards'], quick_replies: ['type', 'text', 'replies'] };
  const type = content.type as string;
  if (!allowedKeys[type]) fail('type must be buttons, cards or quick_replies');
  const extra = Object.keys(content).filter((key) => !allowedKeys[type]!.includes(key));
  if (extra.length) fail(`unknown field(s) ${extra.join(', ')}`);
  if (!optStr(content.text, 4000)) fail('text must be a string');
  if (type === 'buttons') {
    const buttons = content.buttons;
    if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > 20 || !buttons.every(validButton))
      fail('buttons must be 1–20 of { label, value | url }');
  } else if (type === 'quick_replies') {
    const replies = content.replies;
    if (!Array.isArray(replies) || replies.length < 1 || replies.length > 20 || !replies.every((r) => r && str(r.label, 200) && str(r.value, 1000))) {
      fail('replies must be 1–20 of { label, value }');
    }
  } else {
    const cards = content.cards;
    const validCard = (card: unknown) => {
      const c = card as Record<string, unknown>;
      return (
        Boolean(c) &&
        typeof c === 'object' &&
        str(c.title, 200) &&
        optStr(c.subtitle, 1000) &&
        url(c.imageUrl) &&
        (c.buttons === undefined || (Array.isArray(c.buttons) && c.buttons.length <= 5 && c.buttons.every(validButton)))
      );
    };
    if (!Array.isArray(cards) || cards.length < 1 || cards.length > 10 || !cards.every(validCard))
      fail('cards must be 1–10 of { title, subtitle?, imageUrl?, buttons? }');
  }
}

function uniqueTags(tags: string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim()).filter(Boolean))].slice(0, 50);
}

function likeEscape(text: string): string {
  return text.replace(/[!%_]/g, (char) => `!${char}`);
}

export function inboxView(row: InboxRow): InboxView {
  return {
    id: row.id,
    name: row.name,
    channel: row.channel,
    teamId: row.teamId,
    settings: row.settings ?? {},
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function conversationView(row: ConversationRow): ConversationView {
  return {
    id: row.id,
    contactId: row.contactId,
    inboxId: row.inboxId,
    channel: row.channel,
    status: row.status,
    snoozedUntil: row.snoozedUntil ? row.snoozedUntil.toISOString() : null,
    priority: row.priority,
    assigneeId: row.assigneeId,
    teamId: row.teamId,
    tags: row.tags ?? [],
    threadKey: row.threadKey,
    lastSeq: Number(row.lastSeq),
    lastMessageAt: row.lastMessageAt ? row.lastMessageAt.toISOString() : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    resolvedAt: row.resolvedAt ? row.resolvedAt.toISOString() : null,
  };
}

/** The columns of a message as a view holds them (the inverse of `messageView`). */
function knownMessageRow(view: MessageView): MessageRow {
  return Object.assign(new MessageRow(), {
    id: view.id,
    conversationId: view.conversationId,
    seq: view.seq,
    direction: view.direction,
    authorType: view.authorType,
    authorId: view.authorId,
    text: view.text,
    content: view.content,
    attachments: view.attachments,
    private: view.private,
    idempotencyKey: view.idempotencyKey,
    externalMessageId: view.externalMessageId,
    ...view.annotations,
    createdAt: new Date(view.createdAt),
  });
}

export function messageView(row: MessageRow): MessageView {
  return {
    id: row.id,
    conversationId: row.conversationId,
    seq: Number(row.seq),
    direction: row.direction,
    authorType: row.authorType,
    authorId: row.authorId,
    text: row.text,
    content: row.content,
    attachments: row.attachments as Attachment[] | null,
    private: Boolean(row.private),
    idempotencyKey: row.idempotencyKey,
    externalMessageId: row.externalMessageId,
    annotations: { language: row.language, intent: row.intent, intentConfidence: row.intentConfidence, emotion: row.emotion, flags: row.flags },
    createdAt: row.createdAt.toISOString(),
  };
}

/** An agent's or the system's outgoing message, validated. */
function outgoingMessage(actor: Actor, input: PostMessageInput): NewMessage {
  validateMessageBody(input.text, input.content ?? null, input.attachments ?? null);
  if (!input.idempotencyKey || input.idempotencyKey.length > 191)
    throw new ConversationsError('message_invalid', 'idempotencyKey must be 1–191 characters', { field: 'idempotencyKey' });
  const authorType: AuthorType = actor.kind === 'system' ? (input.authorType ?? 'bot') : 'agent';
  const authorId = actor.kind === 'system' ? (input.authorId ?? actor.id) : actor.id;
  return {
    direction: 'out',
    authorType,
    authorId,
    text: input.text,
    content: input.content ?? null,
    attachments: linkOnly(input.attachments),
    private: input.private ?? false,
    idempotencyKey: input.idempotencyKey,
    inboundKey: null,
    externalMessageId: null,
  };
}

interface NewConversation {
  contactId: string;
  inbox: InboxRow;
  threadKey: string | null;
  openKey: string | null;
  priority: Priority;
  tags?: string[];
  /** The row counts a first message that the same transaction appends next (see `appendMessage`). */
  firstMessage?: boolean;
}

function conversationCreatedEvent(row: ConversationRow): EventToEmit<ConversationCreatedEvent> {
  return {
    subject: CONVERSATION_CREATED,
    id: `conversation.created:${row.id}`,
    data: { conversationId: row.id, contactId: row.contactId, inboxId: row.inboxId, channel: row.channel, teamId: row.teamId, priority: row.priority },
  };
}
