import { Injectable } from '@nestjs/common';
import { KbIndex, type KbEntry, type RetrievalHit } from './retrieval.js';

/**
 * Retrieval for the knowledge module: it calls `index(kbId, entries)` whenever a knowledge base
 * changes (and at start), then `search(kbId, query, k)`. Indexes live in memory on each instance;
 * the re-ranker is retrained from the entries' question variants on every `index` call.
 */
@Injectable()
export class RetrievalService {
  private readonly indexes = new Map<string, KbIndex>();

  index(kbId: string, entries: KbEntry[]): { entries: number; rerankerTrainingPairs: number } {
    const index = new KbIndex(entries);
    this.indexes.set(kbId, index);
    return { entries: entries.length, rerankerTrainingPairs: index.trainedOn };
  }

  search(kbId: string, query: string, k = 5): RetrievalHit[] {
    return this.indexes.get(kbId)?.search(query, k) ?? [];
  }

  drop(kbId: string): void {
    this.indexes.delete(kbId);
  }

  has(kbId: string): boolean {
    return this.indexes.has(kbId);
  }
}
