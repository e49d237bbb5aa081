import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { In, IsNull, type DataSource } from 'typeorm';
import { DATA_SOURCE } from '../../platform/database/database.tokens.js';
import { UnitOfWork, type Tx } from '../../platform/database/unit-of-work.js';
import { CLOCK, type Clock } from '../../platform/clock/clock.js';
import { APP_CONFIG } from '../../platform/config/config.module.js';
import type { AppConfig } from '../../platform/config/app-config.js';
import { DEFAULT_ATTACHMENT_TYPES } from '../../platform/config/attachment-types.js';
import { sqlTime } from '../../platform/database/sql-time.js';
import { SchedulerService } from '../../platform/scheduler/scheduler.service.js';
import { FieldCipher } from '../../compliance/crypto/field-cipher.js';
import { SettingsService } from '../../settings/settings.service.js';
import { ConversationRow, MessageRow } from '../entities/conversation.entity.js';
import { ConversationsError } from '../conversations.error.js';
import type { Attachment } from '../conversations.types.js';
import { AttachmentRow } from './attachment.entity.js';
import { ATTACHMENT_STORAGE, type AttachmentStorage } from './attachment-storage.js';
import { resolveContentType } from './sniff.js';
import { sanitiseFileName } from './filename.js';

export const DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
/** Uploads never attached to a message are removed after this long. */
const ORPHAN_MS = 24 * 3600 * 1000;
const RETENTION_JOB = 'attachments.retention';

export interface AttachmentView {
  id: string;
  /** Null for a channel's upload not yet on an inbound message. */
  conversationId: string | null;
  messageId: string | null;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  /** Download path (authenticated; `Content-Disposition: attachment`). */
  url: string;
  createdAt: string;
}

export interface StoreAttachmentInput {
  /** Null: a channel's upload, bound to the conversation of the inbound message that references it. */
  conversationId: string | null;
  uploaderType: AttachmentRow['uploaderType'];
  uploaderId: string | null;
  fileName: string | undefined;
  declaredType: string | undefined;
  bytes: Buffer;
}

export interface ExportedAttachment extends AttachmentView {
  /** The file's bytes, base64. */
  data: string;
}

export const attachmentUrl = (id: string) => `/api/v1/attachments/${id}/content`;

/**
 * Stored file attachments of conversations: upload (size limit, content sniffed from the bytes
 * against an allow-list, sanitised name, SHA-256), encrypted storage behind `ATTACHMENT_STORAGE`,
 * linking to a message, reading, and personal-data export / erasure / retention.
 * Authorisation on the conversation is the caller's job (the controller checks the actor's team
 * scope through the conversations service before calling in).
 */
@Injectable()
export class AttachmentsService implements OnModuleInit {
  private readonly logger = new Logger('attachments');
  readonly maxBytes: number;
  readonly allowedTypes: readonly string[];

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(ATTACHMENT_STORAGE) private readonly storage: AttachmentStorage,
    private readonly uow: UnitOfWork,
    private readonly cipher: FieldCipher,
    private readonly settings: SettingsService,
    private readonly scheduler: SchedulerService,
  ) {
    this.maxBytes = config.attachments?.maxBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES;
    this.allowedTypes = config.attachments?.allowedTypes ?? DEFAULT_ATTACHMENT_TYPES;
  }

  onModuleInit(): void {
    // Retention: files of conversations resolved longer ago than `privacy.retentionDays`, and
    // uploads never attached to a message, are erased (once across instances, hourly).
    this.scheduler.every(RETENTION_JOB, 3600 * 1000, async () => {
      await this.applyRetention();
    });
  }

  /** Validates and stores one file; it is attached to a message later with `linkToMessage`. */
  async store(input: StoreAttachmentInput): Promise<AttachmentView> {
    const { bytes } = input;
    if (bytes.length > this.maxBytes) throw tooLarge(this.maxBytes);
    if (bytes.length === 0) throw new ConversationsError('attachment_invalid', 'The file is empty.', { field: 'file' });
    const resolution = resolveContentType(bytes, input.declaredType, this.allowedTypes);
    if (!resolution.ok) {
      if (resolution.reason === 'mismatch')
        throw new ConversationsError('attachment_type_mismatch', 'The file content does not match its declared type.', {
          declared: (input.declaredType ?? '').slice(0, 127),
          detected: resolution.sniffed,
        });
      throw new ConversationsError('attachment_type_not_allowed', 'This type of file is not allowed.', {
        detected: resolution.sniffed,
        allowed: this.allowedTypes,
      });
    }
    const id = randomUUID();
    const row: AttachmentRow = Object.assign(new AttachmentRow(), {
      id,
      conversationId: input.conversationId,
      messageId: null,
      uploaderType: input.uploaderType,
      uploaderId: input.uploaderId,
      name: this.cipher.encrypt(sanitiseFileName(input.fileName, resolution.contentType)),
      contentType: resolution.contentType,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      storageKey: `${id.slice(0, 2)}/${id}`,
      createdAt: this.clock.now(),
    });
    await this.storage.put(row.storageKey, bytes);
    try {
      await this.dataSource.manager.insert(AttachmentRow, row as never);
    } catch (error) {
      await this.storage.delete(row.storageKey).catch(() => undefined);
      throw error;
    }
    return this.view(row);
  }

  async get(id: string): Promise<AttachmentView> {
    return this.view(await this.row(id));
  }

  /** The metadata and the decrypted bytes, checked against the recorded SHA-256. */
  async read(id: string): Promise<{ attachment: AttachmentView; bytes: Buffer }> {
    const row = await this.row(id);
    const bytes = await this.storage.get(row.storageKey).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw new ConversationsError('attachment_not_found', 'There is no such attachment.', { id });
      throw error;
    });
    if (createHash('sha256').update(bytes).digest('hex') !== row.sha256) throw new Error(`attachment ${id} does not match its checksum`);
    return { attachment: this.view(row), bytes };
  }

  private async row(id: string): Promise<AttachmentRow> {
    const row = typeof id === 'string' && id.length <= 36 ? await this.dataSource.manager.findOne(AttachmentRow, { where: { id } }) : null;
    if (!row) throw new ConversationsError('attachment_not_found', 'There is no such attachment.', { id });
    return row;
  }

  /**
   * Attaches uploaded files to a message in the caller's transaction. Each must belong to the
   * conversation and not be attached yet (409 `attachment_in_use`). Returns message metadata
   * in the order given.
   */
  async linkToMessage(tx: Tx, conversationId: string, messageId: string, ids: string[], options: { inbound?: boolean } = {}): Promise<Attachment[]> {
    const unique = [...new Set(ids)];
    if (unique.length !== ids.length) throw new ConversationsError('attachment_invalid', 'An attachment is listed twice.', { field: 'attachments' });
    const rows = await tx.manager.find(AttachmentRow, { where: { id: In(unique) } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const id of unique) {
      const row = byId.get(id);
      // Inbound messages may also claim a channel's unbound upload (uploaded before the conversation was known).
      const unbound = options.inbound === true && row?.conversationId === null && row.uploaderType === 'contact';
      if (!row || (row.conversationId !== conversationId && !unbound))
        throw new ConversationsError('attachment_not_found', 'There is no such attachment in this conversation.', { id, field: 'attachments' });
      if (row.messageId) throw new ConversationsError('attachment_in_use', 'This attachment is already on a message.', { id, messageId: row.messageId });
    }
    let affected = 0;
    for (const id of unique) {
      const row = byId.get(id)!;
      const result = await tx.manager
        .createQueryBuilder()
        .update(AttachmentRow)
        .set({ messageId, conversationId })
        .where({ id, conversationId: row.conversationId === null ? IsNull() : conversationId, messageId: IsNull() })
        .execute();
      affected += result.affected ?? 1;
      row.conversationId = conversationId;
      row.messageId = messageId;
    }
    if (affected !== unique.length)
      throw new ConversationsError('attachment_in_use', 'An attachment was attached to another message meanwhile.', { field: 'attachments' });
    return unique.map((id) => messageAttachment(this.view(byId.get(id)!)));
  }

  // ---------------------------------------------------------------- personal data

  /** Every stored file of the contact's conversations (conversations of merged contacts follow the survivor). */
  async exportForContact(contactId: string): Promise<ExportedAttachment[]> {
    const rows = await this.rowsOfContact(contactId);
    const items: ExportedAttachment[] = [];
    for (const row of rows) {
      const { attachment, bytes } = await this.read(row.id);
      items.push({ ...attachment, data: bytes.toString('base64') });
    }
    return items;
  }

  /** Erases the files of all the contact's conversations; returns how many. */
  async eraseForContact(contactId: string): Promise<number> {
    return this.erase(await this.rowsOfContact(contactId));
  }

  /** Erases the files of some conversations (retention, conversation erasure); returns how many. */
  async eraseForConversations(conversationIds: string[]): Promise<number> {
    if (!conversationIds.length) return 0;
    return this.erase(await this.dataSource.manager.find(AttachmentRow, { where: { conversationId: In(conversationIds) } }));
  }

  private async rowsOfContact(contactId: string): Promise<AttachmentRow[]> {
    const conversations = await this.dataSource.manager.find(ConversationRow, { where: { contactId }, select: { id: true } });
    if (!conversations.length) return [];
    return this.dataSource.manager.find(AttachmentRow, {
      where: { conversationId: In(conversations.map((row) => row.id)) },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  /**
   * Deletes the rows and their messages' metadata in one transaction, then the files. A crash
   * between the two leaves unreadable ciphertext without any row pointing at it, never a row
   * without its file being erased on the next run.
   */
  private async erase(rows: AttachmentRow[]): Promise<number> {
    if (!rows.length) return 0;
    const ids = new Set(rows.map((row) => row.id));
    await this.uow.run(async (tx) => {
      const messageIds = [...new Set(rows.map((row) => row.messageId).filter((id): id is string => Boolean(id)))];
      for (let start = 0; start < messageIds.length; start += 200) {
        const messages = await tx.manager.find(MessageRow, { where: { id: In(messageIds.slice(start, start + 200)) } });
        for (const message of messages) {
          const kept = (message.attachments ?? []).filter((item) => !(typeof item.id === 'string' && ids.has(item.id)));
          await tx.manager.update(MessageRow, { id: message.id }, { attachments: (kept.length ? kept : null) as never });
        }
      }
      const all = [...ids];
      for (let start = 0; start < all.length; start += 200) await tx.manager.delete(AttachmentRow, { id: In(all.slice(start, start + 200)) });
    });
    for (const row of rows) await this.storage.delete(row.storageKey);
    return rows.length;
  }

  /** One retention pass (also run by tests). Returns how many files were erased. */
  async applyRetention(): Promise<number> {
    const now = this.clock.now().getTime();
    const days = Number(this.settings.get<number>('privacy.retentionDays') ?? 730);
    const m = this.dataSource.manager;
    let erased = 0;
    const resolved = await m
      .createQueryBuilder(ConversationRow, 'c')
      .select('c.id', 'id')
      .where('c.status = :status', { status: 'resolved' })
      .andWhere('c.resolved_at < :before', { before: sqlTime(m, new Date(now - days * 86_400_000)) })
      .andWhere('EXISTS (SELECT 1 FROM conversation_attachments a WHERE a.conversation_id = c.id)')
      .limit(500)
      .getRawMany<{ id: string }>();
    erased += await this.eraseForConversations(resolved.map((row) => row.id));
    const orphans = await m
      .createQueryBuilder(AttachmentRow, 'a')
      .where('a.message_id IS NULL')
      .andWhere('a.created_at < :before', { before: sqlTime(m, new Date(now - ORPHAN_MS)) })
      .take(500)
      .getMany();
    erased += await this.erase(orphans);
    if (erased) this.logger.log({ erased }, 'attachment retention');
    return erased;
  }

  private view(row: AttachmentRow): AttachmentView {
    return {
      id: row.id,
      conversationId: row.conversationId,
      messageId: row.messageId,
      name: this.cipher.decrypt(row.name),
      contentType: row.contentType,
      size: Number(row.size),
      sha256: row.sha256,
      url: attachmentUrl(row.id),
      createdAt: row.createdAt.toISOString(),
    };
  }
}

/** The metadata a message carries for a stored attachment. */
export function messageAttachment(view: AttachmentView): Attachment {
  return { id: view.id, name: view.name, contentType: view.contentType, size: view.size, sha256: view.sha256 };
}

export function tooLarge(maxBytes: number): ConversationsError {
  return new ConversationsError('attachment_too_large', `Attachments may be at most ${maxBytes} bytes.`, { limitBytes: maxBytes });
}
