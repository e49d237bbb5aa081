import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Statement } from '../database/statement.js';
import { OutboxRow, type EventEnvelope } from './outbox.entity.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import type { Json } from '../database/entity-columns.js';
import { CLOCK, type Clock } from '../clock/clock.js';
import { isValidPublishSubject, streamFor } from '../bus/subjects.js';
import { RowInserter } from '../database/row-inserter.js';

export interface EventToEmit<T> {
  subject: string;
  data: T;
  /** Supply a stable id to make the emit itself idempotent; otherwise a UUID is generated. */
  id?: string;
  headers?: Record<string, string>;
}

export type EmittedEvent<T> = EventEnvelope<T>;

/** Width of `outbox.event_id` and `processed_events.event_id`. */
export const MAX_EVENT_ID_LENGTH = 128;

@Injectable()
export class OutboxWriter {
  private readonly inserter = new RowInserter();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async append<T>(manager: EntityManager, event: EventToEmit<T>): Promise<EmittedEvent<T>> {
    const { row, envelope } = this.prepare(event);
    await this.write(manager, [row]);
    return envelope;
  }

  /** Validates an event and builds its outbox row, without writing it (see `UnitOfWork`, which writes a transaction's rows at once). */
  prepare<T>(event: EventToEmit<T>): { row: OutboxRow; envelope: EmittedEvent<T> } {
    if (!isValidPublishSubject(event.subject) || !streamFor(event.subject)) {
      throw new Error(`Outbox refuses subject "${event.subject}": it must be a concrete subject stored by a stream`);
    }
    if (event.id !== undefined && (event.id.length === 0 || event.id.length > MAX_EVENT_ID_LENGTH)) {
      throw new Error(`Outbox refuses event id "${event.id.slice(0, 40)}…": it must be 1–${MAX_EVENT_ID_LENGTH} characters`);
    }
    const now = this.clock.now();
    const envelope: EventEnvelope<T> = {
      id: event.id ?? randomUUID(),
      subject: event.subject,
      occurredAt: now.toISOString(),
      source: this.config.instanceId,
      data: event.data,
    };
    const row: Partial<OutboxRow> = {
      eventId: envelope.id,
      subject: event.subject,
      envelope: envelope as EventEnvelope<Json>,
      headers: event.headers ?? null,
      createdAt: now,
      sentAt: null,
      attempts: 0,
      lastError: null,
    };
    return { row: row as OutboxRow, envelope };
  }

  /** The statements that write prepared rows, for a caller that sends its transaction's statements itself. */
  render(dataSource: DataSource, rows: readonly OutboxRow[]): Statement[] {
    return this.inserter.render(dataSource, OutboxRow, rows);
  }

  /** Writes prepared rows, in order, in the caller's transaction. */
  async write(manager: EntityManager, rows: readonly OutboxRow[]): Promise<void> {
    await this.inserter.insert(manager, OutboxRow, rows);
  }
}
