import { Body, Controller, Delete, Get, Header, HttpCode, Param, ParseIntPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Roles } from '../identity/decorators/roles.decorator.js';
import { RequireScopes } from '../identity/decorators/require-scopes.decorator.js';
import { CurrentActor } from '../identity/decorators/current-actor.decorator.js';
import type { Actor } from '../identity/actor.js';
import { requireActor } from '../tickets/shared/actor.js';
import { KnowledgeService } from './knowledge.service.js';
import {
  ApproveDto,
  CreateEntryDto,
  ExportQuery,
  FeedbackDto,
  ImportDto,
  ListEntriesQuery,
  MiningDto,
  ProposalsQuery,
  SearchQuery,
  UpdateEntryDto,
} from './dto/knowledge.dto.js';

const READERS = ['admin', 'supervisor', 'agent', 'auditor', 'integrator'] as const;
const EDITORS = ['admin', 'supervisor'] as const;

@ApiTags('knowledge')
@ApiBearerAuth()
@Controller('api/v1/knowledge')
export class KnowledgeController {
  constructor(private readonly knowledge: KnowledgeService) {}

  @Get('entries')
  @Roles(...READERS)
  @RequireScopes('knowledge:read')
  @ApiOperation({ summary: 'Articles and FAQ entries (working copies), newest first' })
  list(@Query() query: ListEntriesQuery, @CurrentActor() actor?: Actor) {
    return this.knowledge.list(requireActor(actor), query);
  }

  @Post('entries')
  @Roles(...EDITORS, 'integrator')
  @RequireScopes('knowledge:write')
  @ApiOperation({ summary: 'Create an entry (version 1, draft unless publish: true)' })
  create(@Body() body: CreateEntryDto, @CurrentActor() actor?: Actor) {
    return this.knowledge.create(requireActor(actor), body);
  }

  @Get('search')
  @Roles(...READERS)
  @RequireScopes('knowledge:read')
  @ApiOperation({ summary: 'Search the published knowledge base (agents also see internal entries)' })
  async search(@Query() query: SearchQuery, @CurrentActor() actor?: Actor) {
    return { items: await this.knowledge.search(requireActor(actor), query) };
  }

  @Get('export')
  @Roles(...EDITORS, 'auditor')
  @ApiProduces('application/json', 'text/csv', 'text/markdown')
  @ApiOperation({ summary: 'Export entries as JSON, CSV or Markdown' })
  @Header('cache-control', 'no-store')
  async export(@Query() query: ExportQuery, @CurrentActor() actor?: Actor): Promise<string> {
    return this.knowledge.exportEntries(requireActor(actor), query);
  }

  @Post('import')
  @HttpCode(200)
  @Roles(...EDITORS)
  @ApiOperation({ summary: 'Import entries from JSON, CSV or Markdown (entries with a known id are updated, with a new version)' })
  import(@Body() body: ImportDto, @CurrentActor() actor?: Actor) {
    return this.knowledge.importEntries(requireActor(actor), body);
  }

  @Get('entries/:id')
  @Roles(...READERS)
  @RequireScopes('knowledge:read')
  get(@Param('id') id: string, @CurrentActor() actor?: Actor) {
    return this.knowledge.get(requireActor(actor), id);
  }

  @Patch('entries/:id')
  @Roles(...EDITORS, 'integrator')
  @RequireScopes('knowledge:write')
  @ApiOperation({ summary: 'Edit the working copy (a new version with a diff); the published copy changes on publish' })
  update(@Param('id') id: string, @Body() body: UpdateEntryDto, @CurrentActor() actor?: Actor) {
    return this.knowledge.update(requireActor(actor), id, body);
  }

  @Delete('entries/:id')
  @HttpCode(200)
  @Roles(...EDITORS)
  @ApiOperation({ summary: 'Archive an entry (unpublished, kept with its history)' })
  archive(@Param('id') id: string, @CurrentActor() actor?: Actor) {
    return this.knowledge.unpublish(requireActor(actor), id, true);
  }

  @Post('entries/:id/publish')
  @HttpCode(200)
  @Roles(...EDITORS, 'integrator')
  @RequireScopes('knowledge:write')
  @ApiOperation({ summary: 'Publish the working copy: every core instance re-indexes within seconds' })
  publish(@Param('id') id: string, @CurrentActor() actor?: Actor) {
    return this.knowledge.publish(requireActor(actor), id);
  }

  @Post('entries/:id/unpublish')
  @HttpCode(200)
  @Roles(...EDITORS)
  unpublish(@Param('id') id: string, @CurrentActor() actor?: Actor) {
    return this.knowledge.unpublish(requireActor(actor), id);
  }

  @Get('entries/:id/versions')
  @Roles(...READERS)
  @RequireScopes('knowledge:read')
  @ApiOperation({ summary: 'Versions with author and diff, newest first' })
  async versions(@Param('id') id: string, @CurrentActor() actor?: Actor) {
    return { items: await this.knowledge.versions(requireActor(actor), id) };
  }

  @Get('entries/:id/versions/:version')
  @Roles(...READERS)
  @RequireScopes('knowledge:read')
  version(@Param('id') id: string, @Param('version', ParseIntPipe) version: number, @CurrentActor() actor?: Actor) {
    return this.knowledge.version(requireActor(actor), id, version);
  }

  @Post('entries/:id/versions/:version/restore')
  @HttpCode(200)
  @Roles(...EDITORS)
  @ApiOperation({ summary: 'Restore an earlier version as a new working version' })
  restore(@Param('id') id: string, @Param('version', ParseIntPipe) version: number, @CurrentActor() actor?: Actor) {
    return this.knowledge.restore(requireActor(actor), id, version);
  }

  @Post('entries/:id/feedback')
  @HttpCode(200)
  @Roles('admin', 'supervisor', 'agent')
  @ApiOperation({ summary: "An agent's helpful / not helpful (customers give theirs through the bot's buttons)" })
  feedback(@Param('id') id: string, @Body() body: FeedbackDto, @CurrentActor() actor?: Actor) {
    const a = requireActor(actor);
    return this.knowledge.feedback(
      { entryId: id, helpful: body.helpful, source: 'agent', actorId: a.id, conversationId: body.conversationId ?? null, comment: body.comment ?? null },
      a,
    );
  }

  @Get('unanswered')
  @Roles(...EDITORS)
  @ApiOperation({ summary: 'Questions the bot could not answer (fallbacks, low confidence, hand-overs)' })
  async unanswered(@Query() query: ProposalsQuery, @CurrentActor() actor?: Actor) {
    return { items: await this.knowledge.listUnanswered(requireActor(actor), query.kbId, query.limit) };
  }

  @Post('mining/run')
  @HttpCode(200)
  @Roles(...EDITORS)
  @ApiOperation({ summary: 'Cluster unanswered questions now and propose new FAQ entries' })
  async mine(@Body() body: MiningDto) {
    return { items: await this.knowledge.mine(body.kbId) };
  }

  @Get('proposals')
  @Roles(...EDITORS)
  @ApiOperation({ summary: 'Proposed FAQ entries and variants (mining, agent answers) awaiting review' })
  async proposals(@Query() query: ProposalsQuery, @CurrentActor() actor?: Actor) {
    return { items: await this.knowledge.proposals(requireActor(actor), query) };
  }

  @Post('proposals/:id/approve')
  @HttpCode(200)
  @Roles(...EDITORS)
  approve(@Param('id') id: string, @Body() body: ApproveDto, @CurrentActor() actor?: Actor) {
    return this.knowledge.approve(requireActor(actor), id, body);
  }

  @Post('proposals/:id/reject')
  @HttpCode(200)
  @Roles(...EDITORS)
  reject(@Param('id') id: string, @CurrentActor() actor?: Actor) {
    return this.knowledge.reject(requireActor(actor), id);
  }
}
