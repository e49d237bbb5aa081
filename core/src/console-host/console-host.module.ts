import { Controller, Get, Inject, Injectable, Logger, Module, Req, Res, type OnModuleInit } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HttpAdapterHost } from '@nestjs/core';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Public } from '../identity/decorators/public.decorator.js';
import { PlatformError } from '../platform/errors/app-error.js';

/**
 * Serves the agent console (core/console, built by Vite into core/console/dist) at `/`:
 * hashed assets under /assets with long caching, index.html for every client route (SPA
 * fallback), never for the server's own prefixes. Every console response carries a strict CSP
 * (scripts only from this origin, no inline scripts, no framing) and the usual hardening headers.
 */

/** Paths the console never answers: they belong to the API, health, metrics, the gateway and plugins. */
export const RESERVED_PREFIXES = ['/api', '/health', '/metrics', '/ws', '/plugins'];

/**
 * antd renders its styles at run time (CSS-in-JS), so styles need 'unsafe-inline'; scripts do not
 * and never get it.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "media-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const CONSOLE_SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** core/console/dist, from core/src/console-host (tests) or core/dist/console-host (built). */
export function consoleDistDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', 'console', 'dist');
}

export function isReservedPath(path: string): boolean {
  return RESERVED_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Switchboard</title></head>
<body><h1>Switchboard</h1><p>The console is not built. Run <code>npm run build</code> and restart.</p></body></html>`;

@Injectable()
export class ConsoleAssets implements OnModuleInit {
  private readonly logger = new Logger('console-host');
  readonly root = consoleDistDir();
  private rootFiles = new Set<string>();

  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  get built(): boolean {
    return existsSync(join(this.root, 'index.html'));
  }

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance() as FastifyInstance | undefined;
    if (!fastify) return;
    if (!this.built) this.logger.warn({ root: this.root }, 'console not built: `/` shows a notice (run npm run build)');
    this.rescan();
    // Hashed bundles: served by @fastify/static, cached for a year. `serve: true` only below
    // /assets/; reply.sendFile is used for index.html and the few root files.
    void fastify.register(fastifyStatic, {
      root: join(this.root, 'assets'),
      prefix: '/assets/',
      wildcard: true,
      index: false,
      dotfiles: 'deny',
      cacheControl: false,
      // v10 hands over the Fastify reply. Also runs for reply.sendFile (index.html, root files).
      setHeaders: (reply: FastifyReply, path: string) => {
        for (const [name, value] of Object.entries(CONSOLE_SECURITY_HEADERS)) void reply.header(name, value);
        const hashed = path.startsWith(join(this.root, 'assets'));
        void reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : path.endsWith('index.html') ? 'no-cache' : 'public, max-age=3600');
      },
    });
  }

  /** Top-level files of dist (favicon, robots.txt…), served at `/<name>`. */
  rescan(): void {
    try {
      this.rootFiles = new Set(readdirSync(this.root).filter((name) => !name.startsWith('.') && statSync(join(this.root, name)).isFile()));
    } catch {
      this.rootFiles = new Set();
    }
  }

  isRootFile(path: string): boolean {
    const name = path.slice(1);
    if (!name || name.includes('/') || name === 'index.html') return false;
    if (!this.rootFiles.has(name)) this.rescan();
    return this.rootFiles.has(name);
  }
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  for (const [name, value] of Object.entries(CONSOLE_SECURITY_HEADERS)) void reply.header(name, value);
  return reply;
}

@ApiExcludeController()
@Controller()
export class ConsoleController {
  constructor(private readonly assets: ConsoleAssets) {}

  @Public()
  @Get()
  index(@Res() reply: FastifyReply): void {
    this.sendIndex(reply);
  }

  /** SPA fallback: any other GET that no API route matched. */
  @Public()
  @Get('*')
  fallback(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    const path = decodeURIComponent(request.url.split('?')[0] ?? '/');
    if (isReservedPath(path) || path.startsWith('/assets/')) throw new PlatformError('not_found', 'There is nothing here.', 404);
    if (this.assets.isRootFile(path)) {
      void securityHeaders(reply).header('cache-control', 'public, max-age=3600');
      void (reply as FastifyReply & { sendFile(name: string, root: string): FastifyReply }).sendFile(path.slice(1), this.assets.root);
      return;
    }
    this.sendIndex(reply);
  }

  private sendIndex(reply: FastifyReply): void {
    void securityHeaders(reply).header('cache-control', 'no-cache');
    if (!this.assets.built) {
      void reply.type('text/html; charset=utf-8').send(NOT_BUILT);
      return;
    }
    void (reply as FastifyReply & { sendFile(name: string, root: string, options?: object): FastifyReply }).sendFile('index.html', this.assets.root, {
      cacheControl: false,
    });
  }
}

/** Registered LAST in FEATURE_MODULES so every API route is registered before the fallback. */
@Module({ controllers: [ConsoleController], providers: [ConsoleAssets] })
export class ConsoleHostModule {}
