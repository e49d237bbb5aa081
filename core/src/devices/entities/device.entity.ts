import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { BoolColumn, JsonColumn, TimestampColumn, type Json } from '../../platform/database/entity-columns.js';

export const DEVICE_STATES = ['unknown', 'ok', 'warning', 'fault', 'offline'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

export const READING_QUALITIES = ['good', 'uncertain', 'bad'] as const;
export type ReadingQuality = (typeof READING_QUALITIES)[number];

@Entity('devices')
@Index('ix_devices_owner', ['ownerContactId'])
@Index('ix_devices_model', ['model'])
export class DeviceRow {
  /** Operator-chosen id used in telemetry subjects (`sb.telemetry.<id>`). */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 120, nullable: true })
  model: string | null;

  @Column({ name: 'serial_number', type: 'varchar', length: 120, nullable: true })
  serialNumber: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  firmware: string | null;

  @Column({ type: 'varchar', length: 120, nullable: true })
  site: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  location: string | null;

  @Column({ name: 'owner_contact_id', type: 'varchar', length: 64, nullable: true })
  ownerContactId: string | null;

  @Column({ name: 'owner_organization', type: 'varchar', length: 200, nullable: true })
  ownerOrganization: string | null;

  @Column({ name: 'team_id', type: 'varchar', length: 64, nullable: true })
  teamId: string | null;

  @Column({ name: 'protocol_plugin', type: 'varchar', length: 64, nullable: true })
  protocolPlugin: string | null;

  @JsonColumn({ name: 'connection_config', nullable: true })
  connectionConfig: Json | null;

  @JsonColumn()
  tags: string[];

  @Column({ type: 'varchar', length: 16 })
  state: DeviceState;

  @TimestampColumn({ name: 'last_seen_at', nullable: true })
  lastSeenAt: Date | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}

@Entity('device_readings')
@Index('ix_readings_device_metric_ts', ['deviceId', 'metric', 'ts'])
@Index('ix_readings_ts', ['ts'])
export class DeviceReadingRow {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ name: 'device_id', type: 'varchar', length: 64 })
  deviceId: string;

  @Column({ type: 'varchar', length: 120 })
  metric: string;

  @Column({ name: 'value_num', type: 'double', nullable: true })
  valueNum: number | null;

  @Column({ name: 'value_text', type: 'varchar', length: 500, nullable: true })
  valueText: string | null;

  @TimestampColumn()
  ts: Date;

  @Column({ type: 'varchar', length: 16 })
  quality: ReadingQuality;
}

export const RULE_KINDS = ['threshold', 'fault_code', 'rate_of_change', 'stale'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export const SEVERITIES = ['info', 'minor', 'major', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

@Entity('device_rules')
export class DeviceRuleRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** Applies to devices of this model (null = any model). */
  @Column({ name: 'scope_model', type: 'varchar', length: 120, nullable: true })
  scopeModel: string | null;

  /** Applies to devices carrying this tag (null = any tag). */
  @Column({ name: 'scope_tag', type: 'varchar', length: 64, nullable: true })
  scopeTag: string | null;

  @Column({ type: 'varchar', length: 24 })
  kind: RuleKind;

  @Column({ type: 'varchar', length: 120, nullable: true })
  metric: string | null;

  @JsonColumn()
  params: Json;

  @Column({ name: 'debounce_samples', type: 'integer', default: 1 })
  debounceSamples: number;

  @Column({ name: 'debounce_ms', type: 'integer', default: 0 })
  debounceMs: number;

  @Column({ name: 'clear_samples', type: 'integer', default: 1 })
  clearSamples: number;

  @Column({ type: 'varchar', length: 16 })
  severity: Severity;

  @Column({ type: 'varchar', length: 200 })
  title: string;

  @Column({ name: 'article_id', type: 'varchar', length: 64, nullable: true })
  articleId: string | null;

  @BoolColumn({ name: 'auto_resolve', default: true })
  autoResolve: boolean;

  @BoolColumn({ default: true })
  enabled: boolean;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}

/** Debounce/hysteresis counters per (device, rule): the only mutable per-sample state. */
@Entity('device_rule_states')
export class DeviceRuleStateRow {
  @PrimaryColumn({ name: 'device_id', type: 'varchar', length: 64 })
  deviceId: string;

  @PrimaryColumn({ name: 'rule_id', type: 'varchar', length: 36 })
  ruleId: string;

  @Column({ name: 'violations', type: 'integer', default: 0 })
  violations: number;

  @Column({ name: 'clears', type: 'integer', default: 0 })
  clears: number;

  @TimestampColumn({ name: 'violating_since', nullable: true })
  violatingSince: Date | null;

  @Column({ name: 'last_num', type: 'double', nullable: true })
  lastNum: number | null;

  @TimestampColumn({ name: 'last_ts', nullable: true })
  lastTs: Date | null;

  /** Code or label of the current violation (fault codes). */
  @Column({ name: 'active_code', type: 'varchar', length: 120, nullable: true })
  activeCode: string | null;
}

export const EPISODE_STATUSES = ['open', 'closed'] as const;
export type EpisodeStatus = (typeof EPISODE_STATUSES)[number];

@Entity('fault_episodes')
@Index('ux_episode_open', ['deviceId', 'ruleId', 'openSlot'], { unique: true })
@Index('ix_episode_device', ['deviceId', 'openedAt'])
export class FaultEpisodeRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'device_id', type: 'varchar', length: 64 })
  deviceId: string;

  @Column({ name: 'rule_id', type: 'varchar', length: 36 })
  ruleId: string;

  /** 'open' while open, NULL once closed: a unique index allows one open episode per (device, rule). */
  @Column({ name: 'open_slot', type: 'varchar', length: 8, nullable: true })
  openSlot: string | null;

  @Column({ type: 'varchar', length: 8 })
  status: EpisodeStatus;

  @Column({ type: 'varchar', length: 16 })
  severity: Severity;

  @Column({ type: 'varchar', length: 200 })
  title: string;

  @Column({ type: 'varchar', length: 120, nullable: true })
  code: string | null;

  @TimestampColumn({ name: 'opened_at' })
  openedAt: Date;

  @TimestampColumn({ name: 'closed_at', nullable: true })
  closedAt: Date | null;

  @Column({ name: 'ticket_id', type: 'varchar', length: 64, nullable: true })
  ticketId: string | null;

  @Column({ type: 'integer', default: 1 })
  occurrences: number;

  /** Times the episode recovered and fired again within the flap window. */
  @Column({ name: 'flaps', type: 'integer', default: 0 })
  flaps: number;

  @JsonColumn({ name: 'snapshot' })
  snapshot: Json;

  @JsonColumn({ name: 'latest' })
  latest: Json;

  @BoolColumn({ name: 'owner_notified', default: false })
  ownerNotified: boolean;
}
