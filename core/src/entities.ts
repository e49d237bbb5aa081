/**
 * Every TypeORM entity of the core, in one list so the DataSource knows them at start.
 * Add a line per module; entities stay in their module's own folder.
 */
import { OutboxRow } from './platform/outbox/outbox.entity.js';
import { ProcessedEvent } from './platform/outbox/processed-event.entity.js';
import { SchedulerJobRow, SchedulerTimerRow } from './platform/scheduler/scheduler.entities.js';
import { SettingRow } from './settings/entities/setting.entity.js';

export const ALL_ENTITIES = [OutboxRow, ProcessedEvent, SchedulerJobRow, SchedulerTimerRow, SettingRow];
