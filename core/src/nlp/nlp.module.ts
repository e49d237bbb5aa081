import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module.js';
import { NlpController } from './nlp.controller.js';
import { ModelRegistry } from './registry.service.js';
import { NlpService } from './nlp.service.js';
import { RetrievalService } from './retrieval.service.js';
import { TrainingService } from './training.service.js';
import { AnnotationConsumer } from './annotation.consumer.js';

@Module({
  imports: [ConversationsModule],
  controllers: [NlpController],
  providers: [ModelRegistry, NlpService, RetrievalService, TrainingService, AnnotationConsumer],
  exports: [NlpService, RetrievalService, ModelRegistry, TrainingService],
})
export class NlpModule {}
