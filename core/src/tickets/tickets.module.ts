import { Module } from '@nestjs/common';
import { TicketFieldsController, TicketsController } from './tickets.controller.js';
import { TicketsService } from './tickets.service.js';
import { SlaService } from './sla/sla.service.js';
import { SlaAdminService } from './sla/sla-admin.service.js';
import { SlaController } from './sla/sla.controller.js';
import { TICKET_CONTACT_DIRECTORY, type TicketContactDirectory } from './contact-directory.js';
import { ContactsModule } from '../contacts/contacts.module.js';
import { ContactsService } from '../contacts/contacts.service.js';

/** VIP comes from the contacts module's profile; an unknown or merged-away contact is not VIP. */
const contactDirectory = (contacts: ContactsService): TicketContactDirectory => ({
  isVip: async (contactId) => (await contacts.get(contactId).catch(() => null))?.vip ?? false,
});

@Module({
  imports: [ContactsModule],
  controllers: [TicketsController, TicketFieldsController, SlaController],
  providers: [TicketsService, SlaService, SlaAdminService, { provide: TICKET_CONTACT_DIRECTORY, inject: [ContactsService], useFactory: contactDirectory }],
  exports: [TicketsService, SlaAdminService],
})
export class TicketsModule {}
