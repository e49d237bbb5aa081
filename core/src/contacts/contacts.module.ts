import { Module } from '@nestjs/common';
import { CryptoModule } from '../compliance/crypto/crypto.module.js';
import { ContactsService } from './contacts.service.js';
import { ContactsAudit } from './contacts.audit.js';

@Module({
  imports: [CryptoModule],
  controllers: [],
  providers: [ContactsService, ContactsAudit],
  exports: [ContactsService],
})
export class ContactsModule {}
