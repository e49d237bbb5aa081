import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { BUS, type Bus } from '../bus/bus.port.js';
import { OutboxSignal } from './outbox.signal.js';

/**
 * Provided by the root AppModule, whose hooks Nest runs after those of every module it imports: by then
 * every feature module has subscribed its consumers, so the embedded outbox relay may start publishing
 * and the bus may start the consumer group they share.
 */
@Injectable()
export class ApplicationReadyHook implements OnApplicationBootstrap {
  constructor(
    private readonly signal: OutboxSignal,
    @Inject(BUS) private readonly bus: Bus,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.signal.markApplicationReady();
    await this.bus.startGroups?.();
  }
}
