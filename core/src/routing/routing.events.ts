import type { PresenceStatus } from './entities/routing-agent.entity.js';

/** Durable routing events (outbox). */
export const ROUTING_PRESENCE_CHANGED = 'sb.evt.routing.presence_changed';
export const ROUTING_QUEUED = 'sb.evt.routing.queued';
export const ROUTING_TRANSFERRED = 'sb.evt.routing.transferred';

export interface PresenceChangedEvent {
  agentId: string;
  status: PresenceStatus;
  previous: PresenceStatus;
  reason: 'manual' | 'timeout' | 'supervisor';
  at: string;
}

export interface QueuedEvent {
  conversationId: string;
  teamId: string | null;
  reason: 'created' | 'reopened' | 'requeued' | 'transferred' | 'manual';
  previousAgentId: string | null;
}

export interface TransferredEvent {
  conversationId: string;
  fromAgentId: string | null;
  toAgentId: string | null;
  toTeamId: string | null;
  override: boolean;
  actorId: string;
}

/** Ephemeral fan-out to realtime gateways (core NATS, not stored). */
export const RT_PRESENCE = 'sb.rt.presence';
export const rtAgentSubject = (agentId: string) => `sb.rt.agent.${agentId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
