import { Module } from '@nestjs/common';
import { TicketsModule } from '../tickets/tickets.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { AutomationModule } from '../automation/automation.module.js';
import { CsatService } from './csat.service.js';
import { CsatController } from './csat.controller.js';

@Module({
  imports: [TicketsModule, SettingsModule, AutomationModule],
  controllers: [CsatController],
  providers: [CsatService],
  exports: [CsatService],
})
export class CsatModule {}
