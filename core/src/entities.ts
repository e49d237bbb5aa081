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
import { AttachmentRow } from './conversations/attachments/attachment.entity.js';

import { UserRow } from './identity/entities/user.entity.js';
import { TeamMemberRow, TeamRow } from './identity/entities/team.entity.js';
import { ApiKeyRow } from './identity/entities/api-key.entity.js';
import { LocalCredentialRow, LoginStateRow, SessionRow } from './identity/entities/session.entity.js';
import { AuditHeadRow, AuditRow } from './compliance/audit/audit.entity.js';
import { TICKETS_ENTITIES } from './tickets/entities/index.js';
import { ConversationFactRow, ResponseFactRow, TicketFactRow } from './analytics/entities/analytics-facts.entity.js';
import { PluginInstanceRow } from './platform/plugin-host/entities/plugin-instance.entity.js';
import { PluginKvRow } from './platform/plugin-host/entities/plugin-kv.entity.js';
import { PluginDeliveryRow } from './platform/plugin-host/entities/plugin-delivery.entity.js';

import { RoutingAgentRow } from './routing/entities/routing-agent.entity.js';
import { RoutingItemRow } from './routing/entities/routing-item.entity.js';
import { RoutingAffinityRow } from './routing/entities/routing-affinity.entity.js';
import { RoutingAssignmentRow } from './routing/entities/routing-assignment.entity.js';
import { RealtimeSecretRow } from './realtime/entities/realtime-secret.entity.js';
import { AUTOMATION_ENTITIES } from './automation/entities/automation.entity.js';
import { NlpModelRow, NlpTrainingJobRow } from './nlp/entities/nlp-model.entity.js';
import { DeviceReadingRow, DeviceRow, DeviceRuleRow, DeviceRuleStateRow, FaultEpisodeRow } from './devices/entities/device.entity.js';
import { CsatSurveyRow } from './csat/entities/csat-survey.entity.js';
import { KNOWLEDGE_ENTITIES } from './knowledge/entities/knowledge.entity.js';
import { BOT_ENTITIES } from './bot/entities/bot.entity.js';
import { ASSIST_ENTITIES } from './assist/entities/assist.entity.js';

export const ALL_ENTITIES = [
  OutboxRow,
  ProcessedEvent,
  SchedulerJobRow,
  SchedulerTimerRow,
  SettingRow,
  ContactRow,
  ContactIdentityRow,
  ContactLookupRow,
  ContactMergeRow,
  ContactAttributeDefRow,
  InboxRow,
  ConversationRow,
  MessageRow,
  AttachmentRow,
  UserRow,
  TeamRow,
  TeamMemberRow,
  ApiKeyRow,
  SessionRow,
  LoginStateRow,
  LocalCredentialRow,
  AuditRow,
  AuditHeadRow,
  ...TICKETS_ENTITIES,
  ConversationFactRow,
  ResponseFactRow,
  TicketFactRow,
  PluginInstanceRow,
  PluginKvRow,
  PluginDeliveryRow,
  RoutingAgentRow,
  RoutingItemRow,
  RoutingAffinityRow,
  RoutingAssignmentRow,
  RealtimeSecretRow,
  ...AUTOMATION_ENTITIES,
  NlpModelRow,
  NlpTrainingJobRow,
  DeviceRow,
  DeviceReadingRow,
  DeviceRuleRow,
  DeviceRuleStateRow,
  FaultEpisodeRow,
  CsatSurveyRow,
  ...KNOWLEDGE_ENTITIES,
  ...BOT_ENTITIES,
  ...ASSIST_ENTITIES,
];
