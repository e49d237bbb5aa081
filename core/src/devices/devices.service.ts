import { Inject, Injectable } from '@nestjs/common';
import { In, LessThan, type DataSource, type FindOptionsWhere } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { UnitOfWork } from '../platform/database/unit-of-work.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { AccessPolicy } from '../identity/access-policy.js';
import type { Actor } from '../identity/actor.js';
import { TicketsService, type TicketView } from '../tickets/tickets.service.js';
import { DEVICE_STATES, DeviceReadingRow, DeviceRow, FaultEpisodeRow, type DeviceState } from './entities/device.entity.js';
import { DevicesError } from './devices.error.js';
import { DEVICE_ID_PATTERN } from './devices.events.js';
import { parseCsv } from './csv.js';
import type { Json } from '../platform/database/entity-columns.js';

export interface DeviceInput {
  id?: string;
  name?: string;
  model?: string | null;
  serialNumber?: string | null;
  firmware?: string | null;
  site?: string | null;
  location?: string | null;
  ownerContactId?: string | null;
  ownerOrganization?: string | null;
  teamId?: string | null;
  protocolPlugin?: string | null;
  connectionConfig?: Record<string, unknown> | null;
  tags?: string[];
}

export interface DeviceView {
  id: string;
  name: string;
  model: string | null;
  serialNumber: string | null;
  firmware: string | null;
  site: string | null;
  location: string | null;
  ownerContactId: string | null;
  ownerOrganization: string | null;
  teamId: string | null;
  protocolPlugin: string | null;
  connectionConfig: Record<string, unknown> | null;
  tags: string[];
  state: DeviceState;
  lastSeenAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface DeviceFilter {
  model?: string;
  site?: string;
  state?: DeviceState;
  tag?: string;
  ownerContactId?: string;
  cursor?: string;
  limit?: number;
}

export interface EpisodeView {
  id: string;
  deviceId: string;
  ruleId: string;
  status: string;
  severity: string;
  title: string;
  code: string | null;
  openedAt: string;
  closedAt: string | null;
  ticketId: string | null;
  occurrences: number;
  flaps: number;
  snapshot: unknown;
  latest: unknown;
  ownerNotified: boolean;
}

const CSV_COLUMNS = [
  'id',
  'name',
  'model',
  'serialNumber',
  'firmware',
  'site',
  'location',
  'ownerContactId',
  'ownerOrganization',
  'teamId',
  'protocolPlugin',
  'tags',
] as const;

export function deviceView(row: DeviceRow): DeviceView {
  return {
    id: row.id,
    name: row.name,
    model: row.model,
    serialNumber: row.serialNumber,
    firmware: row.firmware,
    site: row.site,
    location: row.location,
    ownerContactId: row.ownerContactId,
    ownerOrganization: row.ownerOrganization,
    teamId: row.teamId,
    protocolPlugin: row.protocolPlugin,
    connectionConfig: (row.connectionConfig as Record<string, unknown> | null) ?? null,
    tags: row.tags ?? [],
    state: row.state,
    lastSeenAt: row.lastSeenAt ? row.lastSeenAt.toISOString() : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function episodeView(row: FaultEpisodeRow): EpisodeView {
  return {
    id: row.id,
    deviceId: row.deviceId,
    ruleId: row.ruleId,
    status: row.status,
    severity: row.severity,
    title: row.title,
    code: row.code,
    openedAt: row.openedAt.toISOString(),
    closedAt: row.closedAt ? row.closedAt.toISOString() : null,
    ticketId: row.ticketId,
    occurrences: row.occurrences,
    flaps: row.flaps,
    snapshot: row.snapshot,
    latest: row.latest,
    ownerNotified: row.ownerNotified,
  };
}

function checkInput(input: DeviceInput, creating: boolean): void {
  const problems: string[] = [];
  if (creating && (!input.id || !DEVICE_ID_PATTERN.test(input.id))) problems.push('id must be 1–64 letters, digits, "_" or "-"');
  if (creating && (!input.name || !input.name.trim())) problems.push('name is required');
  if (input.name !== undefined && input.name.length > 200) problems.push('name must be at most 200 characters');
  if (
    input.tags !== undefined &&
    (!Array.isArray(input.tags) || input.tags.length > 50 || input.tags.some((tag) => typeof tag !== 'string' || !/^[\p{L}\p{N}_.:-]{1,64}$/u.test(tag)))
  ) {
    problems.push('tags must be up to 50 short words (letters, digits, _ . : -)');
  }
  if (problems.length) throw new DevicesError('device_invalid', problems.join('; '), { problems });
}

/** The device registry: devices, their readings and fault episodes, and links to tickets. */
@Injectable()
export class DevicesService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly uow: UnitOfWork,
    private readonly access: AccessPolicy,
    private readonly tickets: TicketsService,
  ) {}

  async create(actor: Actor, input: DeviceInput): Promise<DeviceView> {
    checkInput(input, true);
    if (input.teamId && !this.access.canSee(actor, { teamId: input.teamId }))
      throw new DevicesError('device_invalid', 'You cannot place a device in a team you are not in.');
    return this.uow.run(async (tx) => {
      if (await tx.manager.findOne(DeviceRow, { where: { id: input.id! } })) throw new DevicesError('device_exists', `Device "${input.id}" already exists.`);
      const now = this.clock.now();
      const row = tx.manager.create(DeviceRow, {
        ...this.fields(input),
        id: input.id!,
        name: input.name!.trim(),
        tags: input.tags ?? [],
        state: 'unknown',
        lastSeenAt: null,
        createdAt: now,
        updatedAt: now,
      });
      await tx.manager.insert(DeviceRow, row);
      return deviceView(row);
    });
  }

  async update(actor: Actor, id: string, input: DeviceInput): Promise<DeviceView> {
    checkInput(input, false);
    return this.uow.run(async (tx) => {
      const row = this.access.assertCanSee(actor, await tx.manager.findOne(DeviceRow, { where: { id } }), () => DevicesError.deviceNotFound(id));
      Object.assign(row, this.fields(input), input.name !== undefined ? { name: input.name.trim() } : {}, input.tags !== undefined ? { tags: input.tags } : {});
      row.updatedAt = this.clock.now();
      await tx.manager.save(DeviceRow, row);
      return deviceView(row);
    });
  }

  private fields(input: DeviceInput): Partial<DeviceRow> {
    const result: Partial<DeviceRow> = {};
    const keys = ['model', 'serialNumber', 'firmware', 'site', 'location', 'ownerContactId', 'ownerOrganization', 'teamId', 'protocolPlugin'] as const;
    for (const key of keys) if (input[key] !== undefined) (result as Record<string, unknown>)[key] = input[key] === '' ? null : input[key];
    if (input.connectionConfig !== undefined) result.connectionConfig = (input.connectionConfig as Json) ?? null;
    return result;
  }

  async get(actor: Actor, id: string): Promise<DeviceView> {
    return deviceView(await this.getRow(actor, id));
  }

  async getRow(actor: Actor, id: string): Promise<DeviceRow> {
    return this.access.assertCanSee(actor, await this.dataSource.manager.findOne(DeviceRow, { where: { id } }), () => DevicesError.deviceNotFound(id));
  }

  /** Devices owned by a contact, for the customer-360 view. */
  async ofContact(actor: Actor, contactId: string): Promise<DeviceView[]> {
    const rows = await this.dataSource.manager.find(DeviceRow, { where: { ownerContactId: contactId }, order: { id: 'ASC' }, take: 200 });
    return rows.filter((row) => this.access.canSee(actor, row)).map(deviceView);
  }

  async list(actor: Actor, filter: DeviceFilter): Promise<{ items: DeviceView[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 200);
    if (filter.state && !DEVICE_STATES.includes(filter.state)) throw new DevicesError('device_invalid', `state must be one of ${DEVICE_STATES.join(', ')}`);
    const teams = this.access.visibleTeams(actor);
    const query = this.dataSource.manager
      .createQueryBuilder(DeviceRow, 'd')
      .orderBy('d.id', 'ASC')
      .take(limit + 1);
    if (filter.model) query.andWhere('d.model = :model', { model: filter.model });
    if (filter.site) query.andWhere('d.site = :site', { site: filter.site });
    if (filter.state) query.andWhere('d.state = :state', { state: filter.state });
    if (filter.ownerContactId) query.andWhere('d.owner_contact_id = :owner', { owner: filter.ownerContactId });
    if (filter.cursor) query.andWhere('d.id > :cursor', { cursor: Buffer.from(filter.cursor, 'base64url').toString('utf8') });
    if (teams !== 'all') {
      if (teams.length) query.andWhere('(d.team_id IS NULL OR d.team_id IN (:...teams))', { teams });
      else query.andWhere('d.team_id IS NULL');
    }
    let rows = await query.getMany();
    if (filter.tag) rows = rows.filter((row) => row.tags.includes(filter.tag!));
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? Buffer.from(page.at(-1)!.id, 'utf8').toString('base64url') : null;
    return { items: page.map(deviceView), nextCursor };
  }

  async readings(
    actor: Actor,
    id: string,
    options: { metric?: string; since?: Date; limit?: number },
  ): Promise<Array<{ metric: string; value: number | string | null; ts: string; quality: string }>> {
    await this.getRow(actor, id);
    const where: FindOptionsWhere<DeviceReadingRow> = { deviceId: id };
    if (options.metric) where.metric = options.metric;
    const rows = await this.dataSource.manager.find(DeviceReadingRow, { where, order: { ts: 'DESC', id: 'DESC' }, take: Math.min(options.limit ?? 500, 5000) });
    return rows
      .filter((row) => !options.since || row.ts >= options.since)
      .reverse()
      .map((row) => ({ metric: row.metric, value: row.valueNum ?? row.valueText, ts: row.ts.toISOString(), quality: row.quality }));
  }

  async episodes(actor: Actor, id: string): Promise<EpisodeView[]> {
    await this.getRow(actor, id);
    const rows = await this.dataSource.manager.find(FaultEpisodeRow, { where: { deviceId: id }, order: { openedAt: 'DESC' }, take: 200 });
    return rows.map(episodeView);
  }

  async ticketsOf(actor: Actor, id: string): Promise<TicketView[]> {
    await this.getRow(actor, id);
    return this.tickets.findByLink('device', id);
  }

  /** Imports devices from CSV (header row with the column names); existing ids are updated. */
  async importCsv(actor: Actor, text: string): Promise<{ created: number; updated: number; errors: Array<{ line: number; message: string }> }> {
    let rows: string[][];
    try {
      rows = parseCsv(text, 50_000);
    } catch (error) {
      throw new DevicesError('device_import_invalid', `The CSV could not be read: ${(error as Error).message}`);
    }
    const [header, ...data] = rows;
    if (!header) throw new DevicesError('device_import_invalid', 'The CSV is empty.');
    const columns = header.map((name) => name.trim());
    const unknown = columns.filter((name) => !(CSV_COLUMNS as readonly string[]).includes(name));
    if (unknown.length || !columns.includes('id') || !columns.includes('name')) {
      throw new DevicesError('device_import_invalid', `Columns must be among ${CSV_COLUMNS.join(', ')} and include id and name.`, { unknown });
    }
    const result = { created: 0, updated: 0, errors: [] as Array<{ line: number; message: string }> };
    const existing = new Set(
      (await this.dataSource.manager.find(DeviceRow, { where: { id: In(data.map((cells) => cells[columns.indexOf('id')] ?? '')) }, select: { id: true } })).map(
        (row) => row.id,
      ),
    );
    for (const [index, cells] of data.entries()) {
      const record = Object.fromEntries(columns.map((name, column) => [name, (cells[column] ?? '').trim()])) as Record<string, string>;
      const input: DeviceInput = {
        ...record,
        tags: record.tags
          ? record.tags
              .split(/[;|]/)
              .map((tag) => tag.trim())
              .filter(Boolean)
          : [],
      };
      try {
        if (existing.has(record.id!)) {
          await this.update(actor, record.id!, { ...input, id: undefined });
          result.updated++;
        } else {
          await this.create(actor, input);
          existing.add(record.id!);
          result.created++;
        }
      } catch (error) {
        result.errors.push({ line: index + 2, message: (error as Error).message });
      }
    }
    return result;
  }

  /** Drops readings older than the retention horizon (a scheduled job). */
  async purgeReadings(olderThan: Date): Promise<void> {
    await this.dataSource.manager.delete(DeviceReadingRow, { ts: LessThan(olderThan) });
  }
}
