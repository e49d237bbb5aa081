import type { Command } from 'commander';
import { loadConfig } from '../../platform/config/config.loader.js';
import { createDataSource } from '../../platform/database/data-source.factory.js';
import { verifyAuditChain } from './audit.service.js';

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('Audit log tools');
  audit
    .command('verify')
    .description('Recompute the audit hash chain; names every edited or deleted entry and exits 1 if any')
    .option('--json', 'print the report as JSON')
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig();
      const dataSource = createDataSource(config.database);
      await dataSource.initialize();
      try {
        const report = await verifyAuditChain(dataSource);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        } else if (report.ok) {
          process.stdout.write(`Audit log intact: ${report.checked} entries, head ${report.lastSeq} ${report.lastHash}\n`);
        } else {
          process.stdout.write(`Audit log TAMPERED: ${report.problems.length} problem(s) in ${report.checked} entries\n`);
          for (const problem of report.problems) process.stdout.write(`  seq ${problem.seq}: ${problem.problem}: ${problem.message}\n`);
        }
        if (!report.ok) process.exitCode = 1;
      } finally {
        await dataSource.destroy();
      }
    });
}
