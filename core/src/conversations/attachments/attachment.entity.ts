import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { BigIntColumn, TimestampColumn } from '../../platform/database/entity-columns.js';

/**
 * A stored file. The bytes live in the attachment storage (encrypted at rest); this row holds the
 * metadata. `name` is encrypted with the field cipher (file names can carry PII). `messageId` is
 * null until the upload is attached to a message.
 */
@Entity('conversation_attachments')
@Index('ix_conversation_attachments_conversation', ['conversationId', 'createdAt'])
@Index('ix_conversation_attachments_message', ['messageId'])
export class AttachmentRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** Null for a channel's upload until the inbound message that carries it is stored. */
  @Column({ name: 'conversation_id', type: 'varchar', length: 36, nullable: true })
  conversationId: string | null;

  @Column({ name: 'message_id', type: 'varchar', length: 36, nullable: true })
  messageId: string | null;

  /** `agent` (a user or API key), `contact` (a channel) or `system`. */
  @Column({ name: 'uploader_type', type: 'varchar', length: 16 })
  uploaderType: 'agent' | 'contact' | 'system';

  @Column({ name: 'uploader_id', type: 'varchar', length: 191, nullable: true })
  uploaderId: string | null;

  /** Sanitised file name, field-encrypted. */
  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'content_type', type: 'varchar', length: 127 })
  contentType: string;

  @BigIntColumn()
  size: number;

  /** Hex SHA-256 of the plaintext bytes. */
  @Column({ type: 'varchar', length: 64 })
  sha256: string;

  @Column({ name: 'storage_key', type: 'varchar', length: 191 })
  storageKey: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}
