import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { CONSOLE_DIST, ensureConsoleBuilt } from './console-build.js';

describe('console host: the built console at /, strict CSP, SPA fallback that never shadows the server', () => {
  let app: TestApp;
  beforeAll(async () => {
    ensureConsoleBuilt();
    app = await startTestApp();
  }, 240_000);
  afterAll(() => app?.close());

  it('serves index.html at / and at client routes with a strict CSP and hardening headers', async () => {
    for (const path of ['/', '/inbox', '/inbox/0b5e3c1a-1111-2222-3333-444455556666', '/tickets/42?x=1', '/admin/channels']) {
      const response = await fetch(`${app.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/html');
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(csp).toContain("connect-src 'self' ws: wss:");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBeTruthy();
      const html = await response.text();
      expect(html).toContain('<div id="root">');
      // No inline script: every <script> has a src.
      expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>/g)).toBeNull();
    }
  });

  it('serves hashed assets with long caching, and root files', async () => {
    const asset = readdirSync(join(CONSOLE_DIST, 'assets')).find((name) => name.endsWith('.js'))!;
    const response = await fetch(`${app.url}/assets/${asset}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    expect(response.headers.get('cache-control')).toContain('immutable');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await fetch(`${app.url}/favicon.svg`)).status).toBe(200);
    expect((await fetch(`${app.url}/assets/nope.js`)).status).toBe(404);
    expect([403, 404]).toContain((await fetch(`${app.url}/assets/..%2F..%2Fpackage.json`)).status);
  });

  it('never answers API, health, metrics, ws or plugin paths with the console', async () => {
    const unknownApi = await fetch(`${app.url}/api/v1/definitely-not-a-route`);
    expect(unknownApi.status).toBe(404);
    expect(unknownApi.headers.get('content-type')).toContain('application/json');
    expect(((await unknownApi.json()) as { error: { code: string } }).error.code).toBeTruthy();
    expect((await fetch(`${app.url}/api/v1/auth/config`)).headers.get('content-type')).toContain('application/json');
    expect((await fetch(`${app.url}/api/v1/contacts`)).status).toBe(401);
    expect((await fetch(`${app.url}/health/ready`)).headers.get('content-type')).toContain('application/json');
    expect((await fetch(`${app.url}/metrics`)).headers.get('content-type')).not.toContain('text/html');
    for (const path of ['/ws', '/plugins/nope/x', '/api']) {
      const response = await fetch(`${app.url}${path}`);
      expect(response.headers.get('content-type') ?? '').not.toContain('text/html');
    }
    // API docs keep working (the console's CSP is not applied to them).
    const docs = await fetch(`${app.url}/api/docs/openapi.json`);
    expect(docs.status).toBe(200);
  });
});
