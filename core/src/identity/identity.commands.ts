import type { Command } from 'commander';
import { loadConfig } from '../platform/config/config.loader.js';
import { createDataSource, runMigrations } from '../platform/database/data-source.factory.js';
import { createLocalAdmin, generatePassword } from './local-accounts.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export function registerIdentityCommands(program: Command): void {
  const admin = program.command('admin').description('Embedded-mode local admin login (trials and air-gapped demos)');
  admin
    .command('create')
    .description('Create a local admin (or reset its password). Without --password-stdin a password is generated and printed once')
    .option('--username <name>', 'login name', 'admin')
    .option('--password-stdin', 'read the password from standard input instead of generating one')
    .action(async (options: { username: string; passwordStdin?: boolean }) => {
      const config = loadConfig();
      if (!config.identity.localLogin.enabled) process.stderr.write('note: LOCAL_LOGIN_ENABLED is false, so this login will not work until it is enabled\n');
      const password = options.passwordStdin ? await readStdin() : generatePassword();
      const dataSource = createDataSource(config.database);
      await dataSource.initialize();
      try {
        await runMigrations(dataSource);
        await createLocalAdmin(dataSource, { username: options.username, password });
        process.stdout.write(
          options.passwordStdin
            ? `Local admin "${options.username}" is ready.\n`
            : `Local admin "${options.username}" is ready.\n  password: ${password}\n  (shown once; it is stored only as an argon2id hash)\n`,
        );
      } finally {
        await dataSource.destroy();
      }
    });
}
