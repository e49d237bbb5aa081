import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ConversationsService } from '../../conversations/conversations.service.js';
import type { IngestInboundInput, IngestInboundResult, MessageView } from '../../conversations/conversations.types.js';

/**
 * What the plugin host needs from the conversations module (see docs/module-contracts.md):
 * `ingestInbound` for `ctx.inbound`, and reading one message for outbound delivery. Resolved
 * lazily through the Nest container (the host is platform code and loads before feature modules).
 */
export interface ConversationsPort {
  ingestInbound(input: IngestInboundInput): Promise<IngestInboundResult>;
  getMessage(conversationId: string, seq: number): Promise<MessageView | undefined>;
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

  async getMessage(conversationId: string, seq: number): Promise<MessageView | undefined> {
    const items = await this.resolve().listMessages(conversationId, { afterSeq: seq - 1, limit: 1 });
    return items.find((message) => message.seq === seq);
  }
}
