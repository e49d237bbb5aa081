import { Module } from '@nestjs/common';
import { CryptoModule } from '../../compliance/crypto/crypto.module.js';
import { PluginHostService } from './plugin-host.service.js';
import { PluginHostController } from './plugin-host.controller.js';
import { PluginHttpGateway } from './plugin-http.js';
import { PluginKvStore } from './plugin-kv.store.js';
import { CONVERSATIONS_PORT, ConversationsAdapter } from './conversations.port.js';
import { SERVICE_DESK_PORT, ServiceDeskAdapter } from './service-desk.port.js';

/** Runs plugins: discovery, config, isolation, supervision, HTTP routes, inbound and outbound. */
@Module({
  imports: [CryptoModule],
  controllers: [PluginHostController],
  providers: [
    PluginHostService,
    PluginHttpGateway,
    PluginKvStore,
    ConversationsAdapter,
    { provide: CONVERSATIONS_PORT, useExisting: ConversationsAdapter },
    ServiceDeskAdapter,
    { provide: SERVICE_DESK_PORT, useExisting: ServiceDeskAdapter },
  ],
  exports: [PluginHostService],
})
export class PluginHostModule {}
