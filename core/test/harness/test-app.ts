import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Test } from '@nestjs/testing';
import type { DynamicModule, Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '../../src/platform/config/config.loader.js';
import type { AppConfig } from '../../src/platform/config/app-config.js';
import { AppModule } from '../../src/app.module.js';
import { createFastifyAdapter } from '../../src/platform/http/fastify-adapter.js';
import { configureApp } from '../../src/platform/http/configure-app.js';
import { createLogger, PinoNestLogger } from '../../src/platform/logging/logger.js';
import { CLOCK, type Clock } from '../../src/platform/clock/clock.js';
import type { Role } from '../../src/identity/decorators/roles.decorator.js';
import { startTestIssuer, type TestIssuer } from './oidc-issuer.js';
import { NatsServer } from './servers.mjs';

export { startTestIssuer, type TestIssuer } from './oidc-issuer.js';

let sharedIssuer: Promise<TestIssuer> | undefined;
/** One loopback OIDC issuer per test process, shared by every app (so several instances accept the same tokens). */
export function defaultTestIssuer(): Promise<TestIssuer> {
  sharedIssuer ??= startTestIssuer();
  return sharedIssuer;
}

/** The subject `authHeaders` uses for an actor without `sub`. */
export function testSubject(actor: TestActor): string {
  return actor.sub ?? `test-${[...actor.roles].sort().join('+') || 'none'}-${[...(actor.teamIds ?? [])].sort().join('+') || 'noteam'}`;
}

/** A real access token (RS256, Keycloak-shaped) for the actor: roles in realm_access, teams in the groups claim. */
export async function accessTokenFor(issuer: TestIssuer, actor: TestActor): Promise<string> {
  return issuer.accessToken({ sub: testSubject(actor), roles: actor.roles, groups: actor.teamIds ?? [], name: actor.name, email: actor.email });
}

export type BackendName = 'sqlite+inprocess' | 'mariadb+nats';

export interface Backend {
  name: BackendName;
  /** Environment for one core instance on a fresh store (a new database per call unless `shared` is given). */
  env(shared?: Record<string, string>): Promise<Record<string, string>>;
}

const ci = process.env.CI === 'true';

/** Fails loudly in CI when the real servers are missing; elsewhere the caller may skip. */
export function mysqlAvailable(): boolean {
  const available = Boolean(process.env.SB_TEST_MYSQL_ROOT_URL && process.env.SB_TEST_NATS_URL);
  if (!available && ci) throw new Error('CI=true but the MariaDB/NATS test servers are not running');
  return available;
}

export async function createMysqlDatabase(prefix = 'sb'): Promise<string> {
  const root = process.env.SB_TEST_MYSQL_ROOT_URL;
  if (!root) throw new Error('SB_TEST_MYSQL_ROOT_URL is not set: the global setup did not start MariaDB');
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const mysql = await import('mysql2/promise');
  const connection = await mysql.createConnection(`${root}/mysql`);
  await connection.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await connection.end();
  return `${root}/${name}`;
}

export const SQLITE_BACKEND: Backend = {
  name: 'sqlite+inprocess',
  async env(shared) {
    if (shared) return shared;
    const dir = mkdtempSync(join(tmpdir(), 'sb-sqlite-'));
    return { SWITCHBOARD_DATA_DIR: dir };
  },
};

export const MYSQL_BACKEND: Backend = {
  name: 'mariadb+nats',
  async env(shared) {
    if (shared) return shared;
    return { DATABASE_URL: await createMysqlDatabase(), NATS_URL: await isolatedNatsUrl() };
  },
};

const isolatedNats: NatsServer[] = [];

/**
 * A nats-server of its own for each store: durable consumer names (e.g. `analytics-conversation`)
 * are global to a NATS server, so apps of different test files sharing one would steal each other's
 * events. Servers are killed when the test worker exits.
 */
export async function isolatedNatsUrl(): Promise<string> {
  if (isolatedNats.length === 0) {
    process.once('exit', () => {
      for (const server of isolatedNats) {
        server.child?.kill('SIGKILL');
        rmSync(server.dir, { recursive: true, force: true });
      }
    });
  }
  const server = await NatsServer.create();
  // Not a reason for the worker to stay alive: it is killed on exit (a referenced child kept
  // Jest workers from exiting: "A worker process has failed to exit gracefully").
  server.child?.unref();
  isolatedNats.push(server);
  return server.url;
}

/** The backends a platform test must pass on. MariaDB+NATS is left out only outside CI when absent. */
export function backends(): Backend[] {
  return mysqlAvailable() ? [SQLITE_BACKEND, MYSQL_BACKEND] : [SQLITE_BACKEND];
}

/** A fixed key so that every test instance on one store can read what another wrote. Test-only. */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

export function testConfig(env: Record<string, string> = {}): AppConfig {
  const dataDir = env.SWITCHBOARD_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'sb-data-'));
  return loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.SB_TEST_LOG_LEVEL ?? 'silent',
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_OUTBOX_POLL_MS: '50',
    SWITCHBOARD_SCHEDULER_POLL_MS: '50',
    SWITCHBOARD_CONSUMER_BACKOFF_MS: '20,50,100',
    SWITCHBOARD_SHUTDOWN_GRACE_MS: '5000',
    // Instances sharing a database must share the field-encryption key, as in production.
    SWITCHBOARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    ...env,
  });
}

export interface TestActor {
  roles: Role[];
  teamIds?: string[];
  /** Stable subject; defaults to one derived from the roles and teams. */
  sub?: string;
  name?: string;
  email?: string;
}

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  url: string;
  /**
   * HTTP headers that authenticate as the given actor: `authorization: Bearer <access token>`
   * minted by the loopback OIDC issuer (roles → realm_access.roles, teamIds → groups claim, so
   * teams need not exist first). Without an issuer (`oidc: false`) this throws.
   */
  authHeaders(actor: TestActor): Promise<Record<string, string>>;
  /** The loopback OIDC issuer this app trusts (undefined with `oidc: false`). */
  issuer?: TestIssuer;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  clock?: Clock;
  /** Extra provider overrides: [token, value]. */
  overrides?: Array<[unknown, unknown]>;
  /** Extra modules (test-only controllers, jobs, consumers) imported next to the AppModule. */
  imports?: Array<Type<unknown> | DynamicModule>;
  /**
   * Where the JSON logs go. When given, Nest's own logger writes through pino too (as in
   * `switchboard start`), so tests can read every line. Set LOG_LEVEL in `env` to choose the level.
   */
  logDestination?: NodeJS.WritableStream;
  /**
   * The OIDC issuer to trust: default a shared loopback issuer; pass your own (e.g. to rotate keys)
   * or `false` for no SSO. Ignored when `env.OIDC_ISSUER_URL` is given.
   */
  oidc?: TestIssuer | false;
}

/** Boots a real core (real DB, real bus) on a free loopback port. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const issuer = options.oidc === false || options.env?.OIDC_ISSUER_URL ? undefined : (options.oidc ?? (await defaultTestIssuer()));
  const config = testConfig({
    SESSION_COOKIE_SECURE: 'false',
    LOCAL_ADMIN_GENERATE_AT_START: 'false',
    ...(issuer ? { OIDC_ISSUER_URL: issuer.url, OIDC_AUDIENCE: issuer.audience, OIDC_CLIENT_ID: issuer.clientId } : {}),
    ...options.env,
  });
  const logger = createLogger(config, options.logDestination);
  let builder = Test.createTestingModule({ imports: [AppModule.forRoot(config), ...(options.imports ?? [])] });
  if (options.clock) builder = builder.overrideProvider(CLOCK).useValue(options.clock);
  for (const [token, value] of options.overrides ?? []) builder = builder.overrideProvider(token as string).useValue(value);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(config), {
    logger: options.logDestination ? new PinoNestLogger(logger) : false,
  });
  configureApp(app, logger, config);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    app,
    config,
    url: `http://127.0.0.1:${port}`,
    issuer,
    authHeaders: async (actor: TestActor) => {
      if (!issuer) throw new Error('authHeaders needs the loopback OIDC issuer (started without oidc: false)');
      return { authorization: `Bearer ${await accessTokenFor(issuer, actor)}` };
    },
    close: async () => {
      await app.close();
      if (config.database.kind === 'sqlite' && !options.env?.SWITCHBOARD_DATA_DIR) rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
