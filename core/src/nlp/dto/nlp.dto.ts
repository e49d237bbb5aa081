import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { IMPORT_DIRECTORY_PATTERN, NLP_TASKS, type NlpTask } from '../pack.js';

export class ExampleDto {
  @ApiProperty() @IsString() @MaxLength(10_000) text: string;
  @ApiProperty() @IsString() @MaxLength(128) label: string;
}

export class TrainingOptionsDto {
  @ApiPropertyOptional({ enum: ['linear', 'embedding'], isArray: true })
  @IsOptional()
  @IsArray()
  @IsIn(['linear', 'embedding'], { each: true })
  branches?: Array<'linear' | 'embedding'>;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(100) maxEpochs?: number;
  @ApiPropertyOptional() @IsOptional() @IsNumber() @Min(0) @Max(0.5) validationFraction?: number;
  @ApiPropertyOptional({ enum: ['balanced', 'none'] }) @IsOptional() @IsIn(['balanced', 'none']) classWeights?: 'balanced' | 'none';
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(4) @Max(512) embeddingDim?: number;
  @ApiPropertyOptional({ description: 'embedding bags averaged into the embedding branch (default 1; capped so the table stays under 48 MB)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(8)
  embeddingMembers?: number;
  @ApiPropertyOptional({ enum: ['none', 'relu'], description: "'relu': the embedding branch becomes a one-hidden-layer MLP (default 'none')" })
  @IsOptional()
  @IsIn(['none', 'relu'])
  embeddingActivation?: 'none' | 'relu';
  @ApiPropertyOptional() @IsOptional() @IsInt() seed?: number;
}

export class StartTrainingDto {
  @ApiProperty({ enum: NLP_TASKS }) @IsIn([...NLP_TASKS]) task: NlpTask;
  @ApiPropertyOptional({ description: 'Registry name; default the task. Per inbox: `intent:<inboxId>`.' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9_.:-]{0,100}$/i)
  name?: string;
  @ApiProperty({ type: ExampleDto, isArray: true })
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(200_000)
  @ValidateNested({ each: true })
  @Type(() => ExampleDto)
  examples: ExampleDto[];
  @ApiPropertyOptional({ description: 'Activate the new version when training succeeds' }) @IsOptional() @IsBoolean() activate?: boolean;
  @ApiPropertyOptional({ type: TrainingOptionsDto }) @IsOptional() @ValidateNested() @Type(() => TrainingOptionsDto) options?: TrainingOptionsDto;
}

export class ImportPackDto {
  @ApiProperty({ description: 'A directory under <dataDir>/nlp/import holding model.onnx, manifest.json and, for a transformer, vocab.txt' })
  @IsString()
  @Matches(IMPORT_DIRECTORY_PATTERN)
  directory: string;

  @ApiPropertyOptional({ description: 'Activate the version right away (every instance hot-swaps to it)' })
  @IsOptional()
  @IsBoolean()
  activate?: boolean;
}

export class ActivateDto {
  @ApiProperty() @IsString() @MaxLength(64) version: string;
}

export class EvaluateDto {
  @ApiPropertyOptional({ description: 'Default: the active version' }) @IsOptional() @IsString() @MaxLength(64) version?: string;
  @ApiProperty({ type: ExampleDto, isArray: true })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100_000)
  @ValidateNested({ each: true })
  @Type(() => ExampleDto)
  examples: ExampleDto[];
}

export class PredictDto {
  @ApiProperty() @IsString() @MaxLength(100_000) text: string;
  @ApiPropertyOptional({ description: 'Inbox/bot scope for the intent model' }) @IsOptional() @IsString() @MaxLength(100) scope?: string;
}
