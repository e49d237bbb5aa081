import { Logger } from '@nestjs/common';
import type { MetricsService } from '../metrics/metrics.service.js';
import type { BatchConsumerSpec, ConsumerSpec, DeliveredMessage } from './bus.port.js';

export type Outcome = { kind: 'ack' } | { kind: 'retry'; delayMs: number } | { kind: 'dead_letter'; reason: string };

/**
 * The retry policy shared by both adapters: run the handler, and on failure either retry
 * after the configured backoff or, after `maxDeliver` deliveries, give up on the message.
 */
export async function runHandler<T>(
  spec: ConsumerSpec<T>,
  message: DeliveredMessage<T>,
  defaults: { maxDeliver: number; backoffMs: number[] },
  metrics: MetricsService,
  logger: Logger,
): Promise<Outcome> {
  if (message.deliveryCount > 1) metrics.busRedelivered.inc({ consumer: spec.name });
  try {
    await spec.handler(message);
    metrics.busConsumed.inc({ consumer: spec.name, outcome: 'ack' });
    return { kind: 'ack' };
  } catch (error) {
    const maxDeliver = spec.maxDeliver ?? defaults.maxDeliver;
    const backoff = spec.backoffMs ?? defaults.backoffMs;
    const reason = error instanceof Error ? error.message : String(error);
    if (message.deliveryCount >= maxDeliver) {
      metrics.busConsumed.inc({ consumer: spec.name, outcome: 'dead_letter' });
      metrics.busDeadLettered.inc({ consumer: spec.name });
      logger.error(
        { consumer: spec.name, subject: message.subject, msgId: message.msgId, deliveries: message.deliveryCount, reason },
        'poison message moved to dead-letter subject',
      );
      return { kind: 'dead_letter', reason };
    }
    const delayMs = backoff[Math.min(message.deliveryCount - 1, backoff.length - 1)] ?? 1000;
    metrics.busConsumed.inc({ consumer: spec.name, outcome: 'retry' });
    logger.warn(
      { consumer: spec.name, subject: message.subject, msgId: message.msgId, deliveries: message.deliveryCount, delayMs, reason },
      'handler failed; will retry',
    );
    return { kind: 'retry', delayMs };
  }
}

/**
 * The batch policy shared by both adapters: one handler call for the whole batch; if it fails,
 * each message is tried alone (same delivery) and gets its own outcome from `runHandler`.
 * Returns one outcome per message, in order.
 */
export async function runBatch<T>(
  spec: BatchConsumerSpec<T>,
  messages: Array<DeliveredMessage<T>>,
  defaults: { maxDeliver: number; backoffMs: number[] },
  metrics: MetricsService,
  logger: Logger,
): Promise<Outcome[]> {
  const single: ConsumerSpec<T> = {
    name: spec.name,
    subject: spec.subject,
    delivery: 'one-instance',
    handler: (message) => spec.handleBatch([message]),
    maxDeliver: spec.maxDeliver,
    backoffMs: spec.backoffMs,
  };
  if (messages.length === 0) return [];
  if (messages.length > 1) {
    try {
      await spec.handleBatch(messages);
      for (const message of messages) if (message.deliveryCount > 1) metrics.busRedelivered.inc({ consumer: spec.name });
      metrics.busConsumed.inc({ consumer: spec.name, outcome: 'ack' }, messages.length);
      return messages.map(() => ({ kind: 'ack' }) as const);
    } catch (error) {
      logger.warn(
        { consumer: spec.name, size: messages.length, reason: error instanceof Error ? error.message : String(error) },
        'batch failed; trying its messages one by one',
      );
    }
  }
  const outcomes: Outcome[] = [];
  for (const message of messages) outcomes.push(await runHandler(single, message, defaults, metrics, logger));
  return outcomes;
}
