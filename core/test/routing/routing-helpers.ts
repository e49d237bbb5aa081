import type { DataSource } from 'typeorm';
import { ConversationsService } from '../../src/conversations/conversations.service.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { RoutingEngine } from '../../src/routing/routing.engine.js';
import { RoutingItemRow } from '../../src/routing/entities/routing-item.entity.js';
import { RoutingAgentRow } from '../../src/routing/entities/routing-agent.entity.js';
import { RoutingAssignmentRow } from '../../src/routing/entities/routing-assignment.entity.js';
import type { TestApp } from '../harness/test-app.js';

export const json = { 'content-type': 'application/json' };

export async function api<T = unknown>(app: TestApp, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${app.url}${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, ...json },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export interface Agent {
  id: string;
  headers: Record<string, string>;
}

/** Signs an agent in, creates their routing profile, sets it and their presence. */
export async function agent(
  app: TestApp,
  supervisor: Record<string, string>,
  sub: string,
  teamIds: string[],
  profile: { skills?: string[]; languages?: string[]; maxConcurrent?: number; channelWeights?: Record<string, number> },
  status: 'online' | 'away' | 'offline' = 'online',
): Promise<Agent> {
  const headers = await app.authHeaders({ roles: ['agent'], teamIds, sub });
  const me = await api<{ agentId: string }>(app, 'PUT', '/api/v1/routing/presence/me', headers, { status: 'offline' });
  if (me.status !== 200) throw new Error(`presence/me: ${me.status} ${JSON.stringify(me.body)}`);
  const put = await api(app, 'PUT', `/api/v1/routing/profiles/${me.body.agentId}`, supervisor, profile);
  if (put.status !== 200) throw new Error(`profile: ${put.status} ${JSON.stringify(put.body)}`);
  if (status !== 'offline') await api(app, 'PUT', '/api/v1/routing/presence/me', headers, { status });
  return { id: me.body.agentId, headers };
}

export async function setPresence(app: TestApp, who: Agent, status: 'online' | 'away' | 'offline'): Promise<void> {
  const response = await api(app, 'PUT', '/api/v1/routing/presence/me', who.headers, { status });
  if (response.status !== 200) throw new Error(`presence: ${response.status}`);
}

export function services(app: TestApp) {
  return {
    conversations: app.app.get(ConversationsService),
    engine: app.app.get(RoutingEngine),
    db: app.app.get<DataSource>(DATA_SOURCE),
  };
}

export async function inbox(app: TestApp, teamId: string, channel = 'webchat'): Promise<string> {
  const created = await services(app).conversations.createInbox({ name: `inbox ${teamId} ${channel}`, channel, teamId });
  return created.id;
}

export async function customerWrites(app: TestApp, inboxId: string, externalId: string, text = 'hello'): Promise<string> {
  const result = await services(app).conversations.ingestInbound({
    inboxId,
    externalContact: { externalId, verified: false },
    idempotencyKey: `${externalId}:${text}:${Math.random()}`,
    text,
  });
  return result.conversation.id;
}

export async function items(app: TestApp): Promise<RoutingItemRow[]> {
  return services(app).db.manager.find(RoutingItemRow);
}

export async function agentRows(app: TestApp): Promise<RoutingAgentRow[]> {
  return services(app).db.manager.find(RoutingAgentRow);
}

export async function assignmentLog(app: TestApp): Promise<RoutingAssignmentRow[]> {
  return services(app).db.manager.find(RoutingAssignmentRow, { order: { id: 'ASC' } });
}

export async function resolve(app: TestApp, conversationId: string): Promise<void> {
  await services(app).conversations.setStatus(conversationId, { status: 'resolved' });
}
