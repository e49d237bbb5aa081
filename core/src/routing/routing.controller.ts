import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../identity/decorators/roles.decorator.js';
import { CurrentActor } from '../identity/decorators/current-actor.decorator.js';
import type { Actor } from '../identity/actor.js';
import { AccessPolicy } from '../identity/access-policy.js';
import { RoutingAgentsService, type AgentView } from './routing-agents.service.js';
import { RoutingService } from './routing.service.js';
import { SetPresenceDto, SignalsDto, TransferDto, UpdateProfileDto } from './dto/routing.dto.js';
import { RoutingError } from './routing.error.js';
import { PlatformError } from '../platform/errors/app-error.js';

const isSupervisor = (actor: Actor) => actor.kind === 'system' || actor.roles.includes('admin') || actor.roles.includes('supervisor');

function requireActor(actor: Actor | undefined): Actor {
  if (!actor) throw new RoutingError('routing_forbidden', 'Authentication required.');
  return actor;
}

@ApiTags('routing')
@ApiBearerAuth()
@Controller('api/v1/routing')
export class RoutingController {
  constructor(
    private readonly agents: RoutingAgentsService,
    private readonly routing: RoutingService,
    private readonly access: AccessPolicy,
  ) {}

  // ------------------------------------------------------------ presence

  @Get('presence')
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  @ApiOperation({ summary: "Agents' presence and load: supervisors and admins see every agent of their teams (admins: all); agents see their teams" })
  async listPresence(@CurrentActor() actor?: Actor): Promise<{ items: AgentView[] }> {
    return { items: await this.agents.list(this.access.visibleTeams(requireActor(actor))) };
  }

  @Get('presence/me')
  @Roles('admin', 'supervisor', 'agent')
  async myPresence(@CurrentActor() actor?: Actor): Promise<AgentView> {
    const me = requireActor(actor);
    return (await this.agents.find(me.id)) ? this.agents.get(me.id) : this.agents.setStatus(me.id, 'offline', { reason: 'manual', teamIds: me.teamIds });
  }

  @Put('presence/me')
  @Roles('admin', 'supervisor', 'agent')
  @ApiOperation({ summary: 'Set my status (online/away/offline); also refreshes my team membership for routing' })
  setMyPresence(@Body() body: SetPresenceDto, @CurrentActor() actor?: Actor): Promise<AgentView> {
    const me = requireActor(actor);
    return this.agents.setStatus(me.id, body.status, { reason: 'manual', teamIds: me.teamIds });
  }

  @Post('presence/me/heartbeat')
  @HttpCode(204)
  @Roles('admin', 'supervisor', 'agent')
  @ApiOperation({ summary: 'Keep my presence alive without a WebSocket' })
  async heartbeat(@CurrentActor() actor?: Actor): Promise<void> {
    await this.agents.heartbeat([requireActor(actor).id]);
  }

  @Put('presence/:agentId')
  @Roles('admin', 'supervisor')
  @ApiOperation({ summary: "Supervisor override of an agent's status" })
  async setPresence(@Param('agentId') agentId: string, @Body() body: SetPresenceDto, @CurrentActor() actor?: Actor): Promise<AgentView> {
    await this.assertCanManage(requireActor(actor), agentId);
    return this.agents.setStatus(agentId, body.status, { reason: 'supervisor' });
  }

  // ------------------------------------------------------------ profiles

  @Get('profiles')
  @Roles('admin', 'supervisor', 'auditor')
  async listProfiles(@CurrentActor() actor?: Actor): Promise<{ items: AgentView[] }> {
    return { items: await this.agents.list(this.access.visibleTeams(requireActor(actor))) };
  }

  @Get('profiles/:agentId')
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  async getProfile(@Param('agentId') agentId: string, @CurrentActor() actor?: Actor): Promise<AgentView> {
    const me = requireActor(actor);
    if (me.id !== agentId) await this.assertCanManage(me, agentId, true);
    return this.agents.get(agentId);
  }

  @Put('profiles/:agentId')
  @Roles('admin', 'supervisor')
  @ApiOperation({ summary: "Set an agent's skills, languages, capacity (default 50) and per-channel weights" })
  async updateProfile(@Param('agentId') agentId: string, @Body() body: UpdateProfileDto, @CurrentActor() actor?: Actor): Promise<AgentView> {
    await this.assertCanManage(requireActor(actor), agentId, false, true);
    if (body.channelWeights) {
      for (const [channel, weight] of Object.entries(body.channelWeights)) {
        if (!/^[A-Za-z0-9_.-]{1,64}$/.test(channel) || typeof weight !== 'number' || !(weight > 0) || weight > 100) {
          throw new PlatformError('validation_failed', 'channelWeights must map channel names to numbers between 0 and 100', 400, {
            field: 'channelWeights',
            channel,
          });
        }
      }
    }
    return this.agents.updateProfile(agentId, body);
  }

  // ------------------------------------------------------------ queues

  @Get('queues')
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  @ApiOperation({ summary: 'Waiting conversations, online agents and free capacity per team queue' })
  async queues(@CurrentActor() actor?: Actor) {
    return { items: await this.routing.queues(requireActor(actor)) };
  }

  @Get('queues/:teamId/items')
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  @ApiOperation({ summary: 'Waiting conversations of a team, highest priority score first (`none` = no team)' })
  async queueItems(@Param('teamId') teamId: string, @Query('limit') limit?: string, @CurrentActor() actor?: Actor) {
    return { items: await this.routing.queueItems(requireActor(actor), teamId === 'none' ? null : teamId, limit ? Number(limit) || 100 : 100) };
  }

  // ------------------------------------------------------------ conversations

  @Get('conversations/:conversationId')
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  getItem(@Param('conversationId') conversationId: string, @CurrentActor() actor?: Actor) {
    return this.routing.getItem(requireActor(actor), conversationId);
  }

  @Get('conversations/:conversationId/history')
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  async history(@Param('conversationId') conversationId: string, @CurrentActor() actor?: Actor) {
    return { items: await this.routing.history(requireActor(actor), conversationId) };
  }

  @Post('conversations/:conversationId/transfer')
  @HttpCode(200)
  @Roles('admin', 'supervisor', 'agent')
  @ApiOperation({ summary: 'Assign or transfer to an agent or a team, with a note; supervisors may override capacity/online checks' })
  transfer(@Param('conversationId') conversationId: string, @Body() body: TransferDto, @CurrentActor() actor?: Actor) {
    return this.routing.transfer(requireActor(actor), conversationId, body);
  }

  @Put('conversations/:conversationId/signals')
  @Roles('admin', 'supervisor', 'agent')
  @ApiOperation({ summary: 'Change priority, VIP, emotion, required skills or language of a conversation' })
  setSignals(@Param('conversationId') conversationId: string, @Body() body: SignalsDto, @CurrentActor() actor?: Actor) {
    return this.routing.setSignals(requireActor(actor), conversationId, body);
  }

  private async assertCanManage(actor: Actor, agentId: string, allowMissing = false, create = false): Promise<void> {
    if (!isSupervisor(actor) && !actor.roles.includes('auditor')) throw new RoutingError('routing_forbidden', 'Supervisors only.');
    const agent = await this.agents.find(agentId);
    if (!agent) {
      if (create || allowMissing) return;
      throw new RoutingError('routing_agent_not_found', 'This agent has no routing profile yet.', { agentId });
    }
    const teams = this.access.visibleTeams(actor);
    if (teams !== 'all' && agent.teamIds.length > 0 && !agent.teamIds.some((team) => teams.includes(team))) {
      throw new RoutingError('routing_agent_not_found', 'This agent has no routing profile yet.', { agentId });
    }
  }
}
