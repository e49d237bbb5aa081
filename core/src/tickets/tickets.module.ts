import { Module } from '@nestjs/common';
import { TicketFieldsController, TicketsController } from './tickets.controller.js';
import { TicketsService } from './tickets.service.js';
import { SlaService } from './sla/sla.service.js';
import { SlaAdminService } from './sla/sla-admin.service.js';
import { SlaController } from './sla/sla.controller.js';
import { NO_VIP_DIRECTORY, TICKET_CONTACT_DIRECTORY } from './contact-directory.js';

@Module({
  controllers: [TicketsController, TicketFieldsController, SlaController],
  providers: [TicketsService, SlaService, SlaAdminService, { provide: TICKET_CONTACT_DIRECTORY, useValue: NO_VIP_DIRECTORY }],
  exports: [TicketsService, SlaAdminService],
})
export class TicketsModule {}
