import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsDefined,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { DEVICE_STATES, RULE_KINDS, SEVERITIES } from '../entities/device.entity.js';

export class CreateDeviceDto {
  @ApiProperty({ example: 'chiller-07', description: 'Stable id used in telemetry subjects' })
  @Matches(/^[A-Za-z0-9_-]{1,64}$/)
  id: string;

  @ApiProperty({ example: 'Chiller 7, Building B' }) @IsString() @MinLength(1) @MaxLength(200) name: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(120) model?: string | null;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(120) serialNumber?: string | null;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) firmware?: string | null;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(120) site?: string | null;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) location?: string | null;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) ownerContactId?: string | null;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) ownerOrganization?: string | null;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) teamId?: string | null;
  @ApiPropertyOptional({ example: 'iot-opcua' }) @IsOptional() @IsString() @MaxLength(64) protocolPlugin?: string | null;
  @ApiPropertyOptional({ type: Object }) @IsOptional() @IsObject() connectionConfig?: Record<string, unknown> | null;
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) tags?: string[];
}

/** Every field of a device except its id, all optional. */
export class UpdateDeviceDto extends PartialType(OmitType(CreateDeviceDto, ['id'] as const)) {}

export class ListDevicesQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(120) model?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(120) site?: string;
  @ApiPropertyOptional({ enum: DEVICE_STATES }) @IsOptional() @IsIn(DEVICE_STATES) state?: (typeof DEVICE_STATES)[number];
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) tag?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) ownerContactId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) cursor?: string;
  @ApiPropertyOptional() @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200) limit?: number;
}

export class ReadingsQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(120) metric?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() since?: string;
  @ApiPropertyOptional() @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(5000) limit?: number;
}

export class RuleDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(200) name: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(120) scopeModel?: string | null;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) scopeTag?: string | null;
  @ApiProperty({ enum: RULE_KINDS }) @IsIn(RULE_KINDS) kind: (typeof RULE_KINDS)[number];
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(120) metric?: string | null;
  @ApiProperty({ type: Object, example: { op: '>', value: 80, clearValue: 75 } }) @IsObject() params: Record<string, unknown>;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(10000) debounceSamples?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(0) @Max(86_400_000) debounceMs?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(10000) clearSamples?: number;
  @ApiProperty({ enum: SEVERITIES }) @IsIn(SEVERITIES) severity: (typeof SEVERITIES)[number];
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(200) title: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) articleId?: string | null;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() autoResolve?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;
}

export class ReadingDto {
  @ApiProperty({ example: 'temperature' }) @Matches(/^[A-Za-z0-9_.:/-]{1,120}$/) metric: string;
  @ApiProperty({ oneOf: [{ type: 'number' }, { type: 'string' }, { type: 'boolean' }], example: 81.5 }) @IsDefined() value: number | string | boolean;
  @ApiPropertyOptional({ example: '2026-11-22T08:00:00Z' }) @IsOptional() @IsString() ts?: string;
  @ApiPropertyOptional({ enum: ['good', 'uncertain', 'bad'] }) @IsOptional() @IsIn(['good', 'uncertain', 'bad']) quality?: 'good' | 'uncertain' | 'bad';
}

export class TelemetryDto {
  @ApiProperty({ example: 'chiller-07' }) @Matches(/^[A-Za-z0-9_-]{1,64}$/) deviceId: string;
  @ApiProperty({ type: [ReadingDto] })
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => ReadingDto)
  readings: ReadingDto[];
}
