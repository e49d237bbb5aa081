import { Command } from 'commander';
import { registerPluginCommands } from '../../src/platform/plugin-host/plugin-host.commands.js';

/** Runs `switchboard plugins nats-config …` in this process (as the CLI would), capturing its output. */
export async function runNatsConfig(args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string; error?: Error }> {
  const program = new Command('switchboard').exitOverride();
  registerPluginCommands(program, { env });
  let stdout = '';
  let stderr = '';
  const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'switchboard', 'plugins', 'nats-config', ...args]);
    return { stdout, stderr };
  } catch (error) {
    return { stdout, stderr, error: error as Error };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}
