import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module.js';
import { TicketsModule } from '../tickets/tickets.module.js';
import { RoutingModule } from '../routing/routing.module.js';
import { RealtimeGateway } from './realtime.gateway.js';
import { RealtimeHub } from './realtime.hub.js';
import { RealtimeFanout } from './realtime.fanout.js';
import { HandshakeAuth } from './handshake-auth.js';
import { VisitorTokenService } from './visitor-token.service.js';
import { RealtimeController } from './realtime.controller.js';

@Module({
  imports: [ConversationsModule, TicketsModule, RoutingModule],
  controllers: [RealtimeController],
  providers: [RealtimeHub, RealtimeFanout, HandshakeAuth, VisitorTokenService, RealtimeGateway],
  exports: [VisitorTokenService, RealtimeHub],
})
export class RealtimeModule {}
