import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger as PinoLogger } from 'pino';
import { createValidationPipe } from './validation.js';
import { GlobalExceptionFilter } from '../errors/global-exception.filter.js';
import { PlatformError } from '../errors/app-error.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { AppConfig } from '../config/app-config.js';
import { WsAdapter } from '@nestjs/platform-ws';

export const API_VERSION = '0.1.0';

export function buildOpenApiDocument(app: NestFastifyApplication) {
  const config = new DocumentBuilder()
    .setTitle('Switchboard API')
    .setDescription('Self-hosted customer-service appliance. Errors always have the shape `{ "error": { "code", "message", "details" } }`.')
    .setVersion(API_VERSION)
    .addBearerAuth()
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Key' }, 'api-key')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Everything an HTTP app needs beyond its modules; shared by `start` and the test harness. */
export function configureApp(app: NestFastifyApplication, logger: PinoLogger, config: AppConfig): void {
  const metrics = app.get(MetricsService);
  const fastify = app.getHttpAdapter().getInstance();

  // Liveness answers from Fastify directly: it must stay cheap and work when Nest is busy.
  fastify.get('/health/live', (_request, reply) => {
    void reply.header('cache-control', 'no-store').send({ status: 'live' });
  });
  answerLivenessBeforeRouting(fastify.server);

  // Graceful shutdown: requests in flight when closing starts still finish, but their keep-alive
  // connections must not hold the server open afterwards (Fastify closes idle connections only
  // once, when close() begins, so a connection that went idle later kept `app.close()` waiting
  // for the 72 s keep-alive timeout and `switchboard start` hit its grace timeout).
  let closing = false;
  fastify.addHook('preClose', (done: () => void) => {
    closing = true;
    done();
  });

  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (closing) setImmediate(() => fastify.server.closeIdleConnections?.());
    const route = request.routeOptions?.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, seconds);
    if (route !== '/health/live' && route !== '/metrics') {
      // The route pattern, never the raw URL: query strings can carry PII.
      logger.info({ reqId: request.id, method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    }
    done();
  });

  fastify.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void) => {
    void reply.header('x-request-id', String(request.id));
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });

  // JSON bodies: Fastify's parser (with prototype-poisoning protection), but a body that does not
  // parse is reported as `malformed_json`. Without this Nest turned the SyntaxError into a generic
  // 400 `bad_request`.
  const defaultJsonParser = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser('application/json', { bodyLimit: config.http.bodyLimit }, (request, body, done) => {
    defaultJsonParser(request as Parameters<typeof defaultJsonParser>[0], body as unknown as string, (error: Error | null, value?: unknown) => {
      if (!error) return done(null, value);
      const empty = (error as { code?: string }).code === 'FST_ERR_CTP_EMPTY_JSON_BODY';
      done(new PlatformError('malformed_json', empty ? 'The JSON body is empty.' : 'The body is not valid JSON.', 400), undefined);
    });
  });

  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new GlobalExceptionFilter());
  // WebSocket gateways (realtime, `/ws`) share the Fastify HTTP server through ws (see docs/realtime.md).
  app.useWebSocketAdapter(new WsAdapter(app));
  SwaggerModule.setup('api/docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'api/docs/openapi.json', yamlDocumentUrl: 'api/docs/openapi.yaml' });
}

const LIVE_BODY = Buffer.from(JSON.stringify({ status: 'live' }));

/**
 * `GET /health/live` is answered by the HTTP server itself, before Fastify's routing and the
 * request hooks every module adds (middleware, cookies, auth, logging, metrics): a liveness probe
 * must stay cheap and keep answering while the application layer is saturated or stuck. It is
 * therefore not in the request log or the latency histogram. The Fastify route above stays for
 * `inject()` and HEAD requests.
 */
function answerLivenessBeforeRouting(server: Server): void {
  const listeners = server.listeners('request') as Array<(request: IncomingMessage, response: ServerResponse) => void>;
  if (listeners.length !== 1) return; // someone else wired the server: leave it alone
  const route = listeners[0]!;
  server.removeListener('request', route);
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET' && (request.url === '/health/live' || request.url === '/health/live/')) {
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': LIVE_BODY.length });
      response.end(LIVE_BODY);
      return;
    }
    route.call(server, request, response);
  });
}
