import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../identity/decorators/roles.decorator.js';
import { CurrentActor } from '../identity/decorators/current-actor.decorator.js';
import type { Actor } from '../identity/actor.js';
import { requireActor } from '../tickets/shared/actor.js';
import { AutomationService } from './automation.service.js';
import {
  ApplyMacroDto,
  CannedDto,
  CannedQuery,
  CreateRuleDto,
  MacroDto,
  RenderCannedDto,
  RunsQuery,
  UpdateCannedDto,
  UpdateMacroDto,
  UpdateRuleDto,
} from './dto/automation.dto.js';

const AGENTS = ['admin', 'supervisor', 'agent'] as const;

@ApiTags('automation')
@ApiBearerAuth()
@Controller('api/v1/automation')
export class AutomationController {
  constructor(private readonly automation: AutomationService) {}

  @Get('rules')
  @Roles('admin', 'supervisor', 'auditor')
  @ApiOperation({ summary: 'Rules in evaluation order (position, then creation time)' })
  async rules(@CurrentActor() actor?: Actor) {
    return { items: await this.automation.listRules(requireActor(actor)) };
  }

  @Post('rules')
  @Roles('admin', 'supervisor')
  @ApiOperation({ summary: 'Create a rule: trigger event + conditions + actions' })
  createRule(@Body() body: CreateRuleDto, @CurrentActor() actor?: Actor) {
    return this.automation.createRule(requireActor(actor), body);
  }

  @Get('rules/:id')
  @Roles('admin', 'supervisor', 'auditor')
  rule(@Param('id') id: string, @CurrentActor() actor?: Actor) {
    return this.automation.getRule(requireActor(actor), id);
  }

  @Patch('rules/:id')
  @Roles('admin', 'supervisor')
  updateRule(@Param('id') id: string, @Body() body: UpdateRuleDto, @CurrentActor() actor?: Actor) {
    return this.automation.updateRule(requireActor(actor), id, body);
  }

  @Delete('rules/:id')
  @HttpCode(204)
  @Roles('admin', 'supervisor')
  async deleteRule(@Param('id') id: string, @CurrentActor() actor?: Actor): Promise<void> {
    await this.automation.deleteRule(requireActor(actor), id);
  }

  @Get('runs')
  @Roles('admin', 'supervisor', 'auditor')
  @ApiOperation({ summary: 'Recent rule runs, including those refused by loop protection' })
  async runs(@Query() query: RunsQuery, @CurrentActor() actor?: Actor) {
    return { items: await this.automation.runs(requireActor(actor), query) };
  }

  @Get('macros')
  @Roles(...AGENTS)
  async macros(@CurrentActor() actor?: Actor) {
    return { items: await this.automation.listMacros(requireActor(actor)) };
  }

  @Post('macros')
  @Roles('admin', 'supervisor')
  createMacro(@Body() body: MacroDto, @CurrentActor() actor?: Actor) {
    return this.automation.createMacro(requireActor(actor), body);
  }

  @Get('macros/:id')
  @Roles(...AGENTS)
  macro(@Param('id') id: string, @CurrentActor() actor?: Actor) {
    return this.automation.getMacro(requireActor(actor), id);
  }

  @Patch('macros/:id')
  @Roles('admin', 'supervisor')
  updateMacro(@Param('id') id: string, @Body() body: UpdateMacroDto, @CurrentActor() actor?: Actor) {
    return this.automation.updateMacro(requireActor(actor), id, body);
  }

  @Delete('macros/:id')
  @HttpCode(204)
  @Roles('admin', 'supervisor')
  async deleteMacro(@Param('id') id: string, @CurrentActor() actor?: Actor): Promise<void> {
    await this.automation.deleteMacro(requireActor(actor), id);
  }

  @Post('macros/:id/apply')
  @HttpCode(200)
  @Roles(...AGENTS)
  @ApiOperation({ summary: 'Apply a macro to a ticket as the calling agent' })
  apply(@Param('id') id: string, @Body() body: ApplyMacroDto, @CurrentActor() actor?: Actor) {
    return this.automation.applyMacro(requireActor(actor), id, body.ticketId);
  }

  @Get('canned-responses')
  @Roles(...AGENTS)
  async canned(@Query() query: CannedQuery, @CurrentActor() actor?: Actor) {
    return { items: await this.automation.listCanned(requireActor(actor), query) };
  }

  @Post('canned-responses')
  @Roles(...AGENTS)
  createCanned(@Body() body: CannedDto, @CurrentActor() actor?: Actor) {
    return this.automation.createCanned(requireActor(actor), body);
  }

  @Get('canned-responses/:id')
  @Roles(...AGENTS)
  cannedOne(@Param('id') id: string, @CurrentActor() actor?: Actor) {
    return this.automation.getCanned(requireActor(actor), id);
  }

  @Patch('canned-responses/:id')
  @Roles(...AGENTS)
  updateCanned(@Param('id') id: string, @Body() body: UpdateCannedDto, @CurrentActor() actor?: Actor) {
    return this.automation.updateCanned(requireActor(actor), id, body);
  }

  @Delete('canned-responses/:id')
  @HttpCode(204)
  @Roles('admin', 'supervisor')
  async deleteCanned(@Param('id') id: string, @CurrentActor() actor?: Actor): Promise<void> {
    await this.automation.deleteCanned(requireActor(actor), id);
  }

  @Post('canned-responses/:id/render')
  @HttpCode(200)
  @Roles(...AGENTS)
  @ApiOperation({ summary: 'Render a canned response with the variables of a ticket and/or conversation' })
  render(@Param('id') id: string, @Body() body: RenderCannedDto, @CurrentActor() actor?: Actor) {
    return this.automation.renderCanned(requireActor(actor), id, body);
  }
}
