import { Option, type Command } from 'commander';
import { loadConfig } from '../platform/config/config.loader.js';
import { loadKey } from './backup.crypto.js';
import { tableChecksums } from './backup.database.js';
import { createBackup, restoreBackup, verifyBackup, type BackupManifest } from './backup.service.js';

const keyOptions = (command: Command): Command =>
  command
    .addOption(new Option('--key-file <path>', 'file holding the 32-byte appliance key (hex or base64)').env('SWITCHBOARD_KEY_FILE'))
    .addOption(new Option('--key <key>', 'the appliance key itself (prefer --key-file)').env('SWITCHBOARD_ENCRYPTION_KEY').hideHelp());

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\..+$/, 'Z');

function summary(manifest: BackupManifest): string {
  const tables = Object.entries(manifest.database.tables);
  const rows = tables.reduce((sum, [, table]) => sum + table.rows, 0);
  const files = manifest.entries.filter((entry) => entry.path.startsWith('data/')).length;
  return [
    `  created:  ${manifest.createdAt} by Switchboard ${manifest.appVersion}`,
    `  database: ${manifest.database.kind}, ${tables.length} tables, ${rows} rows${manifest.database.consistent ? '' : ' (changed while dumping: checksums are approximate)'}`,
    `  files:    ${files} from the data directory${manifest.config ? ', plus the configuration file' : ''}`,
  ].join('\n');
}

/** `switchboard backup [create|verify|checksum]` and `switchboard restore`. */
export function registerBackupCommands(program: Command): void {
  const backup = program.command('backup').description('Encrypted backups: database, configuration, model packs, attachments');

  keyOptions(
    backup
      .command('create', { isDefault: true })
      .description('Write an encrypted backup (AES-256-GCM with the appliance key)')
      .addOption(new Option('-o, --output <file>', 'backup file to write'))
      .addOption(new Option('--dir <dir>', 'directory for an automatically named backup').env('SWITCHBOARD_BACKUP_DIR').default('.')),
  ).action(async (options: { output?: string; dir: string; keyFile?: string; key?: string }) => {
    const key = loadKey(options);
    const config = loadConfig();
    const output = options.output ?? `${options.dir}/switchboard-${stamp()}.sbbk`;
    const result = await createBackup(config, key, output);
    process.stdout.write(`Backup written: ${result.file} (${(result.bytes / 1024 / 1024).toFixed(1)} MiB)\n${summary(result.manifest)}\n`);
  });

  keyOptions(backup.command('verify <file>').description('Decrypt a backup and check every entry against its manifest; changes nothing'))
    .addOption(new Option('--json', 'print the manifest as JSON'))
    .action(async (file: string, options: { keyFile?: string; key?: string; json?: boolean }) => {
      const manifest = await verifyBackup(file, loadKey(options));
      if (options.json) process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
      else process.stdout.write(`Backup is intact: ${file}\n${summary(manifest)}\n`);
    });

  backup
    .command('checksum')
    .description("Print the row count and content checksum of every table of this installation's database")
    .addOption(new Option('--json', 'print JSON'))
    .action(async (options: { json?: boolean }) => {
      const report = await tableChecksums(loadConfig().database);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      for (const [name, table] of Object.entries(report)) process.stdout.write(`${name.padEnd(40)} ${String(table.rows).padStart(10)}  ${table.sha256}\n`);
    });

  keyOptions(
    program
      .command('restore <file>')
      .description('Restore a backup onto this installation (stop the core first), then verify row counts and checksums')
      .addOption(new Option('-y, --yes', 'replace a database that already holds data'))
      .addOption(new Option('--extract-config <path>', "also write the backup's configuration file here")),
  ).action(async (file: string, options: { yes?: boolean; extractConfig?: string; keyFile?: string; key?: string }) => {
    const key = loadKey(options);
    const result = await restoreBackup(loadConfig(), key, file, { force: options.yes, extractConfig: options.extractConfig });
    process.stdout.write(`Restored ${file}\n${summary(result.manifest)}\n`);
    if (result.problems.length) {
      process.stderr.write(`Verification FAILED:\n${result.problems.map((p) => `  - ${p}`).join('\n')}\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(
      result.manifest.database.consistent
        ? `Verified: ${result.tables} tables, ${result.rows} rows identical to the backup (row counts and checksums).\n`
        : `Restored ${result.tables} tables, ${result.rows} rows (the backup was taken while data changed: no exact comparison).\n`,
    );
  });
}
