import { Body, Controller, Get, Inject, Logger, Module, Param, Post, Query } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { Public } from '../../../src/identity/decorators/public.decorator.js';
import { DATA_SOURCE } from '../../../src/platform/database/database.tokens.js';
import { UnitOfWork } from '../../../src/platform/database/unit-of-work.js';

export const PROBE_SUBJECT = 'sb.evt.platformprobe.written';

/**
 * Test-only routes that exercise the platform through real HTTP: writes through the outbox,
 * reads that hit the database, an unexpected failure, a slow request and a logging call.
 */
@Controller('platformtest')
export class ProbeController {
  private readonly logger = new Logger('probe');
  /** How many /platformtest/slow requests reached the handler (graceful-shutdown test). */
  static slowStarted = 0;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly uow: UnitOfWork,
  ) {}

  @Public()
  @Post('events')
  async write(@Body() body: { id: string; subject?: string }): Promise<{ id: string }> {
    await this.uow.run((tx) => tx.emit({ subject: body.subject ?? PROBE_SUBJECT, id: body.id, data: { id: body.id } }));
    return { id: body.id };
  }

  @Public()
  @Get('events/:id')
  async read(@Param('id') id: string): Promise<{ id: string; stored: number }> {
    const [row] = (await this.dataSource.query('SELECT COUNT(*) AS n FROM outbox WHERE event_id = ?', [id])) as Array<{ n: number | string }>;
    return { id, stored: Number(row?.n ?? 0) };
  }

  @Public()
  @Get('boom')
  boom(): never {
    const error = new Error('database password is hunter2 at /srv/app/secret.ts');
    throw error;
  }

  @Public()
  @Get('slow')
  async slow(@Query('ms') ms: string): Promise<{ slept: number }> {
    ProbeController.slowStarted++;
    const wait = Number(ms) || 500;
    await new Promise((resolve) => setTimeout(resolve, wait));
    return { slept: wait };
  }

  @Public()
  @Post('echo')
  echo(@Body() body: unknown): unknown {
    return { received: body };
  }

  @Public()
  @Post('log')
  log(@Body() body: Record<string, unknown>): { ok: true } {
    this.logger.log(
      { customer: { email: body.email, phone: body.phone, name: body.name }, password: body.password, token: body.token, ticketId: body.ticketId },
      'probe logged',
    );
    return { ok: true };
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}
