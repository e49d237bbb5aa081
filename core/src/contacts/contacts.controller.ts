import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Roles } from '../identity/decorators/roles.decorator.js';
import { RequireScopes } from '../identity/decorators/require-scopes.decorator.js';
import { CurrentActor } from '../identity/decorators/current-actor.decorator.js';
import type { Actor } from '../identity/actor.js';
import { ContactsService } from './contacts.service.js';
import { ContactsError } from './contacts.error.js';
import {
  AddIdentityDto,
  AttributeDefViewDto,
  ContactPageDto,
  ContactViewDto,
  CreateContactDto,
  MergeContactDto,
  PutAttributeDefDto,
  SearchContactsQuery,
  UpdateContactDto,
} from './dto/contact.dto.js';
import type { AttributeDefView, ContactView } from './contacts.types.js';
import type { Page } from './pagination.js';

@ApiTags('contacts')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('api/v1/contacts')
export class ContactsController {
  constructor(private readonly contacts: ContactsService) {}

  @Get()
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  @RequireScopes('contacts:read')
  @ApiOperation({
    summary: 'Search contacts by name, email, phone or channel identifier (exact matches over blind indexes); audited as a PII read (contact.listed)',
  })
  @ApiOkResponse({ type: ContactPageDto })
  search(@Query() query: SearchContactsQuery, @CurrentActor() actor: Actor): Promise<Page<ContactView>> {
    return this.contacts.searchForActor(actor, query);
  }

  @Post()
  @Roles('admin', 'supervisor', 'agent')
  @RequireScopes('contacts:write')
  @ApiCreatedResponse({ type: ContactViewDto })
  create(@Body() body: CreateContactDto, @CurrentActor() actor: Actor): Promise<ContactView> {
    return this.contacts.create(actor, body);
  }

  @Get(':id')
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  @RequireScopes('contacts:read')
  @ApiOperation({ summary: 'One contact with its identities; audited as a PII read (contact.viewed)' })
  @ApiOkResponse({ type: ContactViewDto })
  get(@Param('id') id: string, @CurrentActor() actor: Actor): Promise<ContactView> {
    return this.contacts.getForActor(actor, id);
  }

  @Patch(':id')
  @Roles('admin', 'supervisor', 'agent')
  @RequireScopes('contacts:write')
  @ApiOkResponse({ type: ContactViewDto })
  update(@Param('id') id: string, @Body() body: UpdateContactDto, @CurrentActor() actor: Actor): Promise<ContactView> {
    return this.contacts.update(actor, id, body);
  }

  @Post(':id/identities')
  @Roles('admin', 'supervisor', 'agent')
  @RequireScopes('contacts:write')
  @ApiOperation({ summary: 'Link a channel identity; 409 contact_identity_conflict when another contact holds it' })
  @ApiCreatedResponse({ type: ContactViewDto })
  addIdentity(@Param('id') id: string, @Body() body: AddIdentityDto, @CurrentActor() actor: Actor): Promise<ContactView> {
    return this.contacts.addIdentity(actor, id, { channel: body.channel, externalId: body.externalId, verified: body.verified ?? false });
  }

  @Post(':id/merge')
  @HttpCode(200)
  @Roles('admin', 'supervisor', 'agent')
  @RequireScopes('contacts:write')
  @ApiOperation({ summary: 'Merge `mergedId` into this contact: identities, emails, phones, tags and history move here; audited' })
  @ApiOkResponse({ type: ContactViewDto })
  merge(@Param('id') id: string, @Body() body: MergeContactDto, @CurrentActor() actor: Actor): Promise<ContactView> {
    return this.contacts.merge(actor, id, body.mergedId);
  }
}

@ApiTags('contacts')
@ApiBearerAuth()
@Controller('api/v1/contact-attributes')
export class ContactAttributesController {
  constructor(private readonly contacts: ContactsService) {}

  @Get()
  @Roles('admin', 'supervisor', 'agent', 'auditor')
  @RequireScopes('contacts:read')
  @ApiOperation({ summary: 'The custom attribute schema' })
  @ApiOkResponse({ type: AttributeDefViewDto, isArray: true })
  async list(): Promise<{ items: AttributeDefView[] }> {
    return { items: await this.contacts.listAttributeDefs() };
  }

  @Put(':key')
  @Roles('admin')
  @ApiOperation({ summary: 'Define or change a custom attribute (string, number, boolean, date, enum)' })
  @ApiOkResponse({ type: AttributeDefViewDto })
  put(@Param('key') key: string, @Body() body: PutAttributeDefDto): Promise<AttributeDefView> {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(key))
      throw new ContactsError('contact_attribute_invalid', 'An attribute key is a letter followed by letters, digits or "_" (max 64)', { key });
    return this.contacts.putAttributeDef(key, body);
  }

  @Delete(':key')
  @HttpCode(204)
  @Roles('admin')
  @ApiNoContentResponse()
  async remove(@Param('key') key: string): Promise<void> {
    await this.contacts.deleteAttributeDef(key);
  }
}
