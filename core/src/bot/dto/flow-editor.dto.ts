import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsObject, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';

export class FlowSourceDto {
  @ApiProperty({ enum: ['json', 'yaml'] }) @IsIn(['json', 'yaml']) format: 'json' | 'yaml';
  @ApiProperty({ description: 'The flow definition (docs/bot.md, "Flows")' }) @IsString() @Length(1, 500_000) source: string;
}

export class FlowDryRunDto extends FlowSourceDto {
  @ApiProperty({ type: [String], description: 'Customer messages: the first starts the flow, each next one answers the step that waits' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(2000, { each: true })
  messages: string[];
  @ApiPropertyOptional({
    description: 'Simulated call results by result name, e.g. { "order": { "ok": true, "httpStatus": 200, "data": { "status": "shipped" } } }',
  })
  @IsOptional()
  @IsObject()
  results?: Record<string, unknown>;
  @ApiPropertyOptional({ default: 'en' }) @IsOptional() @IsString() @Matches(/^[a-z]{2}(-[A-Za-z]{2})?$/) language?: string;
}
