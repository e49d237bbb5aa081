/**
 * Pure annotation logic over loaded classifiers (shared by NlpService, the CLI and the bench).
 */
import { normalise } from './featuriser.js';
import type { OnnxClassifier } from './runtime.js';
import { EntityExtractor, type Entity } from './entities.js';

export type Sentiment = 'negative' | 'neutral' | 'positive';

export interface Annotation {
  language: string | null;
  languageConfidence: number;
  intent: string | null;
  intentCandidate: string | null;
  intentConfidence: number | null;
  outOfScope: boolean;
  intentTop: Array<{ label: string; p: number }>;
  sentiment: Sentiment;
  emotionConfidence: number;
  anger: boolean;
  anxiety: boolean;
  entities: Entity[];
  models: Record<string, string>;
}

const HANGUL = /[\uAC00-\uD7AF\u1100-\u11FF\u3130-\u318F]/g;
const KANA = /[\u3040-\u30FF]/g;
const HAN = /\p{Script=Han}/gu;
const LETTER = /\p{L}/gu;
const LATIN = /\p{Script=Latin}/gu;
const LATIN_LANGS = new Set(['en', 'de', 'fr', 'es']);

const ANGER_WORDS =
  /\b(?:furious|outrageous|ridiculous|scam|useless|pathetic|disgusting|unacceptable|angry|fed up|wtf|damn)\b|气死|垃圾|骗子|岂有此理|太过分|恶心|坑人|滚|愤怒|他妈/i;
const ANXIETY_WORDS = /\b(?:urgent(?:ly)?|worried|anxious|nervous|scared|afraid|emergency|asap|panic)\b|着急|急死|担心|害怕|焦虑|紧急|慌|赶紧|怎么办/i;

export function hasContent(text: string): boolean {
  const n = normalise(text, { lowercase: true, traditionalToSimplified: false, placeholders: false, maxChars: 2000 });
  return /[\p{L}\p{N}]/u.test(n);
}

export interface AnnotatorModels {
  intent?: OnnxClassifier;
  emotion?: OnnxClassifier;
  language?: OnnxClassifier;
}

const count = (text: string, re: RegExp): number => text.match(re)?.length ?? 0;

export async function detectLanguage(text: string, model?: OnnxClassifier): Promise<{ language: string | null; confidence: number }> {
  const sample = text.slice(0, 2000);
  const letters = count(sample, LETTER);
  if (!letters) return { language: null, confidence: 0 };
  const hangul = count(sample, HANGUL);
  const kana = count(sample, KANA);
  const han = count(sample, HAN);
  const latin = count(sample, LATIN);
  // Script decides the CJK languages outright; the model separates the Latin-script ones.
  if (hangul / letters >= 0.3) return { language: 'ko', confidence: Math.min(1, 0.5 + hangul / letters / 2) };
  if (kana >= 1 && (kana + han) / letters >= 0.3) return { language: 'ja', confidence: Math.min(1, 0.5 + (kana + han) / letters / 2) };
  if (han / letters >= 0.3) return { language: 'zh', confidence: Math.min(1, 0.5 + han / letters / 2) };
  if (!model) return { language: latin / letters > 0.5 ? 'en' : null, confidence: 0.3 };
  const p = await model.probabilities(sample);
  let best = -1;
  let sum = 0;
  model.labels.forEach((label, k) => {
    if (!LATIN_LANGS.has(label)) return;
    sum += p[k];
    if (best < 0 || p[k] > p[best]) best = k;
  });
  if (best < 0) return { language: null, confidence: 0 };
  const confidence = sum > 0 ? p[best] / sum : 0;
  return { language: model.labels[best], confidence: Math.round(confidence * 1000) / 1000 };
}

export async function annotateText(
  text: string,
  models: AnnotatorModels,
  options: { entities?: EntityExtractor; now?: Date; intentThreshold?: number } = {},
): Promise<Annotation> {
  const input = typeof text === 'string' ? text : '';
  const used: Record<string, string> = {};
  for (const [key, model] of Object.entries(models)) if (model) used[key] = `${model.manifest.name}@${model.manifest.version}`;
  const entities = (options.entities ?? new EntityExtractor()).extract(input, options.now);
  if (!hasContent(input)) {
    // Empty, whitespace, zero-width, emoji-only, punctuation: a fixed low-confidence answer.
    return {
      language: null,
      languageConfidence: 0,
      intent: null,
      intentCandidate: null,
      intentConfidence: 0,
      outOfScope: true,
      intentTop: [],
      sentiment: 'neutral',
      emotionConfidence: 0,
      anger: false,
      anxiety: false,
      entities,
      models: used,
    };
  }
  const [language, intentP, emotionP] = await Promise.all([
    detectLanguage(input, models.language),
    models.intent ? models.intent.probabilities(input) : Promise.resolve(undefined),
    models.emotion ? models.emotion.probabilities(input) : Promise.resolve(undefined),
  ]);
  let intent: string | null = null;
  let intentCandidate: string | null = null;
  let intentConfidence: number | null = null;
  let intentTop: Annotation['intentTop'] = [];
  let outOfScope = true;
  if (models.intent && intentP) {
    const prediction = models.intent.toPrediction(intentP, 3);
    intentCandidate = prediction.label;
    intentConfidence = Math.round(prediction.confidence * 10000) / 10000;
    intentTop = prediction.top;
    const threshold = options.intentThreshold ?? models.intent.manifest.outOfScopeThreshold;
    outOfScope = prediction.confidence < threshold;
    intent = outOfScope ? null : prediction.label;
  }
  let sentiment: Sentiment = 'neutral';
  let emotionConfidence = 0;
  let anger = ANGER_WORDS.test(input);
  let anxiety = ANXIETY_WORDS.test(input);
  if (models.emotion && emotionP) {
    const p = (label: string) => {
      const k = models.emotion!.labels.indexOf(label);
      return k >= 0 ? emotionP[k] : 0;
    };
    const grouped: Record<Sentiment, number> = { negative: p('negative') + p('anger') + p('anxiety'), neutral: p('neutral'), positive: p('positive') };
    sentiment = (Object.keys(grouped) as Sentiment[]).reduce((a, b) => (grouped[b] > grouped[a] ? b : a));
    emotionConfidence = Math.round(grouped[sentiment] * 1000) / 1000;
    anger ||= p('anger') >= 0.4;
    anxiety ||= p('anxiety') >= 0.4;
  }
  if ((anger || anxiety) && sentiment !== 'negative') sentiment = 'negative';
  return {
    language: language.language,
    languageConfidence: language.confidence,
    intent,
    intentCandidate,
    intentConfidence,
    outOfScope,
    intentTop,
    sentiment,
    emotionConfidence,
    anger,
    anxiety,
    entities,
    models: used,
  };
}
