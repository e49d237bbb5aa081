import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, redactConfig } from './config.loader.js';
import { ConfigError } from './config.error.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('runs embedded with no configuration at all', () => {
    const config = loadConfig({});
    expect(config.database.kind).toBe('sqlite');
    expect(config.bus.kind).toBe('inprocess');
    expect(config.http).toMatchObject({ host: '0.0.0.0', port: 3000 });
  });

  it('names every bad key, from the environment', () => {
    const problems = problemsOf({ PORT: 'eighty', LOG_LEVEL: 'loud', NATS_URL: 'http://x' });
    expect(problems).toEqual(
      expect.arrayContaining([expect.stringContaining('PORT'), expect.stringContaining('LOG_LEVEL'), expect.stringContaining('NATS_URL')]),
    );
  });

  it('rejects unknown keys and bad values in the YAML file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-cfg-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'http:\n  port: 70000\n  hots: 1.2.3.4\n');
    const problems = problemsOf({ SWITCHBOARD_CONFIG: file });
    expect(problems.some((problem) => problem.includes('http.port'))).toBe(true);
    expect(problems.some((problem) => problem.includes('unknown key "http.hots"'))).toBe(true);
  });

  it('lets the environment override the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-cfg-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'http:\n  port: 4000\nlog:\n  level: debug\n');
    const config = loadConfig({ SWITCHBOARD_CONFIG: file, PORT: '5000' });
    expect(config.http.port).toBe(5000);
    expect(config.log.level).toBe('debug');
  });

  it('requires NATS when the database is MySQL, since several instances need a shared bus', () => {
    expect(problemsOf({ DATABASE_URL: 'mysql://u:p@localhost/sb' }).join()).toContain('NATS_URL');
  });

  it('fails on a missing config file', () => {
    expect(problemsOf({ SWITCHBOARD_CONFIG: '/nonexistent/switchboard.yaml' }).join()).toContain('does not exist');
  });

  it('never prints credentials', () => {
    const config = loadConfig({ DATABASE_URL: 'mysql://app:s3cret@db:3306/sb', NATS_URL: 'nats://n:pw@bus:4222', NATS_PASSWORD: 'pw2' });
    const printed = JSON.stringify(redactConfig(config));
    expect(printed).not.toContain('s3cret');
    expect(printed).not.toContain('pw2');
  });
});
