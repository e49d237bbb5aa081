import { Inject, Injectable } from '@nestjs/common';
import { LessThan, type DataSource } from 'typeorm';
import { DATA_SOURCE } from '../database/database.tokens.js';
import { RowReader } from '../database/row-reader.js';
import { RowInserter } from '../database/row-inserter.js';
import { isDuplicateKeyError } from '../database/duplicate-key.js';
import { CLOCK, type Clock } from '../clock/clock.js';
import { PluginKvRow } from './entities/plugin-kv.entity.js';
import { PluginError } from './plugin-host.error.js';

const MAX_VALUE_BYTES = 64 * 1024;

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 191) throw new PluginError('plugin_call_failed', 'kv keys are strings of 1–191 characters');
  return key;
}

function encode(value: unknown): string {
  const text = JSON.stringify(value ?? null);
  if (Buffer.byteLength(text) > MAX_VALUE_BYTES) throw new PluginError('plugin_call_failed', `kv values are limited to ${MAX_VALUE_BYTES} bytes of JSON`);
  return text;
}

/** `ctx.kv`: per-instance JSON values with optional expiry, in the core's database. */
@Injectable()
export class PluginKvStore {
  private readonly rows: RowReader<PluginKvRow>;
  private readonly inserter = new RowInserter();

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.rows = new RowReader(dataSource, PluginKvRow);
  }

  private expiry(ttlMs: unknown): Date | null {
    if (ttlMs === undefined || ttlMs === null) return null;
    if (typeof ttlMs !== 'number' || ttlMs <= 0 || ttlMs > 366 * 86_400_000)
      throw new PluginError('plugin_call_failed', 'ttlMs must be a positive number of milliseconds (at most a year)');
    return new Date(this.clock.now().getTime() + ttlMs);
  }

  async get(instanceId: string, key: unknown): Promise<unknown> {
    const row = await this.rows.findOneBy(this.dataSource.manager, { instanceId, key: checkKey(key) });
    if (!row) return undefined;
    if (row.expiresAt && row.expiresAt.getTime() <= this.clock.now().getTime()) return undefined;
    return JSON.parse(row.value) as unknown;
  }

  async set(instanceId: string, key: unknown, value: unknown, ttlMs?: unknown): Promise<void> {
    const row = { instanceId, key: checkKey(key), value: encode(value), expiresAt: this.expiry(ttlMs), updatedAt: this.clock.now() };
    await this.dataSource.manager.upsert(PluginKvRow, row, ['instanceId', 'key']);
  }

  async setIfAbsent(instanceId: string, key: unknown, value: unknown, ttlMs?: unknown): Promise<boolean> {
    const row = { instanceId, key: checkKey(key), value: encode(value), expiresAt: this.expiry(ttlMs), updatedAt: this.clock.now() };
    try {
      await this.inserter.insert(this.dataSource.manager, PluginKvRow, row);
      return true;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    // Present: take it over only if it expired (conditional update, so two racers cannot both win).
    const result = await this.dataSource.manager.update(
      PluginKvRow,
      { instanceId, key: row.key, expiresAt: LessThan(this.clock.now()) },
      { value: row.value, expiresAt: row.expiresAt, updatedAt: row.updatedAt },
    );
    return (result.affected ?? 0) > 0;
  }

  async delete(instanceId: string, key: unknown): Promise<void> {
    await this.dataSource.manager.delete(PluginKvRow, { instanceId, key: checkKey(key) });
  }

  async list(instanceId: string, prefix: unknown, limit: unknown): Promise<string[]> {
    if (typeof prefix !== 'string' || prefix.length > 191) throw new PluginError('plugin_call_failed', 'prefix must be a string of at most 191 characters');
    const max = typeof limit === 'number' && limit > 0 ? Math.min(limit, 1000) : 100;
    const escaped = prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
    const rows = await this.dataSource.manager
      .createQueryBuilder(PluginKvRow, 'kv')
      .select(['kv.key', 'kv.expiresAt'])
      .where('kv.instance_id = :instanceId', { instanceId })
      .andWhere("kv.kv_key LIKE :pattern ESCAPE '\\'", { pattern: `${escaped}%` })
      .orderBy('kv.kv_key', 'ASC')
      .limit(max * 2)
      .getMany();
    const now = this.clock.now().getTime();
    return rows
      .filter((row) => !row.expiresAt || row.expiresAt.getTime() > now)
      .slice(0, max)
      .map((row) => row.key);
  }

  async purgeExpired(): Promise<void> {
    await this.dataSource.manager.delete(PluginKvRow, { expiresAt: LessThan(this.clock.now()) });
  }

  async deleteAll(instanceId: string): Promise<void> {
    await this.dataSource.manager.delete(PluginKvRow, { instanceId });
  }
}
