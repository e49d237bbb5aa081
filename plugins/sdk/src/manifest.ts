/**
 * The plugin manifest: the `switchboard` key of a plugin's `package.json`. It is validated
 * strictly, by hand, so every problem gets a message that names the key and says what to do.
 */

/** The SDK API this SDK implements. Bumped only on a breaking change of the plugin contract. */
export const SDK_API = 1;
/** SDK API versions this host can load. */
export const SUPPORTED_SDK_APIS: readonly number[] = [1];

export type PluginKind = 'channel' | 'connector' | 'device';
export type Isolation = 'worker' | 'process' | 'auto';

export interface PluginCapabilities {
  /** Topics under the plugin's own bus namespace (`sb.plugin.<id>.evt.<topic>`), e.g. `["status", "reading.>"]`. */
  bus?: string[];
  /** HTTP routes under `/plugins/<id>/`, as `"METHOD /path"` with `:params`, e.g. `"POST /:inbox/messages"`. */
  http?: string[];
  /** Hardware the plugin opens, e.g. `serial:/dev/ttyUSB*`. Declared so admins see it; device plugins default to their own process. */
  hardware?: string[];
  /** Network targets it reaches or listens on, e.g. `https://*`, `smtp:*:587`, `listen:tcp:2525`. */
  network?: string[];
}

export interface DeliveryPolicy {
  /** Delivery attempts before an outbound message is dead-lettered. */
  maxAttempts: number;
  /** Delay before attempt n+1, in ms; the last value repeats. */
  backoffMs: number[];
}

export interface PluginManifest {
  /** Lower-case id, 2–32 chars: `[a-z][a-z0-9-]*`. Routes live under `/plugins/<id>/`. */
  id: string;
  kind: PluginKind;
  /** The SDK API the plugin was written against. */
  sdkApi: number;
  /** Version of the stored configuration's shape. Bump it when the config schema changes incompatibly. */
  typeVersion: number;
  displayName?: string;
  description?: string;
  capabilities: PluginCapabilities;
  /** JSON Schema (draft 2020-12 subset understood by ajv) for an instance's config. Secrets carry `"x-secret": true`. */
  configSchema: JsonSchema;
  /** Where the plugin runs. `auto` (default): a worker thread, or its own process when NATS is configured and the plugin is third-party or a device plugin. */
  isolation?: Isolation;
  /** Channels only: default outbound delivery policy (an instance may override it). */
  delivery?: DeliveryPolicy;
}

export type JsonSchema = { [key: string]: unknown };

export class ManifestError extends Error {
  constructor(
    readonly pluginPath: string,
    readonly problems: string[],
  ) {
    super(`Invalid plugin manifest in ${pluginPath}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ManifestError';
  }
}

const ID = /^[a-z][a-z0-9-]{1,31}$/;
const TOP_KEYS = ['id', 'kind', 'sdkApi', 'typeVersion', 'displayName', 'description', 'capabilities', 'configSchema', 'isolation', 'delivery'];
const CAPABILITY_KEYS = ['bus', 'http', 'hardware', 'network'];
const KINDS: PluginKind[] = ['channel', 'connector', 'device'];
const ISOLATIONS: Isolation[] = ['worker', 'process', 'auto'];
const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const TOPIC = /^([A-Za-z0-9_-]+|\*)(\.([A-Za-z0-9_-]+|\*))*(\.>)?$|^>$/;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function closest(word: string, choices: string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length]![b.length]!;
  };
  const best = choices.map((choice) => ({ choice, d: distance(word.toLowerCase(), choice.toLowerCase()) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= 2 ? best.choice : undefined;
}

function unknownKeys(object: Record<string, unknown>, allowed: string[], where: string, problems: string[]): void {
  for (const key of Object.keys(object)) {
    if (allowed.includes(key)) continue;
    const hint = closest(key, allowed);
    problems.push(`${where}: unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}; allowed keys are ${allowed.join(', ')}`);
  }
}

function stringList(value: unknown, where: string, problems: string[], check?: (item: string) => string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item.length === 0 || item.length > 200)) {
    problems.push(`${where} must be an array of non-empty strings (at most 200 characters each)`);
    return undefined;
  }
  for (const item of value as string[]) {
    const problem = check?.(item);
    if (problem) problems.push(`${where}: ${problem}`);
  }
  return value as string[];
}

/** Keywords whose values are data, not schemas: never searched for `x-secret`. */
const DATA_KEYWORDS = new Set(['default', 'examples', 'const', 'enum']);

/**
 * Walks a JSON Schema and reports `x-secret` used on anything but a string property, or where the
 * host could not encrypt it: only string properties reached through `properties` of objects (the
 * top level, or nested objects with `"type": "object"`) are sealed, so a secret inside an array,
 * a combinator (`anyOf`, …), `additionalProperties` or `$defs` would be stored in plain text.
 */
function checkSecrets(schema: unknown, path: string, problems: string[], sealable: boolean): void {
  if (Array.isArray(schema)) {
    schema.forEach((inner, index) => checkSecrets(inner, `${path}[${index}]`, problems, false));
    return;
  }
  if (!isObject(schema)) return;
  if (schema['x-secret'] !== undefined) {
    if (schema['x-secret'] !== true) problems.push(`configSchema${path}: "x-secret" must be true when present`);
    if (schema.type !== 'string') problems.push(`configSchema${path}: "x-secret" is only allowed on properties of type "string"`);
    else if (!sealable) {
      problems.push(
        `configSchema${path}: "x-secret" only works on a string property reached through "properties" of objects with "type": "object" (not inside arrays, anyOf/oneOf/allOf, additionalProperties or $defs): this value would be stored unencrypted`,
      );
    }
  }
  for (const [key, value] of Object.entries(schema)) {
    if (DATA_KEYWORDS.has(key) || typeof value !== 'object' || value === null) continue;
    if (key === 'properties' && isObject(value)) {
      const descend = sealable && (path === '' || schema.type === 'object');
      for (const [name, inner] of Object.entries(value)) checkSecrets(inner, `${path}.properties.${name}`, problems, descend);
    } else {
      checkSecrets(value, `${path}.${key}`, problems, false);
    }
  }
}

/**
 * Validates a raw `switchboard` manifest. Throws a ManifestError listing every problem; unknown
 * keys are rejected (with a "did you mean" hint) and an unsupported `sdkApi` says which versions work.
 */
export function validateManifest(raw: unknown, pluginPath = '<manifest>', supported: readonly number[] = SUPPORTED_SDK_APIS): PluginManifest {
  const problems: string[] = [];
  if (!isObject(raw)) throw new ManifestError(pluginPath, ['package.json has no "switchboard" object: a plugin declares its manifest there']);
  unknownKeys(raw, TOP_KEYS, 'switchboard', problems);

  if (typeof raw.id !== 'string' || !ID.test(raw.id)) {
    problems.push(`switchboard.id must be 2–32 characters of lower-case letters, digits and "-", starting with a letter; got ${JSON.stringify(raw.id)}`);
  }
  if (!KINDS.includes(raw.kind as PluginKind)) problems.push(`switchboard.kind must be one of ${KINDS.join(', ')}; got ${JSON.stringify(raw.kind)}`);
  if (typeof raw.sdkApi !== 'number' || !Number.isInteger(raw.sdkApi)) {
    problems.push(`switchboard.sdkApi must be an integer (this host supports ${supported.join(', ')}); got ${JSON.stringify(raw.sdkApi)}`);
  } else if (!supported.includes(raw.sdkApi)) {
    const newest = Math.max(...supported);
    problems.push(
      raw.sdkApi > newest
        ? `switchboard.sdkApi ${raw.sdkApi} is newer than this Switchboard supports (${supported.join(', ')}): upgrade Switchboard or build the plugin against @switchboard/plugin-sdk with sdkApi ${newest}`
        : `switchboard.sdkApi ${raw.sdkApi} is no longer supported (supported: ${supported.join(', ')}): rebuild the plugin against the current @switchboard/plugin-sdk`,
    );
  }
  if (typeof raw.typeVersion !== 'number' || !Number.isInteger(raw.typeVersion) || raw.typeVersion < 1) {
    problems.push(`switchboard.typeVersion must be an integer ≥ 1 (the version of the stored configuration's shape); got ${JSON.stringify(raw.typeVersion)}`);
  }
  for (const key of ['displayName', 'description'] as const) {
    if (raw[key] !== undefined && (typeof raw[key] !== 'string' || (raw[key] as string).length > 500))
      problems.push(`switchboard.${key} must be a string of at most 500 characters`);
  }
  if (raw.isolation !== undefined && !ISOLATIONS.includes(raw.isolation as Isolation)) {
    problems.push(`switchboard.isolation must be one of ${ISOLATIONS.join(', ')}; got ${JSON.stringify(raw.isolation)}`);
  }

  if (!isObject(raw.capabilities)) {
    problems.push('switchboard.capabilities must be an object, e.g. { "http": ["POST /:inbox/messages"], "network": ["https://*"] } (use {} for none)');
  } else {
    const capabilities = raw.capabilities;
    unknownKeys(capabilities, CAPABILITY_KEYS, 'switchboard.capabilities', problems);
    stringList(capabilities.bus, 'switchboard.capabilities.bus', problems, (topic) =>
      TOPIC.test(topic) ? undefined : `"${topic}" is not a topic pattern (dot-separated tokens, "*" or a trailing ">")`,
    );
    stringList(capabilities.http, 'switchboard.capabilities.http', problems, (route) => {
      const [method, path, extra] = route.split(' ');
      if (extra !== undefined || !method || !path) return `"${route}" must look like "POST /path/:param"`;
      if (!HTTP_METHODS.includes(method)) return `"${route}": method must be one of ${HTTP_METHODS.join(', ')}`;
      if (!/^\/[A-Za-z0-9_.:\-/*]*$/.test(path)) return `"${route}": path must start with "/" and hold only letters, digits, "_", ".", "-", ":" params and "*"`;
      return undefined;
    });
    stringList(capabilities.hardware, 'switchboard.capabilities.hardware', problems, (item) =>
      /^(serial|usb|gpio|opcua|modbus):/.test(item) ? undefined : `"${item}" must start with serial:, usb:, gpio:, opcua: or modbus:`,
    );
    stringList(capabilities.network, 'switchboard.capabilities.network', problems);
  }

  if (!isObject(raw.configSchema)) {
    problems.push('switchboard.configSchema must be a JSON Schema object with "type": "object"');
  } else {
    if (raw.configSchema.type !== 'object') problems.push('switchboard.configSchema must have "type": "object" at the top level');
    if (raw.configSchema.additionalProperties !== false) {
      problems.push('switchboard.configSchema must set "additionalProperties": false, so a mistyped config key is rejected instead of ignored');
    }
    checkSecrets(raw.configSchema, '', problems, true);
  }

  if (raw.delivery !== undefined) {
    if (raw.kind !== 'channel') problems.push('switchboard.delivery is only allowed for kind "channel"');
    if (!isObject(raw.delivery)) problems.push('switchboard.delivery must be an object { "maxAttempts": n, "backoffMs": [..] }');
    else {
      unknownKeys(raw.delivery, ['maxAttempts', 'backoffMs'], 'switchboard.delivery', problems);
      const { maxAttempts, backoffMs } = raw.delivery;
      if (typeof maxAttempts !== 'number' || !Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) {
        problems.push('switchboard.delivery.maxAttempts must be an integer between 1 and 100');
      }
      if (
        !Array.isArray(backoffMs) ||
        backoffMs.length === 0 ||
        backoffMs.some((ms) => typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > 3_600_000)
      ) {
        problems.push('switchboard.delivery.backoffMs must be a non-empty array of integers between 1 and 3600000');
      }
    }
  }

  if (problems.length > 0) throw new ManifestError(pluginPath, problems);
  return raw as unknown as PluginManifest;
}

/** Names of the top-level config properties marked `"x-secret": true` (nested objects use dotted paths). */
export function secretPaths(schema: JsonSchema, prefix = ''): string[] {
  const result: string[] = [];
  const properties = (schema as { properties?: Record<string, JsonSchema> }).properties;
  if (!properties || typeof properties !== 'object') return result;
  for (const [key, inner] of Object.entries(properties)) {
    if (!inner || typeof inner !== 'object') continue;
    if (inner['x-secret'] === true) result.push(`${prefix}${key}`);
    if (inner.type === 'object') result.push(...secretPaths(inner, `${prefix}${key}.`));
  }
  return result;
}
