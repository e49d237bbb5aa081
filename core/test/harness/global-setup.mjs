// Starts one MariaDB and one nats-server for the whole run. Each test file then creates
// its own database (see backends.ts). With CI=true a missing server fails the run.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MariaDbServer, NatsServer, hasMariadb, hasNats } from './servers.mjs';

export default async function globalSetup() {
  const ci = process.env.CI === 'true';
  const state = { mariadb: null, nats: null };
  if (hasMariadb()) {
    const server = await MariaDbServer.create();
    globalThis.__SB_MARIADB__ = server;
    process.env.SB_TEST_MYSQL_ROOT_URL = server.rootUrl;
    state.mariadb = { pid: server.child.pid, dir: server.dir };
  } else if (ci) {
    throw new Error('CI=true but mariadbd is not installed: the MariaDB suites cannot run');
  }
  if (hasNats()) {
    const server = await NatsServer.create();
    globalThis.__SB_NATS__ = server;
    process.env.SB_TEST_NATS_URL = server.url;
    state.nats = { pid: server.child.pid, dir: server.dir };
  } else if (ci) {
    throw new Error('CI=true but nats-server is not installed: the NATS suites cannot run');
  }
  const stateDir = mkdtempSync(join(tmpdir(), 'sb-jest-'));
  writeFileSync(join(stateDir, 'servers.json'), JSON.stringify(state));
  process.env.SB_TEST_STATE_DIR = stateDir;
}
