import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { OutboxSignal } from './outbox.signal.js';

/**
 * Provided by the root AppModule, whose hooks Nest runs after those of every module it imports: by then
 * every feature module has subscribed its consumers, and the embedded outbox relay may start publishing.
 */
@Injectable()
export class ApplicationReadyHook implements OnApplicationBootstrap {
  constructor(private readonly signal: OutboxSignal) {}

  onApplicationBootstrap(): void {
    this.signal.markApplicationReady();
  }
}
