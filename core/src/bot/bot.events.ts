/** Every bot turn (feeds analytics and reviews). */
export const BOT_TURN = 'sb.evt.bot.turn';
/** The bot handed the conversation to humans (analytics: transfer rate). */
export const BOT_HANDED_OVER = 'sb.evt.bot.handed_over';
export const BOT_CONFIG_CHANGED = 'sb.evt.bot.config_changed';
export const BOT_FLOW_CHANGED = 'sb.evt.bot.flow_changed';

export interface BotTurnEvent {
  conversationId: string;
  messageId: string;
  inboxId: string;
  intent: string | null;
  confidence: number | null;
  action: string;
  reason: string | null;
  kbEntryId: string | null;
  kbScore: number | null;
  flow: string | null;
  language: string | null;
  emotion: string | null;
}

export type HandoverReason =
  'explicit_request' | 'failed_turns' | 'low_confidence' | 'anger' | 'negative_emotion' | 'vip' | 'flow_step' | 'flow_failed' | 'agent_took_over';

export interface BotHandedOverEvent {
  conversationId: string;
  inboxId: string;
  reason: HandoverReason;
  messageId: string | null;
  intent: string | null;
  slots: Record<string, string>;
}

export interface BotConfigChangedEvent {
  inboxId: string;
  version: number;
}

export interface BotFlowChangedEvent {
  name: string;
  version: number;
  status: string;
}
