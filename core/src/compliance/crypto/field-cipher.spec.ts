import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FieldCipher, KEY_FILE_NAME, loadMasterKey } from './field-cipher.js';

describe('FieldCipher', () => {
  const cipher = FieldCipher.fromKey(randomBytes(32));

  it('round-trips text, including Chinese and emoji, with a fresh IV each time', () => {
    const text = '张伟 🎧 zhang@example.com';
    const a = cipher.encrypt(text);
    const b = cipher.encrypt(text);
    expect(a).not.toBe(b);
    expect(a.startsWith('v1:')).toBe(true);
    expect(cipher.decrypt(a)).toBe(text);
    expect(cipher.encrypt(null)).toBeNull();
    expect(cipher.decryptJson(cipher.encryptJson([{ value: 'x' }]), [])).toEqual([{ value: 'x' }]);
  });

  it('detects tampering and the wrong key', () => {
    const stored = cipher.encrypt('secret');
    const raw = Buffer.from(stored.slice(3), 'base64');
    raw[raw.length - 1] ^= 1;
    expect(() => cipher.decrypt(`v1:${raw.toString('base64')}`)).toThrow();
    expect(() => FieldCipher.fromKey(randomBytes(32)).decrypt(stored)).toThrow();
  });

  it('round-trips bytes and detects tampering', () => {
    const bytes = randomBytes(1000);
    const stored = cipher.encryptBytes(bytes);
    expect(stored.subarray(0, 4).toString()).toBe('SBF1');
    expect(stored.includes(bytes.subarray(0, 32))).toBe(false);
    expect(cipher.decryptBytes(stored).equals(bytes)).toBe(true);
    stored[stored.length - 1] ^= 1;
    expect(() => cipher.decryptBytes(stored)).toThrow();
    expect(() => cipher.decryptBytes(Buffer.from('nope'))).toThrow();
  });

  it('gives deterministic, kind-separated blind indexes', () => {
    expect(cipher.blindIndex('email', 'a@b.c')).toBe(cipher.blindIndex('email', 'a@b.c'));
    expect(cipher.blindIndex('email', 'a@b.c')).not.toBe(cipher.blindIndex('name', 'a@b.c'));
    expect(cipher.blindIndex('email', 'a@b.c')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('generates a 0600 key file in the data dir on first start and reuses it', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-cipher-'));
    const first = loadMasterKey({ dataDir, encryption: {} });
    expect(first.source).toBe('generated');
    expect(statSync(join(dataDir, KEY_FILE_NAME)).mode & 0o777).toBe(0o600);
    const second = loadMasterKey({ dataDir, encryption: {} });
    expect(second.source).toBe('file');
    expect(second.key.equals(first.key)).toBe(true);
    expect(readFileSync(join(dataDir, KEY_FILE_NAME), 'utf8').trim()).toHaveLength(64);
    const configured = loadMasterKey({ dataDir, encryption: { key: 'ab'.repeat(32) } });
    expect(configured).toMatchObject({ source: 'config' });
  });
});
