import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { QueryInt } from '../../tickets/dto/common.js';

const KB_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export class CreateEntryDto {
  @ApiPropertyOptional({ default: 'default' }) @IsOptional() @IsString() @Matches(KB_ID) kbId?: string;
  @ApiPropertyOptional({ enum: ['faq', 'article'], default: 'faq' }) @IsOptional() @IsIn(['faq', 'article']) kind?: 'faq' | 'article';
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 300) title?: string;
  @ApiProperty({ type: [String], description: 'The question and its paraphrases' })
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(500, { each: true })
  questions: string[];
  @ApiProperty({ description: 'Rich text (sanitised HTML) or plain text' }) @IsString() @Length(1, 60_000) answer: string;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @MaxLength(16) language?: string | null;
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @MaxLength(64, { each: true }) tags?: string[];
  @ApiPropertyOptional({ enum: ['public', 'internal'], default: 'public' }) @IsOptional() @IsIn(['public', 'internal']) audience?: 'public' | 'internal';
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 64) teamId?: string | null;
  @ApiPropertyOptional({ default: false, description: 'Publish right away' }) @IsOptional() @IsBoolean() publish?: boolean;
}

export class UpdateEntryDto {
  @ApiPropertyOptional({ enum: ['faq', 'article'] }) @IsOptional() @IsIn(['faq', 'article']) kind?: 'faq' | 'article';
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 300) title?: string;
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(500, { each: true })
  questions?: string[];
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 60_000) answer?: string;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @MaxLength(16) language?: string | null;
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @MaxLength(64, { each: true }) tags?: string[];
  @ApiPropertyOptional({ enum: ['public', 'internal'] }) @IsOptional() @IsIn(['public', 'internal']) audience?: 'public' | 'internal';
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 64) teamId?: string | null;
  @ApiPropertyOptional({ description: 'Optimistic concurrency: the version you edited' }) @IsOptional() @IsInt() @Min(1) expectedVersion?: number;
  @ApiPropertyOptional({ default: false }) @IsOptional() @IsBoolean() publish?: boolean;
}

export class ListEntriesQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(KB_ID) kbId?: string;
  @ApiPropertyOptional({ enum: ['draft', 'published', 'archived'] }) @IsOptional() @IsIn(['draft', 'published', 'archived']) status?: string;
  @ApiPropertyOptional({ enum: ['public', 'internal'] }) @IsOptional() @IsIn(['public', 'internal']) audience?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(16) language?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) tag?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) q?: string;
  @ApiPropertyOptional() @IsOptional() @QueryInt() @IsInt() @Min(1) @Max(1000) limit?: number;
  @ApiPropertyOptional() @IsOptional() @QueryInt() @IsInt() @Min(0) offset?: number;
}

export class SearchQuery {
  @ApiProperty() @IsString() @Length(1, 2000) q: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(KB_ID) kbId?: string;
  @ApiPropertyOptional() @IsOptional() @QueryInt() @IsInt() @Min(1) @Max(20) k?: number;
  @ApiPropertyOptional({ enum: ['public', 'all'] }) @IsOptional() @IsIn(['public', 'all']) audience?: 'public' | 'all';
}

export class FeedbackDto {
  @ApiProperty() @IsBoolean() helpful: boolean;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 36) conversationId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) comment?: string;
}

export class ImportDto {
  @ApiProperty({ enum: ['json', 'csv', 'markdown'] }) @IsIn(['json', 'csv', 'markdown']) format: 'json' | 'csv' | 'markdown';
  @ApiProperty({ description: 'The file content' }) @IsString() @Length(1, 20_000_000) content: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(KB_ID) kbId?: string;
  @ApiPropertyOptional({ description: 'Publish every imported entry (otherwise only those with status published)' })
  @IsOptional()
  @IsBoolean()
  publish?: boolean;
}

export class ExportQuery {
  @ApiProperty({ enum: ['json', 'csv', 'markdown'] }) @IsIn(['json', 'csv', 'markdown']) format: 'json' | 'csv' | 'markdown';
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(KB_ID) kbId?: string;
  @ApiPropertyOptional({ enum: ['draft', 'published'] }) @IsOptional() @IsIn(['draft', 'published']) status?: string;
}

export class ProposalsQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(KB_ID) kbId?: string;
  @ApiPropertyOptional({ enum: ['pending', 'approved', 'rejected'] }) @IsOptional() @IsIn(['pending', 'approved', 'rejected']) status?: string;
  @ApiPropertyOptional() @IsOptional() @QueryInt() @IsInt() @Min(1) @Max(500) limit?: number;
}

export class ApproveDto {
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(500, { each: true })
  questions?: string[];
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 60_000) answer?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 300) title?: string;
  @ApiPropertyOptional({ description: 'Add the variants to this entry instead' }) @IsOptional() @IsString() @Length(36, 36) entryId?: string;
  @ApiPropertyOptional({ default: false }) @IsOptional() @IsBoolean() publish?: boolean;
}

export class MiningDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(KB_ID) kbId?: string;
}
