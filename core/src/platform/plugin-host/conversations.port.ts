import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ConversationsService } from '../../conversations/conversations.service.js';
import { VisitorTokenService } from '../../realtime/visitor-token.service.js';
import type { IngestInboundInput, IngestInboundResult, MessageView } from '../../conversations/conversations.types.js';

/**
 * What the plugin host needs from the conversations module (see docs/module-contracts.md):
 * `ingestInbound` for `ctx.inbound`, and reading one message for outbound delivery. Resolved
 * lazily through the Nest container (the host is platform code and loads before feature modules).
 */
export interface ConversationsPort {
  ingestInbound(input: IngestInboundInput): Promise<IngestInboundResult>;
  getMessage(conversationId: string, seq: number): Promise<MessageView | undefined>;
  /** A realtime gateway visitor token (web chat), bound to one inbox. */
  issueVisitorToken(claims: {
    visitorId: string;
    contactId?: string | null;
    inboxId: string;
    ttlSeconds?: number;
  }): Promise<{ token: string; expiresAt: string }>;
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

  issueVisitorToken(claims: {
    visitorId: string;
    contactId?: string | null;
    inboxId: string;
    ttlSeconds?: number;
  }): Promise<{ token: string; expiresAt: string }> {
    return this.moduleRef.get(VisitorTokenService, { strict: false }).issue(claims);
  }

  async getMessage(conversationId: string, seq: number): Promise<MessageView | undefined> {
    const items = await this.resolve().listMessages(conversationId, { afterSeq: seq - 1, limit: 1 });
    return items.find((message) => message.seq === seq);
  }
}
