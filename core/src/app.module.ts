import { ApplicationReadyHook } from './platform/outbox/application-ready.hook.js';
import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from './platform/config/config.module.js';
import type { AppConfig } from './platform/config/app-config.js';
import { PlatformModule } from './platform/platform.module.js';
import { SettingsModule } from './settings/settings.module.js';
import { IdentityModule } from './identity/identity.module.js';
import { ContactsModule } from './contacts/contacts.module.js';
import { ConversationsModule } from './conversations/conversations.module.js';
import { AuditModule } from './compliance/audit/audit.module.js';
import { TicketsModule } from './tickets/tickets.module.js';
import { AnalyticsModule } from './analytics/analytics.module.js';
import { DevicesModule } from './devices/devices.module.js';
import { PluginHostModule } from './platform/plugin-host/plugin-host.module.js';
import { RoutingModule } from './routing/routing.module.js';
import { RealtimeModule } from './realtime/realtime.module.js';
import { AutomationModule } from './automation/automation.module.js';

import { NlpModule } from './nlp/nlp.module.js';
import { CsatModule } from './csat/csat.module.js';
import { KnowledgeModule } from './knowledge/knowledge.module.js';
import { BotModule } from './bot/bot.module.js';
import { AssistModule } from './assist/assist.module.js';
import { ConsoleHostModule } from './console-host/console-host.module.js';
/** Feature modules, in the order they start. Platform first: everything depends on it. */
export const FEATURE_MODULES = [
  AuditModule,
  IdentityModule,
  SettingsModule,
  ContactsModule,
  ConversationsModule,
  TicketsModule,
  AnalyticsModule,
  PluginHostModule,
  RoutingModule,
  RealtimeModule,
  AutomationModule,
  NlpModule,
  DevicesModule,
  CsatModule,
  KnowledgeModule,
  AssistModule,
  BotModule,
  ConsoleHostModule,
];

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), PlatformModule, ...FEATURE_MODULES],
      providers: [ApplicationReadyHook],
    };
  }
}
