import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { BackupError } from './backup.error.js';

/**
 * Backup encryption: AES-256-GCM in independently authenticated segments (a "STREAM" construction),
 * so backups of any size are encrypted and decrypted as streams, and a truncated, reordered or
 * altered file is refused before any of its plaintext is trusted.
 *
 * File layout:
 *   MAGIC (10 bytes) | header length (u32 BE) | header JSON
 *   segments: ciphertext length (u32 BE) | final flag (u8) | ciphertext | GCM tag (16 bytes)
 * Segment i uses nonce = noncePrefix (8 random bytes) || i (u32 BE) and authenticates
 * sha256(magic || header) || i || final flag as associated data. The last segment has final = 1.
 */
export const BACKUP_MAGIC = Buffer.from('SBBACKUP1\n', 'latin1');
const SEGMENT = 1024 * 1024;
const TAG = 16;

export interface BackupHeader {
  format: 1;
  cipher: 'aes-256-gcm';
  segmentSize: number;
  noncePrefix: string;
  /** First 16 hex digits of sha256("switchboard-backup-key" || key): tells a wrong key from a damaged file. */
  keyId: string;
  createdAt: string;
}

/** Accepts 32 bytes as 64 hex digits or base64 (the appliance key's formats). */
export function parseKey(text: string): Buffer {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(value)) return Buffer.from(value, 'base64');
  throw new BackupError('backup_key_invalid', 'The backup key must be 32 bytes written as 64 hex digits or base64.');
}

export function loadKey(options: { keyFile?: string; key?: string }): Buffer {
  if (options.keyFile) {
    let text: string;
    try {
      text = readFileSync(options.keyFile, 'utf8');
    } catch (error) {
      throw new BackupError('backup_key_missing', `Cannot read the key file ${options.keyFile}: ${(error as Error).message}`);
    }
    return parseKey(text);
  }
  if (options.key) return parseKey(options.key);
  throw new BackupError(
    'backup_key_missing',
    'No encryption key: pass --key-file, or set SWITCHBOARD_KEY_FILE or SWITCHBOARD_ENCRYPTION_KEY (the installer sets both).',
  );
}

export const keyId = (key: Buffer): string => createHash('sha256').update('switchboard-backup-key').update(key).digest('hex').slice(0, 16);

const u32 = (value: number): Buffer => {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
};

function aad(headerHash: Buffer, index: number, final: boolean): Buffer {
  return Buffer.concat([headerHash, u32(index), Buffer.from([final ? 1 : 0])]);
}

function nonce(prefix: Buffer, index: number): Buffer {
  return Buffer.concat([prefix, u32(index)]);
}

/** Plaintext in, encrypted backup file bytes out. */
export class EncryptStream extends Transform {
  private readonly prefix = randomBytes(8);
  private readonly headerHash: Buffer;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private index = 0;

  constructor(private readonly key: Buffer) {
    super();
    const header: BackupHeader = {
      format: 1,
      cipher: 'aes-256-gcm',
      segmentSize: SEGMENT,
      noncePrefix: this.prefix.toString('hex'),
      keyId: keyId(key),
      createdAt: new Date().toISOString(),
    };
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const preamble = Buffer.concat([BACKUP_MAGIC, u32(json.length), json]);
    this.headerHash = createHash('sha256').update(preamble).digest();
    this.push(preamble);
  }

  private seal(plain: Buffer, final: boolean): void {
    if (this.index >= 0xffffffff) throw new BackupError('backup_corrupt', 'Backup too large for one file.');
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce(this.prefix, this.index));
    cipher.setAAD(aad(this.headerHash, this.index, final));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    this.push(Buffer.concat([u32(body.length), Buffer.from([final ? 1 : 0]), body, cipher.getAuthTag()]));
    this.index += 1;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes >= SEGMENT) {
        let all = Buffer.concat(this.pending);
        while (all.length >= SEGMENT) {
          this.seal(all.subarray(0, SEGMENT), false);
          all = all.subarray(SEGMENT);
        }
        this.pending = all.length ? [Buffer.from(all)] : [];
        this.pendingBytes = all.length;
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.seal(Buffer.concat(this.pending), true);
      this.pending = [];
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}

/** Encrypted backup file bytes in, authenticated plaintext out. Fails on any tampering or truncation. */
export class DecryptStream extends Transform {
  private buffer: Buffer = Buffer.alloc(0);
  private header: BackupHeader | undefined;
  private headerHash: Buffer | undefined;
  private prefix: Buffer | undefined;
  private index = 0;
  private finished = false;

  constructor(private readonly key: Buffer) {
    super();
  }

  get backupHeader(): BackupHeader | undefined {
    return this.header;
  }

  private parse(): void {
    if (!this.header) {
      if (this.buffer.length < BACKUP_MAGIC.length + 4) return;
      if (!this.buffer.subarray(0, BACKUP_MAGIC.length).equals(BACKUP_MAGIC)) {
        throw new BackupError('backup_corrupt', 'This is not a Switchboard backup (bad magic).');
      }
      const length = this.buffer.readUInt32BE(BACKUP_MAGIC.length);
      if (length > 64 * 1024) throw new BackupError('backup_corrupt', 'The backup header is damaged.');
      const end = BACKUP_MAGIC.length + 4 + length;
      if (this.buffer.length < end) return;
      let header: BackupHeader;
      try {
        header = JSON.parse(this.buffer.subarray(BACKUP_MAGIC.length + 4, end).toString('utf8')) as BackupHeader;
      } catch {
        throw new BackupError('backup_corrupt', 'The backup header is damaged.');
      }
      if (header.format !== 1 || header.cipher !== 'aes-256-gcm') throw new BackupError('backup_corrupt', `Unsupported backup format ${header.format}.`);
      if (header.keyId !== keyId(this.key)) {
        throw new BackupError('backup_wrong_key', 'This backup was encrypted with a different key (pass the original appliance key with --key-file).');
      }
      this.header = header;
      this.headerHash = createHash('sha256').update(this.buffer.subarray(0, end)).digest();
      this.prefix = Buffer.from(header.noncePrefix, 'hex');
      this.buffer = this.buffer.subarray(end);
    }
    while (this.buffer.length >= 5) {
      if (this.finished) throw new BackupError('backup_corrupt', 'The backup has data after its last segment.');
      const length = this.buffer.readUInt32BE(0);
      if (length > this.header.segmentSize) throw new BackupError('backup_corrupt', 'A backup segment is damaged.');
      const final = this.buffer[4] === 1;
      const total = 5 + length + TAG;
      if (this.buffer.length < total) return;
      const decipher = createDecipheriv('aes-256-gcm', this.key, nonce(this.prefix!, this.index));
      decipher.setAAD(aad(this.headerHash!, this.index, final));
      decipher.setAuthTag(this.buffer.subarray(5 + length, total));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(this.buffer.subarray(5, 5 + length)), decipher.final()]);
      } catch {
        throw new BackupError('backup_corrupt', `Backup segment ${this.index} failed authentication: the file was altered or damaged.`);
      }
      this.buffer = this.buffer.subarray(total);
      this.index += 1;
      this.finished = final;
      if (plain.length) this.push(plain);
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.parse();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (!this.header) return callback(new BackupError('backup_corrupt', 'The backup is empty or its header is cut off.'));
    if (!this.finished || this.buffer.length) return callback(new BackupError('backup_corrupt', 'The backup is truncated: its last segment is missing.'));
    callback();
  }
}
