import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { createValidationPipe } from './validation.js';
import { GlobalExceptionFilter } from '../errors/global-exception.filter.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { AppConfig } from '../config/app-config.js';

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
export function configureApp(app: NestFastifyApplication, logger: PinoLogger, _config: AppConfig): void {
  const metrics = app.get(MetricsService);
  const fastify = app.getHttpAdapter().getInstance();

  // Liveness answers from Fastify directly: it must stay cheap and work when Nest is busy.
  fastify.get('/health/live', (_request, reply) => {
    void reply.header('cache-control', 'no-store').send({ status: 'live' });
  });

  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
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
    done(null, payload);
  });

  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new GlobalExceptionFilter());
  SwaggerModule.setup('api/docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'api/docs/openapi.json', yamlDocumentUrl: 'api/docs/openapi.yaml' });
}
