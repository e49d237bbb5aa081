import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { registerPlatformCommands } from './platform.commands.js';
import { registerBackupCommands } from '../operations/backup.commands.js';
import { registerIdentityCommands } from '../identity/identity.commands.js';
import { registerAuditCommands } from '../compliance/audit/audit.commands.js';
import { registerPluginCommands } from '../platform/plugin-host/plugin-host.commands.js';
import { registerNlpCommands } from '../nlp/nlp.commands.js';
import { registerDeviceCommands } from '../devices/devices.commands.js';
import { registerDemoCommands } from '../demo/demo.commands.js';

/**
 * `switchboard` command line. Each module contributes its commands through a
 * `register…Commands(program)` function listed here.
 */
export function buildProgram(): Command {
  const program = new Command('switchboard').description('Switchboard customer-service appliance').version('0.1.0').showHelpAfterError().exitOverride();
  registerPlatformCommands(program);
  registerBackupCommands(program);
  registerIdentityCommands(program);
  registerAuditCommands(program);
  registerPluginCommands(program);
  registerNlpCommands(program);
  registerDeviceCommands(program);
  registerDemoCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`switchboard: ${message}\n`);
    return 1;
  }
}
