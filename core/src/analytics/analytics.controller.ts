import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Roles } from '../identity/decorators/roles.decorator.js';
import { CurrentActor } from '../identity/decorators/current-actor.decorator.js';
import type { Actor } from '../identity/actor.js';
import { AnalyticsService, type Dimension, type Report, type ReportQuery } from './analytics.service.js';
import { ReportQueryDto } from './dto/report-query.dto.js';

@ApiTags('analytics')
@ApiBearerAuth()
@Controller('api/v1/analytics')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  @Get('report')
  @Roles('admin', 'supervisor')
  @ApiOperation({
    summary: 'Service metrics per day × team × agent × channel, ready for charts',
    description: 'Volume, first response, response and resolution time (business hours), FCR, reopen rate, CSAT, bot containment/transfer, SLA attainment.',
  })
  report(@Query() query: ReportQueryDto, @CurrentActor() actor: Actor): Promise<Report> {
    return this.analytics.report(actor, toReportQuery(query));
  }

  @Get('report.csv')
  @Roles('admin', 'supervisor')
  @ApiProduces('text/csv')
  @Header('content-type', 'text/csv; charset=utf-8')
  @Header('content-disposition', 'attachment; filename="switchboard-report.csv"')
  async csv(@Query() query: ReportQueryDto, @CurrentActor() actor: Actor): Promise<string> {
    return this.analytics.toCsv(await this.analytics.report(actor, toReportQuery(query)));
  }
}

function toReportQuery(query: ReportQueryDto): ReportQuery {
  return {
    from: new Date(query.from),
    to: new Date(query.to),
    groupBy: (query.groupBy ? query.groupBy.split(',') : ['day']) as Dimension[],
    teamId: query.teamId,
    agentId: query.agentId,
    channel: query.channel,
  };
}
