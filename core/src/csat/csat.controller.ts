import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public } from '../identity/decorators/public.decorator.js';
import { Roles } from '../identity/decorators/roles.decorator.js';
import { CurrentActor } from '../identity/decorators/current-actor.decorator.js';
import type { Actor } from '../identity/actor.js';
import { requireActor } from '../tickets/shared/actor.js';
import { CsatService } from './csat.service.js';
import { CsatAnswerDto, CsatListQuery } from './dto/csat.dto.js';
import { CsatError } from './csat.error.js';

const TOKEN = /^[A-Za-z0-9_-]{20,64}$/;

/** A small per-instance fixed-window limiter for the public endpoints (per client IP). */
class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}
  check(key: string): void {
    const now = Date.now();
    const current = this.windows.get(key);
    if (!current || now - current.start >= this.windowMs) {
      if (this.windows.size > 10_000) this.windows.clear();
      this.windows.set(key, { start: now, count: 1 });
      return;
    }
    if (++current.count > this.limit) throw new CsatError('csat_rate_limited', 'Too many requests; try again in a minute.');
  }
}

@ApiTags('csat')
@Controller('api/v1/csat')
export class CsatController {
  private readonly limiter = new RateLimiter(30, 60_000);

  constructor(private readonly csat: CsatService) {}

  private guard(request: FastifyRequest, token: string): void {
    this.limiter.check(request.ip);
    if (!TOKEN.test(token)) throw new CsatError('csat_not_found', 'There is no such survey.');
  }

  @Get('public/:token')
  @Public()
  @ApiOperation({ summary: 'The survey behind a token (public, rate-limited)' })
  describe(@Param('token') token: string, @Req() request: FastifyRequest) {
    this.guard(request, token);
    return this.csat.describe(token);
  }

  @Post('public/:token')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Answer a survey: rating 1–5 and an optional comment; once only (public, rate-limited)' })
  answer(@Param('token') token: string, @Body() body: CsatAnswerDto, @Req() request: FastifyRequest) {
    this.guard(request, token);
    return this.csat.answer(token, body.rating, body.comment ?? null);
  }

  @Get('surveys')
  @ApiBearerAuth()
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  @ApiOperation({ summary: 'Surveys and answers in the caller’s teams' })
  list(@Query() query: CsatListQuery, @CurrentActor() actor?: Actor) {
    return this.csat.list(requireActor(actor), query);
  }
}
