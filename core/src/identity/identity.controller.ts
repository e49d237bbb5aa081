import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Roles, ROLES, type Role } from './decorators/roles.decorator.js';
import { CurrentActor } from './decorators/current-actor.decorator.js';
import type { Actor } from './actor.js';
import { AccessPolicy } from './access-policy.js';
import { UsersService, type UserView } from './users.service.js';
import { TeamsService, type TeamView } from './teams.service.js';
import { ApiKeysService, type ApiKeyView } from './api-keys.service.js';
import { SessionsService } from './sessions.service.js';
import { IdentityError } from './identity.error.js';
import { CreateApiKeyDto, CreateTeamDto, UpdateTeamDto, UpdateUserDto } from './dto/identity.dto.js';

const teamNotFound = () => new IdentityError('team_not_found', 'No such team.');
const userNotFound = () => new IdentityError('user_not_found', 'No such user.');

@ApiTags('teams')
@ApiBearerAuth()
@Controller('api/v1/teams')
export class TeamsController {
  constructor(
    private readonly teams: TeamsService,
    private readonly users: UsersService,
    private readonly policy: AccessPolicy,
  ) {}

  @Get()
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  @ApiOperation({ summary: 'Teams the caller may see (admins and auditors: all)' })
  async list(@CurrentActor() actor: Actor): Promise<{ items: TeamView[] }> {
    return { items: await this.teams.listFor(actor) };
  }

  @Get(':id')
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  get(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<TeamView> {
    return this.teams.getFor(actor, id);
  }

  @Post()
  @Roles('admin')
  create(@CurrentActor() actor: Actor, @Body() body: CreateTeamDto, @Req() request: FastifyRequest): Promise<TeamView> {
    return this.teams.create(actor, body, request.ip);
  }

  @Patch(':id')
  @Roles('admin')
  update(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: UpdateTeamDto, @Req() request: FastifyRequest): Promise<TeamView> {
    return this.teams.update(actor, id, body, request.ip);
  }

  @Delete(':id')
  @Roles('admin')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @Param('id') id: string, @Req() request: FastifyRequest): Promise<void> {
    await this.teams.remove(actor, id, request.ip);
  }

  @Get(':id/members')
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  @ApiOperation({ summary: 'Members of a team (assigned here or by IdP group, once signed in)' })
  async members(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<{ items: UserView[] }> {
    this.policy.assertTeamFilter(actor, id, teamNotFound);
    return { items: await this.users.list({ teamId: id }) };
  }

  @Put(':id/members/:userId')
  @Roles('admin', 'supervisor')
  @HttpCode(204)
  @ApiOperation({ summary: 'Assign a user to a team (supervisors: only their teams)' })
  async addMember(@CurrentActor() actor: Actor, @Param('id') id: string, @Param('userId') userId: string, @Req() request: FastifyRequest): Promise<void> {
    await this.teams.getFor(actor, id);
    if (!(await this.users.get(userId))) throw userNotFound();
    await this.teams.addMember(actor, id, userId, request.ip);
  }

  @Delete(':id/members/:userId')
  @Roles('admin', 'supervisor')
  @HttpCode(204)
  async removeMember(@CurrentActor() actor: Actor, @Param('id') id: string, @Param('userId') userId: string, @Req() request: FastifyRequest): Promise<void> {
    await this.teams.getFor(actor, id);
    await this.teams.removeMember(actor, id, userId, request.ip);
  }
}

@ApiTags('users')
@ApiBearerAuth()
@Controller('api/v1/users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly policy: AccessPolicy,
  ) {}

  @Get()
  @Roles('admin', 'supervisor', 'auditor')
  @ApiOperation({ summary: 'Users; supervisors see only users of their teams (filter by teamId, role)' })
  async list(@CurrentActor() actor: Actor, @Query('teamId') teamId?: string, @Query('role') role?: string): Promise<{ items: UserView[] }> {
    this.policy.assertTeamFilter(actor, teamId, teamNotFound);
    const filterRole = role && (ROLES as readonly string[]).includes(role) ? (role as Role) : undefined;
    let items = await this.users.list({ teamId, role: filterRole });
    const visible = this.policy.visibleTeams(actor);
    if (visible !== 'all') items = items.filter((user) => user.teamIds.some((team) => visible.includes(team)));
    return { items };
  }

  @Get(':id')
  @Roles('admin', 'supervisor', 'auditor')
  async get(@CurrentActor() actor: Actor, @Param('id') id: string): Promise<UserView> {
    const user = await this.users.get(id);
    if (!user) throw userNotFound();
    const visible = this.policy.visibleTeams(actor);
    if (visible !== 'all' && !user.teamIds.some((team) => visible.includes(team))) {
      this.policy.denied(actor, 'user', id, 'team_scope');
      throw userNotFound();
    }
    return user;
  }

  @Patch(':id')
  @Roles('admin')
  @ApiOperation({ summary: 'Deactivate/activate a user (ends their sessions), or set a local user’s roles' })
  async update(@CurrentActor() actor: Actor, @Param('id') id: string, @Body() body: UpdateUserDto, @Req() request: FastifyRequest): Promise<UserView> {
    const user = await this.users.update(actor, id, body, request.ip);
    if (body.active === false) await this.sessions.destroyByUser(id);
    return user;
  }
}

@ApiTags('api-keys')
@ApiBearerAuth()
@Controller('api/v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @Roles('admin')
  @ApiOperation({ summary: 'Create an API key; the key is in this response only' })
  create(@CurrentActor() actor: Actor, @Body() body: CreateApiKeyDto, @Req() request: FastifyRequest): Promise<{ key: string; apiKey: ApiKeyView }> {
    return this.keys.create(
      actor,
      { name: body.name, scopes: body.scopes, expiresAt: body.expiresAt ? new Date(body.expiresAt) : null, teamId: body.teamId ?? null },
      request.ip,
    );
  }

  @Get()
  @Roles('admin', 'auditor')
  async list(): Promise<{ items: ApiKeyView[] }> {
    return { items: await this.keys.list() };
  }

  @Get(':id')
  @Roles('admin', 'auditor')
  async get(@Param('id') id: string): Promise<ApiKeyView> {
    const key = await this.keys.get(id);
    if (!key) throw new IdentityError('api_key_not_found', 'No such API key.');
    return key;
  }

  @Delete(':id')
  @Roles('admin')
  @ApiOperation({ summary: 'Revoke an API key (immediately refused everywhere)' })
  revoke(@CurrentActor() actor: Actor, @Param('id') id: string, @Req() request: FastifyRequest): Promise<ApiKeyView> {
    return this.keys.revoke(actor, id, request.ip);
  }
}
