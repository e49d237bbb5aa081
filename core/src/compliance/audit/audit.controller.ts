import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDateString, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Roles } from '../../identity/decorators/roles.decorator.js';
import { CurrentActor } from '../../identity/decorators/current-actor.decorator.js';
import type { Actor } from '../../identity/actor.js';
import { AuditService, type AuditQuery, type AuditView, type VerifyReport } from './audit.service.js';

export class AuditQueryDto {
  @IsOptional() @IsDateString() from?: string;
  @IsOptional() @IsDateString() to?: string;
  @IsOptional() @IsString() @MaxLength(128) action?: string;
  @IsOptional() @IsString() @MaxLength(191) actorId?: string;
  @IsOptional() @IsString() @MaxLength(64) objectType?: string;
  @IsOptional() @IsString() @MaxLength(191) objectId?: string;
  @IsOptional() @IsIn(['success', 'failure', 'denied']) outcome?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) afterSeq?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}

export class AuditExportDto extends AuditQueryDto {
  @IsOptional() @IsIn(['ndjson', 'csv']) format?: 'ndjson' | 'csv';
}

function toQuery(dto: AuditQueryDto): AuditQuery {
  return {
    ...dto,
    from: dto.from ? new Date(dto.from) : undefined,
    to: dto.to ? new Date(dto.to) : undefined,
  };
}

const CSV_COLUMNS: Array<keyof AuditView> = ['seq', 'at', 'actorKind', 'actorId', 'action', 'objectType', 'objectId', 'outcome', 'ip', 'details', 'hash'];
const csvCell = (value: unknown): string => {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  // Quote always; neutralise spreadsheet formulas.
  return `"${(/^[=+\-@]/.test(text) ? `'${text}` : text).replace(/"/g, '""')}"`;
};

@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Roles('auditor', 'admin')
  @ApiOperation({ summary: 'Query the audit log (oldest first; page with afterSeq)' })
  async list(@Query() query: AuditQueryDto, @CurrentActor() actor: Actor, @Req() request: FastifyRequest): Promise<{ items: AuditView[] }> {
    const items = await this.audit.query(toQuery(query));
    await this.audit.record({ actor, action: 'audit.queried', objectType: 'audit_log', outcome: 'success', ip: request.ip, details: { count: items.length } });
    return { items };
  }

  @Get('export')
  @Roles('auditor', 'admin')
  @ApiOperation({ summary: 'Export matching entries as NDJSON (default) or CSV, up to 100 000 rows' })
  async export(@Query() query: AuditExportDto, @CurrentActor() actor: Actor, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const { format = 'ndjson', ...filters } = query;
    const rows: AuditView[] = [];
    let afterSeq = filters.afterSeq;
    while (rows.length < 100_000) {
      const page = await this.audit.query({ ...toQuery(filters), afterSeq, limit: 1000 });
      rows.push(...page);
      if (page.length < 1000) break;
      afterSeq = page.at(-1)!.seq;
    }
    await this.audit.record({
      actor,
      action: 'audit.exported',
      objectType: 'audit_log',
      outcome: 'success',
      ip: request.ip,
      details: { count: rows.length, format },
    });
    const body =
      format === 'csv'
        ? [CSV_COLUMNS.join(','), ...rows.map((row) => CSV_COLUMNS.map((column) => csvCell(row[column])).join(','))].join('\r\n') + '\r\n'
        : rows.map((row) => JSON.stringify(row)).join('\n') + (rows.length ? '\n' : '');
    void reply
      .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="audit.${format === 'csv' ? 'csv' : 'ndjson'}"`)
      .send(body);
  }

  @Get('verify')
  @Roles('auditor', 'admin')
  @ApiOperation({ summary: 'Recompute the hash chain and name edited or deleted entries' })
  verify(): Promise<VerifyReport> {
    return this.audit.verify();
  }
}
