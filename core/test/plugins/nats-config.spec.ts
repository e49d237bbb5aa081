import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FieldCipher } from '../../src/compliance/crypto/field-cipher.js';
import { derivePluginNatsUser } from '../../src/platform/plugin-host/nats-authorization.js';
import { runNatsConfig } from './nats-config-cli.js';

const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures');
const KEY = 'cd'.repeat(32);

describe('switchboard plugins nats-config', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-nats-config-'));
  const env = {
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_ENCRYPTION_KEY: KEY,
    SWITCHBOARD_PLUGINS_WORKSPACE: 'false',
    SWITCHBOARD_PLUGIN_PATHS: ['fx-echo', 'fx-evil', 'fx-bad-key'].map((name) => join(FIXTURES, name)).join(','),
    SWITCHBOARD_PLUGINS_FROM_SOURCE: 'true',
    NATS_URL: 'nats://127.0.0.1:4222',
    NATS_USER: 'core',
    NATS_PASSWORD: 'core-secret',
  };

  it('prints the core user and one restricted user per installed plugin, with passwords derived from the appliance key', async () => {
    const { stdout, stderr, error } = await runNatsConfig([], env);
    expect(error).toBeUndefined();
    const cipher = FieldCipher.fromKey(Buffer.from(KEY, 'hex'));
    expect(stdout).toContain('authorization {');
    expect(stdout).toContain('{ user: "core", password: "core-secret", permissions: { publish: ">", subscribe: ">" } }');
    for (const pluginId of ['fx-echo', 'fx-evil']) {
      const { user, password } = derivePluginNatsUser(cipher, pluginId);
      expect(stdout).toContain(
        `{ user: "${user}", password: "${password}", permissions: { publish: { allow: ["sb.plugin.${pluginId}.>"] }, subscribe: { allow: ["sb.plugin.${pluginId}.>"] } } }`,
      );
    }
    // A plugin whose manifest does not validate is not loaded, so it gets no user; the operator is told.
    expect(stdout).not.toContain('fx-bad-key');
    expect(stderr).toMatch(/warning: plugin in .*fx-bad-key not included/);
  });

  it('needs the core credentials; flags override the environment; --output writes a private file that nats-server accepts', async () => {
    const { NATS_USER: _user, NATS_PASSWORD: _password, ...noCredentials } = env;
    const missing = await runNatsConfig([], noCredentials);
    expect(missing.error?.message).toMatch(/NATS_USER and NATS_PASSWORD/);
    expect(missing.stdout).toBe('');

    const file = join(dataDir, 'nats-auth.conf');
    const written = await runNatsConfig(['--core-user', 'sb-core', '--core-password', 'p4ss"word', '-o', file], env);
    expect(written.error).toBeUndefined();
    expect(written.stdout).toBe('');
    expect(written.stderr).toContain('2 plugin(s) (fx-echo, fx-evil)');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain('{ user: "sb-core", password: "p4ss\\"word"');

    const users = await runNatsConfig(['--users-only'], env);
    expect(users.stdout.trim().split('\n')).toEqual([
      expect.stringContaining('{ user: "core"'),
      expect.stringContaining('{ user: "plugin-fx-echo"'),
      expect.stringContaining('{ user: "plugin-fx-evil"'),
    ]);

    const natsServer = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((path) => existsSync(path));
    if (!natsServer && process.env.CI !== 'true') return;
    // `nats-server -t` parses the configuration and exits non-zero on a syntax error.
    execFileSync(natsServer!, ['-t', '-c', file], { stdio: 'pipe', timeout: 10_000 });
  });

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
});
