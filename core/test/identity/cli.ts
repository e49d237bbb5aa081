import { jest } from '@jest/globals';
import { main } from '../../src/cli/cli.js';

/** Runs `switchboard <args>` in this process against the given environment; returns exit code and stdout. */
export async function cli(env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string }> {
  const saved = { ...process.env };
  Object.assign(process.env, { LOG_LEVEL: 'silent' }, env);
  const writes: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    writes.push(String(chunk));
    return true;
  });
  try {
    process.exitCode = undefined;
    const code = await main(['node', 'switchboard', ...args]);
    return { code, stdout: writes.join('') };
  } finally {
    spy.mockRestore();
    process.exitCode = undefined;
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}
