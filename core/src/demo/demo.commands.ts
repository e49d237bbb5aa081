import type { Command } from 'commander';
import { loadConfig } from '../platform/config/config.loader.js';

export function registerDemoCommands(program: Command): void {
  const demo = program.command('demo').description('Demo data for trials and screenshots');
  demo
    .command('seed')
    .description(
      'Create realistic zh/en demo data (teams, agents, contacts, conversations, tickets, SLA, canned responses, devices with telemetry and a fault) through the services',
    )
    .option('--admin <username>', 'also create this local admin if no local login exists yet (password printed once)', 'admin')
    .option('--no-admin', 'do not create a local admin')
    .option('--settle-ms <ms>', 'how long to wait for events (CSAT, analytics) to be processed', (value) => Number(value), 30_000)
    .action(async (options: { admin: string | false; settleMs: number }) => {
      const config = loadConfig({ ...process.env, LOCAL_ADMIN_GENERATE_AT_START: 'false', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
      const [{ createApp }, { seedDemo }] = await Promise.all([import('../main.js'), import('./demo-seed.js')]);
      const app = await createApp(config);
      await app.init();
      try {
        const summary = await seedDemo(app, {
          log: (line) => process.stdout.write(`${line}\n`),
          adminUsername: options.admin || undefined,
          settleMs: options.settleMs,
        });
        process.stdout.write(
          [
            `Seeded: ${summary.teams} teams, ${summary.agents} agents, ${summary.contacts} contacts, ${summary.conversations} conversations, ${summary.tickets} tickets,`,
            `        ${summary.devices} devices with ${summary.readings} readings, ${summary.csatAnswers} CSAT answers,`,
            `        ${summary.kbEntries} knowledge-base entries, ${summary.flows} bot flows, the bot on ${summary.botInboxes} inbox(es).`,
            ...summary.skipped.map((item) => `Not seeded: ${item}.`),
            ...(summary.adminPassword ? ['', 'Local admin login (shown once):', `  username: ${options.admin}`, `  password: ${summary.adminPassword}`] : []),
            ...(summary.simulatorKey
              ? ['', 'Live device telemetry (while the core runs):', `  npx switchboard demo simulate --api-key ${summary.simulatorKey}`]
              : []),
            '',
            'Start with `npx switchboard start` and open the printed URL.',
            '',
          ].join('\n'),
        );
      } finally {
        await app.close();
      }
    });

  demo
    .command('simulate')
    .description('Post live telemetry for the demo devices to a running core (the telemetry API, like a gateway), every few seconds until stopped')
    .requiredOption('--api-key <key>', 'an API key with the telemetry:write scope (printed by `demo seed`)')
    .option('--url <url>', "the core to post to (default: this configuration's address)")
    .option('--interval-ms <ms>', 'time between rounds', (value) => Number(value), 5000)
    .action(async (options: { apiKey: string; url?: string; intervalMs: number }) => {
      const config = loadConfig();
      const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
      const url = options.url ?? config.http.publicUrl ?? `http://${host}:${config.http.port}`;
      const { runSimulator } = await import('./demo-simulate.js');
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      process.once('SIGTERM', () => controller.abort());
      process.stdout.write(`simulating demo devices against ${url} every ${options.intervalMs} ms (Ctrl+C to stop)\n`);
      await runSimulator({
        url,
        apiKey: options.apiKey,
        intervalMs: options.intervalMs,
        signal: controller.signal,
        log: (line) => process.stdout.write(`${line}\n`),
      });
    });
}
