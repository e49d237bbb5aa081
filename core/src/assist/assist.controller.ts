import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../identity/decorators/roles.decorator.js';
import { CurrentActor } from '../identity/decorators/current-actor.decorator.js';
import type { Actor } from '../identity/actor.js';
import { requireActor } from '../tickets/shared/actor.js';
import { AssistService } from './assist.service.js';
import { AssistFeedbackDto, SummaryQuery } from './dto/assist.dto.js';

const AGENTS = ['admin', 'supervisor', 'agent'] as const;

@ApiTags('assist')
@ApiBearerAuth()
@Controller('api/v1/assist')
export class AssistController {
  constructor(private readonly assist: AssistService) {}

  @Get('conversations/:id')
  @Roles(...AGENTS)
  @ApiOperation({
    summary:
      'Suggested replies (with sources), key facts, emotion per customer message and trend. The same data is pushed over /ws as conversation.event type "assist".',
  })
  snapshot(@Param('id') id: string, @CurrentActor() actor?: Actor) {
    return this.assist.snapshot(requireActor(actor), id);
  }

  @Get('conversations/:id/summary')
  @Roles(...AGENTS, 'auditor')
  @ApiOperation({ summary: 'Extractive summary of the conversation' })
  summary(@Param('id') id: string, @Query() query: SummaryQuery, @CurrentActor() actor?: Actor) {
    return this.assist.summary(requireActor(actor), id, query.sentences ?? 3);
  }

  @Post('feedback')
  @HttpCode(200)
  @Roles(...AGENTS)
  @ApiOperation({ summary: 'The agent used, edited or ignored a suggestion (ranks later suggestions)' })
  feedback(@Body() body: AssistFeedbackDto, @CurrentActor() actor?: Actor) {
    return this.assist.feedback(requireActor(actor), body);
  }
}
