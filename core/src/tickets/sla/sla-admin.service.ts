import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../../platform/database/database.tokens.js';
import { UnitOfWork } from '../../platform/database/unit-of-work.js';
import { CLOCK, type Clock } from '../../platform/clock/clock.js';
import { SlaCalendarRow, SlaPolicyRow, type SlaConditions, type SlaEscalation, type SlaTargets } from '../entities/sla.entity.js';
import { TicketsError } from '../tickets.error.js';
import { validateCalendar, type WeeklyHours } from './business-time.js';

export interface CalendarInput {
  name: string;
  timeZone: string;
  hours: WeeklyHours;
  holidays?: string[];
}

export interface PolicyInput {
  name: string;
  position?: number;
  enabled?: boolean;
  conditions?: SlaConditions;
  targets: SlaTargets;
  warningMinutes?: number;
  calendarId?: string | null;
  escalation?: SlaEscalation;
}

/**
 * Business-hours calendars and SLA policies. Changes apply to clocks started or re-evaluated
 * afterwards (a ticket's policy is chosen again when its priority, type or team change).
 */
@Injectable()
export class SlaAdminService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly uow: UnitOfWork,
  ) {}

  listCalendars(): Promise<SlaCalendarRow[]> {
    return this.dataSource.manager.find(SlaCalendarRow, { order: { name: 'ASC', id: 'ASC' } });
  }

  async getCalendar(id: string): Promise<SlaCalendarRow> {
    const row = await this.dataSource.manager.findOne(SlaCalendarRow, { where: { id } });
    if (!row) throw new TicketsError('sla_calendar_not_found', 'There is no such calendar.');
    return row;
  }

  async createCalendar(input: CalendarInput): Promise<SlaCalendarRow> {
    this.checkCalendar(input);
    const now = this.clock.now();
    const row = Object.assign(new SlaCalendarRow(), {
      id: randomUUID(),
      name: input.name,
      timeZone: input.timeZone,
      hours: input.hours,
      holidays: [...new Set(input.holidays ?? [])].sort(),
      createdAt: now,
      updatedAt: now,
    });
    await this.uow.run((tx) => tx.manager.insert(SlaCalendarRow, row));
    return row;
  }

  async updateCalendar(id: string, input: Partial<CalendarInput>): Promise<SlaCalendarRow> {
    return this.uow.run(async (tx) => {
      const row = await tx.manager.findOne(SlaCalendarRow, { where: { id } });
      if (!row) throw new TicketsError('sla_calendar_not_found', 'There is no such calendar.');
      const next = {
        name: input.name ?? row.name,
        timeZone: input.timeZone ?? row.timeZone,
        hours: input.hours ?? row.hours,
        holidays: input.holidays ? [...new Set(input.holidays)].sort() : row.holidays,
      };
      this.checkCalendar(next);
      Object.assign(row, next, { updatedAt: this.clock.now() });
      await tx.manager.save(SlaCalendarRow, row);
      return row;
    });
  }

  async deleteCalendar(id: string): Promise<void> {
    await this.uow.run(async (tx) => {
      if (await tx.manager.findOne(SlaPolicyRow, { where: { calendarId: id } })) {
        throw new TicketsError('sla_calendar_in_use', 'A policy still uses this calendar.');
      }
      const result = await tx.manager.delete(SlaCalendarRow, { id });
      if (!result.affected) throw new TicketsError('sla_calendar_not_found', 'There is no such calendar.');
    });
  }

  private checkCalendar(input: CalendarInput): void {
    const problems = validateCalendar({ timeZone: input.timeZone, hours: input.hours, holidays: input.holidays ?? [] });
    if (problems.length) throw new TicketsError('sla_calendar_invalid', `Invalid calendar: ${problems.join('; ')}`, { problems });
  }

  listPolicies(): Promise<SlaPolicyRow[]> {
    return this.dataSource.manager.find(SlaPolicyRow, { order: { position: 'ASC', createdAt: 'ASC', id: 'ASC' } });
  }

  async getPolicy(id: string): Promise<SlaPolicyRow> {
    const row = await this.dataSource.manager.findOne(SlaPolicyRow, { where: { id } });
    if (!row) throw new TicketsError('sla_policy_not_found', 'There is no such SLA policy.');
    return row;
  }

  async createPolicy(input: PolicyInput): Promise<SlaPolicyRow> {
    return this.uow.run(async (tx) => {
      await this.checkPolicy(input, tx.manager);
      const now = this.clock.now();
      const count = await tx.manager.count(SlaPolicyRow);
      const row = Object.assign(new SlaPolicyRow(), {
        id: randomUUID(),
        name: input.name,
        position: input.position ?? (count + 1) * 10,
        enabled: input.enabled ?? true,
        conditions: input.conditions ?? {},
        targets: input.targets,
        warningMinutes: input.warningMinutes ?? 0,
        calendarId: input.calendarId ?? null,
        escalation: input.escalation ?? {},
        createdAt: now,
        updatedAt: now,
      });
      await tx.manager.insert(SlaPolicyRow, row);
      return row;
    });
  }

  async updatePolicy(id: string, input: Partial<PolicyInput>): Promise<SlaPolicyRow> {
    return this.uow.run(async (tx) => {
      const row = await tx.manager.findOne(SlaPolicyRow, { where: { id } });
      if (!row) throw new TicketsError('sla_policy_not_found', 'There is no such SLA policy.');
      const next: PolicyInput = {
        name: input.name ?? row.name,
        position: input.position ?? row.position,
        enabled: input.enabled ?? row.enabled,
        conditions: input.conditions ?? row.conditions,
        targets: input.targets ?? row.targets,
        warningMinutes: input.warningMinutes ?? row.warningMinutes,
        calendarId: input.calendarId === undefined ? row.calendarId : input.calendarId,
        escalation: input.escalation ?? row.escalation,
      };
      await this.checkPolicy(next, tx.manager);
      Object.assign(row, next, { updatedAt: this.clock.now() });
      await tx.manager.save(SlaPolicyRow, row);
      return row;
    });
  }

  async deletePolicy(id: string): Promise<void> {
    // Running clocks keep their copied targets; they simply stop being re-evaluated against it.
    const result = await this.uow.run((tx) => tx.manager.update(SlaPolicyRow, { id }, { enabled: false, updatedAt: this.clock.now() }));
    if (!result.affected) throw new TicketsError('sla_policy_not_found', 'There is no such SLA policy.');
  }

  private async checkPolicy(input: PolicyInput, manager: DataSource['manager']): Promise<void> {
    const t = input.targets ?? {};
    if (!t.firstResponseMinutes && !t.nextResponseMinutes && !t.resolutionMinutes) {
      throw new TicketsError('sla_policy_invalid', 'A policy needs at least one target.', { field: 'targets' });
    }
    if (input.calendarId && !(await manager.findOne(SlaCalendarRow, { where: { id: input.calendarId } }))) {
      throw new TicketsError('sla_policy_invalid', 'The calendar does not exist.', { field: 'calendarId' });
    }
  }
}
