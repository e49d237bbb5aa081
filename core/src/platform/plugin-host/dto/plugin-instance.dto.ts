import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

export class DeliveryPolicyDto {
  @ApiProperty({ minimum: 1, maximum: 100 })
  @IsInt()
  @Min(1)
  @Max(100)
  maxAttempts: number;

  @ApiProperty({ type: [Number], description: 'Delay before attempt n+1, in ms; the last value repeats' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(3_600_000, { each: true })
  backoffMs: number[];
}

export class CreatePluginInstanceDto {
  @ApiPropertyOptional({ description: 'Instance id; generated when left out', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9_-]{0,63}$/)
  id?: string;

  @ApiPropertyOptional({ description: 'The inbox a channel instance serves' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  inboxId?: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: "Validated against the plugin's configSchema" })
  @IsObject()
  config: Record<string, unknown>;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ type: DeliveryPolicyDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => DeliveryPolicyDto)
  delivery?: DeliveryPolicyDto;
}

export class UpdatePluginInstanceDto {
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Secrets sent back as ******** keep their stored value' })
  @IsOptional()
  @IsObject()
  config?: Record<string, unknown>;

  @ApiPropertyOptional({ type: DeliveryPolicyDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => DeliveryPolicyDto)
  delivery?: DeliveryPolicyDto;

  @ApiPropertyOptional()
  @IsOptional()
  @IsInt()
  expectedVersion?: number;
}

export class TestPluginInstanceDto {
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Test this config instead of the stored one' })
  @IsOptional()
  @IsObject()
  config?: Record<string, unknown>;
}
