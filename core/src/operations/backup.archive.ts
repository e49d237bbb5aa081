import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { BackupError } from './backup.error.js';

/**
 * The plaintext inside an encrypted backup: a sequence of entries, each
 *   'E' | header length (u32 BE) | header JSON | data chunks (u32 BE length + bytes)… | u32 0
 * and a closing 'Z'. Entry data is streamed, so a database dump never has to sit on disk.
 */
export interface EntryHeader {
  /** `db/dump.sql`, `db/switchboard.sqlite`, `config/config.yaml`, `data/<relative path>`, `manifest.json` */
  path: string;
  mode?: number;
}

const u32 = (value: number): Buffer => {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
};

export interface WrittenEntry {
  path: string;
  size: number;
  sha256: string;
}

/** Yields the archive's bytes; `entries` supplies each entry's header and data. */
export async function* writeArchive(
  entries: AsyncIterable<{ header: EntryHeader; data: AsyncIterable<Buffer | string> }>,
  written: WrittenEntry[],
): AsyncGenerator<Buffer> {
  for await (const entry of entries) {
    const json = Buffer.from(JSON.stringify(entry.header), 'utf8');
    yield Buffer.concat([Buffer.from('E'), u32(json.length), json]);
    const hash = createHash('sha256');
    let size = 0;
    for await (const piece of entry.data) {
      const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
      if (!chunk.length) continue;
      hash.update(chunk);
      size += chunk.length;
      yield Buffer.concat([u32(chunk.length), chunk]);
    }
    yield u32(0);
    written.push({ path: entry.header.path, size, sha256: hash.digest('hex') });
  }
  yield Buffer.from('Z');
}

/** Reads exact byte counts from a stream of chunks. */
class ByteReader {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly iterator: AsyncIterator<Buffer>;
  private done = false;

  constructor(source: Readable) {
    this.iterator = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  async read(length: number): Promise<Buffer> {
    while (this.buffer.length < length) {
      if (this.done) throw new BackupError('backup_corrupt', 'The backup archive ends in the middle of an entry.');
      const next = await this.iterator.next();
      if (next.done) this.done = true;
      else this.buffer = this.buffer.length ? Buffer.concat([this.buffer, next.value]) : next.value;
    }
    const out = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return out;
  }
}

export interface ReadEntry {
  header: EntryHeader;
  /** Must be consumed completely before the next entry is read. */
  data: AsyncGenerator<Buffer>;
}

/** Parses the archive, yielding each entry with a stream of its data. */
export async function* readArchive(source: Readable): AsyncGenerator<ReadEntry> {
  const reader = new ByteReader(source);
  for (;;) {
    const kind = (await reader.read(1)).toString('latin1');
    if (kind === 'Z') return;
    if (kind !== 'E') throw new BackupError('backup_corrupt', 'The backup archive is damaged (bad entry marker).');
    const length = (await reader.read(4)).readUInt32BE(0);
    if (length > 1024 * 1024) throw new BackupError('backup_corrupt', 'The backup archive is damaged (entry header too long).');
    const header = JSON.parse((await reader.read(length)).toString('utf8')) as EntryHeader;
    if (typeof header.path !== 'string' || header.path.split('/').some((part) => part === '..' || part === '') || header.path.startsWith('/')) {
      throw new BackupError('backup_corrupt', `The backup holds an unsafe path: ${String(header.path)}`);
    }
    let finished = false;
    const data = (async function* () {
      for (;;) {
        const size = (await reader.read(4)).readUInt32BE(0);
        if (size === 0) break;
        yield await reader.read(size);
      }
      finished = true;
    })();
    yield { header, data };
    if (!finished) for await (const chunk of data) void chunk; // drain what the caller skipped
  }
}
