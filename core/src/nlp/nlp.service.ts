import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { ModelRegistry } from './registry.service.js';
import { annotateText, detectLanguage, type Annotation } from './annotator.js';
import { EntityExtractor, type Entity, type EntityConfig } from './entities.js';
import type { Prediction } from './runtime.js';
import { NlpError } from './nlp.error.js';
import { ExpiringCache } from '../platform/cache/expiring-cache.js';

const RECENT_ANNOTATION_MS = 10_000;
const RECENT_ANNOTATIONS = 4_000;

const annotationKey = (messageId: string, text: string, scope: string | undefined) => `${messageId}\u0000${scope ?? ''}\u0000${text.length}`;

/**
 * What other modules call: annotate a message (language, intent + calibrated confidence with
 * out-of-scope, sentiment + anger/anxiety, entities), or run one task.
 */
@Injectable()
export class NlpService {
  private entityExtractor = new EntityExtractor();
  /**
   * Annotations of recent messages: the annotation consumer and the bot both annotate every inbound
   * message on the instance that handles it, usually within milliseconds of each other. Cleared when a
   * model is swapped, so an annotation always comes from the active models.
   */
  private readonly recentAnnotations = new ExpiringCache<string, Readonly<Annotation>>(RECENT_ANNOTATION_MS, RECENT_ANNOTATIONS);

  constructor(
    private readonly registry: ModelRegistry,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    registry.onSwap(() => this.recentAnnotations.clear());
  }

  /** `annotate` for a stored message, computed once per message and instance (see `recentAnnotations`). Do not mutate the result. */
  async annotateMessage(messageId: string, text: string, options: { scope?: string } = {}): Promise<Readonly<Annotation>> {
    const key = annotationKey(messageId, text, options.scope);
    const known = this.recentAnnotations.get(key);
    if (known) return known;
    const annotation = await this.annotate(text, options);
    this.recentAnnotations.set(key, annotation);
    return annotation;
  }

  /** Records `annotation`, computed with `annotate` before the message had an id, as that message's (see `annotateMessage`). */
  rememberAnnotation(messageId: string, text: string, options: { scope?: string }, annotation: Readonly<Annotation>): void {
    this.recentAnnotations.set(annotationKey(messageId, text, options.scope), annotation);
  }

  /** Whether the models are loaded, so that `annotate` will not wait for them. */
  get ready(): boolean {
    return this.registry.isReady;
  }

  /** Intent model for an inbox/bot: `intent:<scope>` when registered, else the default `intent`. */
  private intentModel(scope?: string) {
    return (scope && this.registry.get(`intent:${scope}`)) || this.registry.get('intent');
  }

  async annotate(text: string, options: { scope?: string } = {}): Promise<Annotation> {
    await this.registry.whenReady();
    return annotateText(
      text,
      { intent: this.intentModel(options.scope), emotion: this.registry.get('emotion'), language: this.registry.get('language') },
      { entities: this.entityExtractor, now: this.clock.now() },
    );
  }

  async classify(modelName: string, text: string, topK = 3): Promise<Prediction> {
    await this.registry.whenReady();
    const model = this.registry.get(modelName);
    if (!model) throw new NlpError('nlp_model_not_found', `No version of ${modelName} is active.`, { name: modelName });
    return model.predict(text, topK);
  }

  async language(text: string): Promise<{ language: string | null; confidence: number }> {
    await this.registry.whenReady();
    return detectLanguage(text, this.registry.get('language'));
  }

  entities(text: string, config?: EntityConfig): Entity[] {
    return (config ? new EntityExtractor(config) : this.entityExtractor).extract(text, this.clock.now());
  }

  /** Replaces the instance-wide entity patterns/dictionaries (e.g. from bot configuration). */
  configureEntities(config: EntityConfig): void {
    this.entityExtractor = new EntityExtractor(config);
  }
}
