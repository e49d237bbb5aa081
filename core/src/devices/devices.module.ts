import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { SettingsModule } from '../settings/settings.module.js';
import { TicketsModule } from '../tickets/tickets.module.js';
import { ContactsModule } from '../contacts/contacts.module.js';
import { ConversationsModule } from '../conversations/conversations.module.js';
import { DevicesController, TelemetryController } from './devices.controller.js';
import { DevicesService } from './devices.service.js';
import { DeviceRulesService } from './rules.service.js';
import { TelemetryService } from './telemetry.service.js';
import { OwnerNotifier } from './owner-notifier.js';

@Module({
  imports: [SettingsModule, TicketsModule, ContactsModule, ConversationsModule],
  controllers: [DevicesController, TelemetryController],
  providers: [DevicesService, DeviceRulesService, TelemetryService, OwnerNotifier],
  exports: [DevicesService, TelemetryService],
})
export class DevicesModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** CSV import posts `text/csv`; Fastify only parses JSON by default. */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance?.();
    if (fastify && !fastify.hasContentTypeParser('text/csv')) {
      fastify.addContentTypeParser(
        'text/csv',
        { parseAs: 'string', bodyLimit: 10 * 1024 * 1024 },
        (_request: unknown, body: string, done: (error: null, body: string) => void) => done(null, body),
      );
    }
  }
}
