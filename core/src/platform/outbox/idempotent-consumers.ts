import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { BUS, type Bus, type Closable, type Delivery } from '../bus/bus.port.js';
import { UnitOfWork, type Tx } from '../database/unit-of-work.js';
import { ProcessedEvent } from './processed-event.entity.js';
import type { EventEnvelope } from './outbox.entity.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { CLOCK, type Clock } from '../clock/clock.js';

export interface IdempotentConsumerSpec<T> {
  name: string;
  subject: string;
  /** Runs inside the same transaction that records the event as processed. */
  handle: (event: EventEnvelope<T>, tx: Tx) => Promise<void>;
  concurrency?: number;
  maxDeliver?: number;
  backoffMs?: number[];
}

const DUPLICATE_CODES = new Set(['ER_DUP_ENTRY', 'SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT']);

/**
 * Exactly-once effects on top of at-least-once delivery: the handler's writes and the
 * (consumer, event id) marker commit together, and a redelivered event finds the marker.
 */
@Injectable()
export class IdempotentConsumers implements OnModuleDestroy {
  private readonly handles: Closable[] = [];

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly uow: UnitOfWork,
    private readonly metrics: MetricsService,
  ) {}

  async register<T>(spec: IdempotentConsumerSpec<T>, delivery: Delivery = 'one-instance'): Promise<Closable> {
    const handle = await this.bus.consume<EventEnvelope<T>>({
      name: spec.name,
      subject: spec.subject,
      delivery,
      concurrency: spec.concurrency,
      maxDeliver: spec.maxDeliver,
      backoffMs: spec.backoffMs,
      handler: async (message) => {
        const event = message.data;
        const eventId = event?.id ?? message.msgId;
        const duplicate = await this.uow.run(async (tx) => {
          try {
            await tx.insert(ProcessedEvent, { consumer: spec.name, eventId, processedAt: this.clock.now() });
          } catch (error) {
            const code = (error as { code?: string; driverError?: { code?: string } }).driverError?.code ?? (error as { code?: string }).code;
            if (code && DUPLICATE_CODES.has(code)) return true;
            throw error;
          }
          await spec.handle(event, tx);
          return false;
        });
        if (duplicate) this.metrics.busConsumed.inc({ consumer: spec.name, outcome: 'duplicate' });
      },
    });
    this.handles.push(handle);
    return handle;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled(this.handles.map((handle) => handle.close()));
  }
}
