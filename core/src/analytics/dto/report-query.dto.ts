import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class ReportQueryDto {
  @ApiProperty({ description: 'Start of the range (inclusive), ISO 8601', example: '2026-11-01T00:00:00Z' })
  @IsISO8601({ strict: true })
  from: string;

  @ApiProperty({ description: 'End of the range (exclusive), ISO 8601', example: '2026-12-01T00:00:00Z' })
  @IsISO8601({ strict: true })
  to: string;

  @ApiPropertyOptional({ description: 'Comma-separated dimensions: day, team, agent, channel', example: 'day,team' })
  @IsOptional()
  @Matches(/^(day|team|agent|channel)(,(day|team|agent|channel))*$/, { message: 'groupBy must list day, team, agent or channel, comma-separated' })
  groupBy?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) teamId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) agentId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) channel?: string;
}
