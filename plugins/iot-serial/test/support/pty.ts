import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real pty pair from socat: the plugin opens `device`, the simulator writes to `simulator`. */
export class PtyPair {
  readonly dir = mkdtempSync(join(tmpdir(), 'sb-pty-'));
  readonly device = join(this.dir, 'ttyDEVICE');
  readonly simulator = join(this.dir, 'ttySIM');
  private child?: ChildProcess;

  async start(): Promise<void> {
    this.child = spawn('socat', [`pty,raw,echo=0,link=${this.device}`, `pty,raw,echo=0,link=${this.simulator}`], { stdio: 'ignore' });
    const deadline = Date.now() + 5000;
    while (!(existsSync(this.device) && existsSync(this.simulator))) {
      if (Date.now() > deadline) throw new Error('socat did not create the pty pair (is socat installed?)');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Unplugs the "cable": both ends disappear. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}
