import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { secretPaths, type PluginManifest } from '@switchboard/plugin-sdk';
import type { FieldCipher } from '../../compliance/crypto/field-cipher.js';
import { PluginError } from './plugin-host.error.js';

/** What admins see instead of a stored secret; sending it back keeps the stored value. */
export const REDACTED = '********';

type Plain = Record<string, unknown>;
type SealedSecret = { $secret: string };

type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

const isObject = (value: unknown): value is Plain => typeof value === 'object' && value !== null && !Array.isArray(value);

function getPath(object: Plain, path: string): unknown {
  let cursor: unknown = object;
  for (const part of path.split('.')) {
    if (!isObject(cursor)) return undefined;
    cursor = cursor[part];
  }
  return cursor;
}

function setPath(object: Plain, path: string, value: unknown): void {
  const parts = path.split('.');
  let cursor = object;
  for (const part of parts.slice(0, -1)) {
    if (!isObject(cursor[part])) return;
    cursor = cursor[part] as Plain;
  }
  if (value === undefined) delete cursor[parts.at(-1)!];
  else cursor[parts.at(-1)!] = value;
}

function describe(error: ErrorObject): string {
  const at = error.instancePath ? `config${error.instancePath.replace(/\//g, '.')}` : 'config';
  if (error.keyword === 'additionalProperties') return `${at}: unknown key "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  if (error.keyword === 'required') return `${at}: "${(error.params as { missingProperty: string }).missingProperty}" is required`;
  if (error.keyword === 'enum')
    return `${at} must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${at} ${error.message ?? 'is invalid'}`;
}

/**
 * Validates instance config against the plugin's JSON Schema and keeps secrets encrypted at
 * rest: every `"x-secret": true` value is stored as `{ "$secret": "v1:..." }` (AES-256-GCM via
 * the compliance FieldCipher) and shown to admins as `********`.
 */
export class PluginConfigCodec {
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly cipher: FieldCipher) {
    this.ajv = new Ajv({ allErrors: true, strict: true, useDefaults: true, keywords: ['x-secret', 'x-order', 'x-ui'] });
    addFormats(this.ajv);
  }

  /** Compiles the schema once; a schema ajv rejects is a plugin problem, reported by the host. */
  compile(manifest: PluginManifest, key = `${manifest.id}@${manifest.typeVersion}`): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(manifest.configSchema);
      this.validators.set(key, validate);
    }
    return validate;
  }

  /** Validates (and fills defaults into) a plain config; throws plugin_config_invalid listing each problem. */
  validate(manifest: PluginManifest, config: unknown): Plain {
    if (!isObject(config)) throw new PluginError('plugin_config_invalid', 'config must be a JSON object', { problems: ['config must be a JSON object'] });
    const copy = structuredClone(config);
    const validate = this.compile(manifest);
    if (!validate(copy)) {
      const problems = (validate.errors ?? []).map(describe);
      throw new PluginError('plugin_config_invalid', `Invalid config for plugin "${manifest.id}": ${problems.join('; ')}`, { problems });
    }
    return copy;
  }

  /** The stored form: secrets encrypted. */
  seal(manifest: PluginManifest, plain: Plain): Plain {
    const sealed = structuredClone(plain);
    for (const path of secretPaths(manifest.configSchema)) {
      const value = getPath(sealed, path);
      if (typeof value === 'string') setPath(sealed, path, { $secret: this.cipher.encrypt(value) } satisfies SealedSecret);
    }
    return sealed;
  }

  /** The plugin's view: secrets decrypted. */
  open(manifest: PluginManifest, stored: Plain): Plain {
    const plain = structuredClone(stored);
    for (const path of secretPaths(manifest.configSchema)) {
      const value = getPath(plain, path);
      if (isObject(value) && typeof value.$secret === 'string') setPath(plain, path, this.cipher.decrypt(value.$secret));
    }
    return plain;
  }

  /** The admin's view: secrets masked. */
  redact(manifest: PluginManifest, stored: Plain): Plain {
    const view = structuredClone(stored);
    for (const path of secretPaths(manifest.configSchema)) {
      if (getPath(view, path) !== undefined) setPath(view, path, REDACTED);
    }
    return view;
  }

  /** An admin's update: a secret sent back as `********` (or left out) keeps its stored value. */
  mergeSecrets(manifest: PluginManifest, incoming: Plain, stored: Plain | undefined): Plain {
    const merged = structuredClone(incoming);
    if (!stored) return merged;
    const current = this.open(manifest, stored);
    for (const path of secretPaths(manifest.configSchema)) {
      const value = getPath(merged, path);
      if (value === REDACTED || value === undefined) setPath(merged, path, getPath(current, path));
    }
    return merged;
  }
}
