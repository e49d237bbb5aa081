import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PluginHttpResponse } from '@switchboard/plugin-sdk';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { PluginHostService } from './plugin-host.service.js';

const PLUGIN_PATH = /^\/plugins\/([a-z][a-z0-9-]{1,31})(\/.*)?$/;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length', 'set-cookie']);

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/**
 * Serves `/plugins/<id>/...` straight from Fastify, outside Nest's guards: these routes are
 * public by design and each plugin authenticates its callers (HMAC signatures, site secrets).
 * The raw body is kept byte-exact for signature checks.
 */
@Injectable()
export class PluginHttpGateway implements OnModuleInit {
  private readonly logger = new Logger('plugin-host');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly host: PluginHostService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter) return; // CLI / application context: no HTTP server
    const fastify = adapter.getInstance<FastifyInstance>();
    void fastify.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: this.config.http.bodyLimit }, (_request, body, done) => done(null, body));
      scope.route({
        method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
        url: '/plugins/*',
        handler: (request, reply) => this.handle(request, reply),
      });
    });
  }

  private async handle(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    void reply.header('cache-control', 'no-store');
    const url = new URL(request.url, 'http://plugin.local');
    const match = PLUGIN_PATH.exec(url.pathname);
    if (!match) return reply.status(404).send(errorBody('plugin_route_not_found', 'No plugin route here'));
    const [, pluginId, rest = '/'] = match;
    const found = this.host.matchRoute(pluginId!, request.method, rest);
    if ('error' in found) {
      return found.error === 'method_not_allowed'
        ? reply.status(405).send(errorBody('method_not_allowed', 'Method not allowed'))
        : reply.status(404).send(errorBody('plugin_route_not_found', 'No plugin route here'));
    }
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const text = body.toString('utf8');
    const isText = Buffer.from(text, 'utf8').equals(body);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(request.headers))
      if (value !== undefined) headers[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    try {
      const response = (await this.host.dispatchHttp(found.route, {
        method: request.method,
        path: rest,
        params: found.params,
        query,
        headers,
        rawBody: isText ? text : '',
        rawBodyBase64: isText ? undefined : body.toString('base64'),
        ip: request.ip,
      })) as PluginHttpResponse;
      const status = Number.isInteger(response?.status) && response.status >= 100 && response.status <= 599 ? response.status : 500;
      for (const [key, value] of Object.entries(response?.headers ?? {})) {
        if (!HOP_BY_HOP.has(key.toLowerCase()) && typeof value === 'string') void reply.header(key, value);
      }
      void reply.status(status);
      if (response?.bodyBase64 !== undefined) return reply.send(Buffer.from(response.bodyBase64, 'base64'));
      if (response?.body === undefined || response.body === null) return reply.send();
      if (typeof response.body === 'string') return reply.send(response.body);
      return reply.type('application/json').send(JSON.stringify(response.body));
    } catch (error) {
      const code = (error as { code?: string }).code;
      const status = code === 'plugin_not_running' ? 503 : code === 'timeout' ? 504 : 502;
      this.logger.warn({ plugin: pluginId, route: found.route.routeId, reason: (error as Error).message }, 'plugin route failed');
      return reply
        .status(status)
        .send(
          errorBody(
            status === 503 ? 'plugin_not_running' : status === 504 ? 'plugin_timeout' : 'plugin_call_failed',
            'The plugin could not handle this request',
          ),
        );
    }
  }
}
