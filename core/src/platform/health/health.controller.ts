import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../database/database.tokens.js';
import { BUS, type Bus } from '../bus/bus.port.js';
import { Public } from '../../identity/decorators/public.decorator.js';
import { HealthContributors } from './health-contributors.js';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(BUS) private readonly bus: Bus,
    private readonly contributors: HealthContributors,
  ) {}

  /** Ready means: the database answers and the bus is connected. Load balancers route on this. */
  @Public()
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<unknown> {
    const [database, bus] = await Promise.all([this.checkDatabase(), this.bus.isHealthy().catch(() => false)]);
    const components = await this.contributors.collect();
    const ok = database && bus;
    void reply.status(ok ? 200 : 503);
    return {
      status: ok ? 'ready' : 'unavailable',
      checks: { database: database ? 'up' : 'down', bus: bus ? 'up' : 'down' },
      components,
    };
  }

  private async checkDatabase(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.dataSource.query('SELECT 1'), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), 2000)))]);
      return true;
    } catch {
      return false;
    } finally {
      // A pending 2 s timer after every readiness probe kept closed apps' processes alive.
      clearTimeout(timer);
    }
  }
}
