import { Body, Controller, Get, HttpCode, Param, ParseIntPipe, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../identity/decorators/roles.decorator.js';
import { CurrentActor } from '../identity/decorators/current-actor.decorator.js';
import type { Actor } from '../identity/actor.js';
import { requireActor } from '../tickets/shared/actor.js';
import { BotService } from './bot.service.js';
import type { BotConfig } from './bot.types.js';
import { BotConfigDto, CreateFlowDto, LabelDto, RetrainDto, TurnsQuery } from './dto/bot.dto.js';

@ApiTags('bot')
@ApiBearerAuth()
@Controller('api/v1/bot')
export class BotController {
  constructor(private readonly bot: BotService) {}

  @Get('inboxes/:inboxId/config')
  @Roles('admin', 'supervisor')
  @ApiOperation({ summary: "The inbox's bot configuration (defaults when none is stored)" })
  config(@Param('inboxId') inboxId: string, @CurrentActor() actor?: Actor) {
    return this.bot.getConfig(requireActor(actor), inboxId);
  }

  @Put('inboxes/:inboxId/config')
  @Roles('admin', 'supervisor')
  @ApiOperation({ summary: 'Set (merge) the bot configuration of an inbox; every instance picks it up' })
  putConfig(@Param('inboxId') inboxId: string, @Body() body: BotConfigDto, @CurrentActor() actor?: Actor) {
    return this.bot.putConfig(requireActor(actor), inboxId, body.config as Partial<BotConfig>);
  }

  @Get('flows')
  @Roles('admin', 'supervisor', 'auditor')
  async flows() {
    return { items: await this.bot.listFlows() };
  }

  @Post('flows')
  @Roles('admin', 'supervisor')
  @ApiOperation({ summary: 'Store a new version of a flow (JSON or YAML); activate: true (default) makes it live' })
  createFlow(@Body() body: CreateFlowDto, @CurrentActor() actor?: Actor) {
    return this.bot.createFlow(requireActor(actor), { ...body, activate: body.activate ?? true });
  }

  @Get('flows/:name')
  @Roles('admin', 'supervisor', 'auditor')
  flow(@Param('name') name: string) {
    return this.bot.getFlow(name);
  }

  @Get('flows/:name/versions/:version')
  @Roles('admin', 'supervisor', 'auditor')
  flowVersion(@Param('name') name: string, @Param('version', ParseIntPipe) version: number) {
    return this.bot.getFlow(name, version);
  }

  @Post('flows/:name/versions/:version/activate')
  @HttpCode(200)
  @Roles('admin', 'supervisor')
  @ApiOperation({ summary: 'Make this version the live one (roll forward or back)' })
  activate(@Param('name') name: string, @Param('version', ParseIntPipe) version: number, @CurrentActor() actor?: Actor) {
    return this.bot.activateFlow(requireActor(actor), name, version);
  }

  @Get('conversations/:id/session')
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  @ApiOperation({ summary: "The bot's state in a conversation (mode, slots, offered articles, emotions)" })
  session(@Param('id') id: string, @CurrentActor() actor?: Actor) {
    return this.bot.session(requireActor(actor), id);
  }

  @Get('turns')
  @Roles('admin', 'supervisor', 'auditor')
  @ApiOperation({ summary: 'The bot turn log: intent, confidence, action, KB entry and score, emotion, latency' })
  async turns(@Query() query: TurnsQuery, @CurrentActor() actor?: Actor) {
    return { items: await this.bot.turns(requireActor(actor), query) };
  }

  @Patch('turns/:id')
  @Roles('admin', 'supervisor', 'agent')
  @ApiOperation({ summary: 'Label a turn with the right intent (for retraining); agents label turns of conversations they can see' })
  label(@Param('id') id: string, @Body() body: LabelDto, @CurrentActor() actor?: Actor) {
    return this.bot.labelTurn(requireActor(actor), id, body.label ?? null);
  }

  @Post('training')
  @Roles('admin')
  @ApiOperation({ summary: 'Retrain the intent model from labelled bot turns via the NLP trainer (a training job)' })
  retrain(@Body() body: RetrainDto, @CurrentActor() actor?: Actor) {
    return this.bot.retrainIntents(requireActor(actor), body);
  }
}
