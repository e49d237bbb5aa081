/**
 * The appliance for real: builds the bundle once, installs it with installer/install.sh under a
 * temporary prefix in --no-systemd mode (its own MariaDB and nats-server processes, from the
 * machine's packages), then the whole operator cycle: health → data through the API → backup →
 * wipe → restore onto a fresh install → identical data → upgrade to a rebuilt bundle carrying a new
 * migration → data intact → a failing upgrade rolls itself back → uninstall keeps data, --purge not.
 *
 * Takes a few minutes (the bundle runs npm install and compiles better-sqlite3 for Node 24).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync, copyFileSync, renameSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { freePort, hasMariadb, hasNats } from '../harness/servers.mjs';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ci = process.env.CI === 'true';
const available = hasMariadb() && hasNats();
if (!available && ci) throw new Error('CI=true but mariadbd/nats-server are not installed: the installer test cannot run');
const suite = available ? describe : describe.skip;
const TEST_TIMEOUT = 600_000;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(command: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // Jest's --experimental-vm-modules is not for the appliance's processes
    const child = spawn(command, args, { stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // a child that exits early must not fail the test with EPIPE
      child.stdin.end(options.input);
    }
  });
}

const must = (result: Result, what: string): Result => {
  if (result.code !== 0) throw new Error(`${what} failed (${result.code}):\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
  return result;
};

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A copy of an extracted bundle with another version and an extra migration, checksums updated. */
async function derivedBundle(source: string, target: string, version: string, migration: string): Promise<void> {
  must(await sh('cp', ['-al', source, target]), 'hard-link copy of the bundle');
  const rewrite = (rel: string, text: string) => {
    const path = join(target, rel);
    writeFileSync(`${path}.new`, text);
    renameSync(`${path}.new`, path); // never write through a hard link
  };
  const className = /class (\w+)/.exec(migration)![1];
  rewrite('app/core/dist/zz-test-migration.js', migration);
  const migrations = readFileSync(join(target, 'app/core/dist/migrations.js'), 'utf8');
  rewrite('app/core/dist/migrations.js', `${migrations}\nimport { ${className} } from './zz-test-migration.js';\nALL_MIGRATIONS.push(${className});\n`);
  rewrite('VERSION', `${version}\n`);
  const manifest = JSON.parse(readFileSync(join(target, 'MANIFEST.json'), 'utf8')) as Record<string, unknown>;
  const sums = readFileSync(join(target, 'SHA256SUMS'), 'utf8')
    .trim()
    .split('\n')
    .filter((line) => !line.endsWith('  app/core/dist/migrations.js') && !line.endsWith('  VERSION'));
  for (const rel of ['VERSION', 'app/core/dist/migrations.js', 'app/core/dist/zz-test-migration.js']) sums.push(`${sha256(join(target, rel))}  ${rel}`);
  rewrite('SHA256SUMS', `${sums.join('\n')}\n`);
  rewrite('MANIFEST.json', JSON.stringify({ ...manifest, version, sha256sums: sha256(join(target, 'SHA256SUMS')) }, null, 2));
}

const PROBE_MIGRATION = `
export class UpgradeProbe1799999999999 {
  name = 'UpgradeProbe1799999999999';
  async up(queryRunner) {
    await queryRunner.query('CREATE TABLE upgrade_probe (id INT PRIMARY KEY, note VARCHAR(64))');
    await queryRunner.query("INSERT INTO upgrade_probe (id, note) VALUES (1, 'added by the upgrade')");
  }
  async down(queryRunner) {
    await queryRunner.query('DROP TABLE upgrade_probe');
  }
}
`;

const BROKEN_MIGRATION = `
export class BrokenProbe1799999999998 {
  name = 'BrokenProbe1799999999998';
  async up(queryRunner) {
    await queryRunner.query('CREATE TABLE broken_probe (id INT PRIMARY KEY)');
    throw new Error('this migration fails on purpose');
  }
  async down() {}
}
`;

suite('appliance bundle and installer (real MariaDB + nats-server, --no-systemd)', () => {
  const work = mkdtempSync(join(tmpdir(), 'sb-appliance-'));
  const prefix = join(work, 'root');
  const etc = join(prefix, 'etc', 'switchboard');
  const opt = join(prefix, 'opt', 'switchboard');
  let bundle = '';
  let upgrade = '';
  let broken = '';
  let ports: { http: number; https: number; db: number; nats: number; monitor: number };
  let installArgs: string[] = [];
  const cli = (...args: string[]) => sh(join(opt, 'bin', 'switchboard'), args);
  const ctl = (...args: string[]) => sh(join(opt, 'bin', 'switchboardctl'), args);
  const install = (dir: string, ...args: string[]) => sh('bash', [join(dir, 'install.sh'), ...args], { timeoutMs: 400_000 });

  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`http://127.0.0.1:${ports.http}${path}`, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as Record<string, unknown> | null, headers: response.headers };
  };
  const login = async (password: string) => {
    const response = await api('POST', '/api/v1/auth/local/login', { username: 'admin', password });
    expect(response.status).toBe(200);
    const cookies = response.headers.getSetCookie().map((cookie) => cookie.split(';')[0]);
    return { cookie: cookies.join('; '), 'x-csrf-token': String(response.body!.csrfToken) };
  };
  const orgName = async (auth: Record<string, string>) => (await api('GET', '/api/v1/settings/general.organizationName', undefined, auth)).body?.value;
  const checksums = async () =>
    JSON.parse(must(await cli('backup', 'checksum', '--json'), 'backup checksum').stdout) as Record<string, { rows: number; sha256: string }>;

  beforeAll(async () => {
    ports = { http: await freePort(), https: await freePort(), db: await freePort(), nats: await freePort(), monitor: await freePort() };
    installArgs = [
      '--prefix',
      prefix,
      '--no-systemd',
      '--hostname',
      'localhost',
      '--http-port',
      String(ports.http),
      '--https-port',
      String(ports.https),
      '--db-port',
      String(ports.db),
      '--nats-port',
      String(ports.nats),
      '--nats-monitor-port',
      String(ports.monitor),
      '--health-timeout',
      '120',
    ];
    // SB_APPLIANCE_BUNDLE=path/to/switchboard-….tar.gz reuses a bundle (while working on the installer).
    const prebuilt = process.env.SB_APPLIANCE_BUNDLE;
    const built = prebuilt
      ? { code: 0, stdout: prebuilt, stderr: '' }
      : must(
          await sh(
            'node',
            [join(ROOT, 'scripts', 'bundle.mjs'), '--skip-build', '--stage', join(work, 'stage'), '--out', join(work, 'out'), '--compress-level', '1'],
            {
              timeoutMs: 600_000,
            },
          ),
          'npm run bundle',
        );
    const tarball = built.stdout.trim().split('\n').pop()!;
    expect(tarball).toMatch(/switchboard-.+-linux-x64\.tar\.gz$/);
    rmSync(join(work, 'stage'), { recursive: true, force: true });
    must(await sh('tar', ['-C', work, '-xzf', tarball]), 'extract the bundle');
    const name = readdirSync(work).find((entry) => entry.startsWith('switchboard-') && !entry.endsWith('.gz'))!;
    bundle = join(work, name);
    upgrade = join(work, 'upgrade-bundle');
    broken = join(work, 'broken-bundle');
    await derivedBundle(bundle, upgrade, '0.1.0-upgrade.1', PROBE_MIGRATION);
    await derivedBundle(bundle, broken, '0.1.0-broken.1', BROKEN_MIGRATION);
  }, 900_000);

  afterAll(async () => {
    if (existsSync(join(opt, 'bin', 'switchboardctl'))) await ctl('stop', 'proxy', 'core', 'nats', 'db');
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  let adminPassword = '';
  let auth: Record<string, string> = {};
  let before: Record<string, { rows: number; sha256: string }> = {};

  it(
    'installs from the extracted bundle without network and becomes ready',
    async () => {
      const result = must(await install(bundle, ...installArgs), 'install.sh');
      expect(result.stdout).toContain('is ready');
      expect(result.stdout).toMatch(/First admin login: admin \/ \w+/);
      expect((await api('GET', '/health/ready')).status).toBe(200);
      // The TLS front answers with the installer's self-signed certificate.
      const status = await new Promise<number>((resolveStatus, reject) => {
        https
          .get(
            { host: '127.0.0.1', port: ports.https, path: '/health/ready', ca: readFileSync(join(etc, 'tls', 'cert.pem')), servername: 'localhost' },
            (res) => {
              res.resume();
              resolveStatus(res.statusCode ?? 0);
            },
          )
          .on('error', reject);
      });
      expect(status).toBe(200);
      const nats = readFileSync(join(etc, 'nats', 'nats-server.conf'), 'utf8');
      expect(nats).toContain('jetstream');
      expect(nats).toMatch(/user: "plugin-[a-z-]+"/);
      expect(readFileSync(join(etc, 'secrets', 'encryption.key'), 'utf8')).toMatch(/^[0-9a-f]{64}$/);
      adminPassword = readFileSync(join(etc, 'secrets', 'admin-password'), 'utf8').trim();
    },
    TEST_TIMEOUT,
  );

  it(
    'runs the bundled app on the bundled Node 24',
    async () => {
      const runtime = join(opt, 'current', 'runtime', 'bin', 'node');
      expect(must(await sh(runtime, ['--version']), 'node --version').stdout).toMatch(/^v24\./);
      const pid = readFileSync(join(prefix, 'var', 'lib', 'switchboard', 'run', 'core.pid'), 'utf8').trim();
      expect(readlinkSync(`/proc/${pid}/exe`)).toBe(resolve(opt, 'releases', readFileSync(join(bundle, 'VERSION'), 'utf8').trim(), 'runtime', 'bin', 'node'));
      expect(must(await cli('config', 'check'), 'config check').stdout).toContain('Configuration is valid');
    },
    TEST_TIMEOUT,
  );

  it(
    'stores data through the API',
    async () => {
      auth = await login(adminPassword);
      const put = await api('PUT', '/api/v1/settings/general.organizationName', { value: 'Acme 客服中心 😀' }, auth);
      expect(put.status).toBe(200);
      expect(await orgName(auth)).toBe('Acme 客服中心 😀');
    },
    TEST_TIMEOUT,
  );

  it(
    'backs up, survives a wipe, and restores identical data onto a fresh install',
    async () => {
      must(await ctl('stop', 'proxy', 'core'), 'stop the core');
      before = await checksums();
      expect(Object.keys(before).length).toBeGreaterThan(3);
      const backup = join(work, 'appliance.sbbk');
      const created = must(await cli('backup', '--output', backup), 'backup');
      expect(created.stdout).toContain('Backup written');
      expect(created.stdout).not.toContain('approximate');
      expect(must(await cli('backup', 'verify', backup), 'backup verify').stdout).toContain('Backup is intact');
      const key = join(work, 'encryption.key');
      copyFileSync(join(etc, 'secrets', 'encryption.key'), key);

      // Wipe: uninstall with --purge deletes data, configuration and secrets.
      must(await install(bundle, '--prefix', prefix, '--uninstall', '--purge'), 'uninstall --purge');
      expect(existsSync(join(prefix, 'var', 'lib', 'switchboard'))).toBe(false);
      expect(existsSync(etc)).toBe(false);

      // A fresh install with the old appliance key, then the restore.
      must(await install(bundle, ...installArgs, '--encryption-key-file', key, '--skip-verify'), 'fresh install');
      const fresh = await checksums();
      expect(fresh).not.toEqual(before);
      must(await ctl('stop', 'proxy', 'core'), 'stop the core');
      const restored = must(await cli('restore', backup, '--yes'), 'restore');
      expect(restored.stdout).toMatch(/Verified: \d+ tables, \d+ rows identical/);
      expect(await checksums()).toEqual(before);
      must(await ctl('start', 'core', 'proxy'), 'start');
      for (let i = 0; i < 120 && (await ctl('health')).code !== 0; i++) await new Promise((r) => setTimeout(r, 500));
      // The restored database holds the old admin login and the setting.
      auth = await login(adminPassword);
      expect(await orgName(auth)).toBe('Acme 客服中心 😀');
    },
    TEST_TIMEOUT,
  );

  it(
    'upgrades to a rebuilt bundle that carries a new migration, keeping the data',
    async () => {
      const result = must(await install(upgrade, '--prefix', prefix), 'upgrade');
      expect(result.stdout).toContain('upgrade (installed: ');
      expect(result.stdout).toContain('Switchboard 0.1.0-upgrade.1 is ready');
      expect(readlinkSync(join(opt, 'current'))).toBe('releases/0.1.0-upgrade.1');
      expect(readdirSync(join(prefix, 'var', 'lib', 'switchboard', 'backups')).some((file) => file.startsWith('pre-upgrade-'))).toBe(true);
      const after = await checksums();
      expect(after.upgrade_probe).toMatchObject({ rows: 1 });
      expect(after.settings).toEqual(before.settings);
      auth = await login(adminPassword);
      expect(await orgName(auth)).toBe('Acme 客服中心 😀');
    },
    TEST_TIMEOUT,
  );

  it(
    'rolls back by itself when an upgrade fails',
    async () => {
      const result = await install(broken, '--prefix', prefix);
      expect(result.code).not.toBe(0);
      expect(result.stdout + result.stderr).toContain('rolled back to 0.1.0-upgrade.1');
      expect(readlinkSync(join(opt, 'current'))).toBe('releases/0.1.0-upgrade.1');
      expect((await api('GET', '/health/ready')).status).toBe(200);
      const after = await checksums();
      expect(after.broken_probe).toBeUndefined();
      expect(after.upgrade_probe).toMatchObject({ rows: 1 });
      auth = await login(adminPassword);
      expect(await orgName(auth)).toBe('Acme 客服中心 😀');
    },
    TEST_TIMEOUT,
  );

  it(
    'uninstalls keeping the data, and --purge deletes it',
    async () => {
      must(await install(bundle, '--prefix', prefix, '--uninstall'), 'uninstall');
      expect(existsSync(opt)).toBe(false);
      expect(existsSync(join(prefix, 'var', 'lib', 'switchboard', 'mysql'))).toBe(true);
      expect(existsSync(join(etc, 'secrets', 'encryption.key'))).toBe(true);
      await expect(fetch(`http://127.0.0.1:${ports.http}/health/ready`)).rejects.toThrow();
      // The kept state lets --purge find and stop what is left.
      must(await install(bundle, '--prefix', prefix, '--uninstall', '--purge'), 'purge');
      expect(existsSync(join(prefix, 'var', 'lib', 'switchboard'))).toBe(false);
    },
    TEST_TIMEOUT,
  );
});
