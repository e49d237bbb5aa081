import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { randomUUID, createHash } from 'node:crypto';
import { In, IsNull, type DataSource, type EntityManager } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { UnitOfWork, type Tx } from '../platform/database/unit-of-work.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { SchedulerService } from '../platform/scheduler/scheduler.service.js';
import { AccessPolicy } from '../identity/access-policy.js';
import type { Actor } from '../identity/actor.js';
import { SettingsService } from '../settings/settings.service.js';
import { KbEntryRow, KbFeedbackRow, KbProposalRow, KbUnansweredRow, KbVersionRow, type KbContent } from './entities/knowledge.entity.js';
import { KnowledgeError } from './knowledge.error.js';
import {
  KNOWLEDGE_FEEDBACK,
  KNOWLEDGE_IMPORTED,
  KNOWLEDGE_PROPOSAL_CREATED,
  KNOWLEDGE_PUBLISHED,
  KNOWLEDGE_UNPUBLISHED,
  type KnowledgeFeedbackEvent,
  type KnowledgeImportedEvent,
  type KnowledgeProposalCreatedEvent,
  type KnowledgePublishedEvent,
  type KnowledgeUnpublishedEvent,
} from './knowledge.events.js';
import { KnowledgeIndexer } from './knowledge.indexer.js';
import { cluster, contentLines, htmlToText, jaccard, lineDiff, shingles, toAnswerHtml } from './text.js';
import { exportEntries, importEntries, type PortableEntry } from './io.js';
import {
  DEFAULT_KB,
  type KbEntryInput,
  type KbEntryView,
  type KbFormat,
  type KbHit,
  type KbProposalView,
  type KbVersionView,
  type UnansweredInput,
} from './knowledge.types.js';

export const KNOWLEDGE_SETTINGS = {
  miningMinOccurrences: 'knowledge.miningMinOccurrences',
  miningSimilarity: 'knowledge.miningSimilarity',
  miningIntervalMinutes: 'knowledge.miningIntervalMinutes',
} as const;

const MAX_QUESTIONS = 100;
const MAX_ANSWER = 60_000;
const KB_ID = /^[A-Za-z0-9_.-]{1,64}$/;

const notFound = (id?: string) => () => new KnowledgeError('kb_entry_not_found', 'There is no such knowledge entry.', id ? { id } : undefined);

/**
 * The knowledge base: articles and FAQ entries with question variants, versions (author +
 * diff), publishing (re-indexed on every instance within seconds), feedback, import/export,
 * unanswered-question mining and proposals from the learning loop.
 */
@Injectable()
export class KnowledgeService implements OnModuleInit {
  private readonly logger = new Logger('knowledge');

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly uow: UnitOfWork,
    private readonly access: AccessPolicy,
    private readonly settings: SettingsService,
    private readonly scheduler: SchedulerService,
    private readonly indexer: KnowledgeIndexer,
  ) {
    const int = (min: number, max: number) => (v: unknown) =>
      Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? null : `must be an integer between ${min} and ${max}`;
    this.settings.define({
      key: KNOWLEDGE_SETTINGS.miningMinOccurrences,
      description: 'Unanswered questions needed in one cluster before it is proposed as a new FAQ entry',
      default: 2,
      validate: int(1, 1000),
    });
    this.settings.define({
      key: KNOWLEDGE_SETTINGS.miningSimilarity,
      description: 'Similarity (0–1, token Jaccard) above which unanswered questions fall in one cluster',
      default: 0.3,
      validate: (v) => (typeof v === 'number' && v > 0 && v < 1 ? null : 'must be a number between 0 and 1'),
    });
    this.settings.define({
      key: KNOWLEDGE_SETTINGS.miningIntervalMinutes,
      description: 'How often unanswered questions are clustered into proposals (0 = only on request)',
      default: 60,
      validate: int(0, 10_080),
    });
  }

  onModuleInit(): void {
    this.scheduler.every('knowledge.mining', 60_000, async () => {
      const minutes = this.settings.get<number>(KNOWLEDGE_SETTINGS.miningIntervalMinutes);
      if (!minutes) return;
      const last = this.lastMining ?? 0;
      if (Date.now() - last < minutes * 60_000) return;
      this.lastMining = Date.now();
      const kbs = await this.dataSource.manager
        .createQueryBuilder(KbUnansweredRow, 'u')
        .select('DISTINCT u.kb_id', 'kbId')
        .where('u.proposal_id IS NULL')
        .getRawMany<{ kbId: string }>();
      for (const { kbId } of kbs) await this.mine(kbId);
    });
  }
  private lastMining?: number;

  // ---------------------------------------------------------------- entries

  async list(
    actor: Actor,
    filter: { kbId?: string; status?: string; audience?: string; language?: string; tag?: string; q?: string; limit?: number; offset?: number },
  ): Promise<{ items: KbEntryView[]; total: number }> {
    const qb = this.dataSource.manager.createQueryBuilder(KbEntryRow, 'e').where('e.kb_id = :kbId', { kbId: filter.kbId ?? DEFAULT_KB });
    if (filter.status) qb.andWhere('e.status = :status', { status: filter.status });
    else qb.andWhere("e.status <> 'archived'");
    if (filter.audience) qb.andWhere('e.audience = :audience', { audience: filter.audience });
    if (filter.language) qb.andWhere('e.language = :language', { language: filter.language });
    const teams = this.access.visibleTeams(actor);
    if (teams !== 'all') qb.andWhere(teams.length ? '(e.team_id IS NULL OR e.team_id IN (:...teams))' : 'e.team_id IS NULL', { teams });
    if (filter.q)
      qb.andWhere("(LOWER(e.title) LIKE :q ESCAPE '!' OR LOWER(e.questions) LIKE :q ESCAPE '!')", {
        q: `%${filter.q.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`,
      });
    const rows = await qb.orderBy('e.updated_at', 'DESC').addOrderBy('e.id', 'ASC').getMany();
    const filtered = filter.tag ? rows.filter((r) => r.tags.includes(filter.tag!)) : rows;
    const offset = filter.offset ?? 0;
    const limit = filter.limit ?? 100;
    return { items: filtered.slice(offset, offset + limit).map(entryView), total: filtered.length };
  }

  async get(actor: Actor, id: string): Promise<KbEntryView> {
    return entryView(await this.load(actor, id));
  }

  private async load(actor: Actor, id: string, manager: EntityManager = this.dataSource.manager): Promise<KbEntryRow> {
    const row = await manager.findOne(KbEntryRow, { where: { id } });
    return this.access.assertCanSee(actor, row, notFound(id), 'kb_entry');
  }

  async create(actor: Actor, input: KbEntryInput & { publish?: boolean }): Promise<KbEntryView> {
    const content = this.validate(input, null);
    const kbId = input.kbId ?? DEFAULT_KB;
    if (!KB_ID.test(kbId)) throw new KnowledgeError('kb_invalid', 'kbId must be 1–64 letters, digits, ".", "_" or "-".', { field: 'kbId' });
    if (input.teamId && !this.access.canSee(actor, { teamId: input.teamId }))
      throw new KnowledgeError('kb_invalid', 'You cannot create entries for that team.', { field: 'teamId' });
    return this.uow.run(async (tx) => {
      const row = await this.insertEntry(tx, actor, kbId, content, input.teamId ?? null, 'created');
      if (input.publish) await this.publishInTx(tx, actor, row);
      return entryView(row);
    });
  }

  private async insertEntry(
    tx: Tx,
    actor: Actor | null,
    kbId: string,
    content: KbContent,
    teamId: string | null,
    action: KbVersionRow['action'],
    id?: string,
  ): Promise<KbEntryRow> {
    const now = this.clock.now();
    const row: KbEntryRow = Object.assign(new KbEntryRow(), {
      id: id ?? randomUUID(),
      kbId,
      ...content,
      status: 'draft',
      teamId,
      version: 1,
      publishedVersion: null,
      live: null,
      helpful: 0,
      notHelpful: 0,
      createdBy: actor?.id ?? null,
      updatedBy: actor?.id ?? null,
      createdAt: now,
      updatedAt: now,
      publishedAt: null,
    });
    await tx.manager.insert(KbEntryRow, row);
    await this.insertVersion(tx.manager, row, null, content, action, actor);
    return row;
  }

  private async insertVersion(
    manager: EntityManager,
    row: KbEntryRow,
    before: KbContent | null,
    after: KbContent,
    action: KbVersionRow['action'],
    actor: Actor | null,
  ): Promise<void> {
    await manager.insert(KbVersionRow, {
      id: randomUUID(),
      entryId: row.id,
      version: row.version,
      content: after,
      diff: lineDiff(contentLines(before), contentLines(after)),
      action,
      authorId: actor?.id ?? null,
      authorName: actor?.displayName ?? null,
      createdAt: this.clock.now(),
    });
  }

  async update(actor: Actor, id: string, patch: KbEntryInput & { expectedVersion?: number; publish?: boolean }): Promise<KbEntryView> {
    return this.uow.run(async (tx) => {
      const row = await this.load(actor, id, tx.manager);
      if (patch.expectedVersion !== undefined && patch.expectedVersion !== row.version) {
        throw new KnowledgeError('kb_version_conflict', 'The entry changed since you loaded it.', { version: row.version });
      }
      if (patch.teamId !== undefined && patch.teamId !== null && !this.access.canSee(actor, { teamId: patch.teamId }))
        throw new KnowledgeError('kb_invalid', 'You cannot move entries to that team.', { field: 'teamId' });
      const before = contentOf(row);
      const after = this.validate(patch, before);
      const changed = JSON.stringify(before) !== JSON.stringify(after);
      if (changed) await this.applyContent(tx, actor, row, before, after, 'updated');
      if (patch.teamId !== undefined && patch.teamId !== row.teamId) {
        row.teamId = patch.teamId;
        await tx.manager.update(KbEntryRow, { id: row.id }, { teamId: row.teamId });
      }
      if (patch.publish) await this.publishInTx(tx, actor, row);
      return entryView(row);
    });
  }

  private async applyContent(tx: Tx, actor: Actor | null, row: KbEntryRow, before: KbContent, after: KbContent, action: KbVersionRow['action']): Promise<void> {
    const now = this.clock.now();
    const moved = await tx.manager
      .createQueryBuilder()
      .update(KbEntryRow)
      .set({ ...after, version: row.version + 1, updatedAt: now, updatedBy: actor?.id ?? null })
      .where('id = :id AND version = :version', { id: row.id, version: row.version })
      .execute();
    if (moved.affected !== 1) throw new KnowledgeError('kb_version_conflict', 'The entry changed concurrently; retry.', { id: row.id });
    Object.assign(row, after, { version: row.version + 1, updatedAt: now, updatedBy: actor?.id ?? null });
    await this.insertVersion(tx.manager, row, before, after, action, actor);
  }

  async publish(actor: Actor, id: string): Promise<KbEntryView> {
    return this.uow.run(async (tx) => {
      const row = await this.load(actor, id, tx.manager);
      await this.publishInTx(tx, actor, row);
      return entryView(row);
    });
  }

  private async publishInTx(tx: Tx, actor: Actor | null, row: KbEntryRow): Promise<void> {
    const now = this.clock.now();
    row.live = contentOf(row);
    row.publishedVersion = row.version;
    row.status = 'published';
    row.publishedAt = now;
    await tx.manager.update(
      KbEntryRow,
      { id: row.id },
      { live: row.live, publishedVersion: row.version, status: 'published', publishedAt: now, updatedBy: actor?.id ?? row.updatedBy },
    );
    const data: KnowledgePublishedEvent = { kbId: row.kbId, entryId: row.id, version: row.version };
    await tx.emit({ subject: KNOWLEDGE_PUBLISHED, id: `kb-published:${row.id}:${row.version}:${now.getTime()}`, data });
    // This instance does not wait for the bus round trip.
    tx.afterCommit(() => void this.indexer.reindex(row.kbId));
  }

  async unpublish(actor: Actor, id: string, archive = false): Promise<KbEntryView> {
    return this.uow.run(async (tx) => {
      const row = await this.load(actor, id, tx.manager);
      const wasLive = row.live !== null;
      row.live = null;
      row.status = archive ? 'archived' : 'draft';
      await tx.manager.update(KbEntryRow, { id: row.id }, { live: null, status: row.status, updatedBy: actor.id, updatedAt: this.clock.now() });
      if (wasLive) {
        const data: KnowledgeUnpublishedEvent = { kbId: row.kbId, entryId: row.id };
        await tx.emit({ subject: KNOWLEDGE_UNPUBLISHED, id: `kb-unpublished:${row.id}:${this.clock.now().getTime()}`, data });
        tx.afterCommit(() => void this.indexer.reindex(row.kbId));
      }
      return entryView(row);
    });
  }

  async versions(actor: Actor, id: string): Promise<KbVersionView[]> {
    await this.load(actor, id);
    const rows = await this.dataSource.manager.find(KbVersionRow, { where: { entryId: id }, order: { version: 'DESC' } });
    return rows.filter((r) => r.action !== 'archived').map((r) => versionView(r, false));
  }

  async version(actor: Actor, id: string, version: number): Promise<KbVersionView> {
    await this.load(actor, id);
    const row = await this.dataSource.manager.findOne(KbVersionRow, { where: { entryId: id, version } });
    if (!row) throw new KnowledgeError('kb_version_not_found', 'There is no such version.', { id, version });
    return versionView(row, true);
  }

  /** Restores an earlier version's content as a new version (not published until published). */
  async restore(actor: Actor, id: string, version: number): Promise<KbEntryView> {
    const target = await this.version(actor, id, version);
    return this.update(actor, id, { ...target.content! });
  }

  private validate(input: KbEntryInput, base: KbContent | null): KbContent {
    const fail = (message: string, field: string) => {
      throw new KnowledgeError('kb_invalid', message, { field });
    };
    const questions = (input.questions ?? base?.questions ?? []).map((q) => (typeof q === 'string' ? q.trim() : '')).filter(Boolean);
    const unique = [...new Set(questions)];
    if (unique.length > MAX_QUESTIONS) fail(`At most ${MAX_QUESTIONS} question variants.`, 'questions');
    if (unique.some((q) => q.length > 500)) fail('A question variant is at most 500 characters.', 'questions');
    const kind = input.kind ?? base?.kind ?? 'faq';
    const title = (input.title ?? base?.title ?? unique[0] ?? '').trim();
    if (!title) fail('An entry needs a title or at least one question.', 'title');
    if (kind === 'faq' && !unique.length) fail('A FAQ entry needs at least one question.', 'questions');
    const rawAnswer = input.answer ?? base?.answer;
    if (typeof rawAnswer !== 'string' || !rawAnswer.trim()) fail('An entry needs an answer.', 'answer');
    if (rawAnswer!.length > MAX_ANSWER) fail(`The answer is at most ${MAX_ANSWER} characters.`, 'answer');
    const answer = input.answer !== undefined ? toAnswerHtml(rawAnswer!) : rawAnswer!;
    if (!htmlToText(answer)) fail('The answer is empty once sanitised.', 'answer');
    const tags = [...new Set((input.tags ?? base?.tags ?? []).map((t) => String(t).trim()).filter(Boolean))].slice(0, 50);
    const language = input.language !== undefined ? input.language : (base?.language ?? null);
    return {
      kind,
      title: title.slice(0, 300),
      questions: unique.length ? unique : [title],
      answer,
      language: language || null,
      tags,
      audience: input.audience ?? base?.audience ?? 'public',
    };
  }

  // ---------------------------------------------------------------- search and feedback

  /** Search over the published KB. Agents see internal entries too; integrators and customers only public. */
  async search(actor: Actor | null, input: { kbId?: string; q: string; k?: number; audience?: 'public' | 'all' }): Promise<KbHit[]> {
    await this.indexer.whenReady();
    const kbId = input.kbId ?? DEFAULT_KB;
    const audience = actor && actor.kind === 'user' ? (input.audience ?? 'all') : 'public';
    return this.indexer.search(kbId, input.q, { k: input.k ?? 5, audience, teams: actor ? this.access.visibleTeams(actor) : 'all' });
  }

  /** For the bot: public published entries, no team restriction beyond the given team. */
  searchPublic(kbId: string, q: string, k = 3, teamId: string | null = null): KbHit[] {
    return this.indexer.search(kbId, q, { k, audience: 'public', teams: teamId ? [teamId] : [] });
  }

  /** For assist: every published entry the agent's teams may see. */
  searchForAgent(kbId: string, q: string, k: number, teams: 'all' | string[]): KbHit[] {
    return this.indexer.search(kbId, q, { k, audience: 'all', teams });
  }

  liveHit(kbId: string, entryId: string): KbHit | null {
    const entry = this.indexer.liveEntry(kbId, entryId);
    if (!entry) return null;
    return {
      entryId,
      kbId,
      score: 1,
      retrievalScore: 1,
      support: 1,
      matched: entry.content.questions[0] ?? entry.content.title,
      title: entry.content.title,
      question: entry.content.questions[0] ?? entry.content.title,
      answer: entry.content.answer,
      answerText: entry.answerText,
      language: entry.content.language,
      audience: entry.content.audience,
      teamId: entry.teamId,
      tags: entry.content.tags,
    };
  }

  whenIndexed(): Promise<void> {
    return this.indexer.whenReady();
  }

  /** Helpful / not helpful. `dedupeKey` makes a retried request or a re-pressed button count once. */
  async feedback(
    input: {
      entryId: string;
      helpful: boolean;
      source: 'customer' | 'agent';
      actorId?: string | null;
      conversationId?: string | null;
      comment?: string | null;
      dedupeKey?: string;
    },
    actor?: Actor,
  ): Promise<{ recorded: boolean; helpful: number; notHelpful: number }> {
    return this.uow.run(async (tx) => {
      const row = actor ? await this.load(actor, input.entryId, tx.manager) : await tx.manager.findOne(KbEntryRow, { where: { id: input.entryId } });
      if (!row) throw notFound(input.entryId)();
      const dedupeKey = input.dedupeKey ?? `${input.source}:${input.actorId ?? 'anon'}:${input.conversationId ?? 'none'}:${input.entryId}`;
      const existing = await tx.manager.findOne(KbFeedbackRow, { where: { dedupeKey } });
      if (existing) return { recorded: false, helpful: row.helpful, notHelpful: row.notHelpful };
      await tx.manager.insert(KbFeedbackRow, {
        id: randomUUID(),
        entryId: row.id,
        helpful: input.helpful,
        source: input.source,
        actorId: input.actorId ?? null,
        conversationId: input.conversationId ?? null,
        dedupeKey,
        comment: input.comment?.slice(0, 1000) ?? null,
        createdAt: this.clock.now(),
      });
      const column = input.helpful ? 'helpful' : 'not_helpful';
      await tx.manager
        .createQueryBuilder()
        .update(KbEntryRow)
        .set({ [input.helpful ? 'helpful' : 'notHelpful']: () => `${column} + 1` })
        .where('id = :id', { id: row.id })
        .execute();
      const data: KnowledgeFeedbackEvent = { entryId: row.id, helpful: input.helpful, source: input.source, conversationId: input.conversationId ?? null };
      await tx.emit({ subject: KNOWLEDGE_FEEDBACK, id: `kb-feedback:${dedupeKey}`, data });
      return { recorded: true, helpful: row.helpful + (input.helpful ? 1 : 0), notHelpful: row.notHelpful + (input.helpful ? 0 : 1) };
    });
  }

  // ---------------------------------------------------------------- import / export

  async importEntries(
    actor: Actor,
    input: { kbId?: string; format: KbFormat; content: string; publish?: boolean },
  ): Promise<{ created: number; updated: number; published: number; errors: string[] }> {
    const kbId = input.kbId ?? DEFAULT_KB;
    if (!KB_ID.test(kbId)) throw new KnowledgeError('kb_invalid', 'kbId must be 1–64 letters, digits, ".", "_" or "-".', { field: 'kbId' });
    let entries: PortableEntry[];
    try {
      entries = importEntries(input.content, input.format);
    } catch (error) {
      throw new KnowledgeError('kb_import_invalid', `The ${input.format} content could not be read: ${(error as Error).message}`);
    }
    if (entries.length > 10_000) throw new KnowledgeError('kb_import_invalid', 'At most 10,000 entries per import.');
    return this.uow.run(async (tx) => {
      let created = 0;
      let updated = 0;
      let published = 0;
      for (const entry of entries) {
        const content = this.validate({ ...entry }, null);
        const found = entry.id ? await tx.manager.findOne(KbEntryRow, { where: { id: entry.id } }) : null;
        const existing = found && found.kbId === kbId ? found : null;
        let row: KbEntryRow;
        if (existing && this.access.canSee(actor, existing)) {
          const before = contentOf(existing);
          if (JSON.stringify(before) !== JSON.stringify(content)) {
            await this.applyContent(tx, actor, existing, before, content, 'imported');
            updated++;
          }
          row = existing;
        } else {
          const id = entry.id && /^[0-9a-f-]{36}$/i.test(entry.id) && !found ? entry.id : undefined;
          row = await this.insertEntry(tx, actor, kbId, content, null, 'imported', id);
          created++;
        }
        if (input.publish || entry.status === 'published') {
          row.live = contentOf(row);
          row.publishedVersion = row.version;
          row.status = 'published';
          row.publishedAt = this.clock.now();
          await tx.manager.update(
            KbEntryRow,
            { id: row.id },
            { live: row.live, publishedVersion: row.version, status: 'published', publishedAt: row.publishedAt },
          );
          published++;
        }
      }
      const data: KnowledgeImportedEvent = { kbId, created, updated, published };
      await tx.emit({ subject: KNOWLEDGE_IMPORTED, id: `kb-imported:${kbId}:${randomUUID()}`, data });
      tx.afterCommit(() => void this.indexer.reindex(kbId));
      return { created, updated, published, errors: [] };
    });
  }

  async exportEntries(actor: Actor, input: { kbId?: string; format: KbFormat; status?: string }): Promise<string> {
    const kbId = input.kbId ?? DEFAULT_KB;
    const { items } = await this.list(actor, { kbId, status: input.status, limit: 100_000 });
    const entries: PortableEntry[] = items.map((e) => ({
      id: e.id,
      kind: e.kind,
      title: e.title,
      questions: e.questions,
      answer: e.answer,
      language: e.language,
      tags: e.tags,
      audience: e.audience,
      status: e.status,
    }));
    return exportEntries(entries, input.format, kbId);
  }

  // ---------------------------------------------------------------- unanswered questions and proposals

  /** The bot reports a question it could not answer (idempotent per message). */
  async recordUnanswered(input: UnansweredInput): Promise<void> {
    const question = input.question.trim().slice(0, 1000);
    if (!question) return;
    await this.dataSource.manager
      .insert(KbUnansweredRow, {
        id: randomUUID(),
        kbId: input.kbId,
        messageId: input.messageId,
        conversationId: input.conversationId,
        question,
        language: input.language,
        reason: input.reason.slice(0, 32),
        bestEntryId: input.bestEntryId ?? null,
        bestScore: input.bestScore ?? null,
        proposalId: null,
        answered: false,
        createdAt: this.clock.now(),
      })
      .catch((error: Error) => {
        if (!/duplicate|unique|constraint/i.test(error.message)) throw error;
      });
  }

  async listUnanswered(
    actor: Actor,
    kbId = DEFAULT_KB,
    limit = 100,
  ): Promise<
    Array<{ id: string; question: string; language: string | null; reason: string; conversationId: string; proposalId: string | null; createdAt: string }>
  > {
    void actor;
    const rows = await this.dataSource.manager.find(KbUnansweredRow, { where: { kbId }, order: { createdAt: 'DESC' }, take: Math.min(limit, 500) });
    return rows.map((r) => ({
      id: r.id,
      question: r.question,
      language: r.language,
      reason: r.reason,
      conversationId: r.conversationId,
      proposalId: r.proposalId,
      createdAt: r.createdAt.toISOString(),
    }));
  }

  /**
   * Clusters unanswered questions without a proposal (greedy, token/character-bigram Jaccard) and
   * proposes each cluster with at least `miningMinOccurrences` members as a new FAQ entry.
   */
  async mine(kbId = DEFAULT_KB): Promise<KbProposalView[]> {
    const open = await this.dataSource.manager.find(KbUnansweredRow, { where: { kbId, proposalId: IsNull() }, order: { createdAt: 'ASC' }, take: 5000 });
    if (!open.length) return [];
    const minOccurrences = this.settings.get<number>(KNOWLEDGE_SETTINGS.miningMinOccurrences);
    const threshold = this.settings.get<number>(KNOWLEDGE_SETTINGS.miningSimilarity);
    const groups = cluster(
      open.map((r) => r.question),
      threshold,
    );
    const created: KbProposalView[] = [];
    for (const group of groups) {
      if (group.length < minOccurrences) continue;
      const members = group.map((i) => open[i]);
      const questions = [...new Set(members.map((m) => m.question))].slice(0, 20);
      const dedupeKey = `mining:${createHash('sha256')
        .update(
          members
            .map((m) => m.id)
            .sort()
            .join(','),
        )
        .digest('hex')
        .slice(0, 40)}`;
      const view = await this.uow.run(async (tx) => {
        const proposal = await this.insertProposal(tx, {
          kbId,
          kind: 'new_faq',
          source: 'mining',
          questions,
          answer: null,
          entryId: null,
          language: mostCommon(members.map((m) => m.language)),
          occurrences: members.length,
          conversationIds: [...new Set(members.map((m) => m.conversationId))].slice(0, 50),
          dedupeKey,
        });
        if (proposal) await tx.manager.update(KbUnansweredRow, { id: In(members.map((m) => m.id)) }, { proposalId: proposal.id });
        return proposal;
      });
      if (view) created.push(view);
    }
    return created;
  }

  /** Which of `conversationIds` have an unanswered question the bot recorded (one read for many agent replies). */
  async conversationsWithUnansweredQuestions(conversationIds: readonly string[]): Promise<Set<string>> {
    if (!conversationIds.length) return new Set();
    const rows = await this.dataSource.manager
      .createQueryBuilder(KbUnansweredRow, 'u')
      .select('DISTINCT u.conversation_id', 'conversationId')
      .where('u.conversation_id IN (:...ids)', { ids: conversationIds })
      .andWhere('u.answered = :answered', { answered: false })
      .getRawMany<{ conversationId: string }>();
    return new Set(rows.map((row) => row.conversationId));
  }

  /**
   * Learning loop: an agent answered a conversation in which the bot could not answer. The pair
   * becomes a proposal: a new question variant of an existing entry when the agent's answer
   * matches that entry's answer, otherwise a new FAQ entry. Idempotent per agent message.
   * `answer` may be a loader, so that the common case (nothing pending in the conversation) reads nothing more.
   */
  async proposeFromAgentAnswer(input: {
    conversationId: string;
    messageId: string;
    answer: string | (() => Promise<string>);
    withinMs?: number;
  }): Promise<KbProposalView | null> {
    const since = new Date(this.clock.now().getTime() - (input.withinMs ?? 24 * 3600_000));
    const questions = await this.dataSource.manager.find(KbUnansweredRow, {
      where: { conversationId: input.conversationId, answered: false },
      order: { createdAt: 'DESC' },
      take: 5,
    });
    const pending = questions.filter((q) => q.createdAt >= since);
    if (!pending.length) return null;
    const answer = typeof input.answer === 'function' ? await input.answer() : input.answer;
    if (!answer.trim()) return null;
    const question = pending[0];
    const kbId = question.kbId;
    const answerSet = shingles(answer);
    let variantOf: string | null = null;
    let best = 0;
    const candidates = this.indexer.search(kbId, question.question, { k: 5, audience: 'all' });
    for (const hit of candidates) {
      const similarity = jaccard(answerSet, shingles(hit.answerText));
      if (similarity > best) {
        best = similarity;
        variantOf = hit.entryId;
      }
    }
    const isVariant = variantOf !== null && best >= 0.5;
    return this.uow.run(async (tx) => {
      await tx.manager.update(KbUnansweredRow, { id: In(pending.map((p) => p.id)) }, { answered: true });
      return this.insertProposal(tx, {
        kbId,
        kind: isVariant ? 'new_variant' : 'new_faq',
        source: 'agent_answer',
        questions: [...new Set(pending.map((p) => p.question))].slice(0, 5),
        answer: isVariant ? null : toAnswerHtml(answer.slice(0, MAX_ANSWER)),
        entryId: isVariant ? variantOf : null,
        language: question.language,
        occurrences: pending.length,
        conversationIds: [input.conversationId],
        dedupeKey: `agent:${input.messageId}`,
      });
    });
  }

  private async insertProposal(
    tx: Tx,
    input: Omit<KbProposalRow, 'id' | 'status' | 'decidedBy' | 'decidedAt' | 'resultEntryId' | 'createdAt'>,
  ): Promise<KbProposalView | null> {
    const existing = await tx.manager.findOne(KbProposalRow, { where: { dedupeKey: input.dedupeKey } });
    if (existing) return null;
    const row: KbProposalRow = Object.assign(new KbProposalRow(), {
      ...input,
      id: randomUUID(),
      status: 'pending',
      decidedBy: null,
      decidedAt: null,
      resultEntryId: null,
      createdAt: this.clock.now(),
    });
    await tx.manager.insert(KbProposalRow, row);
    const data: KnowledgeProposalCreatedEvent = { proposalId: row.id, kbId: row.kbId, kind: row.kind, source: row.source };
    await tx.emit({ subject: KNOWLEDGE_PROPOSAL_CREATED, id: `kb-proposal:${row.id}`, data });
    return proposalView(row);
  }

  async proposals(actor: Actor, filter: { kbId?: string; status?: string; limit?: number }): Promise<KbProposalView[]> {
    void actor;
    const rows = await this.dataSource.manager.find(KbProposalRow, {
      where: { kbId: filter.kbId ?? DEFAULT_KB, ...(filter.status ? { status: filter.status as KbProposalRow['status'] } : {}) },
      order: { createdAt: 'DESC' },
      take: Math.min(filter.limit ?? 100, 500),
    });
    return rows.map(proposalView);
  }

  /**
   * Approves a proposal: a new FAQ entry (draft unless `publish`; the operator may edit the
   * questions and must supply an answer when the proposal has none) or the variants added to
   * the existing entry (a new version, re-published when the entry was live).
   */
  async approve(
    actor: Actor,
    id: string,
    input: { questions?: string[]; answer?: string; title?: string; publish?: boolean; entryId?: string },
  ): Promise<KbProposalView & { entry: KbEntryView }> {
    return this.uow.run(async (tx) => {
      const proposal = await tx.manager.findOne(KbProposalRow, { where: { id } });
      if (!proposal) throw new KnowledgeError('kb_proposal_not_found', 'There is no such proposal.', { id });
      if (proposal.status !== 'pending') throw new KnowledgeError('kb_proposal_decided', `The proposal is already ${proposal.status}.`);
      const questions = (input.questions ?? proposal.questions).filter((q) => typeof q === 'string' && q.trim());
      const targetId = input.entryId ?? (proposal.kind === 'new_variant' ? proposal.entryId : null);
      let entry: KbEntryRow;
      if (targetId) {
        entry = await this.load(actor, targetId, tx.manager);
        const before = contentOf(entry);
        const after = { ...before, questions: [...new Set([...before.questions, ...questions])] };
        if (input.answer) after.answer = toAnswerHtml(input.answer);
        await this.applyContent(tx, actor, entry, before, after, 'variant_added');
        if (input.publish ?? entry.live !== null) await this.publishInTx(tx, actor, entry);
      } else {
        const answer = input.answer ?? proposal.answer;
        if (!answer) throw new KnowledgeError('kb_invalid', 'This proposal has no answer yet: supply one to approve it.', { field: 'answer' });
        const content = this.validate({ kind: 'faq', title: input.title, questions, answer, language: proposal.language }, null);
        entry = await this.insertEntry(tx, actor, proposal.kbId, content, null, 'created');
        if (input.publish) await this.publishInTx(tx, actor, entry);
      }
      const now = this.clock.now();
      await tx.manager.update(KbProposalRow, { id }, { status: 'approved', decidedBy: actor.id, decidedAt: now, resultEntryId: entry.id });
      Object.assign(proposal, { status: 'approved', decidedBy: actor.id, decidedAt: now, resultEntryId: entry.id });
      return { ...proposalView(proposal), entry: entryView(entry) };
    });
  }

  async reject(actor: Actor, id: string): Promise<KbProposalView> {
    return this.uow.run(async (tx) => {
      const proposal = await tx.manager.findOne(KbProposalRow, { where: { id } });
      if (!proposal) throw new KnowledgeError('kb_proposal_not_found', 'There is no such proposal.', { id });
      if (proposal.status !== 'pending') throw new KnowledgeError('kb_proposal_decided', `The proposal is already ${proposal.status}.`);
      const now = this.clock.now();
      await tx.manager.update(KbProposalRow, { id }, { status: 'rejected', decidedBy: actor.id, decidedAt: now });
      return proposalView(Object.assign(proposal, { status: 'rejected', decidedBy: actor.id, decidedAt: now }));
    });
  }
}

function mostCommon(values: Array<string | null>): string | null {
  const counts = new Map<string, number>();
  for (const v of values) if (v) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
}

export function contentOf(row: KbEntryRow): KbContent {
  return { kind: row.kind, title: row.title, questions: row.questions, answer: row.answer, language: row.language, tags: row.tags, audience: row.audience };
}

export function entryView(row: KbEntryRow): KbEntryView {
  const content = contentOf(row);
  return {
    id: row.id,
    kbId: row.kbId,
    ...content,
    answerText: htmlToText(row.answer),
    status: row.status,
    teamId: row.teamId,
    version: row.version,
    publishedVersion: row.publishedVersion,
    hasUnpublishedChanges: row.live !== null && JSON.stringify(row.live) !== JSON.stringify(content),
    helpful: row.helpful,
    notHelpful: row.notHelpful,
    createdBy: row.createdBy,
    updatedBy: row.updatedBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    publishedAt: row.publishedAt ? row.publishedAt.toISOString() : null,
  };
}

function versionView(row: KbVersionRow, withContent: boolean): KbVersionView {
  return {
    version: row.version,
    action: row.action,
    authorId: row.authorId,
    authorName: row.authorName,
    createdAt: row.createdAt.toISOString(),
    diff: row.diff,
    ...(withContent ? { content: row.content } : {}),
  };
}

function proposalView(row: KbProposalRow): KbProposalView {
  return {
    id: row.id,
    kbId: row.kbId,
    kind: row.kind,
    source: row.source,
    status: row.status,
    questions: row.questions,
    answer: row.answer,
    entryId: row.entryId,
    language: row.language,
    occurrences: row.occurrences,
    conversationIds: row.conversationIds,
    decidedBy: row.decidedBy,
    decidedAt: row.decidedAt ? row.decidedAt.toISOString() : null,
    resultEntryId: row.resultEntryId,
    createdAt: row.createdAt.toISOString(),
  };
}
