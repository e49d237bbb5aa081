import { Module } from '@nestjs/common';
import { CryptoModule } from '../compliance/crypto/crypto.module.js';
import { ContactsService } from './contacts.service.js';
import { ContactsAudit } from './contacts.audit.js';
import { ContactAttributesController, ContactsController } from './contacts.controller.js';

@Module({
  imports: [CryptoModule],
  controllers: [ContactsController, ContactAttributesController],
  providers: [ContactsService, ContactsAudit],
  exports: [ContactsService],
})
export class ContactsModule {}
