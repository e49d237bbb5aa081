import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { BoolColumn, JsonColumn, TimestampColumn, type Json } from '../../platform/database/entity-columns.js';
import type { CustomFieldType, LinkKind } from '../tickets.types.js';

/** Race-free number allocation: one row per sequence, incremented under a row lock. */
@Entity('ticket_counters')
export class TicketCounterRow {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  name: string;

  @Column({ name: 'next_value', type: 'integer' })
  nextValue: number;
}

/** Generic link from a ticket to another object (conversation, device, another ticket, …). */
@Entity('ticket_links')
@Index('ux_ticket_links', ['ticketId', 'kind', 'refId'], { unique: true })
@Index('ix_ticket_links_ref', ['kind', 'refId'])
export class TicketLinkRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'ticket_id', type: 'varchar', length: 36 })
  ticketId: string;

  @Column({ type: 'varchar', length: 32 })
  kind: LinkKind;

  @Column({ name: 'ref_id', type: 'varchar', length: 191 })
  refId: string;

  @Column({ name: 'created_by', type: 'varchar', length: 191, nullable: true })
  createdBy: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}

@Entity('ticket_followers')
export class TicketFollowerRow {
  @PrimaryColumn({ name: 'ticket_id', type: 'varchar', length: 36 })
  ticketId: string;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 191 })
  userId: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}

/** One row per tag of a ticket, mirroring `tickets.tags` for the `?tag=` list filter. */
@Entity('ticket_tags')
export class TicketTagRow {
  @PrimaryColumn({ name: 'ticket_id', type: 'varchar', length: 36 })
  ticketId: string;

  @PrimaryColumn({ name: 'tag', type: 'varchar', length: 191 })
  tag: string;
}

/** Public replies and internal notes; `private` notes are never shown to the requester. */
@Entity('ticket_comments')
@Index('ix_ticket_comments_ticket', ['ticketId', 'createdAt'])
export class TicketCommentRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'ticket_id', type: 'varchar', length: 36 })
  ticketId: string;

  @BoolColumn({ name: 'is_private' })
  private: boolean;

  @Column({ type: 'text' })
  body: string;

  @Column({ name: 'author_type', type: 'varchar', length: 16 })
  authorType: 'agent' | 'contact' | 'system' | 'automation';

  @Column({ name: 'author_id', type: 'varchar', length: 191, nullable: true })
  authorId: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}

/** Append-only audit of every ticket change. */
@Entity('ticket_history')
@Index('ix_ticket_history_ticket', ['ticketId', 'id'])
export class TicketHistoryRow {
  @PrimaryGeneratedColumn({ name: 'id' })
  id: number;

  @Column({ name: 'ticket_id', type: 'varchar', length: 36 })
  ticketId: string;

  @Column({ type: 'varchar', length: 64 })
  action: string;

  @Column({ name: 'actor_type', type: 'varchar', length: 16 })
  actorType: string;

  @Column({ name: 'actor_id', type: 'varchar', length: 191, nullable: true })
  actorId: string | null;

  @JsonColumn({ name: 'details', nullable: true })
  details: Json | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}

/** Typed schema of ticket custom fields. */
@Entity('ticket_fields')
export class TicketFieldRow {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  key: string;

  @Column({ type: 'varchar', length: 200 })
  label: string;

  @Column({ type: 'varchar', length: 16 })
  type: CustomFieldType;

  @JsonColumn({ name: 'options', nullable: true })
  options: string[] | null;

  @BoolColumn({ name: 'required' })
  required: boolean;

  @BoolColumn({ name: 'active' })
  active: boolean;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}
