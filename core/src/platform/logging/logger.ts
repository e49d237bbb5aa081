import { pino, type Logger as PinoLogger } from 'pino';
import type { LoggerService } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';

/**
 * Paths whose values never reach a log line: credentials, session material and customer PII.
 * Keys are matched at any depth up to three levels, which covers request logs and our own
 * structured fields.
 */
const SENSITIVE_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'apiKey',
  'authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'email',
  'emails',
  'phone',
  'phones',
  'name',
  'text',
  'body',
  'address',
];

const paths = SENSITIVE_KEYS.flatMap((key) => {
  const safe = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  const join = (prefix: string) => (safe.startsWith('[') ? `${prefix}${safe}` : `${prefix}.${safe}`);
  return [safe.startsWith('[') ? `*${safe}` : `*.${safe}`, join('*.*'), join('*.*.*'), safe.startsWith('[') ? safe.slice(2, -2) : safe].filter(Boolean);
});

export const REDACT_PATHS = [
  ...new Set([...paths, 'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'res.headers["set-cookie"]']),
];

export function createLogger(config: Pick<AppConfig, 'log' | 'instanceId'>, destination?: NodeJS.WritableStream): PinoLogger {
  return pino(
    {
      level: config.log.level,
      base: { instance: config.instanceId },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
    },
    destination ?? pino.destination({ sync: false }),
  );
}

/** Lets Nest's own `Logger` write through pino, keeping one JSON format. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: PinoLogger) {}

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace', message: unknown, params: unknown[]): void {
    const context = typeof params.at(-1) === 'string' ? (params.at(-1) as string) : undefined;
    if (message && typeof message === 'object' && !(message instanceof Error)) {
      const text = typeof params[0] === 'string' && params.length > 1 ? (params[0] as string) : undefined;
      this.logger[level]({ context, ...(message as object) }, text);
      return;
    }
    if (message instanceof Error) {
      this.logger[level]({ context, err: message }, message.message);
      return;
    }
    const stack = level === 'error' && typeof params[0] === 'string' && params.length > 1 ? params[0] : undefined;
    this.logger[level]({ context, ...(stack ? { stack } : {}) }, String(message));
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
}
