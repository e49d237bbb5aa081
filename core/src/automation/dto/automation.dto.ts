import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Max, MaxLength, Min } from 'class-validator';
import { TRIGGERS, type Action, type Conditions, type Trigger } from '../automation.types.js';
import { QueryInt } from '../../tickets/dto/common.js';

const ACTIONS_DOC =
  'List of actions: set_priority{value}, set_team{teamId}, set_tags{add,remove}, set_status{status}, assign{assigneeId}, add_note{body}, send_canned_reply{cannedResponseId}, call_webhook{url,headers,body}';

export class CreateRuleDto {
  @ApiProperty() @IsString() @Length(1, 200) name: string;
  @ApiProperty({ enum: TRIGGERS }) @IsIn(TRIGGERS) trigger: Trigger;
  @ApiPropertyOptional({ description: '{ all?: [{field, op, value}], any?: [...] }' }) @IsOptional() @IsObject() conditions?: Conditions;
  @ApiProperty({ description: ACTIONS_DOC, type: 'array', items: { type: 'object' } }) @IsArray() @ArrayMaxSize(20) actions: Action[];
  @ApiPropertyOptional({ description: 'Lower runs first' }) @IsOptional() @IsInt() @Min(0) @Max(1_000_000) position?: number;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() enabled?: boolean;
  @ApiPropertyOptional({ default: false, description: 'Skip later rules for this event when this one matched' })
  @IsOptional()
  @IsBoolean()
  stopProcessing?: boolean;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 36) teamId?: string | null;
}

export class UpdateRuleDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional({ enum: TRIGGERS }) @IsOptional() @IsIn(TRIGGERS) trigger?: Trigger;
  @ApiPropertyOptional() @IsOptional() @IsObject() conditions?: Conditions;
  @ApiPropertyOptional({ type: 'array', items: { type: 'object' } }) @IsOptional() @IsArray() @ArrayMaxSize(20) actions?: Action[];
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(0) @Max(1_000_000) position?: number;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() stopProcessing?: boolean;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 36) teamId?: string | null;
}

export class RunsQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 36) ruleId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 36) objectId?: string;
  @ApiPropertyOptional() @IsOptional() @QueryInt() @IsInt() @Min(1) @Max(200) limit?: number;
}

export class MacroDto {
  @ApiProperty() @IsString() @Length(1, 200) name: string;
  @ApiProperty({ description: ACTIONS_DOC, type: 'array', items: { type: 'object' } }) @IsArray() @ArrayMaxSize(20) actions: Action[];
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 36) teamId?: string | null;
}

export class UpdateMacroDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional({ type: 'array', items: { type: 'object' } }) @IsOptional() @IsArray() @ArrayMaxSize(20) actions?: Action[];
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 36) teamId?: string | null;
}

export class ApplyMacroDto {
  @ApiProperty({ description: 'Ticket id or number' }) @IsString() @Length(1, 36) ticketId: string;
}

export class CannedDto {
  @ApiProperty() @IsString() @Length(1, 200) name: string;
  @ApiProperty({ description: 'Text with variables such as {{contact.name}} and {{ticket.number}}' }) @IsString() @Length(1, 65536) body: string;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 64) shortcut?: string | null;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 36) teamId?: string | null;
}

export class UpdateCannedDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 65536) body?: string;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 64) shortcut?: string | null;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 36) teamId?: string | null;
}

export class RenderCannedDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 36) ticketId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 36) conversationId?: string;
}

export class CannedQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) q?: string;
}
