import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import fastifyMultipart from '@fastify/multipart';
import { ContactsModule } from '../contacts/contacts.module.js';
import { CryptoModule } from '../compliance/crypto/crypto.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { ConversationsService } from './conversations.service.js';
import { MessageBatchWriter } from './message-batch.writer.js';
import { ContactHistoryController, ConversationsController, InboxesController, MessagesController } from './conversations.controller.js';
import { AttachmentsController } from './attachments/attachments.controller.js';
import { AttachmentsService } from './attachments/attachments.service.js';
import { ATTACHMENT_STORAGE, LocalEncryptedStorage } from './attachments/attachment-storage.js';

@Module({
  imports: [ContactsModule, CryptoModule, SettingsModule],
  controllers: [InboxesController, ConversationsController, MessagesController, ContactHistoryController, AttachmentsController],
  providers: [
    ConversationsService,
    MessageBatchWriter,
    AttachmentsService,
    LocalEncryptedStorage,
    { provide: ATTACHMENT_STORAGE, useExisting: LocalEncryptedStorage },
  ],
  exports: [ConversationsService, AttachmentsService],
})
export class ConversationsModule implements OnModuleInit {
  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    private readonly attachments: AttachmentsService,
  ) {}

  /** Attachment uploads are multipart/form-data; limits are set again per request. */
  async onModuleInit(): Promise<void> {
    const fastify = this.adapterHost.httpAdapter?.getInstance?.();
    if (fastify && !fastify.hasContentTypeParser('multipart/form-data')) {
      // Not awaited: awaiting a register here boots Fastify's plugin tree early, and the JSON body
      // parser's errors then bypassed the global filter (malformed_json came back in Fastify's shape).
      void fastify.register(fastifyMultipart, { limits: { fileSize: this.attachments.maxBytes, files: 1, fields: 10, parts: 11, fieldSize: 1024 } });
    }
  }
}
