import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { BoolColumn, JsonColumn, TimestampColumn, BigIntColumn } from '../../platform/database/entity-columns.js';
import type { SlaMetric } from '../tickets.events.js';
import type { WeeklyHours } from '../sla/business-time.js';
import type { TicketPriority, TicketType } from '../tickets.types.js';

@Entity('sla_calendars')
export class SlaCalendarRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ name: 'time_zone', type: 'varchar', length: 64 })
  timeZone: string;

  /** Per weekday (0 = Sunday) a list of `["09:00","17:00"]` intervals, local time. */
  @JsonColumn({ name: 'hours' })
  hours: WeeklyHours;

  /** Local dates (`YYYY-MM-DD`) with no business hours. */
  @JsonColumn({ name: 'holidays' })
  holidays: string[];

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}

export interface SlaConditions {
  priorities?: TicketPriority[];
  types?: TicketType[];
  teamIds?: string[];
  vip?: boolean;
}

export interface SlaTargets {
  firstResponseMinutes?: number;
  nextResponseMinutes?: number;
  resolutionMinutes?: number;
}

export interface SlaEscalation {
  /** Raise the ticket to this priority on breach. */
  setPriority?: TicketPriority;
  /** Move the ticket to this team on breach. */
  setTeamId?: string;
  /** Add these followers (user ids) on breach. */
  addFollowers?: string[];
  /** Add an internal note on breach. */
  note?: string;
}

@Entity('sla_policies')
export class SlaPolicyRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** Lower first; the first enabled policy whose conditions all match applies. */
  @Column({ type: 'integer' })
  position: number;

  @BoolColumn({ name: 'enabled' })
  enabled: boolean;

  @JsonColumn({ name: 'conditions' })
  conditions: SlaConditions;

  @JsonColumn({ name: 'targets' })
  targets: SlaTargets;

  /** Warn this many business minutes before the due time. */
  @Column({ name: 'warning_minutes', type: 'integer' })
  warningMinutes: number;

  /** Null means around the clock (24×7). */
  @Column({ name: 'calendar_id', type: 'varchar', length: 36, nullable: true })
  calendarId: string | null;

  @JsonColumn({ name: 'escalation' })
  escalation: SlaEscalation;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}

export type SlaClockState = 'running' | 'paused' | 'achieved' | 'cancelled';

/** One SLA clock of one ticket. Business time already used is in `consumedMs`. */
@Entity('ticket_sla_clocks')
@Index('ix_ticket_sla_breached', ['breachedAt'])
export class TicketSlaClockRow {
  @PrimaryColumn({ name: 'ticket_id', type: 'varchar', length: 36 })
  ticketId: string;

  @PrimaryColumn({ type: 'varchar', length: 32 })
  metric: SlaMetric;

  @Column({ name: 'policy_id', type: 'varchar', length: 36 })
  policyId: string;

  @BigIntColumn({ name: 'target_ms' })
  targetMs: number;

  @BigIntColumn({ name: 'consumed_ms' })
  consumedMs: number;

  @Column({ type: 'varchar', length: 16 })
  state: SlaClockState;

  @TimestampColumn({ name: 'running_since', nullable: true })
  runningSince: Date | null;

  @TimestampColumn({ name: 'due_at', nullable: true })
  dueAt: Date | null;

  @TimestampColumn({ name: 'warned_at', nullable: true })
  warnedAt: Date | null;

  @TimestampColumn({ name: 'breached_at', nullable: true })
  breachedAt: Date | null;

  @TimestampColumn({ name: 'achieved_at', nullable: true })
  achievedAt: Date | null;

  @TimestampColumn({ name: 'started_at' })
  startedAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
