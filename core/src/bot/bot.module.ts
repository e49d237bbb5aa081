import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module.js';
import { ContactsModule } from '../contacts/contacts.module.js';
import { NlpModule } from '../nlp/nlp.module.js';
import { RoutingModule } from '../routing/routing.module.js';
import { KnowledgeModule } from '../knowledge/knowledge.module.js';
import { AssistModule } from '../assist/assist.module.js';
import { PluginHostModule } from '../platform/plugin-host/plugin-host.module.js';
import { BotService } from './bot.service.js';
import { BotRuntime } from './bot.runtime.js';
import { BotController } from './bot.controller.js';
import { BotFlowEditorController } from './bot-flow-editor.controller.js';

@Module({
  imports: [ConversationsModule, ContactsModule, NlpModule, RoutingModule, KnowledgeModule, AssistModule, PluginHostModule],
  controllers: [BotController, BotFlowEditorController],
  providers: [BotService, BotRuntime],
  exports: [BotService],
})
export class BotModule {}
