import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { backends, testConfig } from '../../test/harness/test-app.js';
import type { AppConfig } from '../platform/config/app-config.js';
import { createBackup, restoreBackup, verifyBackup } from './backup.service.js';
import { tableChecksums } from './backup.database.js';
import { parseKey } from './backup.crypto.js';

const TEXT = ['plain', '中文客服 😀 emoji', "quote ' and \\ backslash", 'x'.repeat(300_000)];

async function seed(config: AppConfig): Promise<void> {
  const rows = TEXT.map((body, index) => ({ id: index + 1, body, data: randomBytes(64) }));
  if (config.database.kind === 'sqlite') {
    mkdirSync(config.dataDir, { recursive: true });
    const db = new Database(config.database.path);
    db.exec('CREATE TABLE probe (id INTEGER PRIMARY KEY, body TEXT, data BLOB)');
    const insert = db.prepare('INSERT INTO probe (id, body, data) VALUES (?, ?, ?)');
    for (const row of rows) insert.run(row.id, row.body, row.data);
    db.close();
  } else {
    const mysql = await import('mysql2/promise');
    const connection = await mysql.createConnection({ uri: config.database.url, charset: 'utf8mb4_unicode_ci' });
    await connection.query('CREATE TABLE probe (id INT PRIMARY KEY, body LONGTEXT, data BLOB, at DATETIME(3)) DEFAULT CHARSET=utf8mb4');
    for (const row of rows)
      await connection.query('INSERT INTO probe (id, body, data, at) VALUES (?, ?, ?, ?)', [row.id, row.body, row.data, '2026-11-01 10:00:00.123']);
    await connection.end();
  }
  mkdirSync(join(config.dataDir, 'attachments', '2026'), { recursive: true });
  writeFileSync(join(config.dataDir, 'attachments', '2026', 'scan.pdf'), randomBytes(3 * 1024 * 1024 + 17));
  mkdirSync(join(config.dataDir, 'models'), { recursive: true });
  writeFileSync(join(config.dataDir, 'models', 'intent.onnx'), randomBytes(1000));
}

describe.each(backends())('backup and restore on $name', (backend) => {
  it('restores identical data onto a fresh installation and refuses damaged or foreign backups', async () => {
    const key = randomBytes(32);
    const work = mkdtempSync(join(tmpdir(), 'sb-backup-test-'));
    try {
      const source = testConfig(await backend.env());
      await seed(source);
      const before = await tableChecksums(source.database);
      expect(before.probe.rows).toBe(TEXT.length);

      const file = join(work, 'one.sbbk');
      const created = await createBackup(source, key, file);
      expect(created.manifest.database.consistent).toBe(true);
      expect(created.manifest.database.tables.probe).toEqual(before.probe);
      expect(readFileSync(file).includes(Buffer.from('中文客服'))).toBe(false);

      const verified = await verifyBackup(file, key);
      expect(verified.entries.map((entry) => entry.path)).toEqual(expect.arrayContaining(['data/attachments/2026/scan.pdf', 'data/models/intent.onnx']));
      await expect(verifyBackup(file, randomBytes(32))).rejects.toMatchObject({ code: 'backup_wrong_key' });
      const damaged = readFileSync(file);
      damaged[Math.floor(damaged.length / 2)] ^= 0x40;
      writeFileSync(join(work, 'damaged.sbbk'), damaged);
      await expect(verifyBackup(join(work, 'damaged.sbbk'), key)).rejects.toMatchObject({ code: 'backup_corrupt' });
      writeFileSync(join(work, 'cut.sbbk'), readFileSync(file).subarray(0, damaged.length - 100));
      await expect(verifyBackup(join(work, 'cut.sbbk'), key)).rejects.toMatchObject({ code: 'backup_corrupt' });

      // A fresh installation: an empty database and an empty data directory.
      const target = testConfig(await backend.env());
      const restored = await restoreBackup(target, key, file);
      expect(restored.problems).toEqual([]);
      expect(await tableChecksums(target.database)).toEqual(before);
      expect(readFileSync(join(target.dataDir, 'attachments', '2026', 'scan.pdf'))).toEqual(
        readFileSync(join(source.dataDir, 'attachments', '2026', 'scan.pdf')),
      );
      expect(readFileSync(join(target.dataDir, 'models', 'intent.onnx'))).toEqual(readFileSync(join(source.dataDir, 'models', 'intent.onnx')));

      await expect(restoreBackup(target, key, file)).rejects.toMatchObject({ code: 'backup_target_not_empty' });
      expect((await restoreBackup(target, key, file, { force: true })).problems).toEqual([]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('backup keys', () => {
  it('accepts the appliance key as hex or base64 and refuses anything else', () => {
    const key = randomBytes(32);
    expect(parseKey(key.toString('hex'))).toEqual(key);
    expect(parseKey(key.toString('base64'))).toEqual(key);
    expect(() => parseKey('short')).toThrow(/32 bytes/);
  });
});
