/**
 * The one ordered migration set, valid on SQLite and MySQL/MariaDB alike (see
 * platform/database/portable-columns.ts). Append only; never edit a released migration.
 */
import { Platform1764000000000 } from './platform/database/migrations/1764000000000-platform.js';
import { PlatformOutboxEventId1764000000100 } from './platform/database/migrations/1764000000100-platform-outbox-event-id.js';

export const ALL_MIGRATIONS = [Platform1764000000000, PlatformOutboxEventId1764000000100];
