import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, MaxLength, Min } from 'class-validator';
import { QueryInt } from '../../tickets/dto/common.js';

export class CsatAnswerDto {
  @ApiProperty({ minimum: 1, maximum: 5 }) @IsInt() @Min(1) @Max(5) rating: number;
  @ApiPropertyOptional({ maxLength: 2000 }) @IsOptional() @IsString() @MaxLength(2000) comment?: string;
}

export class CsatListQuery {
  @ApiPropertyOptional({ enum: ['pending', 'sent', 'answered'] }) @IsOptional() @IsIn(['pending', 'sent', 'answered']) status?: 'pending' | 'sent' | 'answered';
  @ApiPropertyOptional({ enum: ['ticket', 'conversation'] }) @IsOptional() @IsIn(['ticket', 'conversation']) subjectType?: 'ticket' | 'conversation';
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 36) subjectId?: string;
  @ApiPropertyOptional() @IsOptional() @QueryInt() @IsInt() @Min(1) @Max(100) limit?: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(512) cursor?: string;
}
