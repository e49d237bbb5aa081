import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Max, MaxLength, Min, ValidateIf } from 'class-validator';

export class SetPresenceDto {
  @ApiProperty({ enum: ['online', 'away', 'offline'] })
  @IsIn(['online', 'away', 'offline'])
  status: 'online' | 'away' | 'offline';
}

export class UpdateProfileDto {
  @ApiPropertyOptional({ type: [String], example: ['billing', 'vip'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  skills?: string[];

  @ApiPropertyOptional({ type: [String], example: ['en', 'zh-CN'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Length(2, 16, { each: true })
  languages?: string[];

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 50 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  maxConcurrent?: number;

  @ApiPropertyOptional({ description: 'channel → weight (1 = one conversation; 0.5 = half)', example: { email: 0.5, voice: 5 } })
  @IsOptional()
  @IsObject()
  channelWeights?: Record<string, number>;
}

export class TransferDto {
  @ApiPropertyOptional({ description: 'Target agent (user id)' })
  @IsOptional()
  @IsString()
  @Length(1, 191)
  agentId?: string;

  @ApiPropertyOptional({ description: 'Target team; with agentId as well, the conversation moves to that team and agent' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  teamId?: string;

  @ApiPropertyOptional({ description: 'Stored as a private note on the conversation' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  note?: string;

  @ApiPropertyOptional({ description: 'Supervisors only: skip the online and capacity checks' })
  @IsOptional()
  @IsBoolean()
  override?: boolean;
}

export class SignalsDto {
  @ApiPropertyOptional({ enum: ['low', 'normal', 'high', 'urgent'] })
  @IsOptional()
  @IsIn(['low', 'normal', 'high', 'urgent'])
  priority?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  vip?: boolean;

  @ApiPropertyOptional({ nullable: true, example: 'angry' })
  @IsOptional()
  @ValidateIf((_object, value) => value !== null)
  @IsString()
  @MaxLength(32)
  emotion?: string | null;

  @ApiPropertyOptional({ nullable: true, example: 'zh-CN' })
  @IsOptional()
  @ValidateIf((_object, value) => value !== null)
  @IsString()
  @Length(2, 16)
  language?: string | null;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  requiredSkills?: string[];
}
