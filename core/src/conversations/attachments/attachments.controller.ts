import { Controller, Delete, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Roles } from '../../identity/decorators/roles.decorator.js';
import { RequireScopes } from '../../identity/decorators/require-scopes.decorator.js';
import { CurrentActor } from '../../identity/decorators/current-actor.decorator.js';
import type { Actor } from '../../identity/actor.js';
import { AuditService } from '../../compliance/audit/audit.service.js';
import { ConversationsService } from '../conversations.service.js';
import { ConversationsError } from '../conversations.error.js';
import { AttachmentsService, tooLarge, type AttachmentView, type ExportedAttachment } from './attachments.service.js';
import { attachmentDisposition } from './filename.js';

const READERS = ['admin', 'supervisor', 'agent', 'auditor'] as const;
const WRITERS = ['admin', 'supervisor', 'agent'] as const;

export class AttachmentViewDto {
  @ApiProperty() id: string;
  @ApiProperty({ nullable: true, type: String }) conversationId: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Null until attached to a message' }) messageId: string | null;
  @ApiProperty({ description: 'Sanitised file name' }) name: string;
  @ApiProperty({ description: 'Detected from the bytes (allow-listed), not the client’s claim', example: 'application/pdf' }) contentType: string;
  @ApiProperty({ description: 'Bytes' }) size: number;
  @ApiProperty({ description: 'Hex SHA-256 of the file' }) sha256: string;
  @ApiProperty({ example: '/api/v1/attachments/…/content' }) url: string;
  @ApiProperty() createdAt: string;
}

class ExportedAttachmentDto extends AttachmentViewDto {
  @ApiProperty({ description: 'The file, base64' }) data: string;
}

class AttachmentExportDto {
  @ApiProperty() contactId: string;
  @ApiProperty({ type: [ExportedAttachmentDto] }) items: ExportedAttachmentDto[];
}

class AttachmentErasureDto {
  @ApiProperty() contactId: string;
  @ApiProperty({ description: 'How many files were erased' }) erased: number;
  @ApiPropertyOptional() note?: string;
}

interface MultipartFile {
  filename: string;
  mimetype: string;
  file: { truncated?: boolean };
  toBuffer(): Promise<Buffer>;
}
type MultipartRequest = FastifyRequest & {
  isMultipart?: () => boolean;
  file?: (options?: { limits?: Record<string, number> }) => Promise<MultipartFile | undefined>;
};

@ApiTags('attachments')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api/v1')
export class AttachmentsController {
  constructor(
    private readonly attachments: AttachmentsService,
    private readonly conversations: ConversationsService,
    private readonly audit: AuditService,
  ) {}

  @Post('conversations/:id/attachments')
  @Roles(...WRITERS)
  @RequireScopes('conversations:write')
  @ApiOperation({
    summary:
      'Upload one file (multipart field `file`) to a conversation; attach it to a message by posting `attachments: [{ id }]`. ' +
      'The type is detected from the bytes and must be on the allow-list; uploads never attached are removed after 24 h.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } } })
  @ApiCreatedResponse({ type: AttachmentViewDto })
  @ApiResponse({ status: 400, description: 'attachment_missing (no file part), attachment_invalid (empty file, not multipart)' })
  @ApiResponse({ status: 404, description: 'conversation_not_found (also outside the caller’s teams)' })
  @ApiResponse({ status: 413, description: 'attachment_too_large (over `attachments.maxBytes`)' })
  @ApiResponse({
    status: 415,
    description: 'attachment_type_not_allowed (detected type not on the allow-list), attachment_type_mismatch (bytes contradict the declared type)',
  })
  async upload(@Param('id') id: string, @Req() request: MultipartRequest, @CurrentActor() actor: Actor): Promise<AttachmentView> {
    const conversation = await this.conversations.getForActor(actor, id);
    if (!request.isMultipart?.() || !request.file)
      throw new ConversationsError('attachment_invalid', 'Send the file as multipart/form-data in a field named "file".', { field: 'file' });
    let part: MultipartFile | undefined;
    let bytes: Buffer;
    try {
      part = await request.file({ limits: { fileSize: this.attachments.maxBytes, files: 1, fields: 10, parts: 11, fieldSize: 1024 } });
      if (!part) throw new ConversationsError('attachment_missing', 'The request has no file part.', { field: 'file' });
      bytes = await part.toBuffer();
    } catch (error) {
      if (error instanceof ConversationsError) throw error;
      const code = (error as { code?: string }).code;
      if (code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(this.attachments.maxBytes);
      if (code && code.startsWith('FST_'))
        throw new ConversationsError('attachment_invalid', 'The multipart body is malformed or has too many parts.', { field: 'file' });
      throw error;
    }
    if (part.file.truncated) throw tooLarge(this.attachments.maxBytes);
    return this.attachments.store({
      conversationId: conversation.id,
      uploaderType: 'agent',
      uploaderId: actor.id,
      fileName: part.filename,
      declaredType: part.mimetype,
      bytes,
    });
  }

  @Get('attachments/:id')
  @Roles(...READERS)
  @RequireScopes('conversations:read')
  @ApiOperation({ summary: 'An attachment’s metadata; 404 when it does not exist or its conversation is outside the caller’s teams' })
  @ApiOkResponse({ type: AttachmentViewDto })
  async get(@Param('id') id: string, @CurrentActor() actor: Actor): Promise<AttachmentView> {
    const attachment = await this.attachments.get(id);
    await this.authorise(actor, attachment);
    return attachment;
  }

  @Get('attachments/:id/content')
  @Roles(...READERS)
  @RequireScopes('conversations:read')
  @ApiOperation({
    summary: 'Download the file. Always `Content-Disposition: attachment` with `X-Content-Type-Options: nosniff` and a sandbox CSP; never rendered inline',
  })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ description: 'The file bytes', schema: { type: 'string', format: 'binary' } })
  @ApiResponse({ status: 404, description: 'attachment_not_found (also outside the caller’s teams)' })
  async content(@Param('id') id: string, @CurrentActor() actor: Actor, @Res() reply: FastifyReply): Promise<void> {
    await this.authorise(actor, await this.attachments.get(id));
    const { attachment, bytes } = await this.attachments.read(id);
    await reply
      .status(200)
      .header('content-type', attachment.contentType)
      .header('content-length', String(bytes.length))
      .header('content-disposition', attachmentDisposition(attachment.name))
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('cache-control', 'private, no-store')
      .header('cross-origin-resource-policy', 'same-origin')
      .send(bytes);
  }

  @Get('contacts/:id/attachments/export')
  @Roles('admin')
  @RequireScopes('contacts:export')
  @ApiOperation({ summary: 'Personal-data export: every file of the contact’s conversations, with metadata, base64. Audited' })
  @ApiOkResponse({ type: AttachmentExportDto })
  async export(@Param('id') contactId: string, @CurrentActor() actor: Actor): Promise<{ contactId: string; items: ExportedAttachment[] }> {
    const items = await this.attachments.exportForContact(contactId);
    await this.audit.record({
      actor,
      action: 'contact.attachments_exported',
      objectType: 'contact',
      objectId: contactId,
      outcome: 'success',
      details: { count: items.length },
    });
    return { contactId, items };
  }

  @Delete('contacts/:id/attachments')
  @HttpCode(200)
  @Roles('admin')
  @RequireScopes('contacts:erase')
  @ApiOperation({ summary: 'Erasure: deletes every file of the contact’s conversations and removes them from the messages. Audited' })
  @ApiOkResponse({ type: AttachmentErasureDto })
  async erase(@Param('id') contactId: string, @CurrentActor() actor: Actor): Promise<{ contactId: string; erased: number }> {
    const erased = await this.attachments.eraseForContact(contactId);
    await this.audit.record({
      actor,
      action: 'contact.attachments_erased',
      objectType: 'contact',
      objectId: contactId,
      outcome: 'success',
      details: { erased },
    });
    return { contactId, erased };
  }

  /** The attachment's conversation must be visible to the actor; otherwise the attachment does not exist for them. */
  private async authorise(actor: Actor, attachment: AttachmentView): Promise<void> {
    // A channel's upload not yet on a message belongs to no conversation: nobody reads it.
    if (attachment.conversationId === null) throw new ConversationsError('attachment_not_found', 'There is no such attachment.', { id: attachment.id });
    try {
      await this.conversations.getForActor(actor, attachment.conversationId);
    } catch (error) {
      if (error instanceof ConversationsError && error.code === 'conversation_not_found')
        throw new ConversationsError('attachment_not_found', 'There is no such attachment.', { id: attachment.id });
      throw error;
    }
  }
}
