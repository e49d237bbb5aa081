/**
 * Every TypeORM entity of the core, in one list so the DataSource knows them at start.
 * Add a line per module; entities stay in their module's own folder.
 */
import { OutboxRow } from './platform/outbox/outbox.entity.js';
import { ProcessedEvent } from './platform/outbox/processed-event.entity.js';
import { SchedulerJobRow, SchedulerTimerRow } from './platform/scheduler/scheduler.entities.js';
import { SettingRow } from './settings/entities/setting.entity.js';
import { ContactAttributeDefRow, ContactIdentityRow, ContactLookupRow, ContactMergeRow, ContactRow } from './contacts/entities/contact.entity.js';
import { ConversationRow, InboxRow, MessageRow } from './conversations/entities/conversation.entity.js';

import { UserRow } from './identity/entities/user.entity.js';
import { TeamMemberRow, TeamRow } from './identity/entities/team.entity.js';
import { ApiKeyRow } from './identity/entities/api-key.entity.js';
import { LocalCredentialRow, LoginStateRow, SessionRow } from './identity/entities/session.entity.js';
import { AuditHeadRow, AuditRow } from './compliance/audit/audit.entity.js';
import { TICKETS_ENTITIES } from './tickets/entities/index.js';
import { ConversationFactRow, ResponseFactRow, TicketFactRow } from './analytics/entities/analytics-facts.entity.js';
import { NlpModelRow, NlpTrainingJobRow } from './nlp/entities/nlp-model.entity.js';

export const ALL_ENTITIES = [OutboxRow, ProcessedEvent, SchedulerJobRow, SchedulerTimerRow, SettingRow, ContactRow, ContactIdentityRow, ContactLookupRow, ContactMergeRow, ContactAttributeDefRow, InboxRow, ConversationRow, MessageRow, UserRow, TeamRow, TeamMemberRow, ApiKeyRow, SessionRow, LoginStateRow, LocalCredentialRow, AuditRow, AuditHeadRow, ...TICKETS_ENTITIES, ConversationFactRow, ResponseFactRow, TicketFactRow, NlpModelRow, NlpTrainingJobRow];
