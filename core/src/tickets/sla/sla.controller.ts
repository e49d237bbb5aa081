import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../identity/decorators/roles.decorator.js';
import { SlaAdminService } from './sla-admin.service.js';
import { CreateCalendarDto, CreatePolicyDto, UpdateCalendarDto, UpdatePolicyDto } from '../dto/sla.dto.js';

@ApiTags('sla')
@ApiBearerAuth()
@Controller('api/v1/sla')
export class SlaController {
  constructor(private readonly sla: SlaAdminService) {}

  @Get('calendars')
  @Roles('admin', 'supervisor', 'auditor')
  async calendars() {
    return { items: await this.sla.listCalendars() };
  }

  @Post('calendars')
  @Roles('admin')
  @ApiOperation({ summary: 'Create a business-hours calendar (IANA time zone, weekly hours, holidays)' })
  createCalendar(@Body() body: CreateCalendarDto) {
    return this.sla.createCalendar(body);
  }

  @Get('calendars/:id')
  @Roles('admin', 'supervisor', 'auditor')
  calendar(@Param('id') id: string) {
    return this.sla.getCalendar(id);
  }

  @Patch('calendars/:id')
  @Roles('admin')
  updateCalendar(@Param('id') id: string, @Body() body: UpdateCalendarDto) {
    return this.sla.updateCalendar(id, body);
  }

  @Delete('calendars/:id')
  @HttpCode(204)
  @Roles('admin')
  async deleteCalendar(@Param('id') id: string): Promise<void> {
    await this.sla.deleteCalendar(id);
  }

  @Get('policies')
  @Roles('admin', 'supervisor', 'auditor')
  async policies() {
    return { items: await this.sla.listPolicies() };
  }

  @Post('policies')
  @Roles('admin')
  @ApiOperation({ summary: 'Create an SLA policy: conditions, targets, warning, calendar, escalation' })
  createPolicy(@Body() body: CreatePolicyDto) {
    return this.sla.createPolicy(body);
  }

  @Get('policies/:id')
  @Roles('admin', 'supervisor', 'auditor')
  policy(@Param('id') id: string) {
    return this.sla.getPolicy(id);
  }

  @Patch('policies/:id')
  @Roles('admin')
  updatePolicy(@Param('id') id: string, @Body() body: UpdatePolicyDto) {
    return this.sla.updatePolicy(id, body);
  }

  @Delete('policies/:id')
  @HttpCode(204)
  @Roles('admin')
  @ApiOperation({ summary: 'Disable a policy (kept for the clocks that used it)' })
  async deletePolicy(@Param('id') id: string): Promise<void> {
    await this.sla.deletePolicy(id);
  }
}
