import { Module } from '@nestjs/common';
import { TicketsModule } from '../tickets/tickets.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { ConversationsModule } from '../conversations/conversations.module.js';
import { ContactsModule } from '../contacts/contacts.module.js';
import { AutomationService } from './automation.service.js';
import { AutomationController } from './automation.controller.js';
import { CONTACT_PORT, CONVERSATION_PORT } from './conversation-port.js';
import { ContactsAdapter, ConversationsAdapter } from './ports.adapters.js';

@Module({
  imports: [TicketsModule, SettingsModule, ConversationsModule, ContactsModule],
  controllers: [AutomationController],
  providers: [
    AutomationService,
    ConversationsAdapter,
    ContactsAdapter,
    { provide: CONVERSATION_PORT, useExisting: ConversationsAdapter },
    { provide: CONTACT_PORT, useExisting: ContactsAdapter },
  ],
  exports: [AutomationService, CONVERSATION_PORT, CONTACT_PORT],
})
export class AutomationModule {}
