import type { SchedulerTimerRow } from '../../../src/platform/scheduler/scheduler.entities.js';

/** A pending scheduler timer that fires in a day: a convenient real row for write-path tests. */
export function timerRow(key: string, kind = 'platformtest.none', payload: Record<string, unknown> = { key }): SchedulerTimerRow {
  return {
    key,
    kind,
    dueAt: new Date(Date.now() + 86_400_000),
    payload,
    claimedBy: null,
    claimedUntil: null,
    firedAt: null,
    attempts: 0,
    lastError: null,
  } as SchedulerTimerRow;
}
