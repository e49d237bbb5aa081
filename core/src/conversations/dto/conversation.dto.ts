import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { CONVERSATION_STATUSES, PRIORITIES } from '../entities/conversation.entity.js';

const QueryInt = () =>
  Transform(({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value));
const QueryBool = () => Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value));
export const CONVERSATION_SORTS = ['createdAt', '-createdAt', 'updatedAt', '-updatedAt'] as const;

export class CreateInboxDto {
  @ApiProperty({ example: 'Website chat' }) @IsString() @Length(1, 200) name: string;
  @ApiProperty({ example: 'webchat', description: 'The channel plugin kind serving this inbox' })
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9_-]{0,63}$/)
  channel: string;
  @ApiPropertyOptional({ nullable: true, description: 'Team that gets new conversations; null = unassigned queue' })
  @IsOptional()
  @IsString()
  @Length(1, 36)
  teamId?: string | null;
  @ApiPropertyOptional({ type: Object }) @IsOptional() @IsObject() settings?: Record<string, unknown>;
}

export class UpdateInboxDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 36) teamId?: string | null;
  @ApiPropertyOptional({ type: Object }) @IsOptional() @IsObject() settings?: Record<string, unknown>;
}

export class ListInboxesQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) channel?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 36) teamId?: string;
}

export class ListConversationsQuery {
  @ApiPropertyOptional({ enum: CONVERSATION_STATUSES }) @IsOptional() @IsIn(CONVERSATION_STATUSES) status?: (typeof CONVERSATION_STATUSES)[number];
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 36) inboxId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 36) teamId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 191) assigneeId?: string;
  @ApiPropertyOptional({ description: 'Only conversations without an assignee' }) @IsOptional() @QueryBool() @IsBoolean() unassigned?: boolean;
  @ApiPropertyOptional({ description: 'Includes conversations of contacts merged into it' }) @IsOptional() @IsString() @Length(1, 36) contactId?: string;
  @ApiPropertyOptional({ enum: PRIORITIES }) @IsOptional() @IsIn(PRIORITIES) priority?: (typeof PRIORITIES)[number];
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) channel?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) tag?: string;
  @ApiPropertyOptional({ enum: CONVERSATION_SORTS, default: '-updatedAt' }) @IsOptional() @IsIn(CONVERSATION_SORTS) sort?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 512) cursor?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 25 }) @IsOptional() @QueryInt() @IsInt() @Min(1) @Max(100) limit?: number;
}

export class PageQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 512) cursor?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 25 }) @IsOptional() @QueryInt() @IsInt() @Min(1) @Max(100) limit?: number;
}

export class CreateConversationDto {
  @ApiProperty() @IsString() @Length(1, 36) contactId: string;
  @ApiProperty() @IsString() @Length(1, 36) inboxId: string;
  @ApiPropertyOptional({ enum: PRIORITIES }) @IsOptional() @IsIn(PRIORITIES) priority?: (typeof PRIORITIES)[number];
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @Length(1, 64, { each: true }) tags?: string[];
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 191) threadKey?: string;
}

export class UpdateConversationDto {
  @ApiPropertyOptional({ enum: CONVERSATION_STATUSES }) @IsOptional() @IsIn(CONVERSATION_STATUSES) status?: (typeof CONVERSATION_STATUSES)[number];
  @ApiPropertyOptional({ description: 'Required with status snoozed: when it reopens (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  snoozedUntil?: string;
  @ApiPropertyOptional({ enum: PRIORITIES }) @IsOptional() @IsIn(PRIORITIES) priority?: (typeof PRIORITIES)[number];
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @Length(1, 64, { each: true }) tags?: string[];
}

export class AssignConversationDto {
  @ApiProperty({ nullable: true, description: 'User id; null unassigns' }) @IsOptional() @IsString() @Length(1, 191) agentId: string | null;
  @ApiPropertyOptional({ nullable: true, description: 'Moves the conversation to this team; omit to keep' }) @IsOptional() @IsString() @Length(1, 36) teamId?:
    string | null;
}

export class AttachmentDto {
  @ApiPropertyOptional({ description: 'An upload of this conversation (POST /conversations/:id/attachments); send it alone, the rest is filled in' })
  @IsOptional()
  @IsString()
  @Length(1, 36)
  id?: string;
  @ApiPropertyOptional({ description: 'Required without id' }) @ValidateIf((o: AttachmentDto) => !o.id) @IsString() @Length(1, 255) name: string;
  @ApiPropertyOptional({ example: 'image/png', description: 'Required without id' })
  @ValidateIf((o: AttachmentDto) => !o.id)
  @IsString()
  @Length(1, 255)
  contentType: string;
  @ApiPropertyOptional({ description: 'Bytes; required without id' }) @ValidateIf((o: AttachmentDto) => !o.id) @IsInt() @Min(0) size: number;
  @ApiPropertyOptional({ description: 'Set by the server for uploads' }) @IsOptional() @IsString() @Matches(/^[0-9a-f]{64}$/) sha256?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(/^https?:\/\//) @Length(1, 2048) url?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 512) storageKey?: string;
}

export class PostMessageDto {
  @ApiProperty({ description: 'Plain text, stored verbatim (no HTML processing); at most 64 KB of UTF-8, else 413 message_too_large' })
  @IsString()
  text: string;
  @ApiPropertyOptional({
    type: Object,
    description:
      "Structured content: { type: 'buttons', text?, buttons: [{ label, value | url }] }, { type: 'cards', cards: [{ title, subtitle?, imageUrl?, buttons? }] } or { type: 'quick_replies', text?, replies: [{ label, value }] }",
  })
  @IsOptional()
  @IsObject()
  content?: Record<string, unknown>;
  @ApiPropertyOptional({ type: [AttachmentDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => AttachmentDto)
  attachments?: AttachmentDto[];
  @ApiPropertyOptional({ description: 'An internal note: never delivered to the contact' }) @IsOptional() @IsBoolean() private?: boolean;
  @ApiPropertyOptional({ description: 'Client idempotency key (or the Idempotency-Key header): a repeat returns the original message with 200' })
  @IsOptional()
  @IsString()
  @Length(1, 191)
  idempotencyKey?: string;
}

export class ListMessagesQuery {
  @ApiPropertyOptional({ description: 'Messages with seq greater than this, oldest first' }) @IsOptional() @QueryInt() @IsInt() @Min(0) afterSeq?: number;
  @ApiPropertyOptional({ description: 'The last `limit` messages before this seq' }) @IsOptional() @QueryInt() @IsInt() @Min(1) beforeSeq?: number;
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 }) @IsOptional() @QueryInt() @IsInt() @Min(1) @Max(500) limit?: number;
}

export class AnnotateMessageDto {
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 16) language?: string | null;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 128) intent?: string | null;
  @ApiPropertyOptional({ nullable: true, minimum: 0, maximum: 1 }) @IsOptional() @IsNumber() @Min(0) @Max(1) intentConfidence?: number | null;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsString() @Length(1, 32) emotion?: string | null;
  @ApiPropertyOptional({ nullable: true, type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(20) @IsString({ each: true }) flags?: string[] | null;
}

export class InboxViewDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() channel: string;
  @ApiProperty({ nullable: true, type: String }) teamId: string | null;
  @ApiProperty({ type: Object }) settings: Record<string, unknown>;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class ConversationViewDto {
  @ApiProperty() id: string;
  @ApiProperty() contactId: string;
  @ApiProperty() inboxId: string;
  @ApiProperty() channel: string;
  @ApiProperty({ enum: CONVERSATION_STATUSES }) status: string;
  @ApiProperty({ nullable: true, type: String }) snoozedUntil: string | null;
  @ApiProperty({ enum: PRIORITIES }) priority: string;
  @ApiProperty({ nullable: true, type: String }) assigneeId: string | null;
  @ApiProperty({ nullable: true, type: String }) teamId: string | null;
  @ApiProperty({ type: [String] }) tags: string[];
  @ApiProperty({ nullable: true, type: String }) threadKey: string | null;
  @ApiProperty() lastSeq: number;
  @ApiProperty({ nullable: true, type: String }) lastMessageAt: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
  @ApiProperty({ nullable: true, type: String }) resolvedAt: string | null;
}

export class ConversationPageDto {
  @ApiProperty({ type: [ConversationViewDto] }) items: ConversationViewDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class MessageViewDto {
  @ApiProperty() id: string;
  @ApiProperty() conversationId: string;
  @ApiProperty({ description: 'Per-conversation sequence number: 1, 2, 3 … with no gaps' }) seq: number;
  @ApiProperty({ enum: ['in', 'out'] }) direction: string;
  @ApiProperty({ enum: ['contact', 'agent', 'bot', 'system'] }) authorType: string;
  @ApiProperty({ nullable: true, type: String }) authorId: string | null;
  @ApiProperty() text: string;
  @ApiProperty({ nullable: true, type: Object }) content: Record<string, unknown> | null;
  @ApiProperty({ nullable: true, type: [AttachmentDto] }) attachments: AttachmentDto[] | null;
  @ApiProperty() private: boolean;
  @ApiProperty({ nullable: true, type: String }) idempotencyKey: string | null;
  @ApiProperty({ nullable: true, type: String }) externalMessageId: string | null;
  @ApiProperty({ type: Object, description: '{ language, intent, intentConfidence, emotion, flags } from NLP' }) annotations: Record<string, unknown>;
  @ApiProperty() createdAt: string;
}

export class MessageListDto {
  @ApiProperty({ type: [MessageViewDto] }) items: MessageViewDto[];
}

export class MessagePageDto {
  @ApiProperty({ type: [MessageViewDto] }) items: MessageViewDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
