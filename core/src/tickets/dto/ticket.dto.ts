import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { CUSTOM_FIELD_TYPES, LINK_KINDS, TICKET_PRIORITIES, TICKET_STATUSES, TICKET_TYPES } from '../tickets.types.js';
import type { CustomFieldType, LinkKind, TicketPriority, TicketStatus, TicketType } from '../tickets.types.js';
import { TICKET_SORT_FIELDS, type TicketSortField } from '../tickets.service.js';
import { CsvList, QueryBool, QueryInt } from './common.js';

export class TicketLinkDto {
  @ApiProperty({ enum: LINK_KINDS }) @IsIn(LINK_KINDS) kind: LinkKind;
  @ApiProperty({ maxLength: 191 }) @IsString() @Length(1, 191) refId: string;
}

export class CreateTicketDto {
  @ApiProperty({ maxLength: 500 }) @IsString() @Length(1, 500) subject: string;
  @ApiPropertyOptional({ maxLength: 65536 }) @IsOptional() @IsString() @MaxLength(65536) description?: string;
  @ApiProperty({ enum: TICKET_TYPES }) @IsIn(TICKET_TYPES) type: TicketType;
  @ApiPropertyOptional({ enum: TICKET_PRIORITIES, default: 'normal' }) @IsOptional() @IsIn(TICKET_PRIORITIES) priority?: TicketPriority;
  @ApiPropertyOptional({ enum: ['new', 'open'], default: 'new' }) @IsOptional() @IsIn(['new', 'open']) status?: 'new' | 'open';
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 36) requesterContactId?: string | null;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 36) teamId?: string | null;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 191) assigneeId?: string | null;
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @Length(1, 64, { each: true }) tags?: string[];
  @ApiPropertyOptional({ description: 'Values keyed by custom-field key; checked against the field schema' })
  @IsOptional()
  @IsObject()
  customFields?: Record<string, unknown>;
  @ApiPropertyOptional({ type: [TicketLinkDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => TicketLinkDto)
  links?: TicketLinkDto[];
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 191, { each: true })
  followers?: string[];
}

export class UpdateTicketDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 500) subject?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(65536) description?: string;
  @ApiPropertyOptional({ enum: TICKET_TYPES }) @IsOptional() @IsIn(TICKET_TYPES) type?: TicketType;
  @ApiPropertyOptional({ enum: TICKET_PRIORITIES }) @IsOptional() @IsIn(TICKET_PRIORITIES) priority?: TicketPriority;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 36) teamId?: string | null;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 191) assigneeId?: string | null;
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @Length(1, 64, { each: true }) tags?: string[];
  @ApiPropertyOptional() @IsOptional() @IsObject() customFields?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'The version you read; a mismatch returns 409 ticket_version_conflict' })
  @IsOptional()
  @IsInt()
  @Min(1)
  expectedVersion?: number;
}

export class TransitionDto {
  @ApiProperty({ enum: TICKET_STATUSES }) @IsIn(TICKET_STATUSES) status: TicketStatus;
}

export class CommentDto {
  @ApiProperty({ maxLength: 65536 }) @IsString() @Length(1, 65536) body: string;
  @ApiPropertyOptional({ default: false, description: 'true = internal note, never shown to the requester' }) @IsOptional() @IsBoolean() private?: boolean;
}

export class FollowersDto {
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) @Length(1, 191, { each: true }) add?: string[];
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 191, { each: true })
  remove?: string[];
}

export class ListTicketsQuery {
  @ApiPropertyOptional({ description: 'Comma-separated', enum: TICKET_STATUSES, isArray: true })
  @IsOptional()
  @CsvList()
  @IsIn(TICKET_STATUSES, { each: true })
  status?: TicketStatus[];
  @ApiPropertyOptional({ enum: TICKET_PRIORITIES, isArray: true })
  @IsOptional()
  @CsvList()
  @IsIn(TICKET_PRIORITIES, { each: true })
  priority?: TicketPriority[];
  @ApiPropertyOptional({ enum: TICKET_TYPES, isArray: true }) @IsOptional() @CsvList() @IsIn(TICKET_TYPES, { each: true }) type?: TicketType[];
  @ApiPropertyOptional({ description: 'A team id, or `none`' }) @IsOptional() @IsString() @Length(1, 36) teamId?: string;
  @ApiPropertyOptional({ description: 'A user id, or `none` for unassigned' }) @IsOptional() @IsString() @Length(1, 191) assigneeId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 36) requesterContactId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) tag?: string;
  @ApiPropertyOptional({ enum: TICKET_SORT_FIELDS, default: 'updatedAt' }) @IsOptional() @IsIn(TICKET_SORT_FIELDS) sort?: TicketSortField;
  @ApiPropertyOptional({ enum: ['asc', 'desc'], default: 'desc' }) @IsOptional() @IsIn(['asc', 'desc']) order?: 'asc' | 'desc';
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 25 }) @IsOptional() @QueryInt() @IsInt() @Min(1) @Max(100) limit?: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(512) cursor?: string;
}

export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 200 }) @IsOptional() @QueryInt() @IsInt() @Min(1) @Max(200) limit?: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(512) cursor?: string;
}

export class CommentsQuery extends PageQuery {
  @ApiPropertyOptional({ default: true }) @IsOptional() @QueryBool() @IsBoolean() includePrivate?: boolean;
}

export class CreateFieldDto {
  @ApiProperty({ pattern: '^[a-z][a-z0-9_]{0,63}$' }) @IsString() @Matches(/^[a-z][a-z0-9_]{0,63}$/) key: string;
  @ApiProperty() @IsString() @Length(1, 200) label: string;
  @ApiProperty({ enum: CUSTOM_FIELD_TYPES }) @IsIn(CUSTOM_FIELD_TYPES) type: CustomFieldType;
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  options?: string[];
  @ApiPropertyOptional() @IsOptional() @IsBoolean() required?: boolean;
}

export class UpdateFieldDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) label?: string;
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  options?: string[];
  @ApiPropertyOptional() @IsOptional() @IsBoolean() required?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() active?: boolean;
}
