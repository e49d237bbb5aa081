import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module.js';
import { ContactsModule } from '../contacts/contacts.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { RoutingController } from './routing.controller.js';
import { RoutingService } from './routing.service.js';
import { RoutingEngine } from './routing.engine.js';
import { RoutingAgentsService } from './routing-agents.service.js';
import { ContactsAdapter, ConversationsAdapter } from './routing.adapters.js';
import { ROUTING_CONTACTS, ROUTING_CONVERSATIONS } from './routing.ports.js';

@Module({
  imports: [ConversationsModule, ContactsModule, SettingsModule],
  controllers: [RoutingController],
  providers: [
    ConversationsAdapter,
    ContactsAdapter,
    { provide: ROUTING_CONVERSATIONS, useExisting: ConversationsAdapter },
    { provide: ROUTING_CONTACTS, useExisting: ContactsAdapter },
    RoutingEngine,
    RoutingAgentsService,
    RoutingService,
  ],
  exports: [RoutingService, RoutingAgentsService],
})
export class RoutingModule {}
