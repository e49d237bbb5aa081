import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Not, IsNull, type DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { BUS, type Bus, type Closable } from '../platform/bus/bus.port.js';
import type { EventEnvelope } from '../platform/outbox/outbox.entity.js';
import { RetrievalService } from '../nlp/retrieval.service.js';
import { KbEntryRow, type KbContent } from './entities/knowledge.entity.js';
import { KNOWLEDGE_SUBJECTS } from './knowledge.events.js';
import { htmlToText, shingles } from './text.js';
import type { KbHit } from './knowledge.types.js';

interface LiveEntry {
  id: string;
  kbId: string;
  teamId: string | null;
  content: KbContent;
  answerText: string;
  /** Content terms of each question variant (and the title), for lexical support. */
  variantTerms: Array<Set<string>>;
}

/**
 * How much of the query's content (stop words removed; CJK characters and bigrams) the entry's
 * closest variant covers, 0–1. The re-ranker's probability is relative to the other candidates
 * (the best BM25 candidate always looks good), so an out-of-scope question can score high; the
 * bot's confidence is the geometric mean of both.
 */
export function lexicalSupport(query: Set<string>, variants: Array<Set<string>>): number {
  if (!query.size) return 0;
  let best = 0;
  for (const v of variants) {
    let inter = 0;
    for (const t of query) if (v.has(t)) inter++;
    best = Math.max(best, inter / query.size);
  }
  return best;
}

/**
 * The published knowledge base in memory on every instance: two retrieval indexes per KB
 * (`kb:<id>:public` for the bot and customers, `kb:<id>:all` with internal entries for agents)
 * plus the live entries they point at. Publishing emits an event that every instance consumes
 * (`each-instance`) and re-indexes from the database; the instance that published also
 * re-indexes right after its commit. Re-indexing a KB is a rebuild (BM25 + re-ranker fit on the
 * KB's own variants), done in milliseconds for FAQ-sized KBs, with no model retraining.
 */
@Injectable()
export class KnowledgeIndexer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('knowledge-index');
  private readonly live = new Map<string, Map<string, LiveEntry>>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  private readonly listeners = new Set<(kbId: string) => void>();
  private handle?: Closable;
  private booted: Promise<void> = Promise.resolve();
  readonly stats = { rebuilds: 0, lastRebuildMs: 0 };

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(BUS) private readonly bus: Bus,
    private readonly retrieval: RetrievalService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.handle = await this.bus.consume<EventEnvelope<{ kbId?: string }>>({
      name: 'knowledge-reindex',
      subject: KNOWLEDGE_SUBJECTS,
      delivery: 'each-instance',
      handler: async (message) => {
        const subject = message.data?.subject ?? message.subject;
        if (!/\.(published|unpublished|imported)$/.test(subject)) return;
        const kbId = message.data?.data?.kbId;
        if (typeof kbId === 'string') await this.reindex(kbId);
      },
    });
    this.booted = this.reindexAll();
    await this.booted;
  }

  async onModuleDestroy(): Promise<void> {
    await this.handle?.close();
  }

  whenReady(): Promise<void> {
    return this.booted;
  }

  onReindexed(listener: (kbId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async reindexAll(): Promise<void> {
    const rows = await this.dataSource.manager
      .createQueryBuilder(KbEntryRow, 'e')
      .select('DISTINCT e.kb_id', 'kbId')
      .where('e.live IS NOT NULL')
      .getRawMany<{ kbId: string }>();
    for (const { kbId } of rows) await this.reindex(kbId);
  }

  /** Rebuilds one KB's indexes; concurrent calls coalesce into one more rebuild. */
  reindex(kbId: string): Promise<void> {
    const current = this.running.get(kbId);
    if (current) {
      this.dirty.add(kbId);
      return current;
    }
    const run = (async () => {
      do {
        this.dirty.delete(kbId);
        await this.rebuild(kbId);
      } while (this.dirty.has(kbId));
    })().finally(() => this.running.delete(kbId));
    this.running.set(kbId, run);
    return run;
  }

  private async rebuild(kbId: string): Promise<void> {
    const started = performance.now();
    const rows = await this.dataSource.manager.find(KbEntryRow, {
      where: { kbId, live: Not(IsNull()), status: Not('archived') },
      select: { id: true, kbId: true, teamId: true, live: true },
    });
    const entries = new Map<string, LiveEntry>();
    for (const row of rows) {
      if (!row.live) continue;
      entries.set(row.id, {
        id: row.id,
        kbId,
        teamId: row.teamId,
        content: row.live,
        answerText: htmlToText(row.live.answer),
        variantTerms: [...row.live.questions, row.live.title].map(shingles),
      });
    }
    const toKb = (e: LiveEntry) => ({
      id: e.id,
      questions: e.content.questions.length ? e.content.questions : [e.content.title],
      text: `${e.content.title}\n${e.answerText}`,
    });
    const all = [...entries.values()];
    this.retrieval.index(`kb:${kbId}:public`, all.filter((e) => e.content.audience === 'public').map(toKb));
    this.retrieval.index(`kb:${kbId}:all`, all.map(toKb));
    this.live.set(kbId, entries);
    this.stats.rebuilds++;
    this.stats.lastRebuildMs = performance.now() - started;
    this.logger.debug({ kbId, entries: entries.size, ms: Math.round(this.stats.lastRebuildMs) }, 'knowledge base re-indexed');
    for (const listener of this.listeners) listener(kbId);
  }

  liveEntry(kbId: string, entryId: string): LiveEntry | undefined {
    return this.live.get(kbId)?.get(entryId);
  }

  liveCount(kbId: string): number {
    return this.live.get(kbId)?.size ?? 0;
  }

  /**
   * Published entries matching a query, best first by confidence (re-ranker probability ×
   * lexical support, geometric mean). `audience: 'public'` searches only public entries; `teams`
   * limits to entries with no team or one of these teams ('all' = no limit).
   */
  search(kbId: string, query: string, options: { k?: number; audience?: 'public' | 'all'; teams?: 'all' | string[] } = {}): KbHit[] {
    const k = options.k ?? 5;
    const hits = this.retrieval.search(`kb:${kbId}:${options.audience ?? 'public'}`, query, Math.max(k * 3, 10));
    const terms = shingles(query);
    const out: KbHit[] = [];
    const teams = options.teams ?? 'all';
    for (const hit of hits) {
      const entry = this.liveEntry(kbId, hit.id);
      if (!entry) continue;
      if (teams !== 'all' && entry.teamId !== null && !teams.includes(entry.teamId)) continue;
      const support = lexicalSupport(terms, entry.variantTerms);
      out.push({
        entryId: entry.id,
        kbId,
        score: Math.round(Math.sqrt(hit.score * support) * 10000) / 10000,
        retrievalScore: Math.round(hit.score * 10000) / 10000,
        support: Math.round(support * 10000) / 10000,
        matched: hit.matched,
        title: entry.content.title,
        question: entry.content.questions[0] ?? entry.content.title,
        answer: entry.content.answer,
        answerText: entry.answerText,
        language: entry.content.language,
        audience: entry.content.audience,
        teamId: entry.teamId,
        tags: entry.content.tags,
      });
    }
    return out.sort((a, b) => b.score - a.score || b.retrievalScore - a.retrievalScore).slice(0, k);
  }
}
