import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger as PinoLogger } from 'pino';
import { AppModule } from './app.module.js';
import type { AppConfig } from './platform/config/app-config.js';
import { createLogger, PinoNestLogger } from './platform/logging/logger.js';
import { createFastifyAdapter } from './platform/http/fastify-adapter.js';
import { configureApp } from './platform/http/configure-app.js';

export interface RunningApp {
  app: NestFastifyApplication;
  url: string;
  logger: PinoLogger;
  close(): Promise<void>;
}

export async function createApp(config: AppConfig, logger: PinoLogger = createLogger(config)): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), createFastifyAdapter(config), {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
  });
  configureApp(app, logger, config);
  return app;
}

/** Starts listening and wires SIGTERM/SIGINT to a graceful stop bounded by `shutdown.graceMs`. */
export async function startServer(config: AppConfig, options: { handleSignals?: boolean; logger?: PinoLogger } = {}): Promise<RunningApp> {
  const logger = options.logger ?? createLogger(config);
  const app = await createApp(config, logger);
  await app.listen({ host: config.http.host, port: config.http.port });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const shownHost = config.http.host === '0.0.0.0' || config.http.host === '::' ? 'localhost' : config.http.host;
  const url = config.http.publicUrl ?? `http://${shownHost}:${port}`;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const timer = setTimeout(() => {
        logger.error({ graceMs: config.shutdown.graceMs }, 'graceful shutdown timed out; exiting');
        logger.flush();
        process.exit(1);
      }, config.shutdown.graceMs);
      timer.unref();
      await app.close();
      clearTimeout(timer);
      logger.info('stopped');
      logger.flush();
    })();
    return closing;
  };
  if (options.handleSignals) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        logger.info({ signal }, 'shutting down');
        void close().then(() => process.exit(0));
      });
    }
  }
  return { app, url, logger, close };
}
