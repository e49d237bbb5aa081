/**
 * The appliance for real: builds the bundle once, installs it with installer/install.sh under a
 * temporary prefix in --no-systemd mode (its own MariaDB and nats-server processes, from the
 * machine's packages), then the whole operator cycle: health → data through the API (a setting, a
 * conversation with an uploaded attachment) → backup → wipe → restore onto a fresh install →
 * identical data (table checksums, data directory files, the attachment's bytes) → a tampered
 * bundle is refused → a re-run repairs a damaged release and installs a provided TLS certificate →
 * upgrade to a rebuilt bundle carrying a new migration → data intact → upgrades whose migration
 * fails or whose core fails the health check roll themselves back → an install against an existing
 * MySQL and NATS (--database-url/--nats-url) → the systemd units verify → uninstall keeps data,
 * --purge not.
 *
 * Takes a few minutes (the bundle runs npm install and compiles better-sqlite3 for Node 24).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync, copyFileSync, renameSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { freePort, hasMariadb, hasNats, NatsServer } from '../harness/servers.mjs';

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

/** Every file under a directory with its SHA-256, by relative path. */
function treeHashes(dir: string, into: Record<string, string> = {}, base = dir): Record<string, string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) treeHashes(path, into, base);
    else if (entry.isFile()) into[relative(base, path)] = sha256(path);
  }
  return into;
}

/** Replaces @NAME@ in a template the way install.sh's render() does. */
const renderTemplate = (text: string, values: Record<string, string>) => text.replace(/@([A-Z_]+)@/g, (_match, name: string) => values[name] ?? '');

/** install.state (NAME=value lines written with printf %q; the values used here need no unquoting). */
const readState = (file: string): Record<string, string> =>
  Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).replace(/^''$/, '')]),
  );

// A PNG signature and random bytes: an attachment type the core accepts.
const ATTACHMENT = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(2048)]);

/** A copy of an extracted bundle with another version, an extra migration and optionally replaced files; checksums updated. */
async function derivedBundle(source: string, target: string, version: string, migration: string, replace: Record<string, string> = {}): Promise<void> {
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
  for (const [rel, text] of Object.entries(replace)) rewrite(rel, text);
  const manifest = JSON.parse(readFileSync(join(target, 'MANIFEST.json'), 'utf8')) as Record<string, unknown>;
  const sums = readFileSync(join(target, 'SHA256SUMS'), 'utf8')
    .trim()
    .split('\n')
    .filter((line) => !['app/core/dist/migrations.js', 'VERSION', ...Object.keys(replace)].some((rel) => line.endsWith(`  ${rel}`)));
  for (const rel of ['VERSION', 'app/core/dist/migrations.js', 'app/core/dist/zz-test-migration.js', ...Object.keys(replace)]) {
    sums.push(`${sha256(join(target, rel))}  ${rel}`);
  }
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

// Migrates fine, but its core cannot start: the upgrade's health check fails.
const UNHEALTHY_MIGRATION = `
export class UnhealthyProbe1799999999997 {
  name = 'UnhealthyProbe1799999999997';
  async up(queryRunner) {
    await queryRunner.query('CREATE TABLE unhealthy_probe (id INT PRIMARY KEY)');
  }
  async down(queryRunner) {
    await queryRunner.query('DROP TABLE unhealthy_probe');
  }
}
`;
const UNSTARTABLE_MAIN = `export async function startServer() {
  throw new Error('this release cannot start, on purpose');
}
`;

suite('appliance bundle and installer (real MariaDB + nats-server, --no-systemd)', () => {
  const work = mkdtempSync(join(tmpdir(), 'sb-appliance-'));
  const prefix = join(work, 'root');
  const etc = join(prefix, 'etc', 'switchboard');
  const opt = join(prefix, 'opt', 'switchboard');
  const dataDir = join(prefix, 'var', 'lib', 'switchboard', 'data');
  let bundle = '';
  let upgrade = '';
  let broken = '';
  let unhealthy = '';
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
  const attachmentBytes = async (auth: Record<string, string>, id: string) => {
    const response = await fetch(`http://127.0.0.1:${ports.http}/api/v1/attachments/${id}/content`, { headers: auth });
    expect(response.status).toBe(200);
    return Buffer.from(await response.arrayBuffer());
  };
  const waitHealthy = async () => {
    for (let i = 0; i < 120 && (await ctl('health')).code !== 0; i++) await new Promise((r) => setTimeout(r, 500));
    must(await ctl('health'), 'health');
  };
  /** An HTTPS request to the TLS front, trusting only `ca`. */
  const httpsStatus = (ca: Buffer) =>
    new Promise<number>((resolveStatus, reject) => {
      https
        .get({ host: '127.0.0.1', port: ports.https, path: '/health/ready', ca, servername: 'localhost' }, (res) => {
          res.resume();
          resolveStatus(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
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
    unhealthy = join(work, 'unhealthy-bundle');
    await derivedBundle(bundle, unhealthy, '0.1.0-unhealthy.1', UNHEALTHY_MIGRATION, { 'app/core/dist/main.js': UNSTARTABLE_MAIN });
  }, 900_000);

  afterAll(async () => {
    if (existsSync(join(opt, 'bin', 'switchboardctl'))) await ctl('stop', 'proxy', 'core', 'nats', 'db');
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  let adminPassword = '';
  let auth: Record<string, string> = {};
  let before: Record<string, { rows: number; sha256: string }> = {};
  let attachmentId = '';

  it(
    'installs from the extracted bundle without network and becomes ready',
    async () => {
      const result = must(await install(bundle, ...installArgs), 'install.sh');
      expect(result.stdout).toContain('is ready');
      expect(result.stdout).toMatch(/First admin login: admin \/ \w+/);
      // mariadbd and nats-server are on this machine: the OS package manager is not asked.
      expect(result.stdout).not.toContain('Installing the OS packages');
      expect((await api('GET', '/health/ready')).status).toBe(200);
      // The installer creates the first admin itself: the core does not print a generated password into its log.
      expect(readFileSync(join(prefix, 'var', 'log', 'switchboard', 'core.log'), 'utf8')).not.toContain('created a local admin login');
      // The TLS front answers with the installer's self-signed certificate.
      expect(readFileSync(join(etc, 'tls', 'source'), 'utf8').trim()).toBe('self-signed');
      expect(await httpsStatus(readFileSync(join(etc, 'tls', 'cert.pem')))).toBe(200);
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
    'ships the trained default NLP packs, and the installed core registers them as the active defaults instead of training',
    async () => {
      // In the bundle: app/models/<name>/{model.onnx,manifest.json}, listed in MANIFEST.json and SHA256SUMS.
      const manifest = JSON.parse(readFileSync(join(bundle, 'MANIFEST.json'), 'utf8')) as {
        models: Array<{ name: string; task: string; version: string; dir: string; sha256: string }>;
      };
      const sums = readFileSync(join(bundle, 'SHA256SUMS'), 'utf8');
      expect(manifest.models.map((model) => model.name).sort()).toEqual(['emotion', 'intent', 'language']);
      for (const model of manifest.models) {
        expect(model).toMatchObject({ task: model.name, version: 'default-1', dir: `app/models/${model.name}` });
        expect(sha256(join(bundle, model.dir, 'model.onnx'))).toBe(model.sha256);
        const packManifest = join(bundle, model.dir, 'manifest.json');
        expect(JSON.parse(readFileSync(packManifest, 'utf8'))).toMatchObject({ name: model.name, version: 'default-1', modelSha256: model.sha256 });
        expect(sums).toContain(`${model.sha256}  ${model.dir}/model.onnx\n`);
        expect(sums).toContain(`${sha256(packManifest)}  ${model.dir}/manifest.json\n`);
      }
      // The installed core found them in its release (the default SWITCHBOARD_MODELS_DIR).
      const release = resolve(opt, 'releases', readFileSync(join(bundle, 'VERSION'), 'utf8').trim());
      expect(must(await cli('config', 'check'), 'config check').stdout).toContain(join(release, 'app', 'models'));
      const models = await api('GET', '/api/v1/nlp/models', undefined, await login(adminPassword));
      expect(models.status).toBe(200);
      const body = models.body as unknown as { items: Array<Record<string, unknown>>; live: Record<string, string> };
      for (const model of manifest.models) {
        expect(body.items).toContainEqual(expect.objectContaining({ name: model.name, version: 'default-1', status: 'active', sha256: model.sha256 }));
        expect(body.live[model.name]).toBe('default-1');
        expect(sha256(join(dataDir, 'nlp', 'models', model.name, 'default-1', 'model.onnx'))).toBe(model.sha256);
      }
      // Registered from the shipped files, none trained or refused.
      const log = readFileSync(join(prefix, 'var', 'log', 'switchboard', 'core.log'), 'utf8');
      const registered = log.split('\n').filter((line) => line.includes('registered the shipped default NLP pack'));
      // Each line names its model (a field called `name` would be censored as personal data).
      expect(registered.map((line) => (JSON.parse(line) as { model?: string }).model).sort()).toEqual(manifest.models.map((model) => model.name).sort());
      expect(log).not.toContain('training it instead');
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
      // A conversation with an uploaded attachment: a database row plus an encrypted file in the data directory.
      const inbox = await api('POST', '/api/v1/inboxes', { name: 'Appliance test', channel: 'api' }, auth);
      expect(inbox.status).toBe(201);
      const contact = await api('POST', '/api/v1/contacts', { name: 'Zhang Wei 张伟' }, auth);
      expect(contact.status).toBe(201);
      const conversation = await api('POST', '/api/v1/conversations', { contactId: contact.body!.id, inboxId: inbox.body!.id }, auth);
      expect(conversation.status).toBe(201);
      const form = new FormData();
      form.append('file', new Blob([ATTACHMENT], { type: 'image/png' }), 'receipt.png');
      const uploaded = await fetch(`http://127.0.0.1:${ports.http}/api/v1/conversations/${String(conversation.body!.id)}/attachments`, {
        method: 'POST',
        headers: auth,
        body: form,
      });
      expect(uploaded.status).toBe(201);
      attachmentId = String(((await uploaded.json()) as { id: string }).id);
      expect(await attachmentBytes(auth, attachmentId)).toEqual(ATTACHMENT);
      expect(Object.keys(treeHashes(join(dataDir, 'attachments'))).length).toBeGreaterThan(0);
    },
    TEST_TIMEOUT,
  );

  it(
    'backs up, survives a wipe, and restores identical data onto a fresh install',
    async () => {
      must(await ctl('stop', 'proxy', 'core'), 'stop the core');
      before = await checksums();
      expect(Object.keys(before).length).toBeGreaterThan(3);
      // The data directory: the attachment and the model packs the core registered.
      const filesBefore = treeHashes(dataDir);
      expect(Object.keys(filesBefore).some((file) => file.startsWith('attachments/'))).toBe(true);
      expect(Object.keys(filesBefore).some((file) => file.startsWith('nlp/models/'))).toBe(true);
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
      expect(treeHashes(dataDir)).toEqual(filesBefore);
      must(await ctl('start', 'core', 'proxy'), 'start');
      await waitHealthy();
      // The restored database holds the old admin login, the setting and the attachment.
      auth = await login(adminPassword);
      expect(await orgName(auth)).toBe('Acme 客服中心 😀');
      expect(await attachmentBytes(auth, attachmentId)).toEqual(ATTACHMENT);
    },
    TEST_TIMEOUT,
  );

  it(
    'refuses a bundle whose files do not match its SHA256SUMS, changing nothing',
    async () => {
      const damaged = join(work, 'damaged-bundle');
      must(await sh('cp', ['-al', bundle, damaged]), 'hard-link copy of the bundle');
      const file = join(damaged, 'app', 'core', 'dist', 'cli', 'cli.js');
      writeFileSync(`${file}.new`, `${readFileSync(file, 'utf8')}\n// tampered\n`);
      renameSync(`${file}.new`, file); // never write through a hard link
      const current = readlinkSync(join(opt, 'current'));
      const result = await install(damaged, '--prefix', prefix);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('the bundle is damaged (SHA256SUMS does not match)');
      expect(readlinkSync(join(opt, 'current'))).toBe(current);
      expect((await api('GET', '/health/ready')).status).toBe(200);
      rmSync(damaged, { recursive: true, force: true });
    },
    TEST_TIMEOUT,
  );

  it(
    'a re-run repairs a damaged release, keeps secrets and data, and installs a provided TLS certificate',
    async () => {
      const version = readFileSync(join(bundle, 'VERSION'), 'utf8').trim();
      const secretNames = ['encryption.key', 'db-password', 'admin-password', 'nats-core.password'];
      const secrets = Object.fromEntries(secretNames.map((name) => [name, readFileSync(join(etc, 'secrets', name), 'utf8')]));
      const selfSigned = readFileSync(join(etc, 'tls', 'cert.pem'));
      // Damage: a file of the release and the CLI wrapper are gone.
      const cliJs = join(opt, 'releases', version, 'app', 'core', 'dist', 'cli', 'cli.js');
      rmSync(cliJs);
      rmSync(join(opt, 'bin', 'switchboard'));
      // The operator's own certificate.
      const own = join(work, 'own-tls');
      mkdirSync(own);
      must(
        await sh('openssl', [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-sha256',
          '-days',
          '30',
          '-nodes',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
          '-keyout',
          join(own, 'key.pem'),
          '-out',
          join(own, 'cert.pem'),
        ]),
        'openssl',
      );

      const natsUsers = () => [...readFileSync(join(etc, 'nats', 'nats-server.conf'), 'utf8').matchAll(/user: "([^"]+)"/g)].map((m) => m[1]).sort();
      expect(natsUsers()).toEqual(expect.arrayContaining(['core', 'plugin-api', 'plugin-email', 'plugin-iot-serial', 'plugin-webchat']));

      const result = must(
        await install(bundle, '--prefix', prefix, '--tls-cert', join(own, 'cert.pem'), '--tls-key', join(own, 'key.pem'), '--plugins', 'api,iot-serial'),
        're-run',
      );
      expect(result.stdout).toContain(`Switchboard ${version}: repair (installed: ${version})`);
      expect(result.stdout).toContain('is ready');
      expect(existsSync(cliJs)).toBe(true);
      expect(existsSync(join(opt, 'bin', 'switchboard'))).toBe(true);
      for (const name of secretNames) expect(readFileSync(join(etc, 'secrets', name), 'utf8')).toBe(secrets[name]);
      // --plugins: NATS users for the core and the selected plugins only.
      expect(natsUsers()).toEqual(['core', 'plugin-api', 'plugin-iot-serial']);
      // The TLS front now serves the provided certificate, and only that one.
      expect(readFileSync(join(etc, 'tls', 'source'), 'utf8').trim()).toBe('provided');
      expect(readFileSync(join(etc, 'tls', 'cert.pem'))).toEqual(readFileSync(join(own, 'cert.pem')));
      expect(await httpsStatus(readFileSync(join(own, 'cert.pem')))).toBe(200);
      await expect(httpsStatus(selfSigned)).rejects.toThrow();
      // Same data, same admin login.
      expect((await checksums()).settings).toEqual(before.settings);
      auth = await login(adminPassword);
      expect(await orgName(auth)).toBe('Acme 客服中心 😀');
      expect(await attachmentBytes(auth, attachmentId)).toEqual(ATTACHMENT);
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
      // The --plugins choice of the previous run is remembered.
      expect([...readFileSync(join(etc, 'nats', 'nats-server.conf'), 'utf8').matchAll(/user: "([^"]+)"/g)].map((m) => m[1]).sort()).toEqual([
        'core',
        'plugin-api',
        'plugin-iot-serial',
      ]);
      auth = await login(adminPassword);
      expect(await orgName(auth)).toBe('Acme 客服中心 😀');
      expect(await attachmentBytes(auth, attachmentId)).toEqual(ATTACHMENT);
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
    'rolls back by itself when the upgraded core fails its health check, restoring the pre-upgrade backup',
    async () => {
      const result = await install(unhealthy, '--prefix', prefix, '--health-timeout', '60');
      expect(result.code).not.toBe(0);
      expect(result.stdout + result.stderr).toContain('Switchboard 0.1.0-unhealthy.1 did not become ready');
      expect(result.stdout + result.stderr).toContain('rolled back to 0.1.0-upgrade.1');
      expect(readlinkSync(join(opt, 'current'))).toBe('releases/0.1.0-upgrade.1');
      expect((await api('GET', '/health/ready')).status).toBe(200);
      // Its migration had run; the restored pre-upgrade backup undid it.
      const after = await checksums();
      expect(after.unhealthy_probe).toBeUndefined();
      expect(after.upgrade_probe).toMatchObject({ rows: 1 });
      expect(after.settings).toEqual(before.settings);
      auth = await login(adminPassword);
      expect(await orgName(auth)).toBe('Acme 客服中心 😀');
      expect(await attachmentBytes(auth, attachmentId)).toEqual(ATTACHMENT);
    },
    TEST_TIMEOUT,
  );

  it(
    'installs against an existing MySQL database and NATS server (--database-url, --nats-url), and --purge leaves that database alone',
    async () => {
      const rootUrl = process.env.SB_TEST_MYSQL_ROOT_URL;
      if (!rootUrl) throw new Error('SB_TEST_MYSQL_ROOT_URL is not set: the global setup did not start MariaDB');
      // "Existing" servers: the test run's MariaDB with a database and user made for this, and a nats-server with a user.
      const name = `sb_ext_${randomBytes(3).toString('hex')}`;
      const password = randomBytes(12).toString('hex');
      const mysql = await import('mysql2/promise');
      const root = await mysql.createConnection(`${rootUrl}/mysql`);
      const tables = async () => {
        const [rows] = await root.query('SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = ?', [name]);
        return Number((rows as { n: number }[])[0]!.n);
      };
      const nats = await NatsServer.create({ config: 'authorization { users = [ { user: "ext-core", password: "ext-nats-secret" } ] }\n' });
      const prefix2 = join(work, 'root-external');
      const http = await freePort();
      try {
        await root.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
        await root.query(`CREATE USER '${name}'@'%' IDENTIFIED BY '${password}'`);
        await root.query(`GRANT ALL PRIVILEGES ON \`${name}\`.* TO '${name}'@'%'`);
        const { hostname, port } = new URL(rootUrl);
        const databaseUrl = `mysql://${name}:${password}@${hostname}:${port}/${name}`;
        const result = must(
          await install(
            bundle,
            '--prefix',
            prefix2,
            '--no-systemd',
            '--hostname',
            'localhost',
            '--no-tls',
            '--http-port',
            String(http),
            '--database-url',
            databaseUrl,
            '--nats-url',
            nats.url,
            '--nats-user',
            'ext-core',
            '--nats-password',
            'ext-nats-secret',
          ),
          'install.sh with an existing MySQL and NATS',
        );
        expect(result.stdout).toContain('is ready');
        expect(result.stdout).not.toContain('Installing the OS packages');
        expect(result.stdout).toContain(`URL:      http://localhost:${http}`);
        // No MariaDB or nats-server of its own: only the core runs.
        expect(existsSync(join(prefix2, 'var', 'lib', 'switchboard', 'mysql'))).toBe(false);
        expect(existsSync(join(prefix2, 'etc', 'switchboard', 'nats', 'nats-server.conf'))).toBe(false);
        const ctl2 = join(prefix2, 'opt', 'switchboard', 'bin', 'switchboardctl');
        const status = must(await sh(ctl2, ['status']), 'status').stdout;
        expect(status).toMatch(/^core\s+running/m);
        expect(status).not.toMatch(/^(db|nats|proxy)\b/m);
        // Ready means the database answers and the bus is connected: to a nats-server that admits only ext-core.
        expect((await fetch(`http://127.0.0.1:${http}/health/ready`)).status).toBe(200);
        // The core's schema is in the existing database.
        expect(await tables()).toBeGreaterThan(10);
        must(await install(bundle, '--prefix', prefix2, '--uninstall', '--purge'), 'uninstall --purge');
        expect(existsSync(join(prefix2, 'var', 'lib', 'switchboard'))).toBe(false);
        expect(await tables()).toBeGreaterThan(10);
      } finally {
        if (existsSync(join(prefix2, 'opt', 'switchboard', 'bin', 'switchboardctl')))
          await sh(join(prefix2, 'opt', 'switchboard', 'bin', 'switchboardctl'), ['stop']);
        await root.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await root.query(`DROP USER IF EXISTS '${name}'@'%'`);
        await root.end();
        await nats.stop();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'writes systemd units that systemd-analyze verifies against the installed layout',
    async () => {
      if (!existsSync('/usr/bin/systemd-analyze')) {
        if (ci) throw new Error('CI=true but systemd-analyze is missing (apt-get install systemd)');
        return;
      }
      // The --no-systemd test install has no units; render the templates as install.sh does, with
      // this installation's values, so every ExecStart points at a real executable.
      const state = readState(join(etc, 'install.state'));
      const values: Record<string, string> = {
        OPT: state.SB_OPT!,
        ETC: state.SB_ETC!,
        LIB: state.SB_LIB!,
        LOG: state.SB_LOG!,
        SB_USER: state.SB_USER!,
        SB_GROUP: state.SB_GROUP!,
        NATS_BIN: state.SB_NATS_BIN!,
        HTTPS_LISTEN: state.SB_HTTPS_LISTEN!,
        HTTP_PORT: state.SB_HTTP_PORT!,
      };
      const units = join(work, 'units');
      mkdirSync(units, { recursive: true });
      const templates = readdirSync(join(ROOT, 'appliance', 'systemd')).filter((file) => file.endsWith('.service.in'));
      expect(templates.sort()).toEqual(['switchboard-nats.service.in', 'switchboard-proxy.service.in', 'switchboard.service.in']);
      for (const template of templates) {
        const text = renderTemplate(readFileSync(join(ROOT, 'appliance', 'systemd', template), 'utf8'), values);
        expect(text).not.toMatch(/@[A-Z_]+@/);
        writeFileSync(join(units, template.replace(/\.in$/, '')), text);
      }
      const verified = await sh('systemd-analyze', ['verify', '--man=no', ...templates.map((t) => join(units, t.replace(/\.in$/, '')))]);
      expect(`${verified.stdout}${verified.stderr}`.trim()).toBe('');
      expect(verified.code).toBe(0);
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
