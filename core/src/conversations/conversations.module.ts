import { Module } from '@nestjs/common';
import { ContactsModule } from '../contacts/contacts.module.js';
import { ConversationsService } from './conversations.service.js';
import { ContactHistoryController, ConversationsController, InboxesController, MessagesController } from './conversations.controller.js';

@Module({
  imports: [ContactsModule],
  controllers: [InboxesController, ConversationsController, MessagesController, ContactHistoryController],
  providers: [ConversationsService],
  exports: [ConversationsService],
})
export class ConversationsModule {}
