import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer, Reflector } from '@nestjs/core';
import { SQLITE_BACKEND, startTestApp, type TestApp } from '../harness/test-app.js';
import { IS_PUBLIC } from '../../src/identity/decorators/public.decorator.js';
import { REQUIRED_ROLES } from '../../src/identity/decorators/roles.decorator.js';

/**
 * The routes that are public on purpose, each with the reason. Anything else that is `@Public()`
 * fails this test: a new public route needs a line here (and a review).
 */
const PUBLIC_ROUTES: Record<string, string> = {
  'GET /health/ready': 'load-balancer readiness probe',
  'GET /metrics': 'Prometheus scrape (operations network)',
  'GET /api/v1/auth/config': 'the login page asks which sign-in methods are on',
  'GET /api/v1/auth/login': 'starts single sign-on',
  'GET /api/v1/auth/callback': 'the IdP redirects the browser here',
  'POST /api/v1/auth/local/login': 'embedded-mode password login',
  'POST /api/v1/auth/backchannel-logout': 'the IdP calls it with a signed logout token',
  'GET /api/v1/csat/public/:token': 'a customer opens a survey link (192-bit token, rate-limited)',
  'POST /api/v1/csat/public/:token': 'a customer answers a survey link (192-bit token, rate-limited, once)',
  'GET /': 'the console single-page app',
  'GET /*': 'console assets and SPA fallback (API paths are reserved)',
};

interface RouteInfo {
  route: string;
  public: boolean;
  roles: string[] | undefined;
}

const join = (...parts: string[]) =>
  `/${parts
    .map((part) => part.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/')}`;

function inventory(app: TestApp): RouteInfo[] {
  const reflector = new Reflector();
  const routes: RouteInfo[] = [];
  for (const module of app.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const type = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!type) continue;
      const base = (Reflect.getMetadata(PATH_METADATA, type) as string | string[] | undefined) ?? '';
      const prototype = type.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (path === undefined || method === undefined) continue;
        const targets = [handler as () => unknown, type];
        for (const prefix of [base].flat()) {
          for (const suffix of [path].flat()) {
            routes.push({
              route: `${RequestMethod[method]} ${join(prefix, suffix)}`,
              public: Boolean(reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)),
              roles: reflector.getAllAndOverride<string[] | undefined>(REQUIRED_ROLES, targets),
            });
          }
        }
      }
    }
  }
  return routes;
}

describe('every route of the core is guarded', () => {
  let app: TestApp;
  let routes: RouteInfo[];

  beforeAll(async () => {
    app = await startTestApp({ env: await SQLITE_BACKEND.env() });
    routes = inventory(app);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('finds the controllers (sanity check of the inventory itself)', () => {
    expect(routes.length).toBeGreaterThan(50);
    expect(routes.map((route) => route.route)).toEqual(expect.arrayContaining(['GET /api/v1/audit', 'POST /api/v1/api-keys', 'GET /api/v1/auth/me']));
  });

  it('is public only where listed, with a reason', () => {
    const unexpected = routes.filter((route) => route.public && !(route.route in PUBLIC_ROUTES)).map((route) => route.route);
    expect(unexpected).toEqual([]);
  });

  it('names the roles allowed on every non-public route (a route without @Roles would be open to any signed-in user, even one with no role)', () => {
    // The caller's own session and identity: any signed-in user, whatever their role.
    const anyUser = new Set(['GET /api/v1/auth/me', 'POST /api/v1/auth/logout']);
    const missing = routes.filter((route) => !route.public && !anyUser.has(route.route) && !route.roles?.length).map((route) => route.route);
    expect(missing).toEqual([]);
  });

  it('answers 401 without credentials on every non-public route', async () => {
    const failures: string[] = [];
    for (const route of routes.filter((candidate) => !candidate.public)) {
      const [method, pattern] = route.route.split(' ') as [string, string];
      if (method === 'ALL') continue;
      const path = pattern.replace(/:(\w+)/g, 'x-$1').replace(/\*/g, 'any');
      const response = await fetch(`${app.url}${path}`, {
        method: method === 'HEAD' ? 'HEAD' : method,
        headers: method === 'GET' || method === 'HEAD' ? {} : { 'content-type': 'application/json', 'x-forwarded-user': 'admin' },
        body: method === 'GET' || method === 'HEAD' ? undefined : '{}',
      });
      if (response.status !== 401) failures.push(`${route.route} → ${response.status}`);
    }
    expect(failures).toEqual([]);
  });
});
