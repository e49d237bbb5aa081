import { Module } from '@nestjs/common';
import { FieldCipher } from './field-cipher.js';

/** Field encryption for every module that stores PII. Import it where PII is stored. */
@Module({ providers: [FieldCipher], exports: [FieldCipher] })
export class CryptoModule {}
