/**
 * Real `switchboard start` processes for tests that need more than one core process on one
 * store (outbox relay, telemetry consumers). They run the built CLI (core/dist), so the
 * process tests need `npm run build` first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './servers.mjs';
import { TEST_ENCRYPTION_KEY, waitFor } from './test-app.js';

/** The core package directory, wherever Jest was started from. */
const CORE_DIR = fileURLToPath(new URL('../..', import.meta.url));
const CLI = resolve(CORE_DIR, 'bin/switchboard.js');
const BUILT = resolve(CORE_DIR, 'dist/cli/cli.js');

export interface CoreProcess {
  name: string;
  child: ChildProcess;
  url: string;
  /** The last 20 kB of the process's stdout and stderr. */
  output(): string;
  /** SIGTERM, then waits (at most `timeoutMs`) for the exit; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

const started: Array<{ child: ChildProcess; dir: string }> = [];

/** Fails with a clear message when core/dist is missing. */
export function assertCoreBuilt(): void {
  if (!existsSync(BUILT)) throw new Error(`core/dist is missing (${BUILT}): run \`npm run build\` before the process tests`);
}

/** Starts `switchboard start` on a free loopback port and waits until /health/ready answers 200. */
export async function startCoreProcess(name: string, env: Record<string, string>): Promise<CoreProcess> {
  assertCoreBuilt();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sb-proc-'));
  const childEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && key !== 'NODE_OPTIONS') childEnv[key] = value;
  const child = spawn(process.execPath, [CLI, 'start'], {
    env: {
      ...childEnv,
      HOST: '127.0.0.1',
      PORT: String(port),
      SWITCHBOARD_INSTANCE_ID: name,
      SWITCHBOARD_DATA_DIR: dir,
      SWITCHBOARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      SWITCHBOARD_OUTBOX_POLL_MS: '50',
      SWITCHBOARD_OUTBOX_BATCH: '50',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push({ child, dir });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${output}`);
      return (await fetch(`${url}/health/ready`).catch(() => undefined))?.status === 200;
    },
    60_000,
    `process ${name} to be ready`,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${output}`);
  });
  return {
    name,
    child,
    url,
    output: () => output,
    stop: async (timeoutMs = 15_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
        clearTimeout(timer);
      }
      return child.exitCode;
    },
  };
}

/** For afterAll: SIGKILLs whatever is still running and removes the processes' data directories. */
export function killCoreProcesses(): void {
  for (const { child, dir } of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
