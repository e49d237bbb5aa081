import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../identity/decorators/roles.decorator.js';
import { NlpService } from '../nlp/nlp.service.js';
import { BotError } from './bot.error.js';
import { checkFlowSource, dryRunFlow, extractWith, type DryRun, type FlowCheck } from './flow-preview.js';
import { FlowDryRunDto, FlowSourceDto } from './dto/flow-editor.dto.js';

/** The console's flow editor: validation with positions, and dry runs. Stores nothing, calls nothing. */
@ApiTags('bot')
@ApiBearerAuth()
@Controller('api/v1/bot/flows')
export class BotFlowEditorController {
  constructor(private readonly nlp: NlpService) {}

  @Post('validate')
  @HttpCode(200)
  @Roles('admin', 'supervisor')
  @ApiOperation({ summary: 'Check a flow source without saving it: { valid, problems: [{ message, path, line, column }], definition }' })
  validate(@Body() body: FlowSourceDto): FlowCheck {
    return checkFlowSource(body.source, body.format);
  }

  @Post('dry-run')
  @HttpCode(200)
  @Roles('admin', 'supervisor')
  @ApiOperation({
    summary: 'Walk a flow with scripted customer messages and simulated call results (nothing is sent): transcript, step trace, slots, outcome',
  })
  dryRun(@Body() body: FlowDryRunDto): DryRun {
    const check = checkFlowSource(body.source, body.format);
    if (!check.valid || !check.definition)
      throw new BotError('bot_flow_invalid', check.problems.map((p) => p.message).join('; '), { problems: check.problems });
    return dryRunFlow(
      check.definition,
      body,
      extractWith((text) => this.nlp.entities(text)),
    );
  }
}
