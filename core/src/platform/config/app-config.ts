export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface SqliteDatabaseConfig {
  kind: 'sqlite';
  path: string;
}

export interface MysqlDatabaseConfig {
  kind: 'mysql';
  url: string;
  poolSize: number;
}

export type DatabaseConfig = SqliteDatabaseConfig | MysqlDatabaseConfig;

export interface NatsBusConfig {
  kind: 'nats';
  url: string;
  /** JetStream stream replicas: 1 on a single server, 3 on a cluster. */
  replicas: number;
  user?: string;
  password?: string;
}

export type BusConfig = { kind: 'inprocess' } | NatsBusConfig;

export interface AppConfig {
  /** Where this came from, for `config check`. */
  sources: string[];
  instanceId: string;
  dataDir: string;
  http: {
    host: string;
    port: number;
    /** Longest JSON body accepted, in bytes. */
    bodyLimit: number;
    trustProxy: boolean;
    publicUrl?: string;
  };
  database: DatabaseConfig;
  bus: BusConfig;
  log: { level: LogLevel; pretty: boolean };
  migrations: { runAtStart: boolean };
  outbox: { pollIntervalMs: number; batchSize: number; retainSentHours: number };
  consumers: { maxDeliver: number; backoffMs: number[] };
  scheduler: { pollIntervalMs: number; leaseMs: number };
  shutdown: { graceMs: number };
  /** Plugin host (see docs/plugins.md); defaults in platform/plugin-host/plugin-host.settings.ts. */
  plugins?: {
    workspace?: boolean;
    dir?: string;
    paths?: string[];
    fromSource?: boolean;
    isolation?: 'auto' | 'worker' | 'process';
    callTimeoutMs?: number;
    heartbeatMs?: number;
    backoffMs?: number[];
    crashLoopRestarts?: number;
    stableMs?: number;
    maxHeapMb?: number;
    maxAttachmentBytes?: number;
  };
  /** NLP (docs/nlp.md): `modelsDir` holds shipped default packs (`<name>/model.onnx` + `manifest.json`), registered at first start instead of training. */
  nlp?: { modelsDir?: string };
  /** File attachments (conversations/attachments, docs/security.md): size limit and content-type allow-list. */
  attachments?: { maxBytes: number; allowedTypes: string[] };
  /** Field encryption (compliance/crypto). Without a key one is generated into the data dir. */
  encryption?: { key?: string };
  identity: IdentityConfig;
  /** WebSocket gateway (realtime/realtime.config.ts, docs/realtime.md). */
  realtime?: {
    allowedOrigins: string[];
    visitorTokenSecret?: string;
    maxPayloadBytes: number;
    maxBufferedBytes: number;
    pingIntervalMs: number;
  };
}

/** Identity and access (see docs/security.md). */
export interface IdentityConfig {
  oidc: {
    /** Exact `iss` of the realm, e.g. https://sso.example.com/realms/switchboard. Without it bearer JWTs are refused. */
    issuerUrl?: string;
    /** Required `aud` of access tokens (Keycloak needs an audience mapper). */
    audience: string;
    /** The console's OIDC client (authorization code + PKCE). */
    clientId: string;
    clientSecret?: string;
    /** `azp` values accepted on access tokens; empty means just `clientId`. */
    allowedClients: string[];
    algorithms: string[];
    clockLeewaySeconds: number;
    /** Least time between two JWKS refetches triggered by an unknown `kid`. */
    jwksCooldownMs: number;
    /** `realm:<role>=<switchboard role>` or `client:<clientId>:<role>=<switchboard role>`; empty: same-named roles. */
    roleMapping: string[];
    groupsClaim: string;
    scopes: string;
    allowInsecureHttp: boolean;
  };
  session: { cookieName: string; cookieSecure: boolean; ttlMinutes: number };
  localLogin: { enabled: boolean; generateAtStart: boolean };
}

export const isEmbedded = (config: AppConfig): boolean => config.database.kind === 'sqlite' && config.bus.kind === 'inprocess';
