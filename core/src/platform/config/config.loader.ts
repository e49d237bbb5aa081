import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { AppConfig, LogLevel } from './app-config.js';
import { ConfigError } from './config.error.js';
import { DEFAULT_ATTACHMENT_TYPES, SNIFFABLE_TYPES } from './attachment-types.js';

type Env = Record<string, string | undefined>;
type Raw = Record<string, unknown>;

/**
 * Each setting has one key in the YAML file (dotted path) and one environment variable.
 * The environment wins over the file, so operators can override a single value.
 */
interface Field {
  key: string;
  env: string;
  parse: (value: unknown, describe: string) => unknown;
  default?: unknown;
}

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const str =
  (options: { pattern?: RegExp; hint?: string; max?: number } = {}) =>
  (value: unknown, name: string): string => {
    if (typeof value !== 'string' && typeof value !== 'number') throw `${name} must be a string`;
    const text = String(value).trim();
    if (options.max !== undefined && text.length > options.max) throw `${name} must be at most ${options.max} characters`;
    if (options.pattern && !options.pattern.test(text)) throw `${name} ${options.hint ?? 'has an invalid format'}, got "${text}"`;
    return text;
  };

const int =
  (min: number, max: number) =>
  (value: unknown, name: string): number => {
    const text = String(value).trim();
    if (!/^-?\d+$/.test(text)) throw `${name} must be an integer between ${min} and ${max}, got "${text}"`;
    const number = Number(text);
    if (number < min || number > max) throw `${name} must be an integer between ${min} and ${max}, got ${number}`;
    return number;
  };

const bool = (value: unknown, name: string): boolean => {
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(text)) return true;
  if (['0', 'false', 'no', 'off'].includes(text)) return false;
  throw `${name} must be true or false, got "${text}"`;
};

const oneOf =
  <T extends string>(choices: readonly T[]) =>
  (value: unknown, name: string): T => {
    const text = String(value).trim();
    if (!choices.includes(text as T)) throw `${name} must be one of ${choices.join(', ')}, got "${text}"`;
    return text as T;
  };

const intList =
  (min: number, max: number) =>
  (value: unknown, name: string): number[] => {
    const items = Array.isArray(value) ? value : String(value).split(',');
    if (items.length === 0) throw `${name} must list at least one number`;
    return items.map((item, index) => int(min, max)(item, `${name}[${index}]`));
  };

const strList = (value: unknown, name: string): string[] => {
  const items = (Array.isArray(value) ? value : String(value).split(',')).map((item) => String(item).trim()).filter(Boolean);
  if (items.some((item) => item.length > 256)) throw `${name} items must be at most 256 characters`;
  return items;
};

/** Only asymmetric JWS algorithms: `none` and HMAC (forgeable with a public key) are refused. */
const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const asymmetricAlgs = (value: unknown, name: string): string[] => {
  const items = strList(value, name);
  if (items.length === 0) throw `${name} must list at least one algorithm`;
  for (const item of items) if (!ASYMMETRIC_ALGS.includes(item)) throw `${name} may list only ${ASYMMETRIC_ALGS.join(', ')}, got "${item}"`;
  return items;
};

const FIELDS: Field[] = [
  {
    key: 'instanceId',
    env: 'SWITCHBOARD_INSTANCE_ID',
    parse: str({ pattern: /^[A-Za-z0-9_.-]{1,64}$/, hint: 'may hold only letters, digits, "_", "." and "-" (1–64)' }),
  },
  { key: 'dataDir', env: 'SWITCHBOARD_DATA_DIR', parse: str({ max: 4096 }), default: './data' },
  { key: 'http.host', env: 'HOST', parse: str({ pattern: /^[A-Za-z0-9.:\-[\]]+$/, hint: 'must be a host name or IP address' }), default: '0.0.0.0' },
  { key: 'http.port', env: 'PORT', parse: int(0, 65535), default: 3000 },
  { key: 'http.bodyLimit', env: 'SWITCHBOARD_HTTP_BODY_LIMIT', parse: int(1024, 64 * 1024 * 1024), default: 1024 * 1024 },
  { key: 'http.trustProxy', env: 'SWITCHBOARD_TRUST_PROXY', parse: bool, default: false },
  { key: 'http.publicUrl', env: 'SWITCHBOARD_PUBLIC_URL', parse: str({ pattern: /^https?:\/\/[^\s]+$/, hint: 'must be an http(s) URL' }) },
  { key: 'database.url', env: 'DATABASE_URL', parse: str({ pattern: /^(mysql|mariadb|sqlite):/, hint: 'must start with mysql://, mariadb:// or sqlite:' }) },
  { key: 'database.poolSize', env: 'DATABASE_POOL_SIZE', parse: int(1, 500), default: 20 },
  {
    key: 'bus.natsUrl',
    env: 'NATS_URL',
    parse: str({ pattern: /^(nats|tls):\/\/[^\s]+$/, hint: 'must be a nats:// or tls:// URL (comma-separate cluster members)' }),
  },
  { key: 'bus.replicas', env: 'NATS_STREAM_REPLICAS', parse: int(1, 5), default: 1 },
  { key: 'bus.user', env: 'NATS_USER', parse: str({ max: 256 }) },
  { key: 'bus.password', env: 'NATS_PASSWORD', parse: str({ max: 1024 }) },
  { key: 'log.level', env: 'LOG_LEVEL', parse: oneOf(LOG_LEVELS), default: 'info' },
  { key: 'log.pretty', env: 'LOG_PRETTY', parse: bool, default: false },
  { key: 'migrations.runAtStart', env: 'SWITCHBOARD_MIGRATE_AT_START', parse: bool, default: true },
  { key: 'outbox.pollIntervalMs', env: 'SWITCHBOARD_OUTBOX_POLL_MS', parse: int(10, 60_000), default: 250 },
  { key: 'outbox.batchSize', env: 'SWITCHBOARD_OUTBOX_BATCH', parse: int(1, 5000), default: 200 },
  { key: 'outbox.retainSentHours', env: 'SWITCHBOARD_OUTBOX_RETAIN_HOURS', parse: int(0, 24 * 365), default: 72 },
  { key: 'consumers.maxDeliver', env: 'SWITCHBOARD_CONSUMER_MAX_DELIVER', parse: int(1, 1000), default: 8 },
  { key: 'consumers.backoffMs', env: 'SWITCHBOARD_CONSUMER_BACKOFF_MS', parse: intList(1, 3_600_000), default: [200, 1000, 5000, 30_000] },
  { key: 'scheduler.pollIntervalMs', env: 'SWITCHBOARD_SCHEDULER_POLL_MS', parse: int(10, 60_000), default: 500 },
  { key: 'scheduler.leaseMs', env: 'SWITCHBOARD_SCHEDULER_LEASE_MS', parse: int(1000, 3_600_000), default: 60_000 },
  { key: 'shutdown.graceMs', env: 'SWITCHBOARD_SHUTDOWN_GRACE_MS', parse: int(0, 600_000), default: 10_000 },
  // NLP (see docs/nlp.md): trained default packs shipped with the appliance bundle
  { key: 'nlp.modelsDir', env: 'SWITCHBOARD_MODELS_DIR', parse: str({ max: 4096 }) },
  // plugin host (see docs/plugins.md)
  { key: 'plugins.workspace', env: 'SWITCHBOARD_PLUGINS_WORKSPACE', parse: bool },
  { key: 'plugins.dir', env: 'SWITCHBOARD_PLUGINS_DIR', parse: str({ max: 4096 }) },
  { key: 'plugins.paths', env: 'SWITCHBOARD_PLUGIN_PATHS', parse: (value: unknown, name: string) => strList(value, name) },
  { key: 'plugins.fromSource', env: 'SWITCHBOARD_PLUGINS_FROM_SOURCE', parse: bool },
  { key: 'plugins.isolation', env: 'SWITCHBOARD_PLUGIN_ISOLATION', parse: oneOf(['auto', 'worker', 'process'] as const) },
  { key: 'plugins.callTimeoutMs', env: 'SWITCHBOARD_PLUGIN_CALL_TIMEOUT_MS', parse: int(100, 600_000) },
  { key: 'plugins.heartbeatMs', env: 'SWITCHBOARD_PLUGIN_HEARTBEAT_MS', parse: int(50, 60_000) },
  { key: 'plugins.backoffMs', env: 'SWITCHBOARD_PLUGIN_BACKOFF_MS', parse: intList(1, 3_600_000) },
  { key: 'plugins.crashLoopRestarts', env: 'SWITCHBOARD_PLUGIN_CRASH_LOOP_RESTARTS', parse: int(1, 100) },
  { key: 'plugins.stableMs', env: 'SWITCHBOARD_PLUGIN_STABLE_MS', parse: int(100, 3_600_000) },
  { key: 'plugins.maxHeapMb', env: 'SWITCHBOARD_PLUGIN_MAX_HEAP_MB', parse: int(32, 8192) },
  { key: 'plugins.maxAttachmentBytes', env: 'SWITCHBOARD_PLUGIN_MAX_ATTACHMENT_BYTES', parse: int(1024, 1024 * 1024 * 1024) },
  // file attachments (conversations/attachments)
  { key: 'attachments.maxBytes', env: 'SWITCHBOARD_ATTACHMENT_MAX_BYTES', parse: int(1024, 512 * 1024 * 1024), default: 10 * 1024 * 1024 },
  {
    key: 'attachments.allowedTypes',
    env: 'SWITCHBOARD_ATTACHMENT_TYPES',
    parse: (value: unknown, name: string) => {
      const items = strList(value, name);
      for (const item of items) if (!SNIFFABLE_TYPES.includes(item)) throw `${name} may list only ${SNIFFABLE_TYPES.join(', ')}, got "${item}"`;
      return items;
    },
    default: [...DEFAULT_ATTACHMENT_TYPES],
  },
  // field encryption (compliance/crypto)
  {
    key: 'encryption.key',
    env: 'SWITCHBOARD_ENCRYPTION_KEY',
    parse: str({ pattern: /^(?:[A-Fa-f0-9]{64}|[A-Za-z0-9+/]{43}=)$/, hint: 'must be 32 bytes as 64 hex digits or base64' }),
  },
  // identity (see docs/security.md)
  { key: 'identity.oidc.issuerUrl', env: 'OIDC_ISSUER_URL', parse: str({ pattern: /^https?:\/\/[^\s]+$/, hint: 'must be an http(s) URL' }) },
  { key: 'identity.oidc.audience', env: 'OIDC_AUDIENCE', parse: str({ max: 256 }), default: 'switchboard-api' },
  { key: 'identity.oidc.clientId', env: 'OIDC_CLIENT_ID', parse: str({ max: 256 }), default: 'switchboard-console' },
  { key: 'identity.oidc.clientSecret', env: 'OIDC_CLIENT_SECRET', parse: str({ max: 1024 }) },
  { key: 'identity.oidc.allowedClients', env: 'OIDC_ALLOWED_CLIENTS', parse: strList },
  { key: 'identity.oidc.algorithms', env: 'OIDC_ALGORITHMS', parse: asymmetricAlgs, default: ['RS256'] },
  { key: 'identity.oidc.clockLeewaySeconds', env: 'OIDC_CLOCK_LEEWAY_S', parse: int(0, 300), default: 30 },
  { key: 'identity.oidc.jwksCooldownMs', env: 'OIDC_JWKS_COOLDOWN_MS', parse: int(0, 3_600_000), default: 30_000 },
  { key: 'identity.oidc.roleMapping', env: 'OIDC_ROLE_MAPPING', parse: strList },
  { key: 'identity.oidc.groupsClaim', env: 'OIDC_GROUPS_CLAIM', parse: str({ max: 128 }), default: 'groups' },
  { key: 'identity.oidc.scopes', env: 'OIDC_SCOPES', parse: str({ max: 512 }), default: 'openid profile email' },
  { key: 'identity.oidc.allowInsecureHttp', env: 'OIDC_ALLOW_INSECURE_HTTP', parse: bool, default: false },
  {
    key: 'identity.session.cookieName',
    env: 'SESSION_COOKIE_NAME',
    parse: str({ pattern: /^[A-Za-z0-9_-]{1,64}$/, hint: 'may hold only letters, digits, "_" and "-"' }),
    default: 'sb_session',
  },
  { key: 'identity.session.cookieSecure', env: 'SESSION_COOKIE_SECURE', parse: bool, default: true },
  { key: 'identity.session.ttlMinutes', env: 'SESSION_TTL_MINUTES', parse: int(5, 60 * 24 * 30), default: 12 * 60 },
  { key: 'identity.localLogin.enabled', env: 'LOCAL_LOGIN_ENABLED', parse: bool, default: true },
  { key: 'identity.localLogin.generateAtStart', env: 'LOCAL_ADMIN_GENERATE_AT_START', parse: bool, default: true },
  // realtime gateway (see docs/realtime.md)
  { key: 'realtime.allowedOrigins', env: 'SWITCHBOARD_WS_ALLOWED_ORIGINS', parse: strList },
  { key: 'realtime.visitorTokenSecret', env: 'SWITCHBOARD_VISITOR_TOKEN_SECRET', parse: str({ pattern: /^.{32,512}$/, hint: 'must be 32–512 characters' }) },
  { key: 'realtime.maxPayloadBytes', env: 'SWITCHBOARD_WS_MAX_PAYLOAD', parse: int(1024, 16 * 1024 * 1024), default: 128 * 1024 },
  { key: 'realtime.maxBufferedBytes', env: 'SWITCHBOARD_WS_MAX_BUFFERED', parse: int(16 * 1024, 256 * 1024 * 1024), default: 1024 * 1024 },
  { key: 'realtime.pingIntervalMs', env: 'SWITCHBOARD_WS_PING_MS', parse: int(100, 600_000), default: 25_000 },
];

/**
 * Where the appliance bundle puts the trained default packs: `app/models/<name>/`, next to `app/core/`
 * (this file is `app/core/dist/platform/config/config.loader.js`). In a development checkout the same
 * path is the repository's `models/`, which does not exist, so the core trains the defaults.
 */
export const BUNDLED_MODELS_DIR = fileURLToPath(new URL('../../../../models', import.meta.url));

const isDirectory = (path: string) => existsSync(path) && statSync(path).isDirectory();

const KNOWN_FILE_KEYS = new Set(FIELDS.map((field) => field.key));

function flatten(value: unknown, prefix = '', into: Raw = {}): Raw {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value as Raw)) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
  } else {
    into[prefix] = value;
  }
  return into;
}

function readFile(path: string, problems: string[]): Raw {
  if (!existsSync(path)) {
    problems.push(`SWITCHBOARD_CONFIG points to ${path}, which does not exist`);
    return {};
  }
  try {
    const parsed = parseYaml(readFileSync(path, 'utf8')) as unknown;
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`${path} must hold a YAML mapping at the top level`);
      return {};
    }
    const flat = flatten(parsed);
    for (const key of Object.keys(flat)) {
      // Arrays are leaf values, so `consumers.backoffMs: [1,2]` stays one key.
      if (!KNOWN_FILE_KEYS.has(key)) problems.push(`${path}: unknown key "${key}"`);
    }
    return flat;
  } catch (error) {
    problems.push(`${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
    return {};
  }
}

function setPath(target: Raw, path: string, value: unknown): void {
  const parts = path.split('.');
  let cursor = target;
  for (const part of parts.slice(0, -1)) {
    cursor[part] = (cursor[part] as Raw | undefined) ?? {};
    cursor = cursor[part] as Raw;
  }
  cursor[parts.at(-1)!] = value;
}

/**
 * Reads the environment and the optional YAML file once, validates every value, and
 * throws a ConfigError that names each bad key. Nothing else in the core reads process.env.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const sources: string[] = [];
  const filePath = env.SWITCHBOARD_CONFIG?.trim();
  const file = filePath ? readFile(resolve(filePath), problems) : {};
  if (filePath) sources.push(`file:${resolve(filePath)}`);

  const values: Raw = {};
  for (const field of FIELDS) {
    const fromEnv = env[field.env];
    const raw = fromEnv !== undefined && fromEnv !== '' ? fromEnv : file[field.key];
    const label = fromEnv !== undefined && fromEnv !== '' ? `${field.env}` : `${field.key}`;
    if (raw === undefined || raw === null || raw === '') {
      if (field.default !== undefined) setPath(values, field.key, field.default);
      continue;
    }
    if (fromEnv !== undefined && fromEnv !== '') sources.push(`env:${field.env}`);
    try {
      setPath(values, field.key, field.parse(raw, label));
    } catch (problem) {
      problems.push(typeof problem === 'string' ? problem : `${label}: ${(problem as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const v = values as {
    instanceId?: string;
    dataDir: string;
    http: AppConfig['http'];
    database: { url?: string; poolSize: number };
    bus: { natsUrl?: string; replicas: number; user?: string; password?: string };
    log: AppConfig['log'];
    migrations: AppConfig['migrations'];
    outbox: AppConfig['outbox'];
    consumers: AppConfig['consumers'];
    scheduler: AppConfig['scheduler'];
    shutdown: AppConfig['shutdown'];
    plugins?: AppConfig['plugins'];
    nlp?: { modelsDir?: string };
    encryption?: { key?: string };
    attachments: NonNullable<AppConfig['attachments']>;
    identity: AppConfig['identity'];
    realtime?: AppConfig['realtime'];
  };

  const dataDir = resolve(v.dataDir);
  let database: AppConfig['database'];
  const url = v.database.url;
  if (!url || url.startsWith('sqlite:')) {
    const path = url ? url.replace(/^sqlite:(\/\/)?/, '') : '';
    database = { kind: 'sqlite', path: path === '' ? resolve(dataDir, 'switchboard.sqlite') : path === ':memory:' ? ':memory:' : resolve(path) };
  } else {
    try {
      const parsed = new URL(url);
      if (!parsed.pathname || parsed.pathname === '/') problems.push('DATABASE_URL must name a database, e.g. mysql://user:pass@host:3306/switchboard');
    } catch {
      problems.push('DATABASE_URL is not a valid URL');
    }
    database = { kind: 'mysql', url, poolSize: v.database.poolSize };
  }

  const bus: AppConfig['bus'] = v.bus.natsUrl
    ? { kind: 'nats', url: v.bus.natsUrl, replicas: v.bus.replicas, user: v.bus.user, password: v.bus.password }
    : { kind: 'inprocess' };

  // An explicit models directory must exist; without one the bundle's is used when it is there.
  let modelsDir: string | undefined;
  if (v.nlp?.modelsDir) {
    modelsDir = resolve(v.nlp.modelsDir);
    if (!isDirectory(modelsDir)) problems.push(`SWITCHBOARD_MODELS_DIR (nlp.modelsDir) points to ${modelsDir}, which is not a directory`);
  } else if (isDirectory(BUNDLED_MODELS_DIR)) {
    modelsDir = BUNDLED_MODELS_DIR;
  }

  if (bus.kind === 'inprocess' && database.kind === 'mysql') {
    problems.push('NATS_URL is required when DATABASE_URL points to MySQL/MariaDB: the in-process bus cannot reach other core instances');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    sources: sources.length ? sources : ['defaults (embedded mode)'],
    instanceId:
      v.instanceId ??
      `${hostname()
        .replace(/[^A-Za-z0-9_.-]/g, '-')
        .slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`,
    dataDir,
    http: v.http,
    database,
    bus,
    log: v.log,
    migrations: v.migrations,
    outbox: v.outbox,
    consumers: v.consumers,
    scheduler: v.scheduler,
    shutdown: v.shutdown,
    plugins: v.plugins ?? {},
    nlp: { modelsDir },
    encryption: { key: v.encryption?.key },
    attachments: v.attachments,
    identity: {
      ...v.identity,
      oidc: { ...v.identity.oidc, allowedClients: v.identity.oidc.allowedClients ?? [], roleMapping: v.identity.oidc.roleMapping ?? [] },
    },
    realtime: { ...v.realtime!, allowedOrigins: v.realtime?.allowedOrigins ?? [] },
  };
}

/** A printable copy with credentials removed, for `config check` and the startup log. */
export function redactConfig(config: AppConfig): unknown {
  const hide = (url: string) => url.replace(/\/\/([^@/]+)@/, '//***@');
  return {
    ...config,
    database: config.database.kind === 'mysql' ? { ...config.database, url: hide(config.database.url) } : config.database,
    bus: config.bus.kind === 'nats' ? { ...config.bus, url: hide(config.bus.url), password: config.bus.password ? '***' : undefined } : config.bus,
    identity: { ...config.identity, oidc: { ...config.identity.oidc, clientSecret: config.identity.oidc.clientSecret ? '***' : undefined } },
    encryption: { key: config.encryption?.key ? '***' : undefined },
    realtime: config.realtime ? { ...config.realtime, visitorTokenSecret: config.realtime.visitorTokenSecret ? '***' : undefined } : undefined,
  };
}
