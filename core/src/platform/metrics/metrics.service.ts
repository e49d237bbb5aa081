import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per core instance (not prom-client's global), so several instances can live
 * in one test process without clashing. Modules add their own metrics through `registry`.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'sb_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly busPublished = new Counter({
    name: 'sb_bus_published_total',
    help: 'Messages published to the bus, by stream',
    labelNames: ['stream'] as const,
    registers: [this.registry],
  });

  readonly busConsumed = new Counter({
    name: 'sb_bus_consumed_total',
    help: 'Messages handled by consumers, by consumer and outcome (ack, retry, dead_letter, duplicate)',
    labelNames: ['consumer', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly busRedelivered = new Counter({
    name: 'sb_bus_redelivered_total',
    help: 'Messages delivered more than once to a consumer',
    labelNames: ['consumer'] as const,
    registers: [this.registry],
  });

  readonly busDeadLettered = new Counter({
    name: 'sb_bus_dead_lettered_total',
    help: 'Poison messages moved to the dead-letter subject',
    labelNames: ['consumer'] as const,
    registers: [this.registry],
  });

  readonly outboxPending = new Gauge({
    name: 'sb_outbox_pending',
    help: 'Outbox rows not yet published',
    registers: [this.registry],
  });

  readonly outboxLagSeconds = new Gauge({
    name: 'sb_outbox_lag_seconds',
    help: 'Age of the oldest unpublished outbox row',
    registers: [this.registry],
  });

  readonly outboxRelayed = new Counter({
    name: 'sb_outbox_relayed_total',
    help: 'Outbox rows published by this instance, by path: at their commit, or found by the poll (a publish at commit failed, a crash, embedded mode)',
    labelNames: ['path'] as const,
    registers: [this.registry],
  });

  readonly schedulerRuns = new Counter({
    name: 'sb_scheduler_runs_total',
    help: 'Scheduled job and timer runs on this instance, by job and outcome',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sb_process_' });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
