/** Text in several languages (`{ en, zh }`) or one string for all. */
export type LocalText = string | Record<string, string>;

export interface BusinessHours {
  /** IANA time zone, e.g. Asia/Shanghai. */
  timezone: string;
  /** 0 = Sunday … 6 = Saturday. */
  days: number[];
  /** HH:MM, 24 h. */
  open: string;
  close: string;
}

export interface BotConfig {
  enabled: boolean;
  kbId: string;
  /** Language of bot messages when the customer's cannot be told. */
  defaultLanguage: string;
  greeting: LocalText | null;
  businessHours: BusinessHours | null;
  offHoursMessage: LocalText | null;
  /**
   * Knowledge-base confidence (0–1) at or above which the bot answers, provided the runner-up
   * trails by at least `margin`; at or above `medium` (or high but close) it offers choices.
   */
  thresholds: { high: number; medium: number; margin: number; minSupport: number };
  /** Substrings (case-insensitive) that ask for a human. */
  handoverPhrases: string[];
  startOverPhrases: string[];
  /** Hand over after this many turns the bot could not handle. */
  maxFailedTurns: number;
  handoverOnAnger: boolean;
  /** Consecutive strongly negative messages that hand over (0 = off). */
  negativeStreak: number;
  handoverOnVip: boolean;
  /** Resolve the conversation when the customer thanks/says goodbye after an answer. */
  resolveOnThanks: boolean;
  /** Offer helpful / not helpful buttons under answers. */
  askFeedback: boolean;
  /** Flow names this inbox may start (their active version). */
  flows: string[];
  /** Hosts flows may call although they resolve to private/loopback addresses (an on-premises ERP). */
  allowedPrivateHosts: string[];
  /** Hand-over target team (default: the inbox's team). */
  handoverTeamId: string | null;
  messages: {
    clarify: LocalText;
    suggest: LocalText;
    handover: LocalText;
    handoverOffHours: LocalText;
    thanks: LocalText;
    startOver: LocalText;
    flowTimeout: LocalText;
    feedbackThanks: LocalText;
    feedbackPrompt: LocalText;
  };
}

export const DEFAULT_BOT_CONFIG: BotConfig = {
  enabled: true,
  kbId: 'default',
  defaultLanguage: 'en',
  greeting: { en: 'Hi! I am the virtual assistant. How can I help?', zh: '您好！我是智能客服助手，请问有什么可以帮您？' },
  businessHours: null,
  offHoursMessage: {
    en: 'Our team is offline right now; I can still help with common questions.',
    zh: '现在是非工作时间，人工客服暂时不在线；常见问题我仍然可以为您解答。',
  },
  thresholds: { high: 0.5, medium: 0.25, margin: 0.08, minSupport: 0.34 },
  handoverPhrases: ['转人工', '人工客服', '人工服务', '人工', '真人', 'human', 'agent', 'real person', 'representative', 'operator'],
  startOverPhrases: ['start over', 'restart', 'reset', '重新开始', '重来'],
  maxFailedTurns: 3,
  handoverOnAnger: true,
  negativeStreak: 2,
  handoverOnVip: true,
  resolveOnThanks: true,
  askFeedback: false,
  flows: [],
  allowedPrivateHosts: [],
  handoverTeamId: null,
  messages: {
    clarify: {
      en: "Sorry, I didn't quite get that. Could you say it in another way, with a few more details?",
      zh: '抱歉，我没有完全理解。能换个说法，或者多提供一些细节吗？',
    },
    suggest: { en: 'Did you mean one of these?', zh: '您是想问以下哪个问题？' },
    handover: { en: "I'm connecting you with a colleague who will take it from here.", zh: '正在为您转接人工客服，请稍候。' },
    handoverOffHours: {
      en: "I've passed your conversation to our team; they will reply as soon as they are back.",
      zh: '已为您转接人工客服，客服上班后会第一时间回复您。',
    },
    thanks: { en: "You're welcome! Anything else I can help with?", zh: '不客气！还有其他可以帮您的吗？' },
    startOver: { en: "OK, let's start over. How can I help?", zh: '好的，我们重新开始。请问有什么可以帮您？' },
    flowTimeout: {
      en: "We didn't hear back, so I've stopped that request. Just write again to start over.",
      zh: '您较长时间没有回复，本次流程已结束。如需继续，请重新发送消息。',
    },
    feedbackThanks: { en: 'Thanks for the feedback!', zh: '感谢您的反馈！' },
    feedbackPrompt: { en: 'Was this helpful?', zh: '这个回答对您有帮助吗？' },
  },
};

// ---------------------------------------------------------------- flows

export type Condition =
  | { path: string; equals?: unknown; notEquals?: unknown; in?: unknown[]; exists?: boolean; matches?: string; gte?: number; lte?: number }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

export interface Branch {
  when?: Condition;
  goto: string;
}

interface StepBase {
  id: string;
}

export interface AskStep extends StepBase {
  type: 'ask';
  slot: string;
  /** Entity type from the extractor (order_number, phone, email, date, amount, url or a configured type). */
  entity?: string;
  /** Or/and a regular expression; its first capture group (if any) is the value. */
  pattern?: string;
  prompt: LocalText;
  invalid?: LocalText;
  maxAttempts?: number;
  /** Where to go when attempts run out: a step id, or `handover` (default). */
  onFail?: string;
  next?: string;
}

/** Connector actions a flow step may call (the SDK's ConnectorCapability). */
export const CONNECTOR_ACTIONS = ['lookupCustomer', 'syncTicket'] as const;
export type ConnectorAction = (typeof CONNECTOR_ACTIONS)[number];

export interface CallStep extends StepBase {
  type: 'call';
  /** An HTTP endpoint (webhook, ERP), fetched SSRF-safe; `{{slots.x}}` placeholders are URL-encoded. */
  http?: { method?: 'GET' | 'POST' | 'PUT'; url: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number };
  /**
   * Or a connector plugin's action through the plugin host: `instance` is the plugin instance id,
   * `action` one of the connector actions (`lookupCustomer`, `syncTicket`), `params` a JSON
   * template (string leaves are `{{…}}` templates).
   */
  plugin?: { instance: string; action: ConnectorAction; params?: unknown; timeoutMs?: number };
  /** Where the result goes: `results.<result>` = { ok, httpStatus?, data, error? }. */
  result: string;
  next?: string | Branch[];
  /** On a transport error or timeout: a step id, or `handover` (default). */
  onError?: string;
}

export interface BranchStep extends StepBase {
  type: 'branch';
  branches: Branch[];
  default?: string;
}

export interface ReplyStep extends StepBase {
  type: 'reply';
  text: LocalText;
  next?: string;
  end?: boolean;
}

export interface HandoverStep extends StepBase {
  type: 'handover';
  text?: LocalText;
}

export interface SetStep extends StepBase {
  type: 'set';
  slots: Record<string, string>;
  next?: string;
}

export type FlowStep = AskStep | CallStep | BranchStep | ReplyStep | HandoverStep | SetStep;

export interface FlowDefinition {
  name: string;
  description?: string;
  trigger?: { intents?: string[]; phrases?: string[]; minConfidence?: number };
  /** Seconds of customer silence while the flow waits for an answer before it is abandoned. */
  timeoutSeconds?: number;
  timeoutMessage?: LocalText;
  start?: string;
  steps: FlowStep[];
}

export interface FlowState {
  name: string;
  version: number;
  stepId: string;
  slots: Record<string, string>;
  results: Record<string, unknown>;
  attempts: number;
  startedAt: string;
}

export interface SessionState {
  turns: number;
  failedTurns: number;
  clarified: boolean;
  greeted: boolean;
  offHoursNotified: boolean;
  vip: boolean;
  answered: number;
  negativeStreak: number;
  intents: Array<{ intent: string | null; confidence: number | null }>;
  emotions: string[];
  offered: Array<{ entryId: string; title: string; score: number }>;
  lastOffered: Array<{ entryId: string; title: string }>;
  /** Slots of flows that finished, kept for the hand-over note. */
  slots: Record<string, string>;
  flow: FlowState | null;
  language: string | null;
}

export const emptySession = (): SessionState => ({
  turns: 0,
  failedTurns: 0,
  clarified: false,
  greeted: false,
  offHoursNotified: false,
  vip: false,
  answered: 0,
  negativeStreak: 0,
  intents: [],
  emotions: [],
  offered: [],
  lastOffered: [],
  slots: {},
  flow: null,
  language: null,
});

export type BotAction = 'answer' | 'suggest' | 'clarify' | 'handover' | 'flow' | 'greeting' | 'smalltalk' | 'feedback' | 'start_over';
