import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Max, MaxLength, Min } from 'class-validator';
import { QueryBool, QueryInt } from '../../tickets/dto/common.js';

export class BotConfigDto {
  @ApiProperty({
    description:
      'Partial bot configuration merged into the current one: enabled, kbId, defaultLanguage, greeting, businessHours { timezone, days, open, close }, offHoursMessage, thresholds { high, medium }, handoverPhrases, startOverPhrases, maxFailedTurns, handoverOnAnger, negativeStreak, handoverOnVip, resolveOnThanks, askFeedback, flows, allowedPrivateHosts, handoverTeamId, messages { clarify, suggest, handover, handoverOffHours, thanks, startOver, flowTimeout, feedbackThanks, feedbackPrompt }. See docs/bot.md.',
  })
  @IsObject()
  config: Record<string, unknown>;
}

export class CreateFlowDto {
  @ApiProperty({ enum: ['json', 'yaml'] }) @IsIn(['json', 'yaml']) format: 'json' | 'yaml';
  @ApiProperty({ description: 'The flow definition (docs/bot.md, "Flows")' }) @IsString() @Length(1, 500_000) source: string;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() activate?: boolean;
}

export class TurnsQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 36) conversationId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 36) inboxId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(32) action?: string;
  @ApiPropertyOptional() @IsOptional() @QueryBool() @IsBoolean() labelled?: boolean;
  @ApiPropertyOptional() @IsOptional() @QueryInt() @IsInt() @Min(1) @Max(1000) limit?: number;
}

export class LabelDto {
  @ApiProperty({ nullable: true, description: 'The correct intent (null clears the label)' }) @IsOptional() @IsString() @Length(1, 100) label: string | null;
}

export class RetrainDto {
  @ApiPropertyOptional({ description: 'Train intent:<inboxId> for one inbox; otherwise the shared intent model' })
  @IsOptional()
  @IsString()
  @Length(1, 36)
  inboxId?: string;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() activate?: boolean;
  @ApiPropertyOptional({ default: true, description: 'Add the default intent seed to the labelled turns' }) @IsOptional() @IsBoolean() includeSeed?: boolean;
  @ApiPropertyOptional({ default: 25, description: 'Training epochs per branch (fewer: faster, for small label sets)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  maxEpochs?: number;
}
