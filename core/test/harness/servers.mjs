// Real servers for tests: MariaDB and nats-server on loopback, in temporary directories,
// started and stopped by PID. Used by Jest's global setup and by fault tests that need
// servers of their own to kill.
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

const MARIADB_BIN = ['/usr/sbin/mariadbd', '/usr/bin/mariadbd', '/usr/sbin/mysqld'];
const INSTALL_DB = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'];
const NATS_BIN = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

export const findBinary = (candidates) => candidates.find((path) => existsSync(path));

/**
 * Every server a test run starts is listed in the run's state directory, so the global teardown can
 * kill what a test worker left behind (Jest may end a worker before its exit handlers run).
 */
function recordChild(child, dir) {
  const stateDir = process.env.SB_TEST_STATE_DIR;
  if (stateDir && child?.pid) appendFileSync(join(stateDir, 'children'), `${child.pid} ${dir}\n`);
}
export const hasMariadb = () => Boolean(findBinary(MARIADB_BIN) && findBinary(INSTALL_DB));
export const hasNats = () => Boolean(findBinary(NATS_BIN));

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

async function waitForExit(child, timeoutMs) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  let timer;
  // The timer is cleared: left pending it kept Jest's main process alive after the run.
  await Promise.race([new Promise((resolve) => child.once('exit', resolve)), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}

/**
 * A MariaDB server in a fresh datadir. `start()` may be called again after `kill()` to
 * restart it on the same port and data (fault tests).
 */
export class MariaDbServer {
  constructor(dir, port) {
    this.dir = dir;
    this.port = port;
    this.child = undefined;
    this.rootUrl = `mysql://root:root@127.0.0.1:${port}`;
    this.appUser = 'switchboard';
    this.appPassword = 'switchboard-test';
  }

  static async create() {
    const installDb = findBinary(INSTALL_DB);
    if (!installDb || !findBinary(MARIADB_BIN)) throw new Error('mariadbd is not installed (apt-get install mariadb-server)');
    const dir = mkdtempSync(join(tmpdir(), 'sb-mariadb-'));
    execFileSync(installDb, ['--no-defaults', `--datadir=${join(dir, 'data')}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'], {
      stdio: 'ignore',
    });
    const server = new MariaDbServer(dir, await freePort());
    await server.start();
    await server.bootstrapUsers();
    return server;
  }

  async start() {
    const bin = findBinary(MARIADB_BIN);
    this.child = spawn(
      bin,
      [
        '--no-defaults',
        `--datadir=${join(this.dir, 'data')}`,
        `--socket=${join(this.dir, 'sock')}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        '--user=root',
        '--skip-name-resolve',
        '--skip-log-bin',
        '--character-set-server=utf8mb4',
        '--collation-server=utf8mb4_unicode_ci',
        '--innodb-buffer-pool-size=256M',
        '--innodb-flush-log-at-trx-commit=1',
        '--max-connections=500',
        `--pid-file=${join(this.dir, 'mariadb.pid')}`,
        `--log-error=${join(this.dir, 'error.log')}`,
      ],
      { stdio: 'ignore', detached: false },
    );
    writeFileSync(join(this.dir, 'child.pid'), String(this.child.pid));
    recordChild(this.child, this.dir);
    await waitForPort(this.port);
  }

  async bootstrapUsers() {
    const mysql = await import('mysql2/promise');
    const connection = await mysql.createConnection({ socketPath: join(this.dir, 'sock'), user: 'root' });
    await connection.query(`ALTER USER 'root'@'localhost' IDENTIFIED BY 'root'`);
    await connection.query(`CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY 'root'`);
    await connection.query(`ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY 'root'`);
    await connection.query(`GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION`);
    await connection.end();
  }

  /** Creates an empty utf8mb4 database and returns its URL. */
  async createDatabase(name) {
    const mysql = await import('mysql2/promise');
    const connection = await mysql.createConnection(`${this.rootUrl}/mysql`);
    await connection.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await connection.end();
    return `${this.rootUrl}/${name}`;
  }

  async kill(signal = 'SIGKILL') {
    if (!this.child) return;
    this.child.kill(signal);
    await waitForExit(this.child, 15000);
    this.child = undefined;
  }

  async stop() {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A nats-server with JetStream, file store in its own directory. Restartable like MariaDbServer. */
export class NatsServer {
  constructor(dir, port, extraArgs = []) {
    this.dir = dir;
    this.port = port;
    this.extraArgs = extraArgs;
    this.child = undefined;
    this.url = `nats://127.0.0.1:${port}`;
  }

  static async create(options = {}) {
    if (!findBinary(NATS_BIN)) throw new Error('nats-server is not installed (apt-get install nats-server)');
    const dir = mkdtempSync(join(tmpdir(), 'sb-nats-'));
    const server = new NatsServer(dir, await freePort(), options.args ?? []);
    if (options.config) {
      writeFileSync(join(dir, 'nats.conf'), options.config);
      server.extraArgs = ['-c', join(dir, 'nats.conf'), ...server.extraArgs];
    }
    await server.start();
    return server;
  }

  async start() {
    this.child = spawn(findBinary(NATS_BIN), ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', join(this.dir, 'js'), ...this.extraArgs], {
      stdio: 'ignore',
    });
    writeFileSync(join(this.dir, 'child.pid'), String(this.child.pid));
    recordChild(this.child, this.dir);
    await waitForPort(this.port);
  }

  async kill(signal = 'SIGKILL') {
    if (!this.child) return;
    this.child.kill(signal);
    await waitForExit(this.child, 10000);
    this.child = undefined;
  }

  async stop() {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
