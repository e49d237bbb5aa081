import type { TrainExample } from '../trainer.js';
import type { NlpTask } from '../pack.js';
import type { TrainOptions } from '../trainer.js';
import { INTENT_SEED } from './intent-seed.js';
import { EMOTION_SEED } from './emotion-seed.js';
import { LANGUAGE_SEED } from './language-seed.js';

export function parseSeed(seed: string): TrainExample[] {
  return seed
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const bar = line.indexOf('|');
      return { label: line.slice(0, bar), text: line.slice(bar + 1) };
    });
}

export interface DefaultModelSpec {
  name: string;
  task: NlpTask;
  examples: () => TrainExample[];
  options: TrainOptions;
  languages: string[];
  description: string;
}

/**
 * Default packs, trained at first start from the project's own seed data (deterministic seed,
 * a second or two each) and registered as version `default-1`. Small by construction.
 */
export const DEFAULT_MODELS: DefaultModelSpec[] = [
  {
    name: 'intent',
    task: 'intent',
    examples: () => parseSeed(INTENT_SEED),
    options: { featuriser: { hashBits: 16 }, branches: ['linear'], maxEpochs: 30, validationFraction: 0, refit: false, seed: 7 },
    languages: ['en', 'zh'],
    description: 'Generic customer-service intents (project-written seed data, en + zh)',
  },
  {
    name: 'emotion',
    task: 'emotion',
    examples: () => parseSeed(EMOTION_SEED),
    options: { featuriser: { hashBits: 16 }, branches: ['linear'], maxEpochs: 30, validationFraction: 0, refit: false, seed: 7 },
    languages: ['en', 'zh'],
    description: 'Sentiment with anger/anxiety (project-written seed data, en + zh)',
  },
  {
    name: 'language',
    task: 'language',
    examples: () => parseSeed(LANGUAGE_SEED),
    options: {
      featuriser: { hashBits: 16, wordNgrams: [1, 1], charNgrams: [1, 3], placeholders: true, traditionalToSimplified: false },
      branches: ['linear'],
      maxEpochs: 30,
      validationFraction: 0,
      refit: false,
      seed: 7,
    },
    languages: ['zh', 'en', 'ja', 'ko', 'de', 'fr', 'es'],
    description: 'Language identification: zh, en, ja, ko, de, fr, es (project-written seed data)',
  },
];
