import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module.js';
import { ContactsModule } from '../contacts/contacts.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { NlpModule } from '../nlp/nlp.module.js';
import { KnowledgeModule } from '../knowledge/knowledge.module.js';
import { AutomationModule } from '../automation/automation.module.js';
import { AssistService } from './assist.service.js';
import { AssistPusher } from './assist.pusher.js';
import { AssistController } from './assist.controller.js';

@Module({
  imports: [ConversationsModule, ContactsModule, SettingsModule, NlpModule, KnowledgeModule, AutomationModule],
  controllers: [AssistController],
  providers: [AssistService, AssistPusher],
  exports: [AssistService],
})
export class AssistModule {}
