import type { Command } from 'commander';
import { loadConfig, redactConfig } from '../platform/config/config.loader.js';
import { isEmbedded } from '../platform/config/app-config.js';
import { createDataSource, runMigrations } from '../platform/database/data-source.factory.js';
import { sqlTime } from '../platform/database/sql-time.js';

export function registerPlatformCommands(program: Command): void {
  program
    .command('start')
    .description('Start the appliance (embedded SQLite + in-process bus unless DATABASE_URL/NATS_URL are set)')
    .action(async () => {
      const config = loadConfig();
      const { startServer } = await import('../main.js');
      const running = await startServer(config, { handleSignals: true });
      const mode = isEmbedded(config) ? 'embedded mode (SQLite + in-process bus)' : `${config.database.kind} + ${config.bus.kind}`;
      running.logger.info({ url: running.url, mode }, 'Switchboard is ready');
      process.stdout.write(
        `\nSwitchboard is running in ${mode} at ${running.url}\n  health:  ${running.url}/health/ready\n  API docs: ${running.url}/api/docs\n\n`,
      );
      // Keep running until a signal arrives.
      await new Promise(() => undefined);
    });

  program
    .command('migrate')
    .description('Apply pending database migrations and exit')
    .action(async () => {
      const config = loadConfig();
      const dataSource = createDataSource(config.database);
      await dataSource.initialize();
      try {
        const applied = await runMigrations(dataSource);
        process.stdout.write(
          applied.length ? `Applied ${applied.length} migration(s):\n${applied.map((name) => `  ${name}`).join('\n')}\n` : 'Database is up to date.\n',
        );
      } finally {
        await dataSource.destroy();
      }
    });

  const outbox = program.command('outbox').description('Outbox tools');
  outbox
    .command('replay')
    .description('Re-publish events committed since a time (after a bus power cut); consumers ignore copies')
    .requiredOption('--since <iso-time>', 'replay rows sent at or after this UTC time, e.g. 2026-11-22T08:00:00Z')
    .action(async (options: { since: string }) => {
      const since = new Date(options.since);
      if (Number.isNaN(since.getTime())) throw new Error(`--since must be an ISO time, got "${options.since}"`);
      const config = loadConfig();
      const dataSource = createDataSource(config.database);
      await dataSource.initialize();
      try {
        const runner = dataSource.createQueryRunner();
        const result = await runner
          .query('UPDATE outbox SET sent_at = NULL WHERE sent_at >= ?', [sqlTime(dataSource, since)], true)
          .finally(() => runner.release());
        const count = result.affected ?? 0;
        process.stdout.write(`Marked ${count} event(s) for re-publishing; running cores relay them within seconds.\n`);
      } finally {
        await dataSource.destroy();
      }
    });

  const configCommand = program.command('config').description('Configuration tools');
  configCommand
    .command('check')
    .description('Validate the configuration from the environment and SWITCHBOARD_CONFIG, print it without secrets')
    .action(() => {
      const config = loadConfig();
      process.stdout.write(`Configuration is valid.\n${JSON.stringify(redactConfig(config), null, 2)}\n`);
    });
}
