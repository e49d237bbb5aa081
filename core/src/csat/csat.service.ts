import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { UnitOfWork, type Tx } from '../platform/database/unit-of-work.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { IdempotentConsumers } from '../platform/outbox/idempotent-consumers.js';
import { SchedulerService } from '../platform/scheduler/scheduler.service.js';
import { APP_CONFIG } from '../platform/config/config.module.js';
import type { AppConfig } from '../platform/config/app-config.js';
import { AccessPolicy } from '../identity/access-policy.js';
import type { Actor } from '../identity/actor.js';
import { SettingsService } from '../settings/settings.service.js';
import { TicketsService } from '../tickets/tickets.service.js';
import { SYSTEM_ACTOR } from '../identity/actor.js';
import { CONVERSATION_PORT, type ConversationPort } from '../automation/conversation-port.js';
import { decodeCursor, encodeCursor, type Page } from '../tickets/shared/pagination.js';
import { stableEventId } from '../tickets/shared/stable-id.js';
import { CsatSurveyRow } from './entities/csat-survey.entity.js';
import { CsatError } from './csat.error.js';
import { CSAT_REQUESTED, CSAT_RESPONDED, type CsatRequestedEvent, type CsatRespondedEvent } from './csat.events.js';

const hash = (token: string) => createHash('sha256').update(token).digest('hex');
const BUTTON = /^csat:([A-Za-z0-9_-]{20,64}):([1-5])$/;

/**
 * CSAT surveys: created when a conversation is resolved or a ticket solved, delivered over the
 * conversation (a structured message with 1–5 buttons) or as a link (`sb.evt.csat.requested`),
 * answered once by token on a public endpoint or by pressing a button in the chat.
 */
@Injectable()
export class CsatService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('csat');

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CONVERSATION_PORT) private readonly conversations: ConversationPort,
    private readonly uow: UnitOfWork,
    private readonly access: AccessPolicy,
    private readonly consumers: IdempotentConsumers,
    private readonly scheduler: SchedulerService,
    private readonly settings: SettingsService,
    private readonly tickets: TicketsService,
  ) {}

  onModuleInit(): void {
    const bool = (value: unknown) => (typeof value === 'boolean' ? null : 'must be true or false');
    this.settings.define({
      key: 'csat.conversations.enabled',
      description: 'Send a CSAT survey when a conversation is resolved',
      default: true,
      validate: bool,
    });
    this.settings.define({ key: 'csat.tickets.enabled', description: 'Send a CSAT survey when a ticket is solved', default: true, validate: bool });
    this.settings.define({
      key: 'csat.expiryDays',
      description: 'Days a CSAT survey can be answered',
      default: 7,
      validate: (v) => (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 90 ? null : 'must be an integer between 1 and 90'),
    });
    this.settings.define({
      key: 'csat.question',
      description: 'The survey question',
      default: 'How satisfied are you with our support? (1 = very unhappy, 5 = very happy)',
      validate: (v) => (typeof v === 'string' && v.length >= 1 && v.length <= 500 ? null : 'must be 1–500 characters'),
    });
    this.scheduler.every('csat.deliver', 10_000, () => this.deliverPending());
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.consumers.register<{ conversationId: string; contactId: string }>({
      name: 'csat-conversation-resolved',
      subject: 'sb.evt.conversation.resolved',
      handle: async (event, tx) => {
        if (!this.settings.get<boolean>('csat.conversations.enabled')) return;
        const conversation = await this.conversations.get(event.data.conversationId);
        if (!conversation) return;
        await this.createSurvey(tx, {
          subjectType: 'conversation',
          subjectId: conversation.id,
          conversationId: conversation.id,
          contactId: conversation.contactId,
          teamId: conversation.teamId,
          agentId: conversation.assigneeId,
        });
      },
    });
    await this.consumers.register<{ ticketId: string; to: string; teamId: string | null; assigneeId: string | null; requesterContactId: string | null }>({
      name: 'csat-ticket-solved',
      subject: 'sb.evt.ticket.status_changed',
      handle: async (event, tx) => {
        if (event.data.to !== 'solved' || !this.settings.get<boolean>('csat.tickets.enabled')) return;
        const [link] = (await this.tickets.get(SYSTEM_ACTOR, event.data.ticketId)).links?.filter((l) => l.kind === 'conversation') ?? [];
        await this.createSurvey(tx, {
          subjectType: 'ticket',
          subjectId: event.data.ticketId,
          conversationId: link?.refId ?? null,
          contactId: event.data.requesterContactId,
          teamId: event.data.teamId,
          agentId: event.data.assigneeId,
        });
      },
    });
    await this.consumers.register<{ messageId: string; direction: string; authorType: string }>({
      name: 'csat-button-answers',
      subject: 'sb.evt.conversation.message_created',
      filter: (event) => event.data?.direction === 'in' && event.data.authorType === 'contact',
      // Only a button answer needs a transaction; the text decides (usually from this instance's snapshot).
      precheck: async (events) =>
        Promise.all(
          events.map(async (event) => {
            const message = await this.conversations.getMessage(event.data.messageId, { recent: true });
            return typeof message?.text === 'string' && BUTTON.test(message.text.trim());
          }),
        ),
      handle: async (event, tx) => {
        if (event.data.direction !== 'in' || event.data.authorType !== 'contact') return;
        const message = await this.conversations.getMessage(event.data.messageId, { recent: true });
        const payload = typeof message?.text === 'string' ? BUTTON.exec(message.text.trim()) : null;
        if (!payload) return;
        await this.answerInTx(tx, payload[1], Number(payload[2]), null).catch((error: Error) =>
          this.logger.debug({ reason: error.message }, 'csat button ignored'),
        );
      },
    });
  }

  private async createSurvey(
    tx: Tx,
    input: Pick<CsatSurveyRow, 'subjectType' | 'subjectId' | 'conversationId' | 'contactId' | 'teamId' | 'agentId'>,
  ): Promise<void> {
    const now = this.clock.now();
    const previous = await tx.manager.count(CsatSurveyRow, { where: { subjectType: input.subjectType, subjectId: input.subjectId } });
    const token = randomBytes(24).toString('base64url');
    await tx.manager.insert(CsatSurveyRow, {
      id: randomUUID(),
      tokenHash: hash(token),
      sendToken: token,
      ...input,
      round: previous + 1,
      status: 'pending',
      rating: null,
      comment: null,
      createdAt: now,
      sentAt: null,
      expiresAt: new Date(now.getTime() + this.settings.get<number>('csat.expiryDays') * 86_400_000),
      answeredAt: null,
    });
    tx.afterCommit(() => void this.deliverPending().catch(() => undefined));
  }

  private surveyUrl(token: string): string {
    const base = this.config.http.publicUrl ?? '';
    return `${base.replace(/\/$/, '')}/api/v1/csat/public/${token}`;
  }

  /** Delivers surveys outside any transaction (conversations run their own). */
  async deliverPending(): Promise<void> {
    const pending = await this.dataSource.manager.find(CsatSurveyRow, { where: { status: 'pending' }, order: { createdAt: 'ASC' }, take: 50 });
    for (const survey of pending) {
      const token = survey.sendToken;
      if (!token) continue;
      try {
        const url = this.surveyUrl(token);
        if (survey.conversationId) {
          await this.conversations.postMessage({ ...SYSTEM_ACTOR, id: 'csat' }, survey.conversationId, {
            text: `${this.settings.get<string>('csat.question')}\n${url}`,
            // Conversations' structured `buttons` content; a press comes back as an inbound
            // message whose text is the button value `csat:<token>:<rating>`.
            content: {
              type: 'buttons',
              text: this.settings.get<string>('csat.question'),
              buttons: [1, 2, 3, 4, 5].map((n) => ({ label: '★'.repeat(n), value: `csat:${token}:${n}` })),
            },
            idempotencyKey: `csat:${survey.id}`,
          });
        }
        await this.uow.run(async (tx) => {
          const updated = await tx.manager.update(
            CsatSurveyRow,
            { id: survey.id, status: 'pending' },
            { status: 'sent', sentAt: this.clock.now(), sendToken: null },
          );
          if (!survey.conversationId && updated.affected) {
            const data: CsatRequestedEvent = {
              surveyId: survey.id,
              subjectType: survey.subjectType,
              subjectId: survey.subjectId,
              contactId: survey.contactId,
              url,
            };
            await tx.emit({ subject: CSAT_REQUESTED, data, id: stableEventId(`csat-requested:${survey.id}`) });
          }
        });
      } catch (error) {
        this.logger.warn({ survey: survey.id, reason: (error as Error).message }, 'csat delivery failed; will retry');
      }
    }
  }

  // ---------- public answering ----------

  async describe(token: string): Promise<{ question: string; subjectType: string; answered: boolean; expiresAt: string }> {
    const survey = await this.dataSource.manager.findOne(CsatSurveyRow, { where: { tokenHash: hash(token) } });
    if (!survey) throw new CsatError('csat_not_found', 'There is no such survey.');
    return {
      question: this.settings.get<string>('csat.question'),
      subjectType: survey.subjectType,
      answered: survey.status === 'answered',
      expiresAt: survey.expiresAt.toISOString(),
    };
  }

  async answer(token: string, rating: number, comment: string | null): Promise<{ surveyId: string; rating: number }> {
    return this.uow.run((tx) => this.answerInTx(tx, token, rating, comment));
  }

  private async answerInTx(tx: Tx, token: string, rating: number, comment: string | null): Promise<{ surveyId: string; rating: number }> {
    const survey = await tx.manager.findOne(CsatSurveyRow, {
      where: { tokenHash: hash(token) },
      lock: this.uow.isMysql ? { mode: 'pessimistic_write' } : undefined,
    });
    if (!survey) throw new CsatError('csat_not_found', 'There is no such survey.');
    if (survey.status === 'answered') throw new CsatError('csat_already_answered', 'This survey was already answered.');
    const now = this.clock.now();
    if (survey.expiresAt.getTime() < now.getTime()) throw new CsatError('csat_expired', 'This survey has expired.');
    await tx.manager.update(CsatSurveyRow, { id: survey.id }, { status: 'answered', rating, comment, answeredAt: now, sendToken: null });
    const data: CsatRespondedEvent = {
      surveyId: survey.id,
      subjectType: survey.subjectType,
      subjectId: survey.subjectId,
      conversationId: survey.conversationId,
      contactId: survey.contactId,
      teamId: survey.teamId,
      agentId: survey.agentId,
      rating,
      hasComment: Boolean(comment),
      sentAt: survey.sentAt?.toISOString() ?? null,
      answeredAt: now.toISOString(),
    };
    await tx.emit({ subject: CSAT_RESPONDED, data, id: stableEventId(`csat-responded:${survey.id}`) });
    return { surveyId: survey.id, rating };
  }

  // ---------- agent views ----------

  async list(
    actor: Actor,
    query: { status?: CsatSurveyRow['status']; subjectType?: 'ticket' | 'conversation'; subjectId?: string; limit?: number; cursor?: string },
  ): Promise<Page<Omit<CsatSurveyRow, 'tokenHash' | 'sendToken'>>> {
    const limit = Math.min(Math.max(query.limit ?? 25, 1), 100);
    const qb = this.dataSource.manager.createQueryBuilder(CsatSurveyRow, 's');
    const visible = this.access.visibleTeams(actor);
    if (visible !== 'all') {
      if (visible.length) qb.andWhere('(s.team_id IN (:...teams) OR s.team_id IS NULL)', { teams: visible });
      else qb.andWhere('s.team_id IS NULL');
    }
    if (query.status) qb.andWhere('s.status = :status', { status: query.status });
    if (query.subjectType) qb.andWhere('s.subject_type = :type', { type: query.subjectType });
    if (query.subjectId) qb.andWhere('s.subject_id = :sid', { sid: query.subjectId });
    if (query.cursor) {
      const [createdAt, id] = decodeCursor(query.cursor, 2);
      qb.andWhere('(s.created_at < :at OR (s.created_at = :at AND s.id < :cid))', { at: new Date(String(createdAt)), cid: id });
    }
    const rows = await qb
      .orderBy('s.createdAt', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .take(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(({ tokenHash: _t, sendToken: _s, ...rest }) => rest),
      nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
    };
  }
}
