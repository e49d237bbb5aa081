import { createHash } from 'node:crypto';
import {
  chownSync,
  createReadStream,
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AppConfig } from '../platform/config/app-config.js';
import { DecryptStream, EncryptStream } from './backup.crypto.js';
import { readArchive, writeArchive, type EntryHeader, type WrittenEntry } from './backup.archive.js';
import { compareChecksums, databaseHasRows, dumpDatabase, restoreMysql, tableChecksums, type ChecksumReport } from './backup.database.js';
import { BackupError } from './backup.error.js';

/** What a backup says about itself; stored as its last entry. */
export interface BackupManifest {
  format: 1;
  appVersion: string;
  createdAt: string;
  database: {
    kind: 'sqlite' | 'mysql';
    /** Checksums of the data the dump holds; `consistent: false` when rows changed while dumping. */
    tables: ChecksumReport;
    consistent: boolean;
  };
  config: boolean;
  entries: WrittenEntry[];
}

export function appVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function configFile(config: AppConfig): string | undefined {
  return config.sources.find((source) => source.startsWith('file:'))?.slice('file:'.length);
}

/** Files under the data directory that belong in a backup: attachments, model packs, plugin data… */
function dataFiles(config: AppConfig, exclude: string[]): string[] {
  const root = config.dataDir;
  if (!existsSync(root)) return [];
  const skip = new Set(exclude.map((path) => resolve(path)));
  if (config.database.kind === 'sqlite') {
    for (const suffix of ['', '-wal', '-shm', '-journal']) skip.add(resolve(config.database.path + suffix));
  }
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (skip.has(path)) continue;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  walk(root);
  return files;
}

export interface CreateBackupResult {
  file: string;
  manifest: BackupManifest;
  bytes: number;
}

/**
 * Writes an encrypted backup: the database (consistent snapshot), the configuration file and the
 * data directory (attachments, model packs), then a manifest with checksums of everything.
 */
export async function createBackup(config: AppConfig, key: Buffer, output: string): Promise<CreateBackupResult> {
  const file = resolve(output);
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  const written: WrittenEntry[] = [];
  const manifest: BackupManifest = {
    format: 1,
    appVersion: appVersion(),
    createdAt: new Date().toISOString(),
    database: { kind: config.database.kind, tables: {}, consistent: true },
    config: false,
    entries: written,
  };

  async function* entries(): AsyncGenerator<{ header: EntryHeader; data: AsyncIterable<Buffer | string> }> {
    // The database first. The generator hands the dump stream over while the dump runs.
    const before = config.database.kind === 'mysql' ? await tableChecksums(config.database) : undefined;
    const queue: { header: EntryHeader; data: AsyncIterable<Buffer>; done: () => void }[] = [];
    let wake: (() => void) | undefined;
    let dumpFinished = false;
    const dump = dumpDatabase(config.database, (path, data) => {
      return new Promise<void>((resolveDone) => {
        queue.push({ header: { path }, data, done: resolveDone });
        wake?.();
      });
    }).then((result) => {
      dumpFinished = true;
      wake?.();
      return result;
    });
    dump.catch(() => wake?.());
    for (;;) {
      const next = queue.shift();
      if (next) {
        yield { header: next.header, data: next.data };
        next.done();
        continue;
      }
      if (dumpFinished) break;
      await Promise.race([new Promise<void>((r) => (wake = r)), dump.then(() => undefined)]);
    }
    const result = await dump;
    if (result.checksums) manifest.database.tables = result.checksums;
    else if (before) {
      // MySQL: the checksums come from their own snapshot; they describe the dump exactly when
      // nothing changed while it ran (stop the core for an exactly verifiable backup).
      const after = await tableChecksums(config.database);
      manifest.database.tables = after;
      manifest.database.consistent = compareChecksums(before, after).length === 0;
    }

    const configPath = configFile(config);
    if (configPath && existsSync(configPath)) {
      manifest.config = true;
      yield { header: { path: 'config/config.yaml', mode: 0o640 }, data: createReadStream(configPath) as AsyncIterable<Buffer> };
    }
    for (const path of dataFiles(config, [file, partial])) {
      const rel = relative(config.dataDir, path).split(sep).join('/');
      yield { header: { path: `data/${rel}`, mode: statSync(path).mode & 0o777 }, data: createReadStream(path) as AsyncIterable<Buffer> };
    }
    yield {
      header: { path: 'manifest.json' },
      data: (async function* () {
        yield Buffer.from(JSON.stringify(manifest, null, 2), 'utf8');
      })(),
    };
  }

  try {
    await pipeline(Readable.from(writeArchive(entries(), written)), new EncryptStream(key), createWriteStream(partial, { mode: 0o600 }));
    renameSync(partial, file);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  return { file, manifest, bytes: statSync(file).size };
}

async function sha256Of(data: AsyncIterable<Buffer>, sink?: (chunk: Buffer) => Promise<void>): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of data) {
    hash.update(chunk);
    size += chunk.length;
    if (sink) await sink(chunk);
  }
  return { sha256: hash.digest('hex'), size };
}

function checkEntries(manifest: BackupManifest | undefined, seen: WrittenEntry[]): void {
  if (!manifest) throw new BackupError('backup_corrupt', 'The backup has no manifest: it is incomplete.');
  const expected = new Map(manifest.entries.map((entry) => [entry.path, entry]));
  for (const entry of seen) {
    if (entry.path === 'manifest.json') continue;
    const want = expected.get(entry.path);
    if (!want || want.sha256 !== entry.sha256 || want.size !== entry.size) {
      throw new BackupError('backup_corrupt', `Entry ${entry.path} does not match the manifest.`);
    }
    expected.delete(entry.path);
  }
  if (expected.size) throw new BackupError('backup_corrupt', `Entries missing from the backup: ${[...expected.keys()].join(', ')}`);
}

function decryptFile(file: string, key: Buffer): DecryptStream {
  const input = createReadStream(resolve(file));
  const decrypted = new DecryptStream(key);
  input.once('error', (error) => decrypted.destroy(error));
  return input.pipe(decrypted);
}

/** Decrypts and checks every entry against the manifest without changing anything. */
export async function verifyBackup(file: string, key: Buffer): Promise<BackupManifest> {
  let manifest: BackupManifest | undefined;
  const seen: WrittenEntry[] = [];
  const decrypted = decryptFile(file, key);
  for await (const entry of readArchive(decrypted)) {
    if (entry.header.path === 'manifest.json') {
      const chunks: Buffer[] = [];
      for await (const chunk of entry.data) chunks.push(chunk);
      manifest = JSON.parse(Buffer.concat(chunks).toString('utf8')) as BackupManifest;
      continue;
    }
    const { sha256, size } = await sha256Of(entry.data);
    seen.push({ path: entry.header.path, sha256, size });
  }
  checkEntries(manifest, seen);
  return manifest!;
}

export interface RestoreOptions {
  /** Overwrite a database that already holds rows. */
  force?: boolean;
  /** Also write the backed-up configuration file here. */
  extractConfig?: string;
}

export interface RestoreResult {
  manifest: BackupManifest;
  tables: number;
  rows: number;
  files: number;
  problems: string[];
}

async function writeFileFrom(path: string, data: AsyncIterable<Buffer>, mode = 0o640): Promise<{ sha256: string; size: number }> {
  mkdirSync(dirname(path), { recursive: true });
  const out = createWriteStream(path, { mode });
  const done = new Promise<void>((resolveDone, reject) => {
    out.once('finish', resolveDone);
    out.once('error', reject);
  });
  const result = await sha256Of(data, async (chunk) => {
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  });
  out.end();
  await done;
  return result;
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (lstatSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), uid, gid);
}

/**
 * Restores a backup onto this installation (stop the core first). Files are unpacked beside the
 * data directory and checked against the manifest before anything is replaced; then the database
 * is replaced and its checksums compared with the backup's.
 */
export async function restoreBackup(config: AppConfig, key: Buffer, file: string, options: RestoreOptions = {}): Promise<RestoreResult> {
  if (!options.force && (await databaseHasRows(config.database))) {
    throw new BackupError('backup_target_not_empty', 'The database already holds data; pass --yes to replace it with the backup.');
  }
  // Authenticate the whole file first: nothing is touched unless every segment and entry checks out.
  const checked = await verifyBackup(file, key);
  if (checked.database.kind !== config.database.kind) {
    throw new BackupError(
      'backup_verification_failed',
      `The backup holds a ${checked.database.kind} database, but this installation uses ${config.database.kind}.`,
    );
  }

  const dataDir = config.dataDir;
  const staging = `${dataDir}.restore-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o750 });
  const seen: WrittenEntry[] = [];
  let files = 0;
  let manifest: BackupManifest | undefined;
  try {
    const decrypted = decryptFile(file, key);
    for await (const entry of readArchive(decrypted)) {
      const path = entry.header.path;
      let result: { sha256: string; size: number };
      if (path === 'manifest.json') {
        const chunks: Buffer[] = [];
        for await (const chunk of entry.data) chunks.push(chunk);
        manifest = JSON.parse(Buffer.concat(chunks).toString('utf8')) as BackupManifest;
        continue;
      } else if (path === 'db/dump.sql') {
        if (config.database.kind !== 'mysql') throw new BackupError('backup_verification_failed', 'A MySQL dump cannot be restored into SQLite.');
        const hash = createHash('sha256');
        let size = 0;
        const counted = (async function* () {
          for await (const chunk of entry.data) {
            hash.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        })();
        await restoreMysql(config.database, counted);
        result = { sha256: hash.digest('hex'), size };
      } else if (path === 'db/database.sqlite') {
        result = await writeFileFrom(join(staging, '.database.sqlite'), entry.data, 0o640);
      } else if (path === 'config/config.yaml') {
        result = options.extractConfig ? await writeFileFrom(resolve(options.extractConfig), entry.data, 0o640) : await sha256Of(entry.data);
      } else if (path.startsWith('data/')) {
        result = await writeFileFrom(join(staging, path.slice('data/'.length)), entry.data, entry.header.mode ?? 0o640);
        files += 1;
      } else {
        result = await sha256Of(entry.data);
      }
      seen.push({ path, ...result });
    }
    checkEntries(manifest, seen);

    // Swap the data directory, keeping its owner (the installer's service user).
    const owner = existsSync(dataDir) ? statSync(dataDir) : undefined;
    if (config.database.kind === 'sqlite') {
      const target = config.database.path;
      for (const suffix of ['-wal', '-shm', '-journal']) rmSync(target + suffix, { force: true });
      mkdirSync(dirname(target), { recursive: true });
      const insideDataDir = resolve(target).startsWith(resolve(dataDir) + sep);
      const rel = relative(dataDir, target);
      renameSync(join(staging, '.database.sqlite'), insideDataDir ? join(staging, rel) : target);
    }
    const old = `${dataDir}.before-restore-${Date.now()}`;
    if (existsSync(dataDir)) renameSync(dataDir, old);
    renameSync(staging, dataDir);
    rmSync(old, { recursive: true, force: true });
    if (owner && process.getuid?.() === 0) chownTree(dataDir, owner.uid, owner.gid);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }

  const actual = await tableChecksums(config.database);
  const problems = manifest!.database.consistent ? compareChecksums(manifest!.database.tables, actual) : [];
  const rows = Object.values(actual).reduce((sum, table) => sum + table.rows, 0);
  return { manifest: manifest!, tables: Object.keys(actual).length, rows, files, problems };
}
