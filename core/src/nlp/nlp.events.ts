export const NLP_MESSAGE_ANNOTATED = 'sb.evt.nlp.message_annotated';
export const NLP_MODEL_REGISTERED = 'sb.evt.nlp.model_registered';
export const NLP_MODEL_ACTIVATED = 'sb.evt.nlp.model_activated';
/** Request/reply: a pack's files in chunks, from the instance that has them. */
export const NLP_PACK_FETCH = 'sb.nlp.pack.fetch';

export interface NlpMessageAnnotatedEvent {
  conversationId: string;
  messageId: string;
  seq: number;
  language: string | null;
  languageConfidence: number;
  intent: string | null;
  intentConfidence: number | null;
  /** The model's best label even when below the out-of-scope threshold. */
  intentCandidate: string | null;
  outOfScope: boolean;
  sentiment: 'negative' | 'neutral' | 'positive';
  emotionConfidence: number;
  anger: boolean;
  anxiety: boolean;
  entities: Array<{ type: string; value: unknown; start: number; end: number }>;
  models: Record<string, string>;
}

export interface NlpModelActivatedEvent {
  name: string;
  task: string;
  version: string;
  sha256: string;
  sourceInstance: string;
  previousVersion: string | null;
}

export interface PackFetchRequest {
  name: string;
  version: string;
  file: 'model.onnx' | 'manifest.json';
  offset: number;
}

export interface PackFetchReply {
  found: boolean;
  /** base64 chunk */
  data?: string;
  total?: number;
}
