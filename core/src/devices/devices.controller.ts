import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiConsumes, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Roles } from '../identity/decorators/roles.decorator.js';
import { RequireScopes } from '../identity/decorators/require-scopes.decorator.js';
import { CurrentActor } from '../identity/decorators/current-actor.decorator.js';
import type { Actor } from '../identity/actor.js';
import { DevicesService } from './devices.service.js';
import { DeviceRulesService } from './rules.service.js';
import { TelemetryService } from './telemetry.service.js';
import { CreateDeviceDto, ListDevicesQuery, ReadingsQuery, RuleDto, TelemetryDto, UpdateDeviceDto } from './dto/device.dto.js';
import { DevicesError } from './devices.error.js';

@ApiTags('devices')
@ApiBearerAuth()
@Controller('api/v1/devices')
export class DevicesController {
  constructor(
    private readonly devices: DevicesService,
    private readonly rules: DeviceRulesService,
  ) {}

  @Get()
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  @RequireScopes('devices:read')
  list(@Query() query: ListDevicesQuery, @CurrentActor() actor: Actor) {
    return this.devices.list(actor, query);
  }

  @Post()
  @Roles('admin', 'integrator')
  @RequireScopes('devices:write')
  create(@Body() body: CreateDeviceDto, @CurrentActor() actor: Actor) {
    return this.devices.create(actor, body);
  }

  @Post('import')
  @Roles('admin')
  @ApiConsumes('text/csv')
  @ApiOperation({
    summary:
      'Import devices from CSV: id,name,model,serialNumber,firmware,site,location,ownerContactId,ownerOrganization,teamId,protocolPlugin,tags (tags separated by ;)',
  })
  import(@Body() body: unknown, @CurrentActor() actor: Actor) {
    if (typeof body !== 'string') throw new DevicesError('device_import_invalid', 'Send the CSV as the request body with content-type text/csv.');
    return this.devices.importCsv(actor, body);
  }

  @Get('rules')
  @Roles('admin', 'supervisor')
  listRules() {
    return { items: this.rules.list() };
  }

  @Post('rules')
  @Roles('admin')
  createRule(@Body() body: RuleDto) {
    return this.rules.create(body);
  }

  @Put('rules/:ruleId')
  @Roles('admin')
  updateRule(@Param('ruleId') ruleId: string, @Body() body: RuleDto) {
    return this.rules.update(ruleId, body);
  }

  @Get(':id')
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  @RequireScopes('devices:read')
  get(@Param('id') id: string, @CurrentActor() actor: Actor) {
    return this.devices.get(actor, id);
  }

  @Patch(':id')
  @Roles('admin', 'integrator')
  @RequireScopes('devices:write')
  update(@Param('id') id: string, @Body() body: UpdateDeviceDto, @CurrentActor() actor: Actor) {
    return this.devices.update(actor, id, body);
  }

  @Get(':id/readings')
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  @RequireScopes('devices:read')
  readings(@Param('id') id: string, @Query() query: ReadingsQuery, @CurrentActor() actor: Actor) {
    const since = query.since ? new Date(query.since) : undefined;
    if (since && Number.isNaN(since.getTime())) throw new DevicesError('device_invalid', 'since must be an ISO 8601 time');
    return this.devices.readings(actor, id, { metric: query.metric, since, limit: query.limit }).then((items) => ({ items }));
  }

  @Get(':id/episodes')
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  episodes(@Param('id') id: string, @CurrentActor() actor: Actor) {
    return this.devices.episodes(actor, id).then((items) => ({ items }));
  }

  @Get(':id/tickets')
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  tickets(@Param('id') id: string, @CurrentActor() actor: Actor) {
    return this.devices.ticketsOf(actor, id).then((items) => ({ items }));
  }
}

@ApiTags('devices')
@Controller('api/v1')
export class TelemetryController {
  constructor(
    private readonly telemetry: TelemetryService,
    private readonly devices: DevicesService,
  ) {}

  @Post('telemetry')
  @HttpCode(202)
  @Roles('admin', 'integrator')
  @RequireScopes('telemetry:write')
  @ApiSecurity('api-key')
  @ApiOperation({ summary: 'Telemetry from gateways: validated, then processed through the device rules' })
  @ApiAcceptedResponse({ description: 'Accepted for processing' })
  ingest(@Body() body: TelemetryDto, @Headers('idempotency-key') idempotencyKey?: string) {
    if (idempotencyKey !== undefined && !/^[A-Za-z0-9_.:-]{1,128}$/.test(idempotencyKey))
      throw new DevicesError('telemetry_invalid', 'Idempotency-Key must be 1–128 letters, digits or _ . : -');
    return this.telemetry.accept(body, idempotencyKey);
  }

  @Get('contacts/:contactId/devices')
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  ofContact(@Param('contactId') contactId: string, @CurrentActor() actor: Actor) {
    return this.devices.ofContact(actor, contactId).then((items) => ({ items }));
  }
}
