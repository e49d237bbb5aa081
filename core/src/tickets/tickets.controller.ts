import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../identity/decorators/roles.decorator.js';
import { CurrentActor } from '../identity/decorators/current-actor.decorator.js';
import type { Actor } from '../identity/actor.js';
import { AccessPolicy } from '../identity/access-policy.js';
import { TicketsError } from './tickets.error.js';
import { TicketsService } from './tickets.service.js';
import {
  CommentDto,
  CommentsQuery,
  CreateFieldDto,
  CreateTicketDto,
  FollowersDto,
  ListTicketsQuery,
  PageQuery,
  TicketLinkDto,
  TransitionDto,
  UpdateFieldDto,
  UpdateTicketDto,
} from './dto/ticket.dto.js';
import { requireActor } from './shared/actor.js';

const READERS = ['admin', 'supervisor', 'agent', 'auditor', 'integrator'] as const;
const WRITERS = ['admin', 'supervisor', 'agent', 'integrator'] as const;

/** API keys need `tickets:read` / `tickets:write`; users are limited by roles and team scopes. */
export function scoped(access: AccessPolicy, actor: Actor | undefined, scope: string): Actor {
  const who = requireActor(actor);
  if (!access.hasScope(who, scope)) throw new TicketsError('ticket_scope_missing', `This API key lacks the ${scope} scope.`, { scope });
  return who;
}

@ApiTags('tickets')
@ApiBearerAuth()
@Controller('api/v1/tickets')
export class TicketsController {
  constructor(
    private readonly tickets: TicketsService,
    private readonly access: AccessPolicy,
  ) {}

  @Post()
  @Roles(...WRITERS)
  @ApiOperation({ summary: 'Create a ticket; it gets a number like T-1042 and an SLA policy' })
  create(@Body() body: CreateTicketDto, @CurrentActor() actor?: Actor) {
    return this.tickets.create(scoped(this.access, actor, 'tickets:write'), body);
  }

  @Get()
  @Roles(...READERS)
  @ApiOperation({ summary: 'List tickets visible to the caller: filters, allow-listed sorting, cursor pagination' })
  list(@Query() query: ListTicketsQuery, @CurrentActor() actor?: Actor) {
    return this.tickets.list(scoped(this.access, actor, 'tickets:read'), query);
  }

  @Get(':id')
  @Roles(...READERS)
  @ApiOperation({ summary: 'One ticket by id or number (T-1042), with links and followers' })
  get(@Param('id') id: string, @CurrentActor() actor?: Actor) {
    return this.tickets.get(scoped(this.access, actor, 'tickets:read'), id);
  }

  @Patch(':id')
  @Roles(...WRITERS)
  @ApiOperation({ summary: 'Change fields; SLA policy is chosen again when priority, type or team change' })
  update(@Param('id') id: string, @Body() body: UpdateTicketDto, @CurrentActor() actor?: Actor) {
    return this.tickets.update(scoped(this.access, actor, 'tickets:write'), id, body);
  }

  @Post(':id/transitions')
  @HttpCode(200)
  @Roles(...WRITERS)
  @ApiOperation({ summary: 'Change status; an invalid transition is 409 ticket_invalid_transition' })
  transition(@Param('id') id: string, @Body() body: TransitionDto, @CurrentActor() actor?: Actor) {
    return this.tickets.transition(scoped(this.access, actor, 'tickets:write'), id, body.status);
  }

  @Post(':id/comments')
  @Roles(...WRITERS)
  @ApiOperation({ summary: 'Add a public reply or an internal note (private: true)' })
  comment(@Param('id') id: string, @Body() body: CommentDto, @CurrentActor() actor?: Actor) {
    return this.tickets.addComment(scoped(this.access, actor, 'tickets:write'), id, { body: body.body, private: body.private ?? false });
  }

  @Get(':id/comments')
  @Roles(...READERS)
  comments(@Param('id') id: string, @Query() query: CommentsQuery, @CurrentActor() actor?: Actor) {
    return this.tickets.comments(scoped(this.access, actor, 'tickets:read'), id, query);
  }

  @Get(':id/history')
  @Roles(...READERS)
  history(@Param('id') id: string, @Query() query: PageQuery, @CurrentActor() actor?: Actor) {
    return this.tickets.historyOf(scoped(this.access, actor, 'tickets:read'), id, query);
  }

  @Get(':id/sla')
  @Roles(...READERS)
  @ApiOperation({ summary: 'SLA clocks of the ticket: state, due time, elapsed business minutes' })
  sla(@Param('id') id: string, @CurrentActor() actor?: Actor) {
    return this.tickets.slaOf(scoped(this.access, actor, 'tickets:read'), id);
  }

  @Post(':id/links')
  @HttpCode(200)
  @Roles(...WRITERS)
  @ApiOperation({ summary: 'Link to a conversation, device, ticket or external object (idempotent)' })
  link(@Param('id') id: string, @Body() body: TicketLinkDto, @CurrentActor() actor?: Actor) {
    return this.tickets.link(scoped(this.access, actor, 'tickets:write'), id, body);
  }

  @Delete(':id/links/:linkId')
  @HttpCode(204)
  @Roles(...WRITERS)
  async unlink(@Param('id') id: string, @Param('linkId') linkId: string, @CurrentActor() actor?: Actor): Promise<void> {
    await this.tickets.unlink(scoped(this.access, actor, 'tickets:write'), id, linkId);
  }

  @Put(':id/followers')
  @Roles(...WRITERS)
  async followers(@Param('id') id: string, @Body() body: FollowersDto, @CurrentActor() actor?: Actor) {
    return { followers: await this.tickets.setFollowers(scoped(this.access, actor, 'tickets:write'), id, body) };
  }
}

@ApiTags('tickets')
@ApiBearerAuth()
@Controller('api/v1/ticket-fields')
export class TicketFieldsController {
  constructor(private readonly tickets: TicketsService) {}

  @Get()
  @Roles(...READERS)
  @ApiOperation({ summary: 'The typed schema of ticket custom fields' })
  async list() {
    return { items: await this.tickets.listFields() };
  }

  @Post()
  @Roles('admin')
  create(@Body() body: CreateFieldDto) {
    return this.tickets.createField(body);
  }

  @Patch(':key')
  @Roles('admin')
  update(@Param('key') key: string, @Body() body: UpdateFieldDto) {
    return this.tickets.updateField(key, body);
  }
}
