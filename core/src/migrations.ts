/**
 * The one ordered migration set, valid on SQLite and MySQL/MariaDB alike (see
 * platform/database/portable-columns.ts). Append only; never edit a released migration.
 */
import { Platform1764000000000 } from './platform/database/migrations/1764000000000-platform.js';
import { PlatformOutboxEventId1764000000100 } from './platform/database/migrations/1764000000100-platform-outbox-event-id.js';
import { Identity1764100000001 } from './identity/migrations/1764100000001-identity-access.js';
import { Audit1764100000002 } from './compliance/audit/migrations/1764100000002-compliance-audit-log.js';
import { ContactsInit1764200000010 } from './contacts/migrations/1764200000010-contacts-init.js';
import { ConversationsInit1764200000020 } from './conversations/migrations/1764200000020-conversations-init.js';
import { ConversationAttachments1765000000010 } from './conversations/attachments/migrations/1765000000010-conversation-attachments.js';
import { TicketsInitial1764300000010 } from './tickets/migrations/1764300000010-tickets-initial.js';
import { TicketsListIndexes1765100000010 } from './tickets/migrations/1765100000010-tickets-list-indexes.js';
import { AnalyticsInitial1764700000000 } from './analytics/migrations/1764700000000-analytics-initial.js';
import { PluginHost1764600000001 } from './platform/plugin-host/migrations/1764600000001-plugin-host.js';

import { RoutingTables1764500000010 } from './routing/migrations/1764500000010-routing-tables.js';
import { RealtimeSecrets1764500000020 } from './realtime/migrations/1764500000020-realtime-secrets.js';
import { AutomationInitial1764300000020 } from './automation/migrations/1764300000020-automation-initial.js';
import { NlpModels1764400000001 } from './nlp/migrations/1764400000001-nlp-models.js';
import { DevicesInitial1764800000000 } from './devices/migrations/1764800000000-devices-initial.js';
import { CsatInitial1764300000030 } from './csat/migrations/1764300000030-csat-initial.js';
import { KnowledgeInitial1764900000010 } from './knowledge/migrations/1764900000010-knowledge-initial.js';
import { KbUnansweredConversationIndex1765200000010 } from './knowledge/migrations/1765200000010-kb-unanswered-conversation-index.js';
import { BotInitial1764900000020 } from './bot/migrations/1764900000020-bot-initial.js';
import { AssistInitial1764900000030 } from './assist/migrations/1764900000030-assist-initial.js';

export const ALL_MIGRATIONS = [
  Platform1764000000000,
  PlatformOutboxEventId1764000000100,
  Identity1764100000001,
  Audit1764100000002,
  ContactsInit1764200000010,
  ConversationsInit1764200000020,
  ConversationAttachments1765000000010,
  TicketsInitial1764300000010,
  AnalyticsInitial1764700000000,
  PluginHost1764600000001,
  RoutingTables1764500000010,
  RealtimeSecrets1764500000020,
  AutomationInitial1764300000020,
  NlpModels1764400000001,
  DevicesInitial1764800000000,
  CsatInitial1764300000030,
  KnowledgeInitial1764900000010,
  BotInitial1764900000020,
  AssistInitial1764900000030,
  TicketsListIndexes1765100000010,
  KbUnansweredConversationIndex1765200000010,
];
