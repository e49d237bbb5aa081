import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import type { DatabaseConfig, MysqlDatabaseConfig } from '../platform/config/app-config.js';
import { BackupError } from './backup.error.js';

/** Row count and content hash of one table, computed identically on SQLite and MySQL. */
export interface TableChecksum {
  rows: number;
  sha256: string;
}
export type ChecksumReport = Record<string, TableChecksum>;

const DUMP_TOOLS = ['mariadb-dump', 'mysqldump'];
const CLIENT_TOOLS = ['mariadb', 'mysql'];
const TOOL_DIRS = ['/usr/bin', '/usr/local/bin', '/usr/local/mysql/bin', '/opt/homebrew/bin'];

function findTool(names: string[]): string {
  for (const name of names) for (const dir of TOOL_DIRS) if (existsSync(join(dir, name))) return join(dir, name);
  throw new BackupError('backup_tool_missing', `None of ${names.join(', ')} is installed (apt-get install mariadb-client).`);
}

interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

function mysqlTarget(config: MysqlDatabaseConfig): MysqlTarget {
  const url = new URL(config.url.replace(/^mariadb:/, 'mysql:'));
  return {
    host: url.hostname || '127.0.0.1',
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')),
  };
}

/** Credentials go through a private option file, never the command line (ps would show them). */
function withOptionFile<T>(target: MysqlTarget, run: (file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-backup-'));
  const file = join(dir, 'client.cnf');
  const quote = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  writeFileSync(file, `[client]\nhost=${target.host}\nport=${target.port}\nuser=${quote(target.user)}\npassword=${quote(target.password)}\n`, {
    mode: 0o600,
  });
  return run(file).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** Runs a MySQL client tool; resolves with its stdout stream handled by `use`. */
function runTool(command: string, args: string[], use: (child: ReturnType<typeof spawn>) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      if (stderr.length < 8192) stderr += chunk.toString('utf8');
    });
    let used: Promise<void> = Promise.resolve();
    child.once('spawn', () => {
      used = use(child);
      used.catch(() => child.kill('SIGTERM'));
    });
    child.once('error', (error) => reject(new BackupError('backup_tool_failed', `${command}: ${error.message}`)));
    child.once('close', (code) => {
      used.then(
        () =>
          code === 0
            ? resolve()
            : reject(new BackupError('backup_tool_failed', `${command} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' ')}`)),
        reject,
      );
    });
  });
}

/**
 * Streams a consistent dump of the database into `sink`. MySQL/MariaDB: mariadb-dump/mysqldump
 * with --single-transaction (one consistent snapshot, no locks on InnoDB). SQLite: the online
 * backup API into a temporary file, which is then streamed.
 */
export async function dumpDatabase(
  config: DatabaseConfig,
  sink: (path: string, data: AsyncIterable<Buffer>) => Promise<void>,
): Promise<{ checksums?: ChecksumReport }> {
  if (config.kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sb-backup-'));
    try {
      const copy = join(dir, 'snapshot.sqlite');
      const source = new Database(config.path, { readonly: true, fileMustExist: true });
      try {
        await source.backup(copy);
      } finally {
        source.close();
      }
      // The snapshot is exactly what the backup holds, so its checksums are exact.
      const checksums = sqliteChecksums(copy);
      const { createReadStream } = await import('node:fs');
      await sink('db/database.sqlite', createReadStream(copy) as AsyncIterable<Buffer>);
      return { checksums };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const target = mysqlTarget(config);
  const tool = findTool(DUMP_TOOLS);
  await withOptionFile(target, (file) =>
    runTool(
      tool,
      [
        `--defaults-extra-file=${file}`,
        '--single-transaction',
        '--quick',
        '--routines',
        '--triggers',
        '--no-tablespaces',
        '--hex-blob',
        '--default-character-set=utf8mb4',
        '--skip-comments',
        target.database,
      ],
      async (child) => {
        child.stdin!.end();
        await sink('db/dump.sql', child.stdout! as Readable as AsyncIterable<Buffer>);
      },
    ),
  );
  return {};
}

/** Empties the target database (every table and view), then loads the dump through the mysql client. */
export async function restoreMysql(config: MysqlDatabaseConfig, dump: AsyncIterable<Buffer>): Promise<void> {
  const target = mysqlTarget(config);
  const mysql = await import('mysql2/promise');
  const connection = await mysql.createConnection({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
  });
  try {
    const [rows] = await connection.query('SELECT table_name AS name, table_type AS type FROM information_schema.tables WHERE table_schema = DATABASE()');
    const objects = rows as { name: string; type: string }[];
    await connection.query('SET FOREIGN_KEY_CHECKS = 0');
    for (const object of objects) {
      await connection.query(`DROP ${object.type === 'VIEW' ? 'VIEW' : 'TABLE'} IF EXISTS \`${object.name.replace(/`/g, '``')}\``);
    }
    await connection.query('SET FOREIGN_KEY_CHECKS = 1');
  } finally {
    await connection.end();
  }
  const tool = findTool(CLIENT_TOOLS);
  await withOptionFile(target, (file) =>
    runTool(tool, [`--defaults-extra-file=${file}`, '--default-character-set=utf8mb4', '--binary-mode', target.database], async (child) => {
      child.stdout!.resume();
      for await (const chunk of dump) {
        if (!child.stdin!.write(chunk)) await new Promise<void>((resolve) => child.stdin!.once('drain', () => resolve()));
      }
      child.stdin!.end();
    }),
  );
}

/** Whether the database holds any row at all (restore refuses to overwrite data without --yes). */
export async function databaseHasRows(config: DatabaseConfig): Promise<boolean> {
  const report = await tableChecksums(config, { countOnly: true });
  return Object.entries(report).some(([name, table]) => name !== 'schema_migrations' && table.rows > 0);
}

function canonical(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Buffer.isBuffer(value)) return `x'${value.toString('hex')}'`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value);
}

function hashRows(rows: Iterable<Record<string, unknown>>): TableChecksum {
  const hash = createHash('sha256');
  let count = 0;
  for (const row of rows) {
    const keys = Object.keys(row).sort();
    hash.update(keys.map((key) => `${key}=${canonical(row[key])}`).join('\u0001'));
    hash.update('\n');
    count += 1;
  }
  return { rows: count, sha256: hash.digest('hex') };
}

function sqliteChecksums(path: string, countOnly = false): ChecksumReport {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
    const report: ChecksumReport = {};
    for (const { name } of tables) {
      const quoted = `"${name.replace(/"/g, '""')}"`;
      if (countOnly) {
        const { n } = db.prepare(`SELECT COUNT(*) AS n FROM ${quoted}`).get() as { n: number };
        report[name] = { rows: n, sha256: '' };
        continue;
      }
      const columns = db.prepare(`PRAGMA table_info(${quoted})`).all() as { name: string; pk: number }[];
      const keys = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
      const order = (keys.length ? keys : columns).map((c) => `"${c.name.replace(/"/g, '""')}"`).join(', ');
      const statement = db.prepare(`SELECT * FROM ${quoted} ORDER BY ${order}`).safeIntegers(true);
      report[name] = hashRows(statement.iterate() as Iterable<Record<string, unknown>>);
    }
    return report;
  } finally {
    db.close();
  }
}

async function mysqlChecksums(config: MysqlDatabaseConfig, countOnly = false): Promise<ChecksumReport> {
  const target = mysqlTarget(config);
  const mysql = await import('mysql2/promise');
  const connection = await mysql.createConnection({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    charset: 'utf8mb4_unicode_ci',
  });
  try {
    // One snapshot for every table, like the dump's.
    await connection.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const [tables] = await connection.query(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name",
    );
    const report: ChecksumReport = {};
    for (const { name } of tables as { name: string }[]) {
      const quoted = `\`${name.replace(/`/g, '``')}\``;
      if (countOnly) {
        const [[row]] = (await connection.query(`SELECT COUNT(*) AS n FROM ${quoted}`)) as unknown as [[{ n: string | number }]];
        report[name] = { rows: Number(row.n), sha256: '' };
        continue;
      }
      const [keyRows] = await connection.query(
        "SELECT column_name AS name FROM information_schema.key_column_usage WHERE table_schema = DATABASE() AND table_name = ? AND constraint_name = 'PRIMARY' ORDER BY ordinal_position",
        [name],
      );
      let keys = (keyRows as { name: string }[]).map((row) => row.name);
      if (!keys.length) {
        const [columnRows] = await connection.query(
          'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position',
          [name],
        );
        keys = (columnRows as { name: string }[]).map((row) => row.name);
      }
      const order = keys.map((key) => `\`${key.replace(/`/g, '``')}\``).join(', ');
      const [rows] = await connection.query(`SELECT * FROM ${quoted} ORDER BY ${order}`);
      report[name] = hashRows(rows as Record<string, unknown>[]);
    }
    await connection.query('COMMIT');
    return report;
  } finally {
    await connection.end();
  }
}

/** Row counts and content checksums of every table, for backup manifests and `backup checksum`. */
export async function tableChecksums(config: DatabaseConfig, options: { countOnly?: boolean } = {}): Promise<ChecksumReport> {
  if (config.kind === 'sqlite') {
    if (config.path === ':memory:' || !existsSync(config.path)) return {};
    return sqliteChecksums(config.path, options.countOnly);
  }
  return mysqlChecksums(config, options.countOnly);
}

export function compareChecksums(expected: ChecksumReport, actual: ChecksumReport): string[] {
  const problems: string[] = [];
  for (const [name, table] of Object.entries(expected)) {
    const found = actual[name];
    if (!found) problems.push(`table ${name} is missing`);
    else if (found.rows !== table.rows) problems.push(`table ${name}: ${found.rows} rows, expected ${table.rows}`);
    else if (found.sha256 !== table.sha256) problems.push(`table ${name}: content differs (same row count)`);
  }
  for (const name of Object.keys(actual)) if (!(name in expected)) problems.push(`table ${name} is not in the backup`);
  return problems;
}
