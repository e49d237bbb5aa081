import type { KbAudience, KbContent, KbKind, KbStatus } from './entities/knowledge.entity.js';

export type { KbAudience, KbContent, KbKind, KbStatus } from './entities/knowledge.entity.js';

export const DEFAULT_KB = 'default';

export interface KbEntryView {
  id: string;
  kbId: string;
  kind: KbKind;
  title: string;
  questions: string[];
  answer: string;
  answerText: string;
  language: string | null;
  tags: string[];
  audience: KbAudience;
  status: KbStatus;
  teamId: string | null;
  version: number;
  publishedVersion: number | null;
  /** The working copy differs from what is published. */
  hasUnpublishedChanges: boolean;
  helpful: number;
  notHelpful: number;
  createdBy: string | null;
  updatedBy: string | null;
  createdAt: string;
  updatedAt: string;
  publishedAt: string | null;
}

export interface KbEntryInput {
  kbId?: string;
  kind?: KbKind;
  title?: string;
  questions?: string[];
  answer?: string;
  language?: string | null;
  tags?: string[];
  audience?: KbAudience;
  teamId?: string | null;
}

export interface KbVersionView {
  version: number;
  action: string;
  authorId: string | null;
  authorName: string | null;
  createdAt: string;
  diff: string;
  content?: KbContent;
}

/** A published entry that matched a query. */
export interface KbHit {
  entryId: string;
  kbId: string;
  /** Confidence 0–1: geometric mean of the re-ranker probability and lexical support. */
  score: number;
  /** The retrieval re-ranker's probability. */
  retrievalScore: number;
  /** Share of the query's content terms covered by the closest variant. */
  support: number;
  matched: string;
  title: string;
  question: string;
  answer: string;
  answerText: string;
  language: string | null;
  audience: KbAudience;
  teamId: string | null;
  tags: string[];
}

export interface KbProposalView {
  id: string;
  kbId: string;
  kind: 'new_faq' | 'new_variant';
  source: 'mining' | 'agent_answer';
  status: 'pending' | 'approved' | 'rejected';
  questions: string[];
  answer: string | null;
  entryId: string | null;
  language: string | null;
  occurrences: number;
  conversationIds: string[];
  decidedBy: string | null;
  decidedAt: string | null;
  resultEntryId: string | null;
  createdAt: string;
}

export interface UnansweredInput {
  kbId: string;
  messageId: string;
  conversationId: string;
  question: string;
  language: string | null;
  reason: string;
  bestEntryId?: string | null;
  bestScore?: number | null;
}

export type KbFormat = 'json' | 'csv' | 'markdown';
