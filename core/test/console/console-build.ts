import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const CONSOLE_DIR = resolve(here, '..', '..', 'console');
export const CONSOLE_DIST = join(CONSOLE_DIR, 'dist');

/** Builds the console once if core/console/dist is missing (`npm run build` normally did it). */
export function ensureConsoleBuilt(): void {
  if (existsSync(join(CONSOLE_DIST, 'index.html'))) return;
  execFileSync(process.execPath, [join(CONSOLE_DIR, '..', '..', 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], {
    cwd: CONSOLE_DIR,
    stdio: 'inherit',
    timeout: 180_000,
  });
}
