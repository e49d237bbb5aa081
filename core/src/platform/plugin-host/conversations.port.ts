import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ConversationsService } from '../../conversations/conversations.service.js';
import { ContactsService, type Recipient } from '../../contacts/contacts.service.js';
import { ContactsError } from '../../contacts/contacts.error.js';
import { VisitorTokenService } from '../../realtime/visitor-token.service.js';
import type { IngestInboundInput, IngestInboundResult, MessageView } from '../../conversations/conversations.types.js';
import { AttachmentsService } from '../../conversations/attachments/attachments.service.js';
import type { AttachmentRef, DownloadedAttachment } from '@switchboard/plugin-sdk';
import { ConversationsError } from '../../conversations/conversations.error.js';

/**
 * What the plugin host needs from the conversations module (see docs/module-contracts.md):
 * `ingestInbound` for `ctx.inbound`, and reading one message for outbound delivery. Resolved
 * lazily through the Nest container (the host is platform code and loads before feature modules).
 */
export interface ConversationsPort {
  ingestInbound(input: IngestInboundInput): Promise<IngestInboundResult>;
  /** A message to deliver, usually from the writing instance's snapshot taken at commit (no read). */
  getMessage(messageId: string): Promise<MessageView | undefined>;
  /**
   * Thread key and contact details a channel needs to deliver a message it did not start. `known`: the
   * conversation's contact and thread key as its `message_created` carried them, which saves reading the conversation.
   */
  deliveryContext(conversationId: string, channel: string, known?: { contactId: string; threadKey: string | null }): Promise<DeliveryContext>;
  /**
   * A customer's file from a channel, stored as a conversation attachment not yet bound to a
   * conversation (the inbound message that references it binds it). Errors carry the attachment codes.
   */
  storeChannelAttachment(input: { instanceId: string; filename: string; contentType: string; bytes: Buffer }): Promise<AttachmentRef>;
  /** A conversation attachment for the customer of one of the inbox's conversations (never from a private note). */
  readChannelAttachment(input: { inboxId: string; contactId: string; id: string }): Promise<DownloadedAttachment>;
  /** A realtime gateway visitor token (web chat), bound to one inbox. */
  issueVisitorToken(claims: {
    visitorId: string;
    contactId?: string | null;
    inboxId: string;
    ttlSeconds?: number;
  }): Promise<{ token: string; expiresAt: string }>;
}

export interface DeliveryContext {
  threadKey: string | null;
  recipient: Recipient;
}

export const CONVERSATIONS_PORT = Symbol('PLUGIN_HOST_CONVERSATIONS');

@Injectable()
export class ConversationsAdapter implements ConversationsPort {
  private service?: ConversationsService;

  constructor(private readonly moduleRef: ModuleRef) {}

  private resolve(): ConversationsService {
    this.service ??= this.moduleRef.get(ConversationsService, { strict: false });
    return this.service;
  }

  ingestInbound(input: IngestInboundInput): Promise<IngestInboundResult> {
    return this.resolve().ingestInbound(input);
  }

  async storeChannelAttachment(input: { instanceId: string; filename: string; contentType: string; bytes: Buffer }): Promise<AttachmentRef> {
    const stored = await this.moduleRef.get(AttachmentsService, { strict: false }).store({
      conversationId: null,
      uploaderType: 'contact',
      uploaderId: `plugin:${input.instanceId}`,
      fileName: input.filename,
      declaredType: input.contentType,
      bytes: input.bytes,
    });
    return {
      id: stored.id,
      name: stored.name,
      contentType: stored.contentType,
      size: stored.size,
      sha256: stored.sha256,
      storageKey: `attachment:${stored.id}`,
    };
  }

  async readChannelAttachment(input: { inboxId: string; contactId: string; id: string }): Promise<DownloadedAttachment> {
    const notFound = () => new ConversationsError('attachment_not_found', 'There is no such attachment.', { id: input.id });
    const attachments = this.moduleRef.get(AttachmentsService, { strict: false });
    const meta = await attachments.get(input.id);
    if (!meta.conversationId || !meta.messageId) throw notFound();
    const conversation = await this.resolve().get(meta.conversationId);
    if (conversation.inboxId !== input.inboxId || conversation.contactId !== input.contactId) throw notFound();
    if ((await this.resolve().getMessage(meta.messageId)).private) throw notFound();
    const { attachment, bytes } = await attachments.read(input.id);
    return { name: attachment.name, contentType: attachment.contentType, size: attachment.size, dataBase64: bytes.toString('base64') };
  }

  issueVisitorToken(claims: {
    visitorId: string;
    contactId?: string | null;
    inboxId: string;
    ttlSeconds?: number;
  }): Promise<{ token: string; expiresAt: string }> {
    return this.moduleRef.get(VisitorTokenService, { strict: false }).issue(claims);
  }

  async deliveryContext(conversationId: string, channel: string, known?: { contactId: string; threadKey: string | null }): Promise<DeliveryContext> {
    const { contactId, threadKey } = known ?? (await this.resolve().get(conversationId));
    // A contact merged since the message was written is followed to the survivor, which holds its identities now.
    const recipient = await this.moduleRef.get(ContactsService, { strict: false }).recipient(contactId, channel);
    if (!recipient) throw ContactsError.notFound(contactId);
    return { threadKey: threadKey ?? null, recipient };
  }

  async getMessage(messageId: string): Promise<MessageView | undefined> {
    return this.resolve()
      .getMessage(messageId, { recent: true })
      .catch((error: unknown) => {
        if (error instanceof ConversationsError && error.code === 'message_not_found') return undefined;
        throw error;
      });
  }
}
