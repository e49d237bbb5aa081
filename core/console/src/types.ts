export type Role = 'admin' | 'supervisor' | 'agent' | 'auditor' | 'integrator';

export interface Actor {
  kind: 'user' | 'api_key' | 'system';
  id: string;
  displayName?: string;
  roles: Role[];
  teamIds: string[];
  sessionId?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}

export interface Conversation {
  id: string;
  contactId: string;
  inboxId: string;
  channel: string;
  status: 'open' | 'pending' | 'snoozed' | 'resolved';
  priority: 'low' | 'normal' | 'high' | 'urgent';
  assigneeId: string | null;
  teamId: string | null;
  tags: string[];
  lastSeq: number;
  lastMessageAt: string | null;
  createdAt: string;
  updatedAt: string;
  resolvedAt: string | null;
}

export interface Attachment {
  /** A stored upload (download from /api/v1/attachments/:id/content); link attachments have a url instead. */
  id?: string;
  name: string;
  contentType: string;
  size: number;
  sha256?: string;
  url?: string;
  storageKey?: string;
}

export interface Message {
  id: string;
  conversationId: string;
  seq: number;
  direction: 'in' | 'out';
  authorType: 'contact' | 'agent' | 'bot' | 'system';
  authorId: string | null;
  text: string;
  content: Record<string, unknown> | null;
  attachments: Attachment[] | null;
  private: boolean;
  annotations: { language?: string; intent?: string; intentConfidence?: number; emotion?: string; flags?: string[] } | null;
  createdAt: string;
  /** Added by the console for the cross-channel timeline. */
  channel?: string;
}

export interface Contact {
  id: string;
  name: string | null;
  emails: Array<{ value: string; verified: boolean }>;
  phones: Array<{ value: string; verified: boolean }>;
  language: string | null;
  vip: boolean;
  tags: string[];
  attributes: Record<string, unknown>;
  teamId: string | null;
  identities: Array<{ id: string; channel: string; externalId: string; verified: boolean }>;
  createdAt: string;
}

export interface Inbox {
  id: string;
  name: string;
  channel: string;
  teamId: string | null;
  settings: Record<string, unknown>;
}

export interface Ticket {
  id: string;
  number: string;
  subject: string;
  description: string;
  type: string;
  status: 'new' | 'open' | 'pending' | 'on_hold' | 'solved' | 'closed';
  priority: 'low' | 'normal' | 'high' | 'urgent';
  requesterContactId: string | null;
  assigneeId: string | null;
  teamId: string | null;
  tags: string[];
  customFields: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  version: number;
  links?: Array<{ id: string; kind: string; refId: string; createdAt: string }>;
  followers?: string[];
}

export interface SlaClock {
  metric: string;
  state: string;
  targetMinutes: number;
  elapsedMinutes: number;
  dueAt: string | null;
  breachedAt: string | null;
  achievedAt: string | null;
  breached: boolean;
}

export interface User {
  id: string;
  displayName: string | null;
  email: string | null;
  roles: Role[];
  teamIds: string[];
  active: boolean;
}

export interface Team {
  id: string;
  name: string;
  externalGroup?: string | null;
}

export interface Device {
  id: string;
  name: string;
  model: string | null;
  serialNumber: string | null;
  firmware: string | null;
  site: string | null;
  location: string | null;
  ownerContactId: string | null;
  teamId: string | null;
  tags: string[];
  state: 'unknown' | 'ok' | 'warning' | 'fault' | 'offline';
  lastSeenAt: string | null;
}

export interface Reading {
  metric: string;
  value: number | string | boolean;
  ts: string;
  quality?: string;
}

export interface Episode {
  id: string;
  ruleId: string;
  status: string;
  severity: string;
  title: string;
  code: string | null;
  openedAt: string;
  closedAt: string | null;
  ticketId: string | null;
  occurrences: number;
}

export interface MetricValues {
  conversationsCreated: number;
  conversationsResolved: number;
  firstResponseSeconds: number | null;
  averageResponseSeconds: number | null;
  resolutionSeconds: number | null;
  fcrRate: number | null;
  reopenRate: number | null;
  csatAverage: number | null;
  csatResponseRate: number | null;
  botConversations: number;
  containmentRate: number | null;
  transferRate: number | null;
  ticketsSolved: number;
  slaAttainment: number | null;
}

export interface ReportRow {
  day?: string;
  team?: string | null;
  agent?: string | null;
  channel?: string | null;
  metrics: MetricValues;
}

export interface Report {
  from: string;
  to: string;
  rows: ReportRow[];
  totals: MetricValues;
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  items?: JsonSchema;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  'x-secret'?: boolean;
  writeOnly?: boolean;
}

export interface PluginView {
  id: string;
  kind: string;
  displayName: string | null;
  description: string | null;
  version: string;
  configSchema: JsonSchema | null;
  thirdParty: boolean;
}

export interface PluginInstance {
  id: string;
  pluginId: string;
  inboxId: string | null;
  enabled: boolean;
  config: Record<string, unknown>;
  version: number;
  status: string;
  lastError: string | null;
}
