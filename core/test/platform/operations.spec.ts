import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { randomBytes, randomUUID } from 'node:crypto';
import { backends, createMysqlDatabase, mysqlAvailable, startTestApp, waitFor, type TestApp } from '../harness/test-app.js';
import { BUS, type Bus } from '../../src/platform/bus/bus.port.js';
import { UnitOfWork } from '../../src/platform/database/unit-of-work.js';
import { ProbeController, ProbeModule } from './support/probe.module.js';

/** The core package directory, wherever Jest was started from. */
const CORE_DIR = fileURLToPath(new URL('../..', import.meta.url));

const unique = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`;
const json = { 'content-type': 'application/json' };

/** Collects pino's JSON lines. */
class LogCapture extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  raw = '';
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    const text = chunk.toString();
    this.raw += text;
    for (const line of text.split('\n').filter(Boolean)) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    callback();
  }
}

function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    total += Number(line.split(' ').at(-1));
  }
  return total;
}

describe.each(backends().map((backend) => [backend.name, backend] as const))('operations on %s', (_name, backend) => {
  let core: TestApp;
  const logs = new LogCapture();

  beforeAll(async () => {
    core = await startTestApp({
      env: { ...(await backend.env()), LOG_LEVEL: 'info', SWITCHBOARD_HTTP_BODY_LIMIT: '4096' },
      imports: [ProbeModule],
      logDestination: logs,
    });
  });

  afterAll(async () => {
    await core?.close();
  });

  it('exposes HTTP latency, bus counts and outbox lag on /metrics', async () => {
    const bus = core.app.get<Bus>(BUS);
    const subject = `sb.evt.${unique('metrics')}.happened`;
    const consumer = unique('metrics-');
    let failed = false;
    const handle = await bus.consume({
      name: consumer,
      subject,
      delivery: 'one-instance',
      backoffMs: [10],
      handler: async () => {
        if (!failed) {
          failed = true;
          throw new Error('first delivery fails');
        }
      },
    });
    await core.app.get(UnitOfWork).run((tx) => tx.emit({ subject, data: { x: 1 } }));
    await fetch(`${core.url}/platformtest/slow?ms=5`);
    let text = '';
    await waitFor(
      async () => {
        text = await (await fetch(`${core.url}/metrics`)).text();
        return metricValue(text, 'sb_bus_consumed_total', { consumer, outcome: 'ack' }) === 1;
      },
      10_000,
      'the consumer to ack',
    );
    await handle.close();
    expect(metricValue(text, 'sb_http_request_duration_seconds_count', { route: '/platformtest/slow', method: 'GET', status: '200' })).toBe(1);
    expect(text).toMatch(/sb_http_request_duration_seconds_bucket\{le="0.01",method="GET",route="\/platformtest\/slow",status="200"\}/);
    expect(metricValue(text, 'sb_bus_published_total')).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'sb_bus_consumed_total', { consumer, outcome: 'retry' })).toBe(1);
    expect(metricValue(text, 'sb_bus_redelivered_total', { consumer })).toBe(1);
    expect(metricValue(text, 'sb_outbox_relayed_total')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^sb_outbox_lag_seconds \d/m);
    expect(text).toMatch(/^sb_outbox_pending \d/m);
    expect(text).toContain('sb_process_');
  });

  it('writes JSON logs with request ids and redacts secrets and PII', async () => {
    const requestId = `req-${randomUUID()}`;
    const secrets = { email: 'li.wei@example.cn', phone: '+86 138 0013 8000', name: '李伟', password: 'hunter2-pass', token: 'tok_abcdef123456' };
    const response = await fetch(`${core.url}/platformtest/log?email=${encodeURIComponent(secrets.email)}`, {
      method: 'POST',
      headers: { ...json, 'x-request-id': requestId, authorization: 'Bearer very-secret-token' },
      body: JSON.stringify({ ...secrets, ticketId: 'T-42' }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toBe(requestId);
    await waitFor(() => logs.lines.some((line) => line.reqId === requestId), 5000, 'the request log line');
    const requestLine = logs.lines.find((line) => line.reqId === requestId)!;
    expect(requestLine).toMatchObject({ level: 'info', method: 'POST', route: '/platformtest/log', status: 201 });
    expect(typeof requestLine.time).toBe('string');
    const probeLine = logs.lines.find((line) => line.msg === 'probe logged')!;
    expect(probeLine).toBeDefined();
    expect(probeLine).toMatchObject({ ticketId: 'T-42', password: '[redacted]', token: '[redacted]' });
    expect(probeLine.customer).toEqual({ email: '[redacted]', phone: '[redacted]', name: '[redacted]' });
    for (const value of [...Object.values(secrets), 'very-secret-token']) expect(logs.raw).not.toContain(value);
    // A caller's malformed request id is replaced, not logged.
    const bad = await fetch(`${core.url}/platformtest/slow?ms=1`, { headers: { 'x-request-id': 'bad id <script>' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers an unexpected error with 500, a correlation id, and no stack', async () => {
    const requestId = `req-${randomUUID()}`;
    const response = await fetch(`${core.url}/platformtest/boom`, { headers: { 'x-request-id': requestId } });
    expect(response.status).toBe(500);
    const text = await response.text();
    const body = JSON.parse(text) as { error: { code: string; message: string; correlationId: string } };
    expect(body.error).toEqual({ code: 'internal_error', message: 'An internal error occurred.', correlationId: requestId });
    expect(text).not.toMatch(/hunter2|secret\.ts|\bat \S+:\d+/);
    // The stack stays in the log, under the same correlation id.
    await waitFor(() => logs.lines.some((line) => line.correlationId === requestId), 5000, 'the error log line');
    const line = logs.lines.find((entry) => entry.correlationId === requestId)!;
    expect(line.level).toBe('error');
    expect(String((line.err as { stack?: string }).stack)).toContain('probe.module');
  });

  it('answers malformed JSON with 400 malformed_json and an oversized body with 413 payload_too_large', async () => {
    const malformed = await fetch(`${core.url}/platformtest/echo`, { method: 'POST', headers: json, body: '{"value": "unterminated' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe('malformed_json');

    const empty = await fetch(`${core.url}/platformtest/echo`, { method: 'POST', headers: json, body: '' });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: { code: string } }).error.code).toBe('malformed_json');

    const poisoned = await fetch(`${core.url}/platformtest/echo`, { method: 'POST', headers: json, body: '{"__proto__": {"admin": true}}' });
    expect(poisoned.status).toBe(400);

    const big = await fetch(`${core.url}/platformtest/echo`, { method: 'POST', headers: json, body: JSON.stringify({ text: 'x'.repeat(10_000) }) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');

    const fine = await fetch(`${core.url}/platformtest/echo`, { method: 'POST', headers: json, body: JSON.stringify({ text: '你好 🎧' }) });
    expect(fine.status).toBe(201);
    expect(await fine.json()).toEqual({ received: { text: '你好 🎧' } });

    // Under /api (elsewhere GETs fall back to the console's index.html).
    const unknownRoute = await fetch(`${core.url}/api/v1/no-such-route`);
    expect(unknownRoute.status).toBe(404);
    expect(((await unknownRoute.json()) as { error: { code: string } }).error.code).toMatch(/not_found/);
  });
});

describe('graceful shutdown', () => {
  it('finishes in-flight requests and refuses new ones while closing', async () => {
    const core = await startTestApp({ imports: [ProbeModule] });
    const started = ProbeController.slowStarted;
    const inFlight = fetch(`${core.url}/platformtest/slow?ms=800`).then(async (response) => ({ status: response.status, body: await response.json() }));
    // Close only once the request is inside its handler.
    await waitFor(() => ProbeController.slowStarted > started, 10_000, 'the slow request to start');
    const closing = core.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const late = await fetch(`${core.url}/platformtest/slow?ms=1`).then(
      (response) => response.status,
      () => 'refused',
    );
    expect(await inFlight).toEqual({ status: 200, body: { slept: 800 } });
    await closing;
    expect([503, 'refused']).toContain(late);
  });
});

describe('CLI', () => {
  const cli = resolve(CORE_DIR, 'bin/switchboard.js');
  const dirs: string[] = [];

  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    if (!existsSync(resolve(CORE_DIR, 'dist/cli/cli.js'))) throw new Error('core/dist is missing: run `npm run build` before the CLI tests');
    const base: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && key !== 'NODE_OPTIONS' && !/^(DATABASE_URL|NATS_URL|PORT|SWITCHBOARD_.*)$/.test(key)) base[key] = value;
    }
    return new Promise((resolvePromise) => {
      execFile(process.execPath, [cli, ...args], { env: { ...base, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      });
    });
  }

  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-cli-'));
    dirs.push(dir);
    return dir;
  };

  it('switchboard migrate applies migrations once (SQLite)', async () => {
    const env = { SWITCHBOARD_DATA_DIR: tempDir() };
    const first = await run(['migrate'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Applied \d+ migration\(s\)/);
    expect(first.stdout).toContain('Platform1764000000000');
    const second = await run(['migrate'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('up to date');
  });

  it('switchboard migrate applies migrations on MariaDB', async () => {
    if (!mysqlAvailable()) return;
    const env = { SWITCHBOARD_DATA_DIR: tempDir(), DATABASE_URL: await createMysqlDatabase('cli'), NATS_URL: process.env.SB_TEST_NATS_URL! };
    const result = await run(['migrate'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Applied \d+ migration\(s\)/);
  });

  it('switchboard config check accepts a good configuration and hides credentials', async () => {
    const result = await run(['config', 'check'], {
      SWITCHBOARD_DATA_DIR: tempDir(),
      DATABASE_URL: 'mysql://app:s3cret-db-pass@db.internal:3306/switchboard',
      NATS_URL: 'nats://nats.internal:4222',
      NATS_PASSWORD: 'n4ts-pass',
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Configuration is valid');
    expect(result.stdout).not.toContain('s3cret-db-pass');
    expect(result.stdout).not.toContain('n4ts-pass');
  });

  it('switchboard config check fails with a non-zero exit naming each bad key', async () => {
    const env = await run(['config', 'check'], { SWITCHBOARD_DATA_DIR: tempDir(), PORT: 'eighty', LOG_LEVEL: 'loud' });
    expect(env.code).not.toBe(0);
    expect(env.stderr).toContain('PORT');
    expect(env.stderr).toContain('LOG_LEVEL');
    expect(env.stdout).not.toContain('Configuration is valid');

    const dir = tempDir();
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'http:\n  port: 8080\n  colour: red\noutbox:\n  batchSize: 0\n');
    const fromFile = await run(['config', 'check'], { SWITCHBOARD_DATA_DIR: dir, SWITCHBOARD_CONFIG: file });
    expect(fromFile.code).not.toBe(0);
    expect(fromFile.stderr).toContain('http.colour');
    expect(fromFile.stderr).toContain('outbox.batchSize');
  });
});
