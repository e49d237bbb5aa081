import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import { Roles } from '../identity/decorators/roles.decorator.js';
import { RequireScopes } from '../identity/decorators/require-scopes.decorator.js';
import { CurrentActor } from '../identity/decorators/current-actor.decorator.js';
import type { Actor } from '../identity/actor.js';
import { AccessPolicy } from '../identity/access-policy.js';
import { ConversationsService } from './conversations.service.js';
import { ConversationsError } from './conversations.error.js';
import {
  AnnotateMessageDto,
  AssignConversationDto,
  ConversationPageDto,
  ConversationViewDto,
  CreateConversationDto,
  CreateInboxDto,
  InboxViewDto,
  ListConversationsQuery,
  ListInboxesQuery,
  ListMessagesQuery,
  MessageListDto,
  MessagePageDto,
  MessageViewDto,
  PageQuery,
  PostMessageDto,
  UpdateConversationDto,
  UpdateInboxDto,
} from './dto/conversation.dto.js';
import type { ConversationView, InboxView, MessageView } from './conversations.types.js';
import type { Page } from '../contacts/pagination.js';

const READERS = ['admin', 'supervisor', 'agent', 'auditor'] as const;
const WRITERS = ['admin', 'supervisor', 'agent'] as const;

@ApiTags('inboxes')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api/v1/inboxes')
export class InboxesController {
  constructor(
    private readonly conversations: ConversationsService,
    private readonly access: AccessPolicy,
  ) {}

  @Get()
  @Roles(...READERS)
  @RequireScopes('conversations:read')
  @ApiOkResponse({ type: InboxViewDto, isArray: true })
  async list(@Query() query: ListInboxesQuery, @CurrentActor() actor: Actor): Promise<{ items: InboxView[] }> {
    this.access.assertTeamFilter(actor, query.teamId, () => ConversationsError.inboxNotFound());
    return { items: await this.conversations.listInboxes(actor, query) };
  }

  @Post()
  @Roles('admin')
  @ApiCreatedResponse({ type: InboxViewDto })
  create(@Body() body: CreateInboxDto): Promise<InboxView> {
    return this.conversations.createInbox(body);
  }

  @Get(':id')
  @Roles(...READERS)
  @RequireScopes('conversations:read')
  @ApiOkResponse({ type: InboxViewDto })
  get(@Param('id') id: string, @CurrentActor() actor: Actor): Promise<InboxView> {
    return this.conversations.getInboxForActor(actor, id);
  }

  @Patch(':id')
  @Roles('admin')
  @ApiOkResponse({ type: InboxViewDto })
  update(@Param('id') id: string, @Body() body: UpdateInboxDto): Promise<InboxView> {
    return this.conversations.updateInbox(id, body);
  }
}

@ApiTags('conversations')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api/v1/conversations')
export class ConversationsController {
  constructor(
    private readonly conversations: ConversationsService,
    private readonly access: AccessPolicy,
  ) {}

  @Get()
  @Roles(...READERS)
  @RequireScopes('conversations:read')
  @ApiOperation({ summary: 'List conversations the caller may see; filters and sort are allow-listed; cursor pagination' })
  @ApiOkResponse({ type: ConversationPageDto })
  list(@Query() query: ListConversationsQuery, @CurrentActor() actor: Actor): Promise<Page<ConversationView>> {
    this.access.assertTeamFilter(actor, query.teamId, () => ConversationsError.notFound());
    return this.conversations.list(actor, query);
  }

  @Post()
  @Roles(...WRITERS)
  @RequireScopes('conversations:write')
  @ApiOperation({ summary: 'Open a conversation from the agent side (outbound)' })
  @ApiCreatedResponse({ type: ConversationViewDto })
  create(@Body() body: CreateConversationDto, @CurrentActor() actor: Actor): Promise<ConversationView> {
    return this.conversations.createConversation(actor, body);
  }

  @Get(':id')
  @Roles(...READERS)
  @RequireScopes('conversations:read')
  @ApiOkResponse({ type: ConversationViewDto })
  get(@Param('id') id: string, @CurrentActor() actor: Actor): Promise<ConversationView> {
    return this.conversations.getForActor(actor, id);
  }

  @Patch(':id')
  @Roles(...WRITERS)
  @RequireScopes('conversations:write')
  @ApiOperation({ summary: 'Change status (open, pending, snoozed + snoozedUntil, resolved), priority or tags' })
  @ApiOkResponse({ type: ConversationViewDto })
  update(@Param('id') id: string, @Body() body: UpdateConversationDto, @CurrentActor() actor: Actor): Promise<ConversationView> {
    if (body.snoozedUntil && body.status !== 'snoozed') {
      throw new ConversationsError('conversation_invalid', 'snoozedUntil goes with status snoozed', { field: 'snoozedUntil' });
    }
    return this.conversations.update(actor, id, {
      status: body.status,
      snoozedUntil: body.snoozedUntil ? new Date(body.snoozedUntil) : undefined,
      priority: body.priority,
      tags: body.tags,
    });
  }

  @Post(':id/assign')
  @HttpCode(200)
  @Roles(...WRITERS)
  @RequireScopes('conversations:write')
  @ApiOkResponse({ type: ConversationViewDto })
  assign(@Param('id') id: string, @Body() body: AssignConversationDto, @CurrentActor() actor: Actor): Promise<ConversationView> {
    return this.conversations.assign(id, { agentId: body.agentId ?? null, teamId: body.teamId }, actor);
  }

  @Get(':id/messages')
  @Roles(...READERS)
  @RequireScopes('conversations:read')
  @ApiOperation({ summary: 'Messages in seq order: `afterSeq` pages forward (resume), `beforeSeq` pages back' })
  @ApiOkResponse({ type: MessageListDto })
  async messages(@Param('id') id: string, @Query() query: ListMessagesQuery, @CurrentActor() actor: Actor): Promise<{ items: MessageView[] }> {
    return { items: await this.conversations.listMessagesForActor(actor, id, query) };
  }

  @Post(':id/messages')
  @Roles(...WRITERS)
  @RequireScopes('conversations:write')
  @ApiOperation({ summary: 'Post an agent reply or an internal note (`private: true`). 201 when stored, 200 when the idempotency key was seen before' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiCreatedResponse({ type: MessageViewDto })
  @ApiOkResponse({ type: MessageViewDto, description: 'A repeated idempotency key: the original message' })
  @ApiResponse({ status: 413, description: 'message_too_large: text over 64 KB' })
  async post(
    @Param('id') id: string,
    @Body() body: PostMessageDto,
    @Headers('idempotency-key') headerKey: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<MessageView> {
    if (headerKey !== undefined && (headerKey.length < 1 || headerKey.length > 191)) {
      throw new ConversationsError('message_invalid', 'The Idempotency-Key header must be 1–191 characters', { field: 'Idempotency-Key' });
    }
    const result = await this.conversations.postMessage(actor, id, {
      text: body.text,
      content: body.content ?? null,
      attachments: body.attachments ?? null,
      private: body.private ?? false,
      idempotencyKey: body.idempotencyKey ?? headerKey ?? randomUUID(),
    });
    void reply.status(result.duplicate ? 200 : 201);
    return result.message;
  }
}

@ApiTags('conversations')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api/v1/messages')
export class MessagesController {
  constructor(private readonly conversations: ConversationsService) {}

  @Patch(':id/annotations')
  @Roles('admin')
  @RequireScopes('conversations:annotate')
  @ApiOperation({ summary: 'Set NLP annotations on a message (language, intent, intentConfidence, emotion, flags)' })
  @ApiOkResponse({ type: MessageViewDto })
  annotate(@Param('id') id: string, @Body() body: AnnotateMessageDto): Promise<MessageView> {
    return this.conversations.annotateMessage(id, body);
  }
}

@ApiTags('contacts')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api/v1/contacts')
export class ContactHistoryController {
  constructor(private readonly conversations: ConversationsService) {}

  @Get(':id/conversations')
  @Roles(...READERS)
  @RequireScopes('conversations:read')
  @ApiOperation({ summary: "A contact's conversations on every channel, including those of contacts merged into it; newest first" })
  @ApiOkResponse({ type: ConversationPageDto })
  history(@Param('id') id: string, @Query() query: PageQuery, @CurrentActor() actor: Actor): Promise<Page<ConversationView>> {
    return this.conversations.contactHistory(actor, id, query);
  }

  @Get(':id/messages')
  @Roles(...READERS)
  @RequireScopes('conversations:read')
  @ApiOperation({ summary: "A contact's messages across all channels and conversations, newest first" })
  @ApiOkResponse({ type: MessagePageDto })
  timeline(@Param('id') id: string, @Query() query: PageQuery, @CurrentActor() actor: Actor): Promise<Page<MessageView>> {
    return this.conversations.contactTimeline(actor, id, query);
  }
}
