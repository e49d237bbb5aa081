/**
 * A real IMAP server for the email channel's tests: Debian's Dovecot (`dovecot-imapd`, installed by
 * scripts/ensure-system-packages.sh), started in the foreground from a temporary directory on a free
 * loopback port, with one password for every user and Maildir storage. Stopped by its PID.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const DOVECOT_BIN = ['/usr/sbin/dovecot', '/usr/bin/dovecot', '/usr/local/sbin/dovecot'].find((path) => existsSync(path));

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('data', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
  });

export class Dovecot {
  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly password: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(password: string): Promise<Dovecot> {
    if (!DOVECOT_BIN) throw new Error('dovecot is not installed (Debian package dovecot-imapd; scripts/ensure-system-packages.sh installs it)');
    const dir = mkdtempSync(join(tmpdir(), 'sb-dovecot-'));
    chmodSync(dir, 0o755);
    for (const sub of ['run', 'state']) mkdirSync(join(dir, sub));
    mkdirSync(join(dir, 'home'), { mode: 0o777 });
    chmodSync(join(dir, 'home'), 0o777);
    const port = await freePort();
    const me = userInfo();
    // As root, mail is accessed as `nobody` (Dovecot refuses uid 0); otherwise everything runs as the
    // current user, without the chroots an unprivileged process may not make.
    const root = me.uid === 0;
    const group = root ? 'nogroup' : execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
    const users = root ? 'uid=nobody gid=nogroup' : `uid=${me.uid} gid=${me.gid}`;
    const unprivileged = root
      ? ''
      : `default_internal_user = ${me.username}\ndefault_login_user = ${me.username}\ndefault_internal_group = ${group}\nservice anvil {\n  chroot =\n}\n`;
    writeFileSync(
      join(dir, 'dovecot.conf'),
      `${unprivileged}protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = static
  args = password=${password}
}
userdb {
  driver = static
  args = ${users} home=${dir}/home/%u
}
mail_location = maildir:~/Maildir
service imap-login {
  ${root ? '' : 'chroot =\n  '}inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`,
    );
    const child = spawn(DOVECOT_BIN, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const server = new Dovecot(dir, port, password, child);
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) break;
      if (await accepts(port)) return server;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const log = existsSync(join(dir, 'dovecot.log')) ? readFileSync(join(dir, 'dovecot.log'), 'utf8') : '';
    await server.stop();
    throw new Error(`dovecot did not start on port ${port}: ${stderr}${log}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
