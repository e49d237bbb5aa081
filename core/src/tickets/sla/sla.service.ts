import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { DATA_SOURCE } from '../../platform/database/database.tokens.js';
import { CLOCK, type Clock } from '../../platform/clock/clock.js';
import type { Tx } from '../../platform/database/unit-of-work.js';
import { SchedulerService } from '../../platform/scheduler/scheduler.service.js';
import { SchedulerTimerRow } from '../../platform/scheduler/scheduler.entities.js';
import { SlaCalendarRow, SlaPolicyRow, TicketSlaClockRow, type SlaConditions, type SlaTargets } from '../entities/sla.entity.js';
import { TicketRow } from '../entities/ticket.entity.js';
import { TicketHistoryRow } from '../entities/ticket-parts.entity.js';
import { addBusinessMs, businessMsBetween, compileCalendar, type CompiledCalendar } from './business-time.js';
import { TICKET_SLA_BREACHED, TICKET_SLA_WARNING, type SlaMetric, type TicketSlaEvent } from '../tickets.events.js';
import { PAUSED_STATUSES } from '../tickets.types.js';
import { formatTicketNumber } from '../ticket-number.js';
import { stableEventId } from '../shared/stable-id.js';

export const SLA_TIMER_WARN = 'ticket.sla.warn';
export const SLA_TIMER_BREACH = 'ticket.sla.breach';

export const SLA_METRICS: readonly SlaMetric[] = ['first_response', 'next_response', 'resolution'];

const TARGET_FIELD: Record<SlaMetric, keyof SlaTargets> = {
  first_response: 'firstResponseMinutes',
  next_response: 'nextResponseMinutes',
  resolution: 'resolutionMinutes',
};

export interface SlaTimerPayload {
  ticketId: string;
  metric: SlaMetric;
}

export interface SlaClockView {
  metric: SlaMetric;
  policyId: string;
  state: TicketSlaClockRow['state'];
  targetMinutes: number;
  /** Business minutes used so far, including the running stretch up to now. */
  elapsedMinutes: number;
  dueAt: string | null;
  warnedAt: string | null;
  breachedAt: string | null;
  achievedAt: string | null;
  breached: boolean;
}

export interface SlaFired {
  ticket: TicketRow;
  policy: SlaPolicyRow | null;
  metric: SlaMetric;
  kind: 'warning' | 'breach';
  dueAt: Date;
}

export interface SlaContext {
  vip: boolean;
}

/**
 * SLA clocks of tickets. Every method runs inside the caller's transaction so the ticket
 * change, the clock change and the timers commit together. Timers are one-shot scheduler
 * timers keyed `sla:<ticket>:<metric>:warn|breach`, so they fire once across instances.
 */
@Injectable()
export class SlaService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly scheduler: SchedulerService,
  ) {}

  // ---------- policy selection ----------

  static matches(conditions: SlaConditions, ticket: Pick<TicketRow, 'priority' | 'type' | 'teamId'>, context: SlaContext): boolean {
    if (conditions.priorities?.length && !conditions.priorities.includes(ticket.priority)) return false;
    if (conditions.types?.length && !conditions.types.includes(ticket.type)) return false;
    if (conditions.teamIds?.length && (!ticket.teamId || !conditions.teamIds.includes(ticket.teamId))) return false;
    if (conditions.vip !== undefined && conditions.vip !== null && conditions.vip !== context.vip) return false;
    return true;
  }

  async selectPolicy(manager: EntityManager, ticket: TicketRow, context: SlaContext): Promise<SlaPolicyRow | null> {
    const policies = await manager.find(SlaPolicyRow, { where: { enabled: true }, order: { position: 'ASC', createdAt: 'ASC', id: 'ASC' } });
    return policies.find((policy) => SlaService.matches(policy.conditions, ticket, context)) ?? null;
  }

  private async calendarFor(manager: EntityManager, policy: SlaPolicyRow | null): Promise<CompiledCalendar | null> {
    if (!policy?.calendarId) return null;
    const row = await manager.findOne(SlaCalendarRow, { where: { id: policy.calendarId } });
    return row ? compileCalendar({ timeZone: row.timeZone, hours: row.hours, holidays: row.holidays }) : null;
  }

  // ---------- lifecycle hooks called by TicketsService ----------

  /** Chooses the policy for a ticket (again) and makes the clocks follow it. Returns the policy id. */
  async applyPolicy(tx: Tx, ticket: TicketRow, context: SlaContext): Promise<string | null> {
    const policy = await this.selectPolicy(tx.manager, ticket, context);
    const now = this.clock.now();
    const calendar = await this.calendarFor(tx.manager, policy);
    const clocks = await tx.manager.find(TicketSlaClockRow, { where: { ticketId: ticket.id } });
    const byMetric = new Map(clocks.map((clock) => [clock.metric, clock]));
    const oldCalendar = await this.calendarFor(
      tx.manager,
      ticket.slaPolicyId ? await tx.manager.findOne(SlaPolicyRow, { where: { id: ticket.slaPolicyId } }) : null,
    );

    for (const metric of SLA_METRICS) {
      const clock = byMetric.get(metric);
      const minutes = policy?.targets[TARGET_FIELD[metric]];
      if (clock && (clock.state === 'achieved' || clock.state === 'cancelled')) continue;
      if (clock && (!policy || !minutes)) {
        this.settle(clock, oldCalendar, now);
        clock.state = 'cancelled';
        clock.dueAt = null;
        await this.save(tx, clock, null, null, now);
        continue;
      }
      if (!policy || !minutes) continue;
      if (clock) {
        // Keep the time already used; the new target and calendar apply from now on.
        this.settle(clock, oldCalendar, now);
        clock.policyId = policy.id;
        clock.targetMs = minutes * 60_000;
        await this.save(tx, clock, policy, calendar, now);
      } else if (this.shouldStart(metric, ticket)) {
        await this.save(tx, this.fresh(ticket, metric, policy, minutes, now), policy, calendar, now);
      }
    }
    return policy?.id ?? null;
  }

  private shouldStart(metric: SlaMetric, ticket: TicketRow): boolean {
    if (ticket.status === 'solved' || ticket.status === 'closed') return false;
    if (metric === 'first_response') return !ticket.firstRespondedAt;
    return metric === 'resolution';
  }

  private fresh(ticket: TicketRow, metric: SlaMetric, policy: SlaPolicyRow, minutes: number, now: Date): TicketSlaClockRow {
    const running = !PAUSED_STATUSES.includes(ticket.status);
    return Object.assign(new TicketSlaClockRow(), {
      ticketId: ticket.id,
      metric,
      policyId: policy.id,
      targetMs: minutes * 60_000,
      consumedMs: 0,
      state: running ? 'running' : 'paused',
      runningSince: running ? now : null,
      dueAt: null,
      warnedAt: null,
      breachedAt: null,
      achievedAt: null,
      startedAt: now,
      updatedAt: now,
    } satisfies Partial<TicketSlaClockRow>);
  }

  /** Pauses clocks on pending/on_hold, resumes on new/open, stops on solved/closed. */
  async onStatusChanged(tx: Tx, ticket: TicketRow): Promise<void> {
    const now = this.clock.now();
    const { policy, calendar, clocks } = await this.load(tx.manager, ticket);
    for (const clock of clocks) {
      if (clock.state === 'cancelled') continue;
      if (ticket.status === 'solved' || ticket.status === 'closed') {
        if (clock.state === 'achieved') continue;
        if (clock.metric === 'resolution') await this.achieve(tx, ticket, clock, policy, calendar, now);
        else {
          this.settle(clock, calendar, now);
          clock.state = 'cancelled';
          await this.save(tx, clock, policy, calendar, now);
        }
      } else if (PAUSED_STATUSES.includes(ticket.status)) {
        if (clock.state !== 'running') continue;
        await this.detectLateBreach(tx, ticket, clock, policy, calendar, now);
        this.settle(clock, calendar, now);
        clock.state = 'paused';
        await this.save(tx, clock, policy, calendar, now);
      } else {
        // new/open: resume paused clocks; a reopened ticket's resolution clock runs again.
        if (clock.state === 'paused' || (clock.state === 'achieved' && clock.metric === 'resolution')) {
          clock.state = 'running';
          clock.runningSince = now;
          clock.achievedAt = null;
          await this.save(tx, clock, policy, calendar, now);
        }
      }
    }
  }

  /** An agent's public reply: achieves first response and any running next response. */
  async onAgentReply(tx: Tx, ticket: TicketRow): Promise<void> {
    const now = this.clock.now();
    const { policy, calendar, clocks } = await this.load(tx.manager, ticket);
    for (const clock of clocks) {
      if ((clock.metric === 'first_response' || clock.metric === 'next_response') && (clock.state === 'running' || clock.state === 'paused')) {
        await this.achieve(tx, ticket, clock, policy, calendar, now);
      }
    }
  }

  /** The requester wrote: once the first response is given, a next-response clock starts. */
  async onCustomerMessage(tx: Tx, ticket: TicketRow): Promise<void> {
    if (ticket.status === 'solved' || ticket.status === 'closed' || !ticket.firstRespondedAt || !ticket.slaPolicyId) return;
    const now = this.clock.now();
    const { policy, calendar, clocks } = await this.load(tx.manager, ticket);
    const minutes = policy?.targets.nextResponseMinutes;
    if (!policy || !minutes) return;
    const existing = clocks.find((clock) => clock.metric === 'next_response');
    if (existing && (existing.state === 'running' || existing.state === 'paused')) return;
    const clock = this.fresh(ticket, 'next_response', policy, minutes, now);
    await this.save(tx, clock, policy, calendar, now);
  }

  // ---------- timers ----------

  /** Runs inside the scheduler's transaction. Returns what fired, or null when the timer is stale. */
  async fire(tx: Tx, kind: 'warning' | 'breach', payload: SlaTimerPayload): Promise<SlaFired | null> {
    const now = this.clock.now();
    const clock = await tx.manager.findOne(TicketSlaClockRow, { where: { ticketId: payload.ticketId, metric: payload.metric }, lock: lockFor(tx.manager) });
    if (!clock || clock.state !== 'running' || clock.breachedAt) return null;
    if (kind === 'warning' && clock.warnedAt) return null;
    const ticket = await tx.manager.findOne(TicketRow, { where: { id: payload.ticketId } });
    if (!ticket) return null;
    const policy = await tx.manager.findOne(SlaPolicyRow, { where: { id: clock.policyId } });
    const calendar = await this.calendarFor(tx.manager, policy);
    const due = this.dueAt(clock, calendar);
    const fireAt = kind === 'breach' ? due : this.warnAt(clock, policy, calendar, now);
    if (!fireAt || fireAt.getTime() > now.getTime() + 1000) {
      // The calendar changed since the timer was set. This timer row is being fired and must not
      // be moved, so a follow-up timer under a derived key takes over (its handler re-checks too).
      if (fireAt) {
        const key = `sla:${clock.ticketId}:${clock.metric}:${kind === 'breach' ? 'breach' : 'warn'}:${fireAt.getTime()}`;
        await this.scheduler.schedule(tx, { key, kind: kind === 'breach' ? SLA_TIMER_BREACH : SLA_TIMER_WARN, dueAt: fireAt, payload: { ...payload } });
      }
      return null;
    }
    if (kind === 'breach') clock.breachedAt = due;
    else clock.warnedAt = now;
    clock.updatedAt = now;
    await tx.manager.save(TicketSlaClockRow, clock);
    await this.emitFired(tx, ticket, clock, kind, due, now);
    return { ticket, policy, metric: clock.metric, kind, dueAt: due };
  }

  private async emitFired(tx: Tx, ticket: TicketRow, clock: TicketSlaClockRow, kind: 'warning' | 'breach', due: Date, now: Date): Promise<void> {
    const data: TicketSlaEvent = {
      ticketId: ticket.id,
      number: formatTicketNumber(ticket.number),
      teamId: ticket.teamId,
      assigneeId: ticket.assigneeId,
      requesterContactId: ticket.requesterContactId,
      metric: clock.metric,
      policyId: clock.policyId,
      dueAt: due.toISOString(),
      priority: ticket.priority,
    };
    const cycle = clock.startedAt.getTime();
    await tx.emit({
      subject: kind === 'breach' ? TICKET_SLA_BREACHED : TICKET_SLA_WARNING,
      data,
      id: stableEventId(`sla-${kind}:${ticket.id}:${clock.metric}:${cycle}`),
    });
    await tx.manager.insert(TicketHistoryRow, {
      ticketId: ticket.id,
      action: kind === 'breach' ? 'sla_breached' : 'sla_warning',
      actorType: 'system',
      actorId: null,
      details: { metric: clock.metric, policyId: clock.policyId, dueAt: due.toISOString() },
      createdAt: now,
    });
  }

  // ---------- clock arithmetic ----------

  private async load(manager: EntityManager, ticket: TicketRow) {
    const policy = ticket.slaPolicyId ? await manager.findOne(SlaPolicyRow, { where: { id: ticket.slaPolicyId } }) : null;
    const calendar = await this.calendarFor(manager, policy);
    const clocks = await manager.find(TicketSlaClockRow, { where: { ticketId: ticket.id }, lock: lockFor(manager) });
    return { policy, calendar, clocks };
  }

  /** Moves the running stretch into `consumedMs`; the clock keeps its state. */
  private settle(clock: TicketSlaClockRow, calendar: CompiledCalendar | null, now: Date): void {
    if (clock.state === 'running' && clock.runningSince) {
      clock.consumedMs += businessMsBetween(calendar, clock.runningSince, now);
      clock.runningSince = now;
    }
  }

  private dueAt(clock: TicketSlaClockRow, calendar: CompiledCalendar | null): Date {
    return addBusinessMs(calendar, clock.runningSince!, Math.max(0, clock.targetMs - clock.consumedMs));
  }

  private warnAt(clock: TicketSlaClockRow, policy: SlaPolicyRow | null, calendar: CompiledCalendar | null, now: Date): Date | null {
    if (!policy || policy.warningMinutes <= 0 || clock.warnedAt || clock.breachedAt) return null;
    const left = clock.targetMs - clock.consumedMs - policy.warningMinutes * 60_000;
    // Already inside the warning window (e.g. resumed late): warn right away.
    if (left <= 0) return clock.runningSince ?? now;
    return addBusinessMs(calendar, clock.runningSince!, left);
  }

  /** If the due time passed before a timer fired (scheduler lag), the breach is recorded now. */
  private async detectLateBreach(
    tx: Tx,
    ticket: TicketRow,
    clock: TicketSlaClockRow,
    _policy: SlaPolicyRow | null,
    calendar: CompiledCalendar | null,
    now: Date,
  ): Promise<void> {
    if (clock.state !== 'running' || clock.breachedAt || !clock.runningSince) return;
    const due = this.dueAt(clock, calendar);
    if (due.getTime() > now.getTime()) return;
    clock.breachedAt = due;
    await this.emitFired(tx, ticket, clock, 'breach', due, now);
  }

  private async achieve(
    tx: Tx,
    ticket: TicketRow,
    clock: TicketSlaClockRow,
    policy: SlaPolicyRow | null,
    calendar: CompiledCalendar | null,
    now: Date,
  ): Promise<void> {
    await this.detectLateBreach(tx, ticket, clock, policy, calendar, now);
    this.settle(clock, calendar, now);
    clock.state = 'achieved';
    clock.achievedAt = now;
    await this.save(tx, clock, policy, calendar, now);
  }

  /** Stores the clock and puts its timers where its state says they belong. */
  private async save(tx: Tx, clock: TicketSlaClockRow, policy: SlaPolicyRow | null, calendar: CompiledCalendar | null, now: Date): Promise<void> {
    const base = `sla:${clock.ticketId}:${clock.metric}`;
    if (clock.state === 'running' && clock.runningSince) {
      clock.dueAt = this.dueAt(clock, calendar);
      const payload: SlaTimerPayload = { ticketId: clock.ticketId, metric: clock.metric };
      // A timer whose event already happened is left alone: it has fired, or is firing right now
      // (escalation runs inside the breach timer's transaction and saves this clock again).
      if (!clock.breachedAt) await this.scheduler.schedule(tx, { key: `${base}:breach`, kind: SLA_TIMER_BREACH, dueAt: clock.dueAt, payload: { ...payload } });
      const warnAt = this.warnAt(clock, policy, calendar, now);
      if (warnAt) await this.scheduler.schedule(tx, { key: `${base}:warn`, kind: SLA_TIMER_WARN, dueAt: warnAt, payload: { ...payload } });
      else if (!clock.warnedAt && !clock.breachedAt) await cancelTimer(tx, `${base}:warn`);
    } else {
      clock.runningSince = clock.state === 'running' ? clock.runningSince : null;
      if (clock.state !== 'achieved') clock.dueAt = null;
      if (!clock.breachedAt) await cancelTimer(tx, `${base}:breach`);
      if (!clock.warnedAt && !clock.breachedAt) await cancelTimer(tx, `${base}:warn`);
    }
    clock.updatedAt = now;
    await tx.manager.save(TicketSlaClockRow, clock);
  }

  // ---------- reads ----------

  async clocksOf(ticketId: string): Promise<SlaClockView[]> {
    const now = this.clock.now();
    const clocks = await this.dataSource.manager.find(TicketSlaClockRow, { where: { ticketId } });
    const views: SlaClockView[] = [];
    for (const clock of clocks.sort((a, b) => SLA_METRICS.indexOf(a.metric) - SLA_METRICS.indexOf(b.metric))) {
      const policy = await this.dataSource.manager.findOne(SlaPolicyRow, { where: { id: clock.policyId } });
      const calendar = await this.calendarFor(this.dataSource.manager, policy);
      const running = clock.state === 'running' && clock.runningSince ? businessMsBetween(calendar, clock.runningSince, now) : 0;
      const elapsed = clock.consumedMs + running;
      views.push({
        metric: clock.metric,
        policyId: clock.policyId,
        state: clock.state,
        targetMinutes: clock.targetMs / 60_000,
        elapsedMinutes: Math.round((elapsed / 60_000) * 100) / 100,
        dueAt: clock.dueAt?.toISOString() ?? null,
        warnedAt: clock.warnedAt?.toISOString() ?? null,
        breachedAt: clock.breachedAt?.toISOString() ?? null,
        achievedAt: clock.achievedAt?.toISOString() ?? null,
        breached: Boolean(clock.breachedAt) || elapsed > clock.targetMs,
      });
    }
    return views;
  }

  newId(): string {
    return randomUUID();
  }
}

function lockFor(manager: EntityManager): { mode: 'pessimistic_write' } | undefined {
  const type = manager.connection.options.type;
  return type === 'mysql' || type === 'mariadb' ? { mode: 'pessimistic_write' } : undefined;
}

/**
 * Deletes an unfired timer. (`SchedulerService.cancel` passes `firedAt: null` in a where object,
 * which TypeORM 1.x rejects; this does the same with an explicit `IS NULL`.)
 */
async function cancelTimer(tx: Tx, key: string): Promise<void> {
  await tx.manager.createQueryBuilder().delete().from(SchedulerTimerRow).where('timer_key = :key AND fired_at IS NULL', { key }).execute();
}
