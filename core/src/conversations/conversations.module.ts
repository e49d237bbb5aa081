import { Module } from '@nestjs/common';
import { ContactsModule } from '../contacts/contacts.module.js';
import { ConversationsService } from './conversations.service.js';

@Module({
  imports: [ContactsModule],
  controllers: [],
  providers: [ConversationsService],
  exports: [ConversationsService],
})
export class ConversationsModule {}
