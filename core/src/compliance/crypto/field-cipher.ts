import { Inject, Injectable, Logger } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_CONFIG } from '../../platform/config/config.module.js';
import type { AppConfig } from '../../platform/config/app-config.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BYTES_MAGIC = Buffer.from('SBF1');
export const KEY_FILE_NAME = 'field-encryption.key';

/** Decodes a 32-byte key written as 64 hex digits or base64. */
export function parseKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[A-Fa-f0-9]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new Error('The field encryption key must be 32 bytes (64 hex digits or base64)');
  return key;
}

/**
 * Loads the master key: `SWITCHBOARD_ENCRYPTION_KEY` when configured, otherwise a key file in the
 * data dir, generated (mode 0600) on first start. Several core instances sharing one database must
 * all be given the same configured key.
 */
export function loadMasterKey(config: Pick<AppConfig, 'dataDir' | 'encryption'>): { key: Buffer; source: 'config' | 'file' | 'generated' } {
  if (config.encryption?.key) return { key: parseKey(config.encryption.key), source: 'config' };
  const path = join(config.dataDir, KEY_FILE_NAME);
  if (existsSync(path)) return { key: parseKey(readFileSync(path, 'utf8')), source: 'file' };
  mkdirSync(config.dataDir, { recursive: true });
  const key = randomBytes(32);
  try {
    writeFileSync(path, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
  } catch (error) {
    // Another process won the race: use its key.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { key: parseKey(readFileSync(path, 'utf8')), source: 'file' };
    throw error;
  }
  return { key, source: 'generated' };
}

/**
 * Field-level encryption for PII columns: AES-256-GCM with a random 96-bit IV per value,
 * stored as `v1:<base64(iv | tag | ciphertext)>`, plus keyed blind indexes (HMAC-SHA-256)
 * for exact-match search. Encryption and index keys are derived from one master key (HKDF),
 * so the index key never doubles as the encryption key.
 */
@Injectable()
export class FieldCipher {
  private readonly encryptionKey: Buffer;
  private readonly indexKey: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const { key, source } = loadMasterKey(config);
    this.encryptionKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'switchboard field encryption v1', 32));
    this.indexKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'switchboard blind index v1', 32));
    if (source === 'generated')
      new Logger('field-cipher').warn('generated a field encryption key in the data dir; back it up, or set SWITCHBOARD_ENCRYPTION_KEY');
    if (source !== 'config' && config.database.kind === 'mysql') {
      new Logger('field-cipher').warn('SWITCHBOARD_ENCRYPTION_KEY is not set: every core instance on this database needs the same key');
    }
  }

  /** Test and tooling constructor from a raw 32-byte key. */
  static fromKey(key: Buffer): FieldCipher {
    return new FieldCipher({ dataDir: '', encryption: { key: key.toString('hex') }, database: { kind: 'sqlite', path: ':memory:' } } as unknown as AppConfig);
  }

  encrypt(plaintext: string): string;
  encrypt(plaintext: string | null | undefined): string | null;
  encrypt(plaintext: string | null | undefined): string | null {
    if (plaintext === null || plaintext === undefined) return null;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  decrypt(stored: string): string;
  decrypt(stored: string | null | undefined): string | null;
  decrypt(stored: string | null | undefined): string | null {
    if (stored === null || stored === undefined) return null;
    if (!stored.startsWith(`${VERSION}:`)) throw new Error('Unknown field cipher format');
    const raw = Buffer.from(stored.slice(VERSION.length + 1), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }

  /**
   * Binary encryption for stored files (attachments): AES-256-GCM with the field key and a random
   * IV, laid out as `SBF1 | iv | tag | ciphertext`. `decryptBytes` fails on tampering or a wrong key.
   */
  encryptBytes(plaintext: Buffer): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([BYTES_MAGIC, iv, cipher.getAuthTag(), body]);
  }

  decryptBytes(stored: Buffer): Buffer {
    if (stored.length < BYTES_MAGIC.length + IV_BYTES + TAG_BYTES || !stored.subarray(0, BYTES_MAGIC.length).equals(BYTES_MAGIC))
      throw new Error('Unknown file cipher format');
    const start = BYTES_MAGIC.length;
    const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, stored.subarray(start, start + IV_BYTES));
    decipher.setAuthTag(stored.subarray(start + IV_BYTES, start + IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(stored.subarray(start + IV_BYTES + TAG_BYTES)), decipher.final()]);
  }

  encryptJson(value: unknown): string {
    return this.encrypt(JSON.stringify(value));
  }

  decryptJson<T>(stored: string | null | undefined, fallback: T): T {
    return stored ? (JSON.parse(this.decrypt(stored)) as T) : fallback;
  }

  /**
   * Deterministic keyed hash of an already-normalised value, namespaced by `kind` so the same
   * text as an email and as a name token gives different indexes. 64 hex characters.
   */
  blindIndex(kind: string, normalised: string): string {
    return createHmac('sha256', this.indexKey).update(kind).update('\u0000').update(normalised).digest('hex');
  }
}
