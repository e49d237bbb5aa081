import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { NlpModule } from '../nlp/nlp.module.js';
import { KnowledgeController } from './knowledge.controller.js';
import { KnowledgeService } from './knowledge.service.js';
import { KnowledgeIndexer } from './knowledge.indexer.js';
import { KnowledgeLearningConsumer } from './knowledge.learning.js';

@Module({
  imports: [ConversationsModule, SettingsModule, NlpModule],
  controllers: [KnowledgeController],
  providers: [KnowledgeIndexer, KnowledgeService, KnowledgeLearningConsumer],
  exports: [KnowledgeService],
})
export class KnowledgeModule {}
