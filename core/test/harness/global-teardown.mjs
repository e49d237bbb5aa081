import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export default async function globalTeardown() {
  await Promise.allSettled([globalThis.__SB_MARIADB__?.stop(), globalThis.__SB_NATS__?.stop()]);
  // Servers that test workers started and did not stop (a worker ended early, a test timed out).
  const stateDir = process.env.SB_TEST_STATE_DIR;
  const list = stateDir ? join(stateDir, 'children') : undefined;
  if (list && existsSync(list)) {
    for (const line of readFileSync(list, 'utf8').split('\n').filter(Boolean)) {
      const [pid, dir] = line.split(' ');
      try {
        // Only if that pid is still our server (pids get reused).
        const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (dir && command.includes(dir)) process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
      if (dir && dir.includes('sb-')) rmSync(dir, { recursive: true, force: true });
    }
  }
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
}
