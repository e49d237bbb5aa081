import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { In, IsNull, LessThan, MoreThanOrEqual, type DataSource, type EntityManager } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { UnitOfWork, type Tx } from '../platform/database/unit-of-work.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { BUS, type Bus, type Closable, type DeliveredMessage } from '../platform/bus/bus.port.js';
import { ProcessedEvent } from '../platform/outbox/processed-event.entity.js';
import { MetricsService } from '../platform/metrics/metrics.service.js';
import { SchedulerService } from '../platform/scheduler/scheduler.service.js';
import { SettingsService } from '../settings/settings.service.js';
import { SYSTEM_ACTOR } from '../identity/actor.js';
import { TicketsService } from '../tickets/tickets.service.js';
import type { TicketPriority } from '../tickets/tickets.types.js';
import {
  DeviceReadingRow,
  DeviceRow,
  DeviceRuleStateRow,
  FaultEpisodeRow,
  READING_QUALITIES,
  type DeviceRuleRow,
  type DeviceState,
  type ReadingQuality,
  type Severity,
} from './entities/device.entity.js';
import { DeviceRulesService } from './rules.service.js';
import { emptyState, step, type FaultCodeParams, type Reading, type RuleState } from './rules/rule-evaluator.js';
import { DevicesError } from './devices.error.js';
import {
  DEVICE_FAULT_CLOSED,
  DEVICE_FAULT_OPENED,
  DEVICE_FAULT_REPEATED,
  DEVICE_ID_PATTERN,
  DEVICE_OWNER_NOTIFICATION_DUE,
  DEVICE_STATE_CHANGED,
  telemetrySubject,
  type FaultEpisodeEvent,
  type TelemetryMessage,
} from './devices.events.js';
import { nextAllowedTime, type QuietHours } from './quiet-hours.js';
import type { Json } from '../platform/database/entity-columns.js';

const PRIORITY: Record<Severity, TicketPriority> = { critical: 'urgent', major: 'high', minor: 'normal', info: 'low' };
const METRIC = /^[A-Za-z0-9_.:/-]{1,120}$/;
const MAX_READINGS = 1000;
export const NOTIFY_TIMER = 'devices.notify-owner';
/** The telemetry consumer's durable name, also its key in `processed_events`. */
export const TELEMETRY_CONSUMER = 'devices-telemetry';
/** Most telemetry messages applied in one transaction, and how long to wait for a fuller batch. */
const BATCH_MAX = 250;
const BATCH_WAIT_MS = 5;
/** Rows per INSERT statement (well under SQLite's and MySQL's placeholder limits). */
const INSERT_CHUNK = 1000;
/** Occurrence counts at which a repeating fault adds a note to its ticket (so a noisy device cannot flood it). */
const NOTE_AT = new Set([2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]);

export interface IngestResult {
  deviceId: string;
  accepted: number;
  opened: string[];
  closed: string[];
}

/** A validated telemetry message with its readings parsed and ordered by time. */
interface ParsedMessage {
  deviceId: string;
  readings: Reading[];
}

/**
 * Telemetry in, fault episodes and proactive tickets out. The bus consumer takes batches of
 * telemetry messages and applies each batch in one transaction: it locks the batch's device
 * rows first (so two core instances consuming the same device's readings serialise), skips
 * messages already recorded in `processed_events` and records the rest, writes all readings in
 * one multi-row INSERT, then runs the rules device by device, message by message, in arrival
 * order. A unique index allows one open episode per (device, rule): an episode opens exactly
 * one ticket. The batch is acked only after the commit.
 */
@Injectable()
export class TelemetryService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('devices');
  private consumer?: Closable;
  /** Ticket statuses set in a transaction not committed yet (see ticketStatus). */
  private readonly ticketStatusInTx = new WeakMap<Tx, Map<string, string>>();

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(BUS) private readonly bus: Bus,
    private readonly uow: UnitOfWork,
    private readonly metrics: MetricsService,
    private readonly scheduler: SchedulerService,
    private readonly settings: SettingsService,
    private readonly rules: DeviceRulesService,
    private readonly tickets: TicketsService,
  ) {}

  onModuleInit(): void {
    this.settings.define({
      key: 'devices.autoRegister',
      description: 'Create unknown devices on their first telemetry instead of refusing it (404)',
      default: false,
      validate: (value) => (typeof value === 'boolean' ? null : 'must be true or false'),
    });
    this.settings.define({
      key: 'devices.readingRetentionDays',
      description: 'Days of raw readings kept for snapshots and charts',
      default: 30,
      validate: (value) => (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 3650 ? null : 'must be an integer 1–3650'),
    });
    this.settings.define({
      key: 'devices.flapWindowSeconds',
      description: 'A fault that returns within this many seconds of recovering reopens the same episode and ticket',
      default: 300,
      validate: (value) => (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 86_400 ? null : 'must be an integer 0–86400'),
    });
    this.settings.define({
      key: 'devices.quietHours',
      description: 'Owner notifications wait until quiet hours end: { timeZone, start: "22:00", end: "07:00" } or null',
      default: null,
      validate: (value) => {
        if (value === null) return null;
        const quiet = value as QuietHours;
        const time = /^([01]\d|2[0-3]):[0-5]\d$/;
        if (!quiet || typeof quiet !== 'object' || !time.test(String(quiet.start)) || !time.test(String(quiet.end)))
          return 'must be null or { timeZone, start: "HH:MM", end: "HH:MM" }';
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: quiet.timeZone });
        } catch {
          return 'timeZone must be an IANA time zone';
        }
        return null;
      },
    });
    this.scheduler.every('devices.stale-sweep', 10_000, async () => {
      await this.sweepStale();
    });
    this.scheduler.every('devices.readings-retention', 3_600_000, async () => {
      const days = this.settings.get<number>('devices.readingRetentionDays');
      await this.dataSource.manager.delete(DeviceReadingRow, { ts: LessThan(new Date(this.clock.now().getTime() - days * 86_400_000)) });
    });
    this.scheduler.onTimer(NOTIFY_TIMER, async (payload, tx) => {
      const { episodeId } = payload as { episodeId: string };
      await tx.emit({ subject: DEVICE_OWNER_NOTIFICATION_DUE, data: { episodeId }, id: `notify-due:${episodeId}` });
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await this.bus.consumeBatch<unknown>({
      name: TELEMETRY_CONSUMER,
      subject: 'sb.telemetry.>',
      maxBatch: BATCH_MAX,
      maxWaitMs: BATCH_WAIT_MS,
      handleBatch: async (messages) => {
        await this.uow.run((tx) => this.ingestBatchInTx(tx, messages));
      },
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.close();
  }

  /** Validates a telemetry message; throws `telemetry_invalid` naming the problem. */
  validate(message: unknown): TelemetryMessage {
    const candidate = normaliseTelemetry(message);
    const problems: string[] = [];
    if (!candidate || typeof candidate !== 'object') throw new DevicesError('telemetry_invalid', 'The body must be an object { deviceId, readings }.');
    if (typeof candidate.deviceId !== 'string' || !DEVICE_ID_PATTERN.test(candidate.deviceId))
      problems.push('deviceId must be 1–64 letters, digits, "_" or "-"');
    if (!Array.isArray(candidate.readings) || candidate.readings.length === 0 || candidate.readings.length > MAX_READINGS) {
      problems.push(`readings must be a list of 1–${MAX_READINGS} readings`);
    } else {
      const now = this.clock.now().getTime();
      candidate.readings.forEach((reading, index) => {
        if (!reading || typeof reading !== 'object') return problems.push(`readings[${index}] must be an object`);
        const extra = Object.keys(reading).filter((key) => !['metric', 'value', 'ts', 'quality'].includes(key));
        if (extra.length) problems.push(`readings[${index}] has unknown field(s): ${extra.join(', ')}`);
        if (typeof reading.metric !== 'string' || !METRIC.test(reading.metric)) problems.push(`readings[${index}].metric must match ${METRIC.source}`);
        const value = reading.value;
        const valid = (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean' || (typeof value === 'string' && value.length <= 500);
        if (!valid) problems.push(`readings[${index}].value must be a finite number, a boolean or a string of at most 500 characters`);
        if (reading.ts !== undefined) {
          const ts = Date.parse(String(reading.ts));
          if (Number.isNaN(ts)) problems.push(`readings[${index}].ts must be an ISO 8601 time`);
          else if (ts > now + 86_400_000 || ts < now - 365 * 86_400_000) problems.push(`readings[${index}].ts is too far from now`);
        }
        if (reading.quality !== undefined && !READING_QUALITIES.includes(reading.quality))
          problems.push(`readings[${index}].quality must be good, uncertain or bad`);
      });
    }
    if (problems.length) throw new DevicesError('telemetry_invalid', problems.slice(0, 10).join('; '), { problems });
    return candidate;
  }

  /** HTTP gateway path: validate, check the device, then hand the readings to the bus. */
  async accept(message: unknown, idempotencyKey?: string): Promise<{ deviceId: string; accepted: number }> {
    const valid = this.validate(message);
    const exists = await this.dataSource.manager.exists(DeviceRow, { where: { id: valid.deviceId } });
    if (!exists && !this.settings.get<boolean>('devices.autoRegister')) throw DevicesError.deviceNotFound(valid.deviceId);
    await this.bus.publish(telemetrySubject(valid.deviceId), valid, { msgId: idempotencyKey ? `telemetry:${valid.deviceId}:${idempotencyKey}` : randomUUID() });
    return { deviceId: valid.deviceId, accepted: valid.readings.length };
  }

  /** Applies a telemetry message in its own transaction (tests and tools). */
  ingest(message: unknown): Promise<IngestResult> {
    return this.uow.run((tx) => this.ingestInTx(tx, message));
  }

  async ingestInTx(tx: Tx, raw: unknown): Promise<IngestResult> {
    const message = this.parse(this.validate(raw));
    const device = await this.lockDevice(tx, message.deviceId);
    const [result] = await this.apply(tx, [message], new Map([[device.id, device]]));
    return result!;
  }

  /**
   * The bus consumer's transaction for a batch of telemetry messages. Invalid messages and
   * messages for unknown devices are dropped (and logged), never retried; every message id is
   * recorded as processed, so a redelivered message changes nothing.
   */
  async ingestBatchInTx(tx: Tx, delivered: Array<DeliveredMessage<unknown>>): Promise<number> {
    const batch: Array<{ eventId: string; message: ParsedMessage | null }> = [];
    const seenInBatch = new Set<string>();
    for (const entry of delivered) {
      const data = entry.data as { id?: unknown; deviceId?: unknown } | null;
      const eventId = typeof data?.id === 'string' ? data.id : entry.msgId;
      if (seenInBatch.has(eventId)) continue;
      seenInBatch.add(eventId);
      try {
        batch.push({ eventId, message: this.parse(this.validate(entry.data)) });
      } catch (error) {
        if (!(error instanceof DevicesError)) throw error;
        this.logger.warn({ code: error.code, deviceId: typeof data?.deviceId === 'string' ? data.deviceId.slice(0, 64) : undefined }, 'telemetry rejected');
        batch.push({ eventId, message: null });
      }
    }

    // Device locks first, in id order: the consistent reads below (markers, rule states, open
    // episodes) then see everything committed by whoever held these devices before.
    const devices = await this.lockDevices(tx, [...new Set(batch.flatMap((entry) => (entry.message ? [entry.message.deviceId] : [])))]);

    const ids = batch.map((entry) => entry.eventId);
    const done = new Set<string>();
    for (let offset = 0; offset < ids.length; offset += INSERT_CHUNK) {
      const rows = await tx.manager.find(ProcessedEvent, {
        select: { eventId: true },
        where: { consumer: TELEMETRY_CONSUMER, eventId: In(ids.slice(offset, offset + INSERT_CHUNK)) },
      });
      for (const row of rows) done.add(row.eventId);
    }
    const fresh = batch.filter((entry) => !done.has(entry.eventId));
    if (done.size) this.metrics.busConsumed.inc({ consumer: TELEMETRY_CONSUMER, outcome: 'duplicate' }, done.size);
    const now = this.clock.now();
    for (let offset = 0; offset < fresh.length; offset += INSERT_CHUNK) {
      await tx.manager.insert(
        ProcessedEvent,
        fresh.slice(offset, offset + INSERT_CHUNK).map((entry) => ({ consumer: TELEMETRY_CONSUMER, eventId: entry.eventId, processedAt: now })),
      );
    }

    const applicable: ParsedMessage[] = [];
    const unknown = new Set<string>();
    for (const entry of fresh) {
      if (!entry.message) continue;
      if (devices.has(entry.message.deviceId)) applicable.push(entry.message);
      else unknown.add(entry.message.deviceId);
    }
    for (const deviceId of unknown) this.logger.warn({ code: 'device_not_found', deviceId }, 'telemetry rejected');
    if (applicable.length) await this.apply(tx, applicable, devices);
    return applicable.length;
  }

  /** Validated message → readings with dates, ordered by time (stable for equal times). */
  private parse(message: TelemetryMessage): ParsedMessage {
    const now = this.clock.now();
    return {
      deviceId: message.deviceId,
      readings: message.readings
        .map((reading) => ({
          metric: reading.metric,
          value: reading.value,
          ts: reading.ts ? new Date(reading.ts) : now,
          quality: (reading.quality ?? 'good') as ReadingQuality,
        }))
        .sort((a, b) => a.ts.getTime() - b.ts.getTime()),
    };
  }

  /**
   * Locks the devices' rows (ascending id, so two instances never wait on each other in a
   * cycle) and returns the ones that exist, creating unknown ones when auto-registration is on.
   */
  private async lockDevices(tx: Tx, deviceIds: string[]): Promise<Map<string, DeviceRow>> {
    const found = new Map<string, DeviceRow>();
    if (!deviceIds.length) return found;
    const sorted = [...deviceIds].sort();
    const rows = await tx.manager.find(DeviceRow, {
      where: { id: In(sorted) },
      order: { id: 'ASC' },
      lock: this.uow.isMysql ? { mode: 'pessimistic_write' } : undefined,
    });
    for (const row of rows) found.set(row.id, row);
    if (found.size < sorted.length && this.settings.get<boolean>('devices.autoRegister')) {
      for (const id of sorted) if (!found.has(id)) found.set(id, await this.lockDevice(tx, id));
    }
    return found;
  }

  /**
   * Applies validated messages of locked devices: two reads for every device's rule states and
   * open episodes, the rules run per device and per message in arrival order (exactly as if each
   * message had its own transaction), then one multi-row INSERT for the readings, one upsert for
   * the changed rule states and one UPDATE for the devices' state and last-seen time.
   */
  private async apply(tx: Tx, messages: ParsedMessage[], devices: Map<string, DeviceRow>): Promise<IngestResult[]> {
    const manager = tx.manager;

    const byDevice = new Map<string, ParsedMessage[]>();
    for (const message of messages) {
      const group = byDevice.get(message.deviceId) ?? [];
      group.push(message);
      byDevice.set(message.deviceId, group);
    }
    const deviceIds = [...byDevice.keys()];
    const rulesOf = new Map(deviceIds.map((id) => [id, this.rules.rulesFor(devices.get(id)!)]));
    const withRules = deviceIds.filter((id) => rulesOf.get(id)!.length > 0);
    // Two reads per batch, whatever the number of devices and rules.
    const [states, openEpisodes] = await Promise.all([
      withRules.length ? manager.find(DeviceRuleStateRow, { where: { deviceId: In(withRules) } }) : Promise.resolve([]),
      manager.find(FaultEpisodeRow, { where: { deviceId: In(deviceIds), openSlot: 'open' } }),
    ]);
    const statesOf = groupBy(states, (row) => row.deviceId);
    const episodesOf = groupBy(openEpisodes, (row) => row.deviceId);

    const results = new Map<ParsedMessage, IngestResult>();
    const changedStates: DeviceRuleStateRow[] = [];
    const repeated = new Set<FaultEpisodeRow>();
    const deviceUpdates: Array<{ id: string; state: DeviceState; lastSeenAt: Date | null }> = [];
    for (const [deviceId, group] of byDevice) {
      const device = devices.get(deviceId)!;
      const rules = rulesOf.get(deviceId)!;
      const before = new Map((statesOf.get(deviceId) ?? []).map((row) => [row.ruleId, row]));
      const current = new Map<string, RuleState>();
      const open = new Map((episodesOf.get(deviceId) ?? []).map((episode) => [episode.ruleId, episode]));
      /** This device's readings of the batch so far (not yet stored), for fault snapshots. */
      const seen: Reading[] = [];
      for (const message of group) {
        const { readings } = message;
        seen.push(...readings);
        const result: IngestResult = { deviceId, accepted: readings.length, opened: [], closed: [] };
        results.set(message, result);
        for (const rule of rules) {
          const relevant = rule.kind === 'stale' ? readings.slice(-1) : readings.filter((reading) => reading.metric === rule.metric);
          if (!relevant.length) continue;
          let state: RuleState = current.get(rule.id) ?? before.get(rule.id) ?? emptyState();
          let episode = open.get(rule.id) ?? null;
          for (const reading of relevant) {
            const outcome = step(rule, reading, state, episode !== null);
            state = outcome.state;
            if (outcome.action === 'open') {
              if (episode) repeated.delete(episode);
              episode = await this.openEpisode(tx, device, rule, reading, outcome.code, seen);
              open.set(rule.id, episode);
              result.opened.push(episode.id);
            } else if (outcome.action === 'repeat' && episode) {
              await this.repeatEpisode(tx, device, episode, reading);
              repeated.add(episode);
            } else if (outcome.action === 'close' && episode) {
              if (repeated.delete(episode)) await this.saveRepeats(tx, episode);
              await this.closeEpisode(tx, device, rule, episode, reading);
              open.delete(rule.id);
              result.closed.push(episode.id);
              episode = null;
            }
          }
          current.set(rule.id, state);
        }
        const lastSeen = readings.at(-1)!.ts;
        if (!device.lastSeenAt || lastSeen > device.lastSeenAt) device.lastSeenAt = lastSeen;
        await this.noteState(tx, device, [...open.values()]);
      }
      for (const rule of rules) {
        const state = current.get(rule.id);
        if (!state) continue;
        const previous = before.get(rule.id);
        // A steady healthy signal changes nothing worth a write (rate rules need their last value).
        if (!previous || rule.kind === 'rate_of_change' || !sameState(previous, state))
          changedStates.push(Object.assign(new DeviceRuleStateRow(), { ...state, deviceId, ruleId: rule.id }));
      }
      deviceUpdates.push({ id: deviceId, state: device.state, lastSeenAt: device.lastSeenAt });
    }
    for (const episode of repeated) await this.saveRepeats(tx, episode);
    await this.insertReadings(
      tx,
      messages.flatMap((message) => message.readings.map((reading) => ({ deviceId: message.deviceId, reading }))),
    );
    for (let offset = 0; offset < changedStates.length; offset += 500)
      await manager.upsert(DeviceRuleStateRow, changedStates.slice(offset, offset + 500), ['deviceId', 'ruleId']);
    await this.updateDevices(tx, deviceUpdates);
    return messages.map((message) => results.get(message)!);
  }

  /** All readings of a batch, one multi-row INSERT per `INSERT_CHUNK` rows. */
  private async insertReadings(tx: Tx, rows: Array<{ deviceId: string; reading: Reading }>): Promise<void> {
    for (let offset = 0; offset < rows.length; offset += INSERT_CHUNK) {
      const chunk = rows.slice(offset, offset + INSERT_CHUNK);
      const params: unknown[] = [];
      for (const { deviceId, reading } of chunk) {
        const value = reading.value;
        params.push(
          deviceId,
          reading.metric,
          typeof value === 'number' ? value : typeof value === 'boolean' ? Number(value) : null,
          typeof value === 'string' ? value : null,
          this.sqlTime(reading.ts),
          reading.quality,
        );
      }
      await tx.manager.query(
        `INSERT INTO device_readings (device_id, metric, value_num, value_text, ts, quality) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
        params,
      );
    }
  }

  /** The devices' state and last-seen time, in one UPDATE per 200 devices. */
  private async updateDevices(tx: Tx, updates: Array<{ id: string; state: DeviceState; lastSeenAt: Date | null }>): Promise<void> {
    const now = this.sqlTime(this.clock.now());
    for (let offset = 0; offset < updates.length; offset += 200) {
      const chunk = updates.slice(offset, offset + 200);
      const cases = chunk.map(() => 'WHEN ? THEN ?').join(' ');
      await tx.manager.query(
        `UPDATE devices SET state = CASE id ${cases} END, last_seen_at = CASE id ${cases} END, updated_at = ? WHERE id IN (${chunk.map(() => '?').join(', ')})`,
        [
          ...chunk.flatMap((update) => [update.id, update.state]),
          ...chunk.flatMap((update) => [update.id, update.lastSeenAt ? this.sqlTime(update.lastSeenAt) : null]),
          now,
          ...chunk.map((update) => update.id),
        ],
      );
    }
  }

  /** A DATETIME parameter for raw SQL, as TypeORM writes it: a Date for mysql2, UTC text for SQLite. */
  private sqlTime(date: Date): Date | string {
    return this.uow.isMysql ? date : date.toISOString().replace('T', ' ').replace('Z', '');
  }

  private async lockDevice(tx: Tx, deviceId: string): Promise<DeviceRow> {
    const manager = tx.manager;
    let device = await manager.findOne(DeviceRow, { where: { id: deviceId }, lock: this.uow.isMysql ? { mode: 'pessimistic_write' } : undefined });
    if (!device) {
      if (!this.settings.get<boolean>('devices.autoRegister')) throw DevicesError.deviceNotFound(deviceId);
      const now = this.clock.now();
      device = manager.create(DeviceRow, {
        id: deviceId,
        name: deviceId,
        model: null,
        serialNumber: null,
        firmware: null,
        site: null,
        location: null,
        ownerContactId: null,
        ownerOrganization: null,
        teamId: null,
        protocolPlugin: null,
        connectionConfig: null,
        tags: ['auto-registered'],
        state: 'unknown',
        lastSeenAt: null,
        createdAt: now,
        updatedAt: now,
      });
      await manager.insert(DeviceRow, device);
      device = await manager.findOneOrFail(DeviceRow, { where: { id: deviceId }, lock: this.uow.isMysql ? { mode: 'pessimistic_write' } : undefined });
    }
    return device;
  }

  /**
   * The latest value of every metric: stored readings, then `recent` ones (this batch's readings
   * of the device up to the triggering message, not stored yet) in arrival order.
   */
  private async snapshot(
    manager: EntityManager,
    deviceId: string,
    recent: Reading[] = [],
  ): Promise<Record<string, { value: number | string | null; ts: string; quality: string }>> {
    const rows = await manager.find(DeviceReadingRow, { where: { deviceId }, order: { ts: 'DESC', id: 'DESC' }, take: 200 });
    const latest: Record<string, { value: number | string | null; ts: string; quality: string }> = {};
    for (const row of rows) latest[row.metric] ??= { value: row.valueNum ?? row.valueText, ts: row.ts.toISOString(), quality: row.quality };
    for (const reading of recent) {
      const known = latest[reading.metric];
      if (known && Date.parse(known.ts) > reading.ts.getTime()) continue;
      const value = typeof reading.value === 'boolean' ? Number(reading.value) : reading.value;
      latest[reading.metric] = { value, ts: reading.ts.toISOString(), quality: reading.quality };
    }
    return latest;
  }

  /**
   * A ticket's status as this transaction sees it: tickets created or moved in the same batch are
   * not committed yet, and TicketsService.get reads outside the transaction.
   */
  private async ticketStatus(tx: Tx, ticketId: string): Promise<string> {
    return this.ticketStatusInTx.get(tx)?.get(ticketId) ?? (await this.tickets.get(SYSTEM_ACTOR, ticketId)).status;
  }

  private noteTicketStatus(tx: Tx, ticket: { id: string; status: string }): void {
    let known = this.ticketStatusInTx.get(tx);
    if (!known) this.ticketStatusInTx.set(tx, (known = new Map()));
    known.set(ticket.id, ticket.status);
  }

  private describeFault(rule: DeviceRuleRow, code: string | null): { severity: Severity; title: string; articleId: string | null } {
    const info = rule.kind === 'fault_code' && code ? (rule.params as unknown as FaultCodeParams).codes?.[code] : undefined;
    return {
      severity: info?.severity ?? rule.severity,
      title: info?.title ?? (code ? `${rule.title} (${code})` : rule.title),
      articleId: info?.articleId ?? rule.articleId,
    };
  }

  private async openEpisode(
    tx: Tx,
    device: DeviceRow,
    rule: DeviceRuleRow,
    reading: Reading | null,
    code: string | null,
    recent: Reading[] = [],
  ): Promise<FaultEpisodeRow> {
    const manager = tx.manager;
    const now = this.clock.now();
    const fault = this.describeFault(rule, code);
    const latest = reading
      ? { metric: reading.metric, value: reading.value, ts: reading.ts.toISOString(), quality: reading.quality }
      : { code, at: now.toISOString() };

    // Flapping: a fault that comes back soon after recovering continues the previous episode.
    const flapWindowMs = this.settings.get<number>('devices.flapWindowSeconds') * 1000;
    const previous = await manager.findOne(FaultEpisodeRow, {
      where: { deviceId: device.id, ruleId: rule.id, openSlot: IsNull(), closedAt: MoreThanOrEqual(new Date(now.getTime() - flapWindowMs)) },
      order: { closedAt: 'DESC' },
    });
    if (previous && flapWindowMs > 0) {
      Object.assign(previous, {
        openSlot: 'open',
        status: 'open',
        closedAt: null,
        flaps: previous.flaps + 1,
        occurrences: previous.occurrences + 1,
        latest: latest as Json,
      });
      await manager.save(FaultEpisodeRow, previous);
      if (previous.ticketId) {
        await this.tickets.addComment(
          SYSTEM_ACTOR,
          previous.ticketId,
          { body: `The fault returned (flap ${previous.flaps}) at ${now.toISOString()}: ${describeReading(latest)}`, private: true },
          {},
          tx,
        );
        if ((await this.ticketStatus(tx, previous.ticketId)) === 'solved')
          this.noteTicketStatus(tx, await this.tickets.transition(SYSTEM_ACTOR, previous.ticketId, 'open', {}, tx));
      }
      await tx.emit({ subject: DEVICE_FAULT_REPEATED, data: this.episodeEvent(previous, device) });
      return previous;
    }

    const snapshot = await this.snapshot(manager, device.id, recent);
    const episode: FaultEpisodeRow = Object.assign(new FaultEpisodeRow(), {
      id: randomUUID(),
      deviceId: device.id,
      ruleId: rule.id,
      openSlot: 'open',
      status: 'open',
      severity: fault.severity,
      title: fault.title,
      code,
      openedAt: now,
      closedAt: null,
      ticketId: null,
      occurrences: 1,
      flaps: 0,
      snapshot: snapshot as Json,
      latest: latest as Json,
      ownerNotified: false,
    });
    // The unique (device, rule, open_slot) index is the last line of defence against a second open episode.
    await manager.insert(FaultEpisodeRow, episode);
    const ticket = await this.tickets.create(
      SYSTEM_ACTOR,
      {
        subject: `${device.name}: ${fault.title}`.slice(0, 250),
        description: faultDescription(device, fault, code, snapshot),
        type: 'device_fault',
        priority: PRIORITY[fault.severity],
        status: 'open',
        requesterContactId: device.ownerContactId,
        teamId: device.teamId,
        tags: ['device-fault', `severity-${fault.severity}`],
        links: [{ kind: 'device', refId: device.id }],
      },
      {},
      tx,
    );
    episode.ticketId = ticket.id;
    this.noteTicketStatus(tx, ticket);
    await manager.update(FaultEpisodeRow, { id: episode.id }, { ticketId: ticket.id });
    await tx.emit({ subject: DEVICE_FAULT_OPENED, data: this.episodeEvent(episode, device), id: `fault-opened:${episode.id}` });
    if (device.ownerContactId) {
      const quiet = this.settings.get<QuietHours | null>('devices.quietHours');
      await this.scheduler.schedule(tx, {
        key: `device-notify:${episode.id}`,
        kind: NOTIFY_TIMER,
        dueAt: nextAllowedTime(quiet, now),
        payload: { episodeId: episode.id },
      });
    }
    return episode;
  }

  /** Counts a repeat in memory (written once per batch by saveRepeats) and notes it on the ticket at some counts. */
  private async repeatEpisode(tx: Tx, device: DeviceRow, episode: FaultEpisodeRow, reading: Reading): Promise<void> {
    episode.occurrences += 1;
    episode.latest = { metric: reading.metric, value: reading.value, ts: reading.ts.toISOString(), quality: reading.quality } as Json;
    if (episode.ticketId && NOTE_AT.has(episode.occurrences)) {
      await this.tickets.addComment(
        SYSTEM_ACTOR,
        episode.ticketId,
        { body: `Still faulty: ${episode.occurrences} occurrences. Latest: ${describeReading(episode.latest as Record<string, unknown>)}`, private: true },
        {},
        tx,
      );
      await tx.emit({ subject: DEVICE_FAULT_REPEATED, data: this.episodeEvent(episode, device) });
    }
  }

  private async saveRepeats(tx: Tx, episode: FaultEpisodeRow): Promise<void> {
    await tx.manager.update(FaultEpisodeRow, { id: episode.id }, { occurrences: episode.occurrences, latest: episode.latest });
  }

  private async closeEpisode(tx: Tx, device: DeviceRow, rule: DeviceRuleRow, episode: FaultEpisodeRow, reading: Reading | null): Promise<void> {
    const now = this.clock.now();
    await tx.manager.update(FaultEpisodeRow, { id: episode.id }, { openSlot: null, status: 'closed', closedAt: now });
    episode.status = 'closed';
    episode.closedAt = now;
    if (episode.ticketId && rule.autoResolve) {
      if (!['solved', 'closed'].includes(await this.ticketStatus(tx, episode.ticketId))) {
        const detail = reading ? describeReading({ metric: reading.metric, value: reading.value, ts: reading.ts.toISOString() }) : 'telemetry resumed';
        await this.tickets.addComment(
          SYSTEM_ACTOR,
          episode.ticketId,
          { body: `Recovered at ${now.toISOString()} after ${episode.occurrences} occurrence(s): ${detail}. Resolved automatically.`, private: true },
          {},
          tx,
        );
        this.noteTicketStatus(tx, await this.tickets.transition(SYSTEM_ACTOR, episode.ticketId, 'solved', {}, tx));
      }
    }
    await tx.emit({ subject: DEVICE_FAULT_CLOSED, data: this.episodeEvent(episode, device), id: `fault-closed:${episode.id}:${now.getTime()}` });
  }

  private async refreshState(tx: Tx, device: DeviceRow, known?: Array<Pick<FaultEpisodeRow, 'severity' | 'code'>>): Promise<void> {
    const open =
      known ?? (await tx.manager.find(FaultEpisodeRow, { where: { deviceId: device.id, openSlot: 'open' }, select: { severity: true, code: true } }));
    await this.noteState(tx, device, open);
    await tx.manager.update(DeviceRow, { id: device.id }, { state: device.state, lastSeenAt: device.lastSeenAt, updatedAt: this.clock.now() });
  }

  /** Sets the device's state from its open episodes (in memory) and emits the change, if any. */
  private async noteState(tx: Tx, device: DeviceRow, open: Array<Pick<FaultEpisodeRow, 'severity' | 'code'>>): Promise<void> {
    const next: DeviceState = open.some((episode) => episode.code === 'stale')
      ? 'offline'
      : open.some((episode) => episode.severity === 'critical' || episode.severity === 'major')
        ? 'fault'
        : open.length
          ? 'warning'
          : 'ok';
    const previous = device.state;
    if (previous !== next) {
      device.state = next;
      await tx.emit({ subject: DEVICE_STATE_CHANGED, data: { deviceId: device.id, from: previous, to: next } });
    }
  }

  /** Opens "no data" episodes for devices silent longer than a stale rule allows. */
  async sweepStale(): Promise<number> {
    const rules = this.rules.staleRules();
    let opened = 0;
    for (const rule of rules) {
      const timeoutMs = Number((rule.params as { timeoutSeconds?: number }).timeoutSeconds ?? 300) * 1000;
      const cutoff = new Date(this.clock.now().getTime() - timeoutMs);
      const candidates = await this.dataSource.manager
        .createQueryBuilder(DeviceRow, 'd')
        .where('d.last_seen_at IS NOT NULL AND d.last_seen_at < :cutoff', {
          cutoff: this.uow.isMysql ? cutoff : cutoff.toISOString().replace('T', ' ').replace('Z', ''),
        })
        .getMany();
      for (const candidate of candidates.filter((device) => this.rules.rulesFor(device).some((applicable) => applicable.id === rule.id))) {
        const didOpen = await this.uow.run(async (tx) => {
          const device = await this.lockDevice(tx, candidate.id);
          if (!device.lastSeenAt || device.lastSeenAt >= cutoff) return false;
          if (await tx.manager.findOne(FaultEpisodeRow, { where: { deviceId: device.id, ruleId: rule.id, openSlot: 'open' } })) return false;
          await this.openEpisode(tx, device, rule, null, 'stale');
          await this.refreshState(tx, device);
          return true;
        });
        if (didOpen) opened++;
      }
    }
    return opened;
  }

  private episodeEvent(episode: FaultEpisodeRow, device: DeviceRow): FaultEpisodeEvent {
    return {
      episodeId: episode.id,
      deviceId: device.id,
      ruleId: episode.ruleId,
      ticketId: episode.ticketId,
      severity: episode.severity,
      occurrences: episode.occurrences,
      teamId: device.teamId,
    };
  }
}

/**
 * Accepts the SDK's compact reading shape (`{ deviceId, at, metrics: { name: number }, faultCodes, attributes }`)
 * as well as the canonical `{ deviceId, readings: [...] }`.
 */
export function normaliseTelemetry(message: unknown): TelemetryMessage {
  const compact = message as {
    deviceId?: unknown;
    at?: string;
    metrics?: Record<string, unknown>;
    faultCodes?: unknown[];
    attributes?: Record<string, unknown>;
    readings?: unknown;
  };
  if (
    !compact ||
    typeof compact !== 'object' ||
    compact.readings !== undefined ||
    (compact.metrics === undefined && compact.faultCodes === undefined && compact.attributes === undefined)
  ) {
    return message as TelemetryMessage;
  }
  const readings: TelemetryMessage['readings'] = [];
  const ts = compact.at;
  for (const [metric, value] of Object.entries(compact.metrics ?? {})) readings.push({ metric, value: value as number, ...(ts ? { ts } : {}) });
  for (const code of compact.faultCodes ?? []) readings.push({ metric: 'fault_code', value: String(code), ...(ts ? { ts } : {}) });
  for (const [metric, value] of Object.entries(compact.attributes ?? {})) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') readings.push({ metric, value, ...(ts ? { ts } : {}) });
  }
  return { deviceId: compact.deviceId as string, readings };
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

function sameState(a: RuleState, b: RuleState): boolean {
  return (
    a.violations === b.violations &&
    a.clears === b.clears &&
    a.activeCode === b.activeCode &&
    (a.violatingSince?.getTime() ?? null) === (b.violatingSince?.getTime() ?? null)
  );
}

function describeReading(latest: Record<string, unknown>): string {
  if ('metric' in latest) return `${String(latest.metric)} = ${String(latest.value)} at ${String(latest.ts)}`;
  return `no data since ${String(latest.at ?? '')}`;
}

function faultDescription(
  device: DeviceRow,
  fault: { severity: Severity; title: string; articleId: string | null },
  code: string | null,
  snapshot: Record<string, { value: number | string | null; ts: string; quality: string }>,
): string {
  const lines = [
    `Fault detected on ${device.name} (${device.id}).`,
    `Severity: ${fault.severity}${code ? `, code ${code}` : ''}.`,
    device.model
      ? `Model: ${device.model}${device.serialNumber ? `, serial ${device.serialNumber}` : ''}${device.firmware ? `, firmware ${device.firmware}` : ''}.`
      : '',
    device.site || device.location ? `Site: ${[device.site, device.location].filter(Boolean).join(', ')}.` : '',
    '',
    'Telemetry snapshot:',
    ...Object.entries(snapshot).map(([metric, reading]) => `- ${metric}: ${String(reading.value)} (${reading.quality}, ${reading.ts})`),
    fault.articleId ? `\nSuggested article: ${fault.articleId}` : '',
  ];
  return lines.filter((line, index) => line !== '' || index === 4).join('\n');
}
