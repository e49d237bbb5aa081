import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isDatabaseConnectionError } from './app-error.js';
import { errorBody, type ErrorBody } from './error-body.js';

interface Mapped {
  status: number;
  body: ErrorBody;
}

const HTTP_STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
  503: 'service_unavailable',
};

const FASTIFY_CODES: Record<string, { code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'payload_too_large', message: 'The request body is too large.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported_media_type', message: 'The content type is not supported.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'malformed_json', message: 'The JSON body is empty.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'malformed_json', message: 'The body is not valid JSON.' },
};

/**
 * The one place where errors become responses. Known errors keep their code; anything
 * unexpected becomes a 500 with a correlation id, and its stack stays in the log.
 */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const type = host.getType<string>();
    if (type !== 'http') {
      // WebSocket gateways translate errors themselves (see realtime); rethrowing here would crash.
      return;
    }
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const mapped = this.map(exception, String(request.id ?? ''));
    if (mapped.status === 401 && !reply.getHeader('www-authenticate')) {
      reply.header('WWW-Authenticate', `Bearer error="invalid_token"`);
    }
    void reply.status(mapped.status).header('content-type', 'application/json; charset=utf-8').send(mapped.body);
  }

  map(exception: unknown, correlationId: string): Mapped {
    if (exception instanceof AppError) {
      if (exception.status >= 500) {
        this.logger.warn({ code: exception.code, correlationId, err: exception }, exception.message);
      }
      return { status: exception.status, body: errorBody(exception.code, exception.message, exception.details) };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message =
        typeof response === 'object' && response && 'message' in response && typeof (response as { message: unknown }).message === 'string'
          ? (response as { message: string }).message
          : exception.message;
      const code = HTTP_STATUS_CODES[status] ?? (status >= 500 ? 'internal_error' : 'bad_request');
      if (status >= 500) return this.internal(exception, correlationId);
      return { status, body: errorBody(code, message) };
    }
    if (isDatabaseConnectionError(exception)) {
      this.logger.warn({ correlationId, reason: describe(exception) }, 'database unavailable');
      return {
        status: HttpStatus.SERVICE_UNAVAILABLE,
        body: errorBody('database_unavailable', 'The database is unavailable; retry shortly.', undefined, correlationId),
      };
    }
    const fastifyError = exception as { code?: unknown; statusCode?: unknown; message?: unknown };
    if (typeof fastifyError?.code === 'string' && FASTIFY_CODES[fastifyError.code]) {
      const known = FASTIFY_CODES[fastifyError.code]!;
      return { status: Number(fastifyError.statusCode) || 400, body: errorBody(known.code, known.message) };
    }
    if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      const status = fastifyError.statusCode;
      return { status, body: errorBody(HTTP_STATUS_CODES[status] ?? 'bad_request', 'The request could not be processed.') };
    }
    return this.internal(exception, correlationId);
  }

  private internal(exception: unknown, correlationId: string): Mapped {
    this.logger.error({ correlationId, err: exception }, 'unhandled error');
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      body: errorBody('internal_error', 'An internal error occurred.', undefined, correlationId),
    };
  }
}

function describe(error: unknown): string {
  const candidate = error as { code?: unknown; message?: unknown };
  return String(candidate?.code ?? candidate?.message ?? 'unknown');
}
