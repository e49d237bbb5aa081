import { Module } from '@nestjs/common';
import { SettingsModule } from '../settings/settings.module.js';
import { AnalyticsController } from './analytics.controller.js';
import { AnalyticsService } from './analytics.service.js';
import { AnalyticsProjector } from './analytics.projector.js';

@Module({
  imports: [SettingsModule],
  controllers: [AnalyticsController],
  providers: [AnalyticsService, AnalyticsProjector],
  exports: [AnalyticsService],
})
export class AnalyticsModule {}
