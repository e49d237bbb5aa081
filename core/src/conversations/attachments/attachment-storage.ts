import { Inject, Injectable } from '@nestjs/common';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { APP_CONFIG } from '../../platform/config/config.module.js';
import type { AppConfig } from '../../platform/config/app-config.js';
import { FieldCipher } from '../../compliance/crypto/field-cipher.js';

/**
 * Where attachment bytes live. Implementations receive plaintext and must keep it encrypted at
 * rest; keys are opaque (`[a-z0-9-/]`). Replace the provider to store elsewhere (e.g. S3).
 */
export interface AttachmentStorage {
  put(key: string, bytes: Buffer): Promise<void>;
  get(key: string): Promise<Buffer>;
  /** Removing a key that does not exist is not an error. */
  delete(key: string): Promise<void>;
}

export const ATTACHMENT_STORAGE = Symbol('ATTACHMENT_STORAGE');

const KEY = /^[a-z0-9][a-z0-9/-]{0,190}$/;

/**
 * The default storage: one file per attachment under `<dataDir>/attachments/`, encrypted with the
 * field cipher (AES-256-GCM, `SBF1` layout). Writes go to a temporary name first, then rename.
 * With several core instances the data dir must be shared (or replace this provider).
 */
@Injectable()
export class LocalEncryptedStorage implements AttachmentStorage {
  private readonly root: string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly cipher: FieldCipher,
  ) {
    this.root = join(config.dataDir, 'attachments');
  }

  private path(key: string): string {
    if (!KEY.test(key) || key.includes('..')) throw new Error('invalid storage key');
    return join(this.root, `${key}.bin`);
  }

  async put(key: string, bytes: Buffer): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, this.cipher.encryptBytes(bytes), { mode: 0o600 });
    await rename(temporary, path);
  }

  async get(key: string): Promise<Buffer> {
    return this.cipher.decryptBytes(await readFile(this.path(key)));
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  /** For tests and operators: where a key's encrypted file is. */
  locate(key: string): string {
    return this.path(key);
  }
}
