import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { QueryInt } from '../../tickets/dto/common.js';

export class AssistFeedbackDto {
  @ApiProperty() @IsString() @Length(1, 36) conversationId: string;
  @ApiProperty({ description: 'The suggestion id: kb:<entryId> or canned:<id>' }) @IsString() @Length(3, 100) suggestionId: string;
  @ApiProperty({ enum: ['used', 'edited', 'ignored'] }) @IsIn(['used', 'edited', 'ignored']) action: 'used' | 'edited' | 'ignored';
}

export class SummaryQuery {
  @ApiPropertyOptional({ default: 3 }) @IsOptional() @QueryInt() @IsInt() @Min(1) @Max(10) sentences?: number;
}
