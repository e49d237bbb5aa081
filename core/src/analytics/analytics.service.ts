import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { Between, In, type DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { IdempotentConsumers } from '../platform/outbox/idempotent-consumers.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { SettingsService } from '../settings/settings.service.js';
import { AccessPolicy } from '../identity/access-policy.js';
import type { Actor } from '../identity/actor.js';
import { businessMsBetween, compileCalendar, validateCalendar, type CalendarSpec, type CompiledCalendar } from '../tickets/sla/business-time.js';
import { ConversationFactRow, ResponseFactRow, TicketFactRow } from './entities/analytics-facts.entity.js';
import { AnalyticsProjector } from './analytics.projector.js';
import { ANALYTICS_SUBJECTS } from './analytics.events.js';
import { AnalyticsError } from './analytics.error.js';
import { METRIC_NAMES, MetricAccumulator, type MetricValues } from './analytics.metrics.js';

export const DIMENSIONS = ['day', 'team', 'agent', 'channel'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface ReportQuery {
  from: Date;
  to: Date;
  groupBy: Dimension[];
  teamId?: string;
  agentId?: string;
  channel?: string;
}

export interface ReportRow {
  day?: string;
  team?: string | null;
  agent?: string | null;
  channel?: string | null;
  metrics: MetricValues;
}

export interface Report {
  from: string;
  to: string;
  timeZone: string;
  businessHours: boolean;
  fcrWindowDays: number;
  groupBy: Dimension[];
  rows: ReportRow[];
  totals: MetricValues;
}

interface Point {
  at: Date;
  teamId: string | null;
  agentId: string | null;
  channel: string | null;
}

const MAX_RANGE_MS = 370 * 24 * 3600 * 1000;

@Injectable()
export class AnalyticsService implements OnModuleInit, OnApplicationBootstrap {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly consumers: IdempotentConsumers,
    private readonly projector: AnalyticsProjector,
    private readonly settings: SettingsService,
    private readonly access: AccessPolicy,
  ) {}

  onModuleInit(): void {
    this.settings.define({
      key: 'analytics.fcrWindowDays',
      description: 'First-contact resolution: days without a new conversation from the same contact after resolution',
      default: 7,
      validate: (value) => (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 90 ? null : 'must be an integer between 1 and 90'),
    });
    this.settings.define({
      key: 'analytics.businessCalendar',
      description: 'Business hours used for response and resolution times (null = around the clock)',
      default: null,
      validate: (value) => {
        if (value === null) return null;
        if (!value || typeof value !== 'object') return 'must be null or { timeZone, hours, holidays }';
        const problems = validateCalendar(value as CalendarSpec);
        return problems.length ? problems.join('; ') : null;
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const subject of ANALYTICS_SUBJECTS) {
      await this.consumers.register({
        name: `analytics-${subject.split('.')[2]}`,
        subject,
        handle: (event, tx) => this.projector.apply(event, tx),
        filter: (event) => this.projector.handles(event),
        prepare: (events, tx) => this.projector.prefetch(events, tx),
        finish: (tx) => this.projector.finish(tx),
        // Projections only write through tx: many events per transaction keep up with busy desks.
        batch: 100,
        batchWaitMs: 50,
      });
    }
  }

  private calendar(): CompiledCalendar | null {
    const spec = this.settings.get<CalendarSpec | null>('analytics.businessCalendar');
    return spec ? compileCalendar(spec) : null;
  }

  async report(actor: Actor, query: ReportQuery): Promise<Report> {
    this.validate(query);
    const teams = this.access.visibleTeams(actor);
    if (query.teamId && teams !== 'all' && !teams.includes(query.teamId)) {
      throw new AnalyticsError('analytics_team_not_found', `Team ${query.teamId} was not found.`);
    }
    const timeZone = this.settings.get<string>('general.timezone');
    const fcrWindowDays = this.settings.get<number>('analytics.fcrWindowDays');
    const calendar = this.calendar();
    const business = (from: Date, to: Date) => (to <= from ? 0 : businessMsBetween(calendar, from, to));
    const dayOf = dayFormatter(timeZone);
    const keep = (point: Point) =>
      (teams === 'all' || (point.teamId !== null && teams.includes(point.teamId))) &&
      (!query.teamId || point.teamId === query.teamId) &&
      (!query.agentId || point.agentId === query.agentId) &&
      (!query.channel || point.channel === query.channel);

    const groups = new Map<string, { row: Omit<ReportRow, 'metrics'>; acc: MetricAccumulator }>();
    const totals = new MetricAccumulator();
    const accumulate = (point: Point, apply: (acc: MetricAccumulator) => void) => {
      if (!keep(point)) return;
      const row: Omit<ReportRow, 'metrics'> = {};
      for (const dimension of query.groupBy) {
        if (dimension === 'day') row.day = dayOf(point.at);
        if (dimension === 'team') row.team = point.teamId;
        if (dimension === 'agent') row.agent = point.agentId;
        if (dimension === 'channel') row.channel = point.channel;
      }
      const key = JSON.stringify(row);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { row, acc: new MetricAccumulator() }));
      apply(group.acc);
      apply(totals);
    };

    const manager = this.dataSource.manager;
    const range = Between(query.from, query.to);
    const [created, resolved, responses, tickets] = await Promise.all([
      manager.find(ConversationFactRow, { where: { createdAt: range } }),
      manager.find(ConversationFactRow, { where: { resolvedAt: range } }),
      manager.find(ResponseFactRow, { where: { respondedAt: range } }),
      manager.find(TicketFactRow, { where: { solvedAt: range } }),
    ]);

    for (const fact of created) {
      if (!fact.createdAt || fact.createdAt >= query.to) continue;
      const point = { at: fact.createdAt, teamId: fact.teamId, agentId: fact.agentId, channel: fact.channel };
      accumulate(point, (acc) => {
        acc.created++;
        if (fact.botReplied) {
          acc.botConversations++;
          if (fact.handedOver) acc.transferred++;
          else if (fact.resolvedAt) acc.contained++;
        }
      });
    }

    const windowMs = fcrWindowDays * 24 * 3600 * 1000;
    const now = this.clock.now();
    const laterByContact = await this.laterConversations(resolved, query.to, windowMs);
    for (const fact of resolved) {
      if (!fact.resolvedAt || fact.resolvedAt >= query.to) continue;
      const resolvedAt = fact.resolvedAt;
      const point = { at: resolvedAt, teamId: fact.teamId, agentId: fact.agentId, channel: fact.channel };
      accumulate(point, (acc) => {
        acc.resolved++;
        if (fact.reopenCount > 0) acc.reopened++;
        if (fact.createdAt) {
          acc.resolutionTotal += business(fact.firstInboundAt ?? fact.createdAt, resolvedAt);
          acc.resolutionCount++;
        }
        if (resolvedAt.getTime() + windowMs <= now.getTime()) {
          acc.fcrEligible++;
          const returned = (laterByContact.get(fact.contactId ?? '') ?? []).some(
            (other) => other.conversationId !== fact.conversationId && other.at > resolvedAt && other.at.getTime() <= resolvedAt.getTime() + windowMs,
          );
          if (!returned && fact.reopenCount === 0) acc.fcrYes++;
        }
        if (fact.csatRequested) acc.csatRequested++;
        if (fact.csatScore !== null) {
          acc.csatAnswered++;
          acc.csatSum += fact.csatScore;
        }
      });
    }

    for (const response of responses) {
      if (response.respondedAt >= query.to) continue;
      const point = { at: response.respondedAt, teamId: response.teamId, agentId: response.agentId, channel: response.channel };
      const waited = business(response.waitingSince, response.respondedAt);
      accumulate(point, (acc) => {
        acc.responseTotal += waited;
        acc.responseCount++;
        if (response.isFirst) {
          acc.firstResponseTotal += waited;
          acc.firstResponseCount++;
        }
      });
    }

    for (const ticket of tickets) {
      if (!ticket.solvedAt || ticket.solvedAt >= query.to) continue;
      accumulate({ at: ticket.solvedAt, teamId: ticket.teamId, agentId: ticket.agentId, channel: null }, (acc) => {
        acc.ticketsSolved++;
        if (!ticket.slaBreached) acc.ticketsWithinSla++;
      });
    }

    const rows = [...groups.values()].map(({ row, acc }) => ({ ...row, metrics: acc.values() })).sort((a, b) => compareRows(a, b, query.groupBy));
    return {
      from: query.from.toISOString(),
      to: query.to.toISOString(),
      timeZone,
      businessHours: calendar !== null,
      fcrWindowDays,
      groupBy: query.groupBy,
      rows,
      totals: totals.values(),
    };
  }

  /** Conversations created after each resolved conversation's contact, within the FCR window. */
  private async laterConversations(
    resolved: ConversationFactRow[],
    to: Date,
    windowMs: number,
  ): Promise<Map<string, Array<{ conversationId: string; at: Date }>>> {
    const contacts = [...new Set(resolved.map((fact) => fact.contactId).filter((id): id is string => Boolean(id)))];
    const result = new Map<string, Array<{ conversationId: string; at: Date }>>();
    const earliest = resolved.reduce<Date | null>((min, fact) => (fact.resolvedAt && (!min || fact.resolvedAt < min) ? fact.resolvedAt : min), null);
    if (!earliest) return result;
    for (let index = 0; index < contacts.length; index += 500) {
      const batch = contacts.slice(index, index + 500);
      const later = await this.dataSource.manager.find(ConversationFactRow, {
        where: { contactId: In(batch), createdAt: Between(earliest, new Date(to.getTime() + windowMs)) },
        select: { conversationId: true, contactId: true, createdAt: true },
      });
      for (const fact of later) {
        if (!fact.contactId || !fact.createdAt) continue;
        const list = result.get(fact.contactId) ?? [];
        list.push({ conversationId: fact.conversationId, at: fact.createdAt });
        result.set(fact.contactId, list);
      }
    }
    return result;
  }

  toCsv(report: Report): string {
    const dimensions = report.groupBy;
    const header = [...dimensions, ...METRIC_NAMES];
    const lines = [header.join(',')];
    for (const row of report.rows) {
      const cells = [...dimensions.map((dimension) => row[dimension] ?? ''), ...METRIC_NAMES.map((name) => row.metrics[name] ?? '')];
      lines.push(cells.map(csvCell).join(','));
    }
    return `${lines.join('\r\n')}\r\n`;
  }

  private validate(query: ReportQuery): void {
    if (Number.isNaN(query.from.getTime()) || Number.isNaN(query.to.getTime())) {
      throw new AnalyticsError('analytics_invalid_range', 'from and to must be ISO 8601 times.');
    }
    if (query.to <= query.from) throw new AnalyticsError('analytics_invalid_range', 'to must be after from.');
    if (query.to.getTime() - query.from.getTime() > MAX_RANGE_MS) throw new AnalyticsError('analytics_invalid_range', 'The range may span at most 370 days.');
    for (const dimension of query.groupBy) {
      if (!DIMENSIONS.includes(dimension)) throw new AnalyticsError('analytics_invalid_group', `groupBy accepts ${DIMENSIONS.join(', ')}; got "${dimension}".`);
    }
  }
}

function dayFormatter(timeZone: string): (date: Date) => string {
  const format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return (date) => format.format(date);
}

function compareRows(a: ReportRow, b: ReportRow, dimensions: Dimension[]): number {
  for (const dimension of dimensions) {
    const left = String(a[dimension] ?? '');
    const right = String(b[dimension] ?? '');
    if (left !== right) return left < right ? -1 : 1;
  }
  return 0;
}

/** Quotes a CSV cell and defuses spreadsheet formulas (=, +, -, @ at the start). */
function csvCell(value: unknown): string {
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
