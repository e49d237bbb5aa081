import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../config/config.loader.js';
import type { AppConfig } from '../config/app-config.js';
import { FieldCipher } from '../../compliance/crypto/field-cipher.js';
import { discoverPlugins, type DiscoveryProblem } from './discovery.js';
import { derivePluginNatsUser, natsAuthorizationConfig, natsAuthorizationUsers } from './nats-authorization.js';
import { pluginHostSettings } from './plugin-host.settings.js';

export interface NatsConfigResult {
  /** The `authorization { … }` block, exactly as `PluginHostService.natsAuthorization()` builds it. */
  text: string;
  /** Only the `users` entries, one per line (for a nats-server.conf template). */
  users: string;
  pluginIds: string[];
  problems: DiscoveryProblem[];
}

/**
 * The nats-server authorization block for the plugins installed where this core runs (workspace
 * plugins, `SWITCHBOARD_PLUGINS_DIR`, `SWITCHBOARD_PLUGIN_PATHS`), without starting the core: the
 * same discovery and the same password derivation (appliance key) as the running plugin host.
 */
export function natsConfigFor(config: AppConfig, core: { user: string; password: string }): NatsConfigResult {
  const settings = pluginHostSettings(config);
  const { plugins, problems } = discoverPlugins({ workspace: settings.workspace, dir: settings.dir, paths: settings.paths, fromSource: settings.fromSource });
  const cipher = new FieldCipher(config);
  const pluginIds = [...plugins.keys()];
  const users = pluginIds.map((id) => derivePluginNatsUser(cipher, id));
  return {
    text: natsAuthorizationConfig(core, users),
    users: `${natsAuthorizationUsers(core, users).join('\n')}\n`,
    pluginIds,
    problems,
  };
}

/** `env`: the environment to read the configuration from (default `process.env`; tests pass their own). */
export function registerPluginCommands(program: Command, options: { env?: Record<string, string | undefined> } = {}): void {
  const plugins = program.command('plugins').description('Plugin tools');
  plugins
    .command('nats-config')
    .description(
      'Print the nats-server `authorization` block: the core user (NATS_USER/NATS_PASSWORD) may do anything, each installed plugin ' +
        'gets the user plugin-<id> limited to sb.plugin.<id>.>. Regenerate after installing a plugin, then reload nats-server.',
    )
    .option('--core-user <user>', "the core's NATS user (default: NATS_USER)")
    .option('--core-password <password>', "the core's NATS password (default: NATS_PASSWORD)")
    .option('--users-only', 'print only the user entries (one per line), to fill a template such as appliance/nats-server.conf.in')
    .option('-o, --output <file>', 'write the block to this file (mode 0600) instead of stdout')
    .action((flags: { coreUser?: string; corePassword?: string; output?: string; usersOnly?: boolean }) => {
      const config = loadConfig(options.env ?? process.env);
      const bus = config.bus.kind === 'nats' ? config.bus : undefined;
      const user = flags.coreUser ?? bus?.user;
      const password = flags.corePassword ?? bus?.password;
      if (!user || !password) {
        throw new Error("the core's NATS credentials are needed: set NATS_USER and NATS_PASSWORD (as the core runs), or pass --core-user and --core-password");
      }
      const result = natsConfigFor(config, { user, password });
      const text = flags.usersOnly ? result.users : result.text;
      for (const problem of result.problems) process.stderr.write(`warning: plugin in ${problem.dir} not included: ${problem.message}\n`);
      if (flags.output) {
        writeFileSync(flags.output, text, { mode: 0o600 });
        process.stderr.write(
          `Wrote the authorization for the core and ${result.pluginIds.length} plugin(s) (${result.pluginIds.join(', ') || 'none'}) to ${flags.output}\n`,
        );
      } else {
        process.stdout.write(text);
      }
    });
}
