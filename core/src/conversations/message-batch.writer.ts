import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { LaneBatcher } from '../platform/database/lane-batcher.js';
import { PipelinedTransactions, type PipelinedTransaction } from '../platform/database/pipelined-transactions.js';
import { RowInserter } from '../platform/database/row-inserter.js';
import { RowReader } from '../platform/database/row-reader.js';
import type { Statement } from '../platform/database/statement.js';
import { OutboxWriter, type EventToEmit } from '../platform/outbox/outbox.writer.js';
import { OutboxSignal } from '../platform/outbox/outbox.signal.js';
import type { OutboxRow } from '../platform/outbox/outbox.entity.js';
import { AccessPolicy } from '../identity/access-policy.js';
import type { Actor } from '../identity/actor.js';
import { ConversationRow, MessageRow } from './entities/conversation.entity.js';
import { ConversationsError } from './conversations.error.js';
import { messageEvents, messageRowFor, type NewMessage } from './message-rows.js';

/** One lane per pipelined connection; see PipelinedTransactions. */
const LANES = 8;
/** Messages per shared transaction: enough to amortise two round trips, few enough to hold locks briefly. */
const MAX_BATCH = 64;

export interface AppendRequest {
  /** The conversation, by id (an agent's or bot's message)… */
  conversationId?: string;
  /** …or by the open-conversation key of (inbox, contact, thread) (a customer's message). */
  openKey?: string;
  message: NewMessage;
  /** Checked against the conversation's team; a conversation the actor may not see is "not found". */
  actor?: Actor;
  /** A customer's message wakes a pending or snoozed conversation: that write is the general path's. */
  wakes: boolean;
}

/** The committed message and its conversation as of that message; `null`: take the general path. */
export type AppendOutcome = { conversation: ConversationRow; stored: MessageRow } | null;

interface PendingAppend {
  request: AppendRequest;
  resolve: (outcome: AppendOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * The message write path on MySQL/MariaDB: concurrent appends share a transaction of two round trips,
 * `SELECT … FOR UPDATE` of their conversations, then one statement each for the seq counters, the message
 * rows and the outbox rows, with COMMIT. Seqs are assigned under the row locks, so they stay unique and
 * gap-free exactly as on the general path (`ConversationsService.appendMessage`), which remains the
 * path for everything this one declines: SQLite, uploads to link, a conversation still to be opened or
 * to be woken, and every unit of a batch that failed (a repeated idempotency key fails the shared insert;
 * the general path then finds the original and returns it).
 */
@Injectable()
export class MessageBatchWriter {
  private readonly logger = new Logger('message-batch-writer');
  private readonly inserter = new RowInserter();
  private readonly conversations: RowReader<ConversationRow>;
  private readonly lanes = new LaneBatcher<PendingAppend>(
    LANES,
    MAX_BATCH,
    (batch) => this.write(batch),
    (error) => this.logger.error({ err: error }, 'message batch failed unexpectedly'),
  );

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly pipelined: PipelinedTransactions,
    private readonly outbox: OutboxWriter,
    private readonly signal: OutboxSignal,
    private readonly access: AccessPolicy,
  ) {
    this.conversations = new RowReader(dataSource, ConversationRow);
  }

  get available(): boolean {
    return this.pipelined.available;
  }

  /**
   * Opens a conversation with its first message in one round trip: the statements a caller brings (a new contact's
   * rows), the conversation (its counter already at 1), the message and every event. Not coalesced: a first message
   * has no lane yet. Null when anything fails (a racing first message of the same identity, a repeated key): nothing
   * is committed, and the general path retries and tells which.
   */
  async open(input: {
    statements: Statement[];
    events: Array<EventToEmit<unknown>>;
    conversation: ConversationRow;
    message: NewMessage;
  }): Promise<MessageRow | null> {
    const { conversation, message } = input;
    const stored = messageRowFor(conversation.id, conversation.lastSeq, message, conversation.createdAt);
    const events = [...input.events, ...messageEvents(conversation, stored, message)].map((event) => this.outbox.prepare(event).row);
    try {
      await this.pipelined.run(async () => ({
        value: undefined,
        commit: [
          ...input.statements,
          ...this.inserter.render(this.dataSource, ConversationRow, [conversation]),
          ...this.inserter.render(this.dataSource, MessageRow, [stored]),
          ...this.outbox.render(this.dataSource, events),
        ],
      }));
    } catch (error) {
      this.logger.debug({ reason: (error as Error).message }, 'first message declined to the general path');
      return null;
    }
    this.signal.committed(events);
    return stored;
  }

  /**
   * Appends messages to one conversation in a transaction of two round trips that also carries a caller's own
   * statements (a bot turn's log and session): `first` travel with the conversation's lock and their results go to
   * `check`, which throws to roll everything back; `last` and `events` travel with the commit. Not coalesced. Null
   * when anything fails (including `check`): nothing is committed, and the caller takes the general path, which
   * reports the error.
   */
  async appendWith(input: {
    conversationId: string;
    messages: NewMessage[];
    actor: Actor;
    first: Statement[];
    check: (results: unknown[]) => void;
    last: Statement[];
    events: Array<EventToEmit<unknown>>;
  }): Promise<{ conversation: ConversationRow; stored: MessageRow[] } | null> {
    let outcome: { conversation: ConversationRow; stored: MessageRow[]; events: OutboxRow[] };
    try {
      outcome = await this.pipelined.run(async (tx) => {
        const [locked, ...results] = await tx.exchange([
          { sql: `SELECT ${this.conversations.selectList} FROM conversations WHERE id = ? FOR UPDATE`, params: [input.conversationId] },
          ...input.first,
        ]);
        const raw = (locked as Array<Record<string, unknown>>)[0];
        if (!raw) throw ConversationsError.notFound(input.conversationId);
        const conversation = this.conversations.hydrate(raw);
        this.access.assertCanSee(input.actor, conversation, () => ConversationsError.notFound(conversation.id));
        input.check(results);
        const now = this.clock.now();
        const stored = input.messages.map((message) => {
          conversation.lastSeq += 1;
          return messageRowFor(conversation.id, conversation.lastSeq, message, now);
        });
        conversation.lastMessageAt = now;
        conversation.updatedAt = now;
        const events = [...stored.flatMap((row, index) => messageEvents(conversation, row, input.messages[index]!)), ...input.events].map(
          (event) => this.outbox.prepare(event).row,
        );
        return {
          value: { conversation, stored, events },
          commit: [
            ...(stored.length ? [this.bumpCounters([conversation], now), ...this.inserter.render(this.dataSource, MessageRow, stored)] : []),
            ...input.last,
            ...this.outbox.render(this.dataSource, events),
          ],
        };
      });
    } catch (error) {
      this.logger.debug({ reason: (error as Error).message }, 'messages with statements declined to the general path');
      return null;
    }
    this.signal.committed(outcome.events);
    return { conversation: outcome.conversation, stored: outcome.stored };
  }

  append(request: AppendRequest): Promise<AppendOutcome> {
    return new Promise((resolve, reject) => this.lanes.push(request.conversationId ?? request.openKey!, { request, resolve, reject }));
  }

  private async write(batch: PendingAppend[]): Promise<void> {
    const settle: Array<() => void> = [];
    const committed: Array<{ unit: PendingAppend; outcome: NonNullable<AppendOutcome> }> = [];
    const events: OutboxRow[] = [];
    try {
      await this.pipelined.run(async (tx) => {
        const rows = await this.lockConversations(tx, batch);
        const now = this.clock.now();
        const touched = new Map<string, ConversationRow>();
        const messages: MessageRow[] = [];
        for (const unit of batch) {
          const { request } = unit;
          const row = request.conversationId ? rows.byId.get(request.conversationId) : rows.byOpenKey.get(request.openKey!);
          if (!row) {
            if (request.conversationId) settle.push(() => unit.reject(ConversationsError.notFound(request.conversationId!)));
            else settle.push(() => unit.resolve(null));
            continue;
          }
          if (request.actor) {
            try {
              this.access.assertCanSee(request.actor, row, () => ConversationsError.notFound(row.id));
            } catch (error) {
              settle.push(() => unit.reject(error));
              continue;
            }
          }
          if (request.wakes && (row.status === 'pending' || row.status === 'snoozed')) {
            settle.push(() => unit.resolve(null));
            continue;
          }
          row.lastSeq += 1;
          row.lastMessageAt = now;
          row.updatedAt = now;
          touched.set(row.id, row);
          const stored = messageRowFor(row.id, row.lastSeq, request.message, now);
          messages.push(stored);
          for (const event of messageEvents(row, stored, request.message)) events.push(this.outbox.prepare(event).row);
          committed.push({ unit, outcome: { conversation: Object.assign(new ConversationRow(), row), stored } });
        }
        if (messages.length === 0) return { value: undefined, commit: [] };
        return {
          value: undefined,
          commit: [
            this.bumpCounters([...touched.values()], now),
            ...this.inserter.render(this.dataSource, MessageRow, messages),
            ...this.outbox.render(this.dataSource, events),
          ],
        };
      });
    } catch (error) {
      // Nothing committed. Every unit takes the general path, which retries, tells a repeated key from a
      // new message and reports its own error.
      this.logger.debug({ reason: (error as Error).message, units: batch.length }, 'message batch declined to the general path');
      for (const unit of batch) unit.resolve(null);
      return;
    }
    this.signal.committed(events);
    for (const { unit, outcome } of committed) unit.resolve(outcome);
    for (const done of settle) done();
  }

  private async lockConversations(
    tx: PipelinedTransaction,
    batch: readonly PendingAppend[],
  ): Promise<{ byId: Map<string, ConversationRow>; byOpenKey: Map<string, ConversationRow> }> {
    const ids = [...new Set(batch.flatMap((unit) => (unit.request.conversationId ? [unit.request.conversationId] : [])))].sort();
    const openKeys = [...new Set(batch.flatMap((unit) => (unit.request.openKey ? [unit.request.openKey] : [])))].sort();
    const statements: Statement[] = [];
    const select = `SELECT ${this.conversations.selectList} FROM conversations WHERE`;
    if (ids.length) statements.push({ sql: `${select} id IN (${placeholders(ids.length)}) FOR UPDATE`, params: ids });
    if (openKeys.length) statements.push({ sql: `${select} open_key IN (${placeholders(openKeys.length)}) FOR UPDATE`, params: openKeys });
    const results = (await tx.exchange(statements)) as Array<Array<Record<string, unknown>>>;
    const byId = new Map<string, ConversationRow>();
    const byOpenKey = new Map<string, ConversationRow>();
    // A conversation named both ways is one row: both maps must hand out the same object, or its counter would be bumped twice from one value.
    for (const raw of results.flat()) {
      const row = byId.get(String(raw.id)) ?? this.conversations.hydrate(raw);
      byId.set(row.id, row);
      if (row.openKey) byOpenKey.set(row.openKey, row);
    }
    return { byId, byOpenKey };
  }

  private bumpCounters(rows: readonly ConversationRow[], now: Date): Statement {
    return {
      sql: `UPDATE conversations SET last_seq = CASE id ${rows.map(() => 'WHEN ? THEN ?').join(' ')} END, last_message_at = ?, updated_at = ? WHERE id IN (${placeholders(rows.length)})`,
      params: [...rows.flatMap((row) => [row.id, row.lastSeq]), now, now, ...rows.map((row) => row.id)],
    };
  }
}

const placeholders = (count: number) => Array.from({ length: count }, () => '?').join(', ');
