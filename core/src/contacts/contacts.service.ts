import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Brackets, In, type DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { UnitOfWork, type Tx } from '../platform/database/unit-of-work.js';
import { RowReader } from '../platform/database/row-reader.js';
import { RowInserter } from '../platform/database/row-inserter.js';
import type { Statement } from '../platform/database/statement.js';
import type { EventToEmit } from '../platform/outbox/outbox.writer.js';
import { CLOCK, type Clock } from '../platform/clock/clock.js';
import { sqlTime } from '../platform/database/sql-time.js';
import { AccessPolicy } from '../identity/access-policy.js';
import type { Actor } from '../identity/actor.js';
import { FieldCipher } from '../compliance/crypto/field-cipher.js';
import {
  ContactAttributeDefRow,
  ContactIdentityRow,
  ContactLookupRow,
  ContactMergeRow,
  ContactRow,
  type AttributeType,
  type LookupKind,
} from './entities/contact.entity.js';
import { ContactsError } from './contacts.error.js';
import {
  CONTACT_CREATED,
  CONTACT_MERGED,
  CONTACT_UPDATED,
  type ContactCreatedEvent,
  type ContactMergedEvent,
  type ContactUpdatedEvent,
} from './contacts.events.js';
import { isEmail, nameTokens, normaliseEmail, normalisePhone, queryTokens } from './contacts.normalise.js';
import { isDuplicateKeyError } from '../platform/database/duplicate-key.js';
import { decodeCursor, encodeCursor, parseSort, type Page } from './pagination.js';
import { ContactsAudit } from './contacts.audit.js';
import type { AttributeDefView, ContactIdentityView, ContactInput, ContactPoint, ContactSearch, ContactView, ResolveIdentityInput } from './contacts.types.js';

const PHONE_CHANNELS = new Set(['sms', 'whatsapp', 'voice', 'phone', 'telegram-phone']);
const SORTABLE = ['createdAt', 'updatedAt'] as const;
type SortField = (typeof SORTABLE)[number];
const SORT_COLUMNS: Record<SortField, string> = { createdAt: 'c.created_at', updatedAt: 'c.updated_at' };
const MAX_MERGE_FANOUT = 20;
/** Where a reply goes (see `recipient`). */
export interface Recipient {
  name?: string;
  email?: string;
  phone?: string;
  externalId?: string;
}

/** `resolve`'s presenter for callers that need only the contact's id. */
const contactIdOf = async (_m: EntityManager, row: ContactRow): Promise<string> => row.id;

/** Merge chains are short; the bound only guards against a cycle left by a bug. */
const MAX_MERGE_HOPS = 10;

interface Profile {
  name: string | null;
  emails: ContactPoint[];
  phones: ContactPoint[];
}

/**
 * Customer profiles, channel identities and merging. PII (name, emails, phones, external ids)
 * is encrypted with the FieldCipher; exact search goes through keyed blind indexes.
 */
@Injectable()
export class ContactsService {
  private readonly inserter = new RowInserter();
  /** Hot reads by key, without a query builder per call. */
  private readonly contactRows: RowReader<ContactRow>;
  private readonly identityRows: RowReader<ContactIdentityRow>;

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly uow: UnitOfWork,
    private readonly cipher: FieldCipher,
    private readonly access: AccessPolicy,
    private readonly audit: ContactsAudit,
  ) {
    this.contactRows = new RowReader(dataSource, ContactRow);
    this.identityRows = new RowReader(dataSource, ContactIdentityRow);
  }

  // ---------------------------------------------------------------- identities

  /**
   * Finds or creates the contact behind a channel identity. A verified identity's email and phone
   * count as verified, and any other contact holding the same verified email or phone is merged
   * into the oldest one. Unverified identifiers never merge anything.
   */
  async resolveIdentity(input: ResolveIdentityInput): Promise<{ contact: ContactView; created: boolean }> {
    return this.resolve(input, (m, row) => this.view(m, row));
  }

  /**
   * `resolveIdentity` for callers that need only the contact's id (every inbound message). A known,
   * unverified identity that brings nothing to add to the profile (no name, language, email or phone) is
   * one indexed join and no decryption; anything else takes the full path.
   */
  async resolveContactId(input: ResolveIdentityInput): Promise<string> {
    const claimed = this.identityOf(input);
    const known = await this.contactIdUnlessNew(input, claimed);
    if (known) return known;
    // Not there a moment ago (a first message): the transaction's own read decides, skip the second look.
    return (await this.resolve(input, contactIdOf, claimed, true)).contact;
  }

  /**
   * `resolveContactId` for a caller about to write in a transaction anyway (ingestion): `null` when the identity
   * is new and brings nothing but itself (a first message), so that the caller creates the contact in its own
   * transaction with `resolveContactIdInTx` (one transaction less per first contact). Any other input resolves
   * as `resolveContactId` does.
   */
  resolveContactIdUnlessNew(input: ResolveIdentityInput): Promise<string | null> {
    return this.contactIdUnlessNew(input, this.identityOf(input));
  }

  private async contactIdUnlessNew(input: ResolveIdentityInput, claimed: ReturnType<ContactsService['identityOf']>): Promise<string | null> {
    const { channel, identityHash, emailPoint, phonePoint } = claimed;
    if (!input.verified && !input.name && !input.language && !emailPoint && !phonePoint) {
      const [known] = (await this.dataSource.query(
        'SELECT c.id AS id, c.status AS status FROM contact_identities i JOIN contacts c ON c.id = i.contact_id WHERE i.channel = ? AND i.external_id_hash = ?',
        [channel, identityHash],
      )) as Array<{ id: string; status: string }>;
      if (!known) return null;
      if (known.status !== 'merged') return known.id;
    }
    return (await this.resolve(input, contactIdOf, claimed)).contact;
  }

  /**
   * Finds or creates the contact behind a channel identity inside the caller's transaction (see
   * `resolveContactIdUnlessNew`). Two first messages of one new identity racing on MySQL make one transaction fail
   * with a duplicate key; the caller retries it, and the retry finds the winner's contact.
   */
  async resolveContactIdInTx(tx: Tx, input: ResolveIdentityInput): Promise<{ contactId: string; createdHere: boolean }> {
    const { contact, createdHere } = await this.resolveInTx(tx, input, this.identityOf(input), contactIdOf);
    return { contactId: contact, createdHere };
  }

  /**
   * The statements and events that create the contact of a channel identity not seen before
   * (`resolveContactIdUnlessNew` returned null), for a caller that sends its transaction's statements itself (the
   * message batch writer on MySQL). Null when creating it needs reads first: a verified email or phone may belong
   * to a known contact. The identity's unique key makes the transaction of a racing duplicate fail; its caller
   * then takes `resolveContactIdInTx`, which finds the winner.
   */
  newContactStatements(input: ResolveIdentityInput): { contactId: string; statements: Statement[]; events: Array<EventToEmit<unknown>> } | null {
    const claimed = this.identityOf(input);
    if (input.verified && (claimed.emailPoint || claimed.phonePoint)) return null;
    const profile = profileOfIdentity(input, claimed);
    const contact = this.newContactRow(profile, { language: input.language ?? null });
    const identity = this.newIdentityRow(contact.id, claimed, input.verified);
    const lookups = this.lookupRows(contact.id, profile);
    return {
      contactId: contact.id,
      statements: [
        ...this.inserter.render(this.dataSource, ContactRow, [contact]),
        ...(lookups.length ? this.inserter.render(this.dataSource, ContactLookupRow, lookups as ContactLookupRow[]) : []),
        ...this.inserter.render(this.dataSource, ContactIdentityRow, [identity]),
      ],
      events: [contactCreatedEvent(contact.id)],
    };
  }

  /** The channel identity of `input`, and the email and phone it brings (from the input or the identity itself). */
  private identityOf(input: ResolveIdentityInput) {
    const channel = input.channel.trim();
    const externalId = input.externalId.trim();
    if (!channel || !externalId) throw new ContactsError('contact_invalid', 'channel and externalId are required');
    const email = input.email?.trim() || (channel === 'email' && isEmail(externalId) ? externalId : null);
    const phone = input.phone?.trim() || (PHONE_CHANNELS.has(channel) ? externalId : null);
    const emailPoint = email && isEmail(email) ? { value: email.trim(), verified: input.verified } : null;
    const phoneValue = phone ? normalisePhone(phone) : null;
    const phonePoint = phoneValue ? { value: phoneValue, verified: input.verified } : null;
    return { channel, externalId, identityHash: this.identityHash(externalId), emailPoint, phonePoint };
  }

  private async resolve<R>(
    input: ResolveIdentityInput,
    present: (m: EntityManager, row: ContactRow) => Promise<R>,
    claimed = this.identityOf(input),
    identityJustMissed = false,
  ): Promise<{ contact: R; created: boolean }> {
    const { channel, identityHash, emailPoint, phonePoint } = claimed;

    // The usual case, a known identity with nothing new to record, needs no transaction.
    if (!identityJustMissed && !(input.verified && (emailPoint || phonePoint))) {
      const m = this.dataSource.manager;
      const identity = await this.identityRows.findOneBy(m, { channel, externalIdHash: identityHash });
      if (identity && !(input.verified && !identity.verified)) {
        const contact = await this.followMerges(m, identity.contactId);
        if (contact.id === identity.contactId && !this.filledProfile(contact, input, emailPoint, phonePoint).changed) {
          return { contact: await present(m, contact), created: false };
        }
      }
    }

    const run = () => this.uow.run((tx) => this.resolveInTx(tx, input, claimed, present));

    try {
      return await run();
    } catch (error) {
      // Two first messages from one new identity raced: the loser finds the winner's rows.
      if (isDuplicateKeyError(error)) return run();
      throw error;
    }
  }

  /** The transactional part of `resolve`: finds or creates the contact and identity in `tx`. */
  private async resolveInTx<R>(
    tx: Tx,
    input: ResolveIdentityInput,
    claimed: ReturnType<ContactsService['identityOf']>,
    present: (m: EntityManager, row: ContactRow) => Promise<R>,
  ): Promise<{ contact: R; created: boolean; createdHere: boolean }> {
    const { channel, identityHash, emailPoint, phonePoint } = claimed;
    const m = tx.manager;
    const identity = await this.identityRows.findOneBy(m, { channel, externalIdHash: identityHash });
    let contact: ContactRow | null = null;
    let created = false;
    if (identity) {
      contact = await this.followMerges(m, identity.contactId);
      if (input.verified && !identity.verified) await m.update(ContactIdentityRow, { id: identity.id }, { verified: true });
      if (identity.contactId !== contact.id) await m.update(ContactIdentityRow, { id: identity.id }, { contactId: contact.id });
    } else if (input.verified && (emailPoint || phonePoint)) {
      // A new identity with a verified email/phone already known (verified) on a contact joins that contact.
      const owners = await this.verifiedOwners(m, emailPoint, phonePoint, null);
      contact = owners[0] ?? null;
    }
    if (!contact) {
      contact = await this.insertContact(tx, profileOfIdentity(input, claimed), { language: input.language ?? null });
      created = true;
    }
    if (!identity) await tx.insert(ContactIdentityRow, this.newIdentityRow(contact.id, claimed, input.verified));
    if (!created) {
      const { profile, changed, language } = this.filledProfile(contact, input, emailPoint, phonePoint);
      if (changed) {
        await this.saveProfile(tx, contact, profile, { language });
        await tx.emit<ContactUpdatedEvent>({ subject: CONTACT_UPDATED, data: { contactId: contact.id } });
      }
    }
    const inserted = created ? contact.id : null;
    if (input.verified && (emailPoint || phonePoint)) contact = await this.autoMerge(tx, contact, emailPoint, phonePoint);
    // createdHere: the contact returned is the one this transaction inserted (not merged into an older one), so it has no history yet.
    return { contact: await present(m, contact), created, createdHere: inserted === contact.id };
  }

  private identityHash(externalId: string): string {
    return this.cipher.blindIndex('identity', externalId.trim());
  }

  /** Active contacts (oldest first) holding the given verified email or phone. */
  private async verifiedOwners(m: EntityManager, email: ContactPoint | null, phone: ContactPoint | null, exceptId: string | null): Promise<ContactRow[]> {
    const conditions: Array<{ kind: LookupKind; hash: string }> = [];
    if (email) conditions.push({ kind: 'email', hash: this.cipher.blindIndex('email', normaliseEmail(email.value)) });
    if (phone) conditions.push({ kind: 'phone', hash: this.cipher.blindIndex('phone', phone.value) });
    if (!conditions.length) return [];
    const lookups = await m.find(ContactLookupRow, { where: conditions.map((condition) => ({ ...condition, verified: true })) });
    const ids = [...new Set(lookups.map((row) => row.contactId))].filter((id) => id !== exceptId);
    if (!ids.length) return [];
    const rows = await m.find(ContactRow, { where: { id: In(ids), status: 'active' } });
    return rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
  }

  private async autoMerge(tx: Tx, contact: ContactRow, email: ContactPoint | null, phone: ContactPoint | null): Promise<ContactRow> {
    const others = await this.verifiedOwners(tx.manager, email, phone, contact.id);
    if (!others.length) return contact;
    const all = [contact, ...others.slice(0, MAX_MERGE_FANOUT)].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
    let survivor = all[0]!;
    for (const merged of all.slice(1)) survivor = await this.mergeInTx(tx, survivor, merged, null, 'verified_identifier');
    return survivor;
  }

  /** Follows tombstones to the live contact. */
  /** The profile with the gaps `input` can fill (never overwriting what an agent entered), and whether anything changed. */
  private filledProfile(
    contact: ContactRow,
    input: ResolveIdentityInput,
    emailPoint: { value: string; verified: boolean } | null,
    phonePoint: { value: string; verified: boolean } | null,
  ): { profile: ReturnType<ContactsService['profileOf']>; changed: boolean; language: string | null } {
    const profile = this.profileOf(contact);
    let changed = false;
    if (!profile.name && input.name) {
      profile.name = input.name;
      changed = true;
    }
    changed = addPoint(profile.emails, emailPoint, normaliseEmail) || changed;
    changed = addPoint(profile.phones, phonePoint, (value) => normalisePhone(value) ?? value) || changed;
    const language = contact.language ?? input.language ?? null;
    if (language !== contact.language) changed = true;
    return { profile, changed, language };
  }

  private async followMerges(m: EntityManager, id: string): Promise<ContactRow> {
    let row = await this.contactRows.findOneBy(m, { id });
    for (let hops = 0; row && row.status === 'merged' && row.mergedIntoId && hops < MAX_MERGE_HOPS; hops++) {
      row = await this.contactRows.findOneBy(m, { id: row.mergedIntoId });
    }
    if (!row) throw ContactsError.notFound(id);
    return row;
  }

  // ---------------------------------------------------------------- reads

  /** Whether the contact (or the one it was merged into) is a VIP: one row read, nothing decrypted. */
  async isVip(id: string): Promise<boolean> {
    return (await this.followMerges(this.dataSource.manager, id)).vip;
  }

  /** The contact's routing facts as stored (no merge followed), read without decrypting the profile; `null` if unknown. */
  async facts(id: string): Promise<{ vip: boolean; language: string | null } | null> {
    const row = await this.contactRows.findOneBy(this.dataSource.manager, { id });
    return row ? { vip: row.vip, language: row.language } : null;
  }

  /**
   * Where a reply to the contact goes on `channel`: name, primary (verified first) email and phone, and the
   * external id of the contact's oldest identity on that channel. One statement, and only what a delivery
   * needs is decrypted (every outbound message asks). A merged contact is followed to the one it was merged
   * into, which holds its identities now. `null` for an unknown contact.
   */
  async recipient(id: string, channel: string): Promise<Recipient | null> {
    for (let hops = 0, current = id; ; hops++) {
      const found = await this.recipientRow(current, channel);
      if (!found) return null;
      const { row, identityEnc } = found;
      if (row.status === 'merged' && row.mergedIntoId && hops < MAX_MERGE_HOPS) {
        current = row.mergedIntoId;
        continue;
      }
      const profile = this.profileOf(row);
      const primary = (points: ContactPoint[]) => (points.find((point) => point.verified) ?? points[0])?.value;
      const result: Recipient = {};
      if (profile.name) result.name = profile.name;
      const email = primary(profile.emails);
      if (email) result.email = email;
      const phone = primary(profile.phones);
      if (phone) result.phone = phone;
      if (identityEnc) result.externalId = this.cipher.decrypt(identityEnc);
      return result;
    }
  }

  private async recipientRow(id: string, channel: string): Promise<{ row: ContactRow; identityEnc: string | null } | null> {
    const [raw] = (await this.dataSource.query(
      `SELECT ${this.contactRows.selectList}, (SELECT i.external_id_enc FROM contact_identities i WHERE i.contact_id = contacts.id AND i.channel = ? ORDER BY i.created_at LIMIT 1) AS channel_identity_enc FROM contacts WHERE id = ?`,
      [channel, id],
    )) as Array<Record<string, unknown>>;
    if (!raw) return null;
    const identityEnc = raw.channel_identity_enc;
    return { row: this.contactRows.hydrate(raw), identityEnc: typeof identityEnc === 'string' && identityEnc ? identityEnc : null };
  }

  /** The contact as stored (a merged contact comes back as its tombstone, with `mergedIntoId`). */
  async get(id: string): Promise<ContactView> {
    const row = await this.contactRows.findOneBy(this.dataSource.manager, { id });
    if (!row) throw ContactsError.notFound(id);
    return this.view(this.dataSource.manager, row);
  }

  /** Several contacts by id, without identities; unknown ids are left out. */
  async getMany(ids: string[]): Promise<ContactView[]> {
    if (!ids.length) return [];
    const rows = await this.dataSource.manager.find(ContactRow, { where: { id: In([...new Set(ids)]) } });
    return rows.map((row) => this.toView(row, []));
  }

  /** The live contact an id stands for today (the survivor when it was merged). */
  async resolveSurvivorId(id: string): Promise<string> {
    return (await this.followMerges(this.dataSource.manager, id)).id;
  }

  /** A contact id and every contact id ever merged into it: a history view queries them all. */
  async historyIds(id: string): Promise<string[]> {
    const survivor = await this.followMerges(this.dataSource.manager, id);
    const merged = await this.dataSource.manager.find(ContactRow, { where: { mergedIntoId: survivor.id }, select: { id: true } });
    return [survivor.id, ...merged.map((row) => row.id)];
  }

  /** An actor's read of a contact: team-scoped (404 when hidden) and audited as a PII read. */
  async getForActor(actor: Actor, id: string): Promise<ContactView> {
    const row = await this.contactRows.findOneBy(this.dataSource.manager, { id });
    this.access.assertCanSee(actor, row, () => ContactsError.notFound(id));
    await this.audit.record({ actor, action: 'contact.viewed', objectId: id, outcome: 'success' });
    return this.view(this.dataSource.manager, row!);
  }

  /**
   * `search` for an API caller, audited as a PII read (`contact.listed`): a list shows names, emails and
   * phones. The entry names the filters used (never their values, which are PII) and the contacts shown.
   */
  async searchForActor(actor: Actor, search: ContactSearch): Promise<Page<ContactView>> {
    const page = await this.search(actor, search);
    const filters = (['q', 'email', 'phone', 'identifier', 'channel', 'tag', 'vip', 'teamId', 'includeMerged'] as const).filter(
      (field) => search[field] !== undefined && search[field] !== '',
    );
    await this.audit.record({
      actor,
      action: 'contact.listed',
      objectId: null,
      outcome: 'success',
      details: { filters, count: page.items.length, contactIds: page.items.map((contact) => contact.id) },
    });
    return page;
  }

  async search(actor: Actor | null, search: ContactSearch): Promise<Page<ContactView>> {
    const limit = Math.min(Math.max(search.limit ?? 25, 1), 100);
    const sort = parseSort<SortField>(search.sort, SORTABLE, { field: 'createdAt', direction: 'DESC' });
    const column = SORT_COLUMNS[sort.field];
    const m = this.dataSource.manager;
    const qb = m.createQueryBuilder(ContactRow, 'c');
    if (!search.includeMerged) qb.andWhere('c.status = :active', { active: 'active' });
    if (actor) {
      const teams = this.access.visibleTeams(actor);
      if (teams !== 'all') {
        qb.andWhere(
          new Brackets((w) => (teams.length ? w.where('c.team_id IS NULL').orWhere('c.team_id IN (:...teams)', { teams }) : w.where('c.team_id IS NULL'))),
        );
      }
    }
    if (search.teamId) qb.andWhere('c.team_id = :teamId', { teamId: search.teamId });
    if (search.vip !== undefined) qb.andWhere('c.vip = :vip', { vip: search.vip });
    if (search.tag) qb.andWhere("c.tags LIKE :tag ESCAPE '!'", { tag: `%${likeEscape(JSON.stringify(search.tag))}%` });
    if (search.email) this.whereLookup(qb, 'email', [this.cipher.blindIndex('email', normaliseEmail(search.email))], 'em');
    if (search.phone) {
      const phone = normalisePhone(search.phone);
      if (!phone) throw new ContactsError('contact_invalid', 'phone is not a phone number', { field: 'phone' });
      this.whereLookup(qb, 'phone', [this.cipher.blindIndex('phone', phone)], 'ph');
    }
    if (search.identifier) {
      const sub = m
        .createQueryBuilder(ContactIdentityRow, 'ci')
        .select('ci.contact_id')
        .where('ci.external_id_hash = :idHash', { idHash: this.identityHash(search.identifier) });
      if (search.channel) sub.andWhere('ci.channel = :idChannel', { idChannel: search.channel });
      qb.andWhere(`c.id IN (${sub.getQuery()})`, sub.getParameters());
    }
    if (search.q?.trim()) {
      const q = search.q.trim();
      const tokens = queryTokens(q).slice(0, 8);
      const alternatives: string[] = [];
      const params: Record<string, unknown> = {};
      if (tokens.length) {
        params.qTokens = tokens.map((token) => this.cipher.blindIndex('name', token));
        params.qTokenCount = tokens.length;
        alternatives.push(
          `c.id IN (SELECT ql.contact_id FROM contact_lookups ql WHERE ql.kind = 'name' AND ql.hash IN (:...qTokens) GROUP BY ql.contact_id HAVING COUNT(DISTINCT ql.hash) = :qTokenCount)`,
        );
      }
      if (isEmail(q)) {
        params.qEmail = this.cipher.blindIndex('email', normaliseEmail(q));
        alternatives.push(`c.id IN (SELECT qe.contact_id FROM contact_lookups qe WHERE qe.kind = 'email' AND qe.hash = :qEmail)`);
      }
      const phone = normalisePhone(q);
      if (phone) {
        params.qPhone = this.cipher.blindIndex('phone', phone);
        alternatives.push(`c.id IN (SELECT qp.contact_id FROM contact_lookups qp WHERE qp.kind = 'phone' AND qp.hash = :qPhone)`);
      }
      params.qIdentity = this.identityHash(q);
      alternatives.push(`c.id IN (SELECT qi.contact_id FROM contact_identities qi WHERE qi.external_id_hash = :qIdentity)`);
      qb.andWhere(`(${alternatives.join(' OR ')})`, params);
    }
    const cursor = decodeCursor(search.cursor);
    if (cursor) {
      if (typeof cursor.v !== 'string' || Number.isNaN(Date.parse(cursor.v))) throw new ContactsError('invalid_cursor', 'The cursor is not valid.');
      const op = sort.direction === 'DESC' ? '<' : '>';
      const value = sqlTime(m, new Date(cursor.v));
      qb.andWhere(
        new Brackets((w) => w.where(`${column} ${op} :cv`, { cv: value }).orWhere(`(${column} = :cv AND c.id ${op} :cid)`, { cv: value, cid: cursor.id })),
      );
    }
    qb.orderBy(column, sort.direction)
      .addOrderBy('c.id', sort.direction)
      .take(limit + 1);
    const rows = await qb.getMany();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => this.toView(row, [])),
      nextCursor:
        rows.length > limit && last ? encodeCursor({ v: (sort.field === 'createdAt' ? last.createdAt : last.updatedAt).toISOString(), id: last.id }) : null,
    };
  }

  private whereLookup(qb: SelectQueryBuilder<ContactRow>, kind: LookupKind, hashes: string[], alias: string): void {
    qb.andWhere(
      `c.id IN (SELECT ${alias}.contact_id FROM contact_lookups ${alias} WHERE ${alias}.kind = :${alias}Kind AND ${alias}.hash IN (:...${alias}Hashes))`,
      {
        [`${alias}Kind`]: kind,
        [`${alias}Hashes`]: hashes,
      },
    );
  }

  // ---------------------------------------------------------------- writes

  async create(actor: Actor, input: ContactInput): Promise<ContactView> {
    if (input.teamId && !this.access.canSee(actor, { teamId: input.teamId }))
      throw new ContactsError('contact_invalid', 'You cannot create contacts for that team', { field: 'teamId' });
    const attributes = await this.validateAttributes(input.attributes ?? {});
    const profile: Profile = { name: input.name ?? null, emails: this.cleanEmails(input.emails ?? []), phones: this.cleanPhones(input.phones ?? []) };
    const contact = await this.uow.run(async (tx) => {
      const row = await this.insertContact(tx, profile, {
        language: input.language ?? null,
        vip: input.vip ?? false,
        tags: uniqueTags(input.tags ?? []),
        attributes,
        teamId: input.teamId ?? null,
      });
      return this.view(tx.manager, row);
    });
    await this.audit.record({ actor, action: 'contact.created', objectId: contact.id, outcome: 'success' });
    return contact;
  }

  async update(actor: Actor, id: string, patch: ContactInput): Promise<ContactView> {
    const attributesPatch = patch.attributes ? await this.validateAttributes(patch.attributes) : undefined;
    const view = await this.uow.run(async (tx) => {
      const row = await this.lockContact(tx, id);
      this.access.assertCanSee(actor, row, () => ContactsError.notFound(id));
      if (row.status === 'merged')
        throw new ContactsError('contact_merge_invalid', 'This contact was merged; edit the surviving contact.', { mergedIntoId: row.mergedIntoId });
      if (patch.teamId && !this.access.canSee(actor, { teamId: patch.teamId })) throw ContactsError.notFound(id);
      const profile = this.profileOf(row);
      if (patch.name !== undefined) profile.name = patch.name;
      if (patch.emails !== undefined) profile.emails = this.cleanEmails(patch.emails);
      if (patch.phones !== undefined) profile.phones = this.cleanPhones(patch.phones);
      await this.saveProfile(tx, row, profile, {
        language: patch.language !== undefined ? patch.language : row.language,
        vip: patch.vip ?? row.vip,
        tags: patch.tags ? uniqueTags(patch.tags) : row.tags,
        attributes: attributesPatch ? dropNulls({ ...row.attributes, ...attributesPatch }) : row.attributes,
        teamId: patch.teamId !== undefined ? patch.teamId : row.teamId,
      });
      await tx.emit<ContactUpdatedEvent>({ subject: CONTACT_UPDATED, data: { contactId: id } });
      return this.view(tx.manager, row);
    });
    await this.audit.record({ actor, action: 'contact.updated', objectId: id, outcome: 'success', details: { fields: Object.keys(patch) } });
    return view;
  }

  /** Adds a channel identity by hand (an agent links a known phone number, say). */
  async addIdentity(actor: Actor, id: string, input: { channel: string; externalId: string; verified: boolean }): Promise<ContactView> {
    return this.uow.run(async (tx) => {
      const row = await this.lockContact(tx, id);
      this.access.assertCanSee(actor, row, () => ContactsError.notFound(id));
      if (row.status === 'merged')
        throw new ContactsError('contact_merge_invalid', 'This contact was merged; edit the surviving contact.', { mergedIntoId: row.mergedIntoId });
      const hash = this.identityHash(input.externalId);
      const existing = await this.identityRows.findOneBy(tx.manager, { channel: input.channel, externalIdHash: hash });
      if (existing && existing.contactId !== id) {
        throw new ContactsError('contact_identity_conflict', 'That identity belongs to another contact; merge the two contacts instead.', {
          contactId: existing.contactId,
        });
      }
      if (!existing) {
        await tx.manager.insert(ContactIdentityRow, {
          id: randomUUID(),
          contactId: id,
          channel: input.channel,
          externalIdEnc: this.cipher.encrypt(input.externalId.trim()),
          externalIdHash: hash,
          verified: input.verified,
          createdAt: this.clock.now(),
        });
        await tx.emit<ContactUpdatedEvent>({ subject: CONTACT_UPDATED, data: { contactId: id } });
      }
      return this.view(tx.manager, row);
    });
  }

  /**
   * Explicit merge by an agent: `mergedId`'s identities, emails, phones, tags and attributes move to
   * `survivorId` (the survivor's values win on conflicts); the merged contact stays as a tombstone.
   * Conversations follow through `sb.evt.contact.merged`.
   */
  async merge(actor: Actor, survivorId: string, mergedId: string): Promise<ContactView> {
    if (survivorId === mergedId) throw new ContactsError('contact_merge_invalid', 'A contact cannot be merged into itself.');
    const view = await this.uow.run(async (tx) => {
      // Lock in id order so two opposite merges cannot deadlock.
      const [first, second] = [survivorId, mergedId].sort();
      const a = await this.lockContact(tx, first!);
      const b = await this.lockContact(tx, second!);
      const survivor = a.id === survivorId ? a : b;
      const merged = a.id === mergedId ? a : b;
      this.access.assertCanSee(actor, survivor, () => ContactsError.notFound(survivorId));
      this.access.assertCanSee(actor, merged, () => ContactsError.notFound(mergedId));
      if (survivor.status !== 'active' || merged.status !== 'active') {
        throw new ContactsError('contact_merge_invalid', 'Both contacts must be active (not already merged).', {
          survivorStatus: survivor.status,
          mergedStatus: merged.status,
        });
      }
      const result = await this.mergeInTx(tx, survivor, merged, actor, 'explicit');
      return this.view(tx.manager, result);
    });
    return view;
  }

  private async mergeInTx(tx: Tx, survivor: ContactRow, merged: ContactRow, actor: Actor | null, reason: string): Promise<ContactRow> {
    const m = tx.manager;
    const now = this.clock.now();
    const survivorProfile = this.profileOf(survivor);
    const mergedProfile = this.profileOf(merged);
    const profile: Profile = {
      name: survivorProfile.name ?? mergedProfile.name,
      emails: [...survivorProfile.emails],
      phones: [...survivorProfile.phones],
    };
    for (const point of mergedProfile.emails) addPoint(profile.emails, point, normaliseEmail);
    for (const point of mergedProfile.phones) addPoint(profile.phones, point, (value) => normalisePhone(value) ?? value);
    await m.update(ContactIdentityRow, { contactId: merged.id }, { contactId: survivor.id });
    await m.delete(ContactLookupRow, { contactId: merged.id });
    await this.saveProfile(tx, survivor, profile, {
      language: survivor.language ?? merged.language,
      vip: survivor.vip || merged.vip,
      tags: uniqueTags([...survivor.tags, ...merged.tags]),
      attributes: { ...merged.attributes, ...survivor.attributes },
      teamId: survivor.teamId ?? merged.teamId,
    });
    // The tombstone keeps its own data (history) and points at the survivor; older tombstones follow.
    await m.update(ContactRow, { id: merged.id }, { status: 'merged', mergedIntoId: survivor.id, updatedAt: now });
    await m.update(ContactRow, { mergedIntoId: merged.id }, { mergedIntoId: survivor.id, updatedAt: now });
    merged.status = 'merged';
    merged.mergedIntoId = survivor.id;
    await m.insert(ContactMergeRow, {
      id: randomUUID(),
      survivorId: survivor.id,
      mergedId: merged.id,
      actorId: actor?.id ?? null,
      automatic: actor === null,
      reason,
      createdAt: now,
    });
    await tx.emit<ContactMergedEvent>({
      subject: CONTACT_MERGED,
      id: `contact.merged:${merged.id}`,
      data: { survivorId: survivor.id, mergedId: merged.id, automatic: actor === null, mergedBy: actor?.id ?? null },
    });
    await tx.emit<ContactUpdatedEvent>({ subject: CONTACT_UPDATED, data: { contactId: survivor.id } });
    await this.audit.record(
      { actor, action: 'contact.merged', objectId: merged.id, outcome: 'success', details: { survivorId: survivor.id, automatic: actor === null, reason } },
      tx,
    );
    return survivor;
  }

  // ---------------------------------------------------------------- attribute schema

  async listAttributeDefs(): Promise<AttributeDefView[]> {
    const rows = await this.dataSource.manager.find(ContactAttributeDefRow, { order: { key: 'ASC' } });
    return rows.map(defView);
  }

  async putAttributeDef(key: string, input: { label: string; type: AttributeType; options?: string[] | null }): Promise<AttributeDefView> {
    if (input.type === 'enum' && !input.options?.length)
      throw new ContactsError('contact_attribute_invalid', 'An enum attribute needs options', { field: 'options' });
    return this.uow.run(async (tx) => {
      const now = this.clock.now();
      const existing = await tx.manager.findOne(ContactAttributeDefRow, { where: { key } });
      const row: ContactAttributeDefRow = Object.assign(new ContactAttributeDefRow(), {
        key,
        label: input.label,
        type: input.type,
        options: input.type === 'enum' ? [...new Set(input.options ?? [])] : null,
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      });
      if (existing) await tx.manager.update(ContactAttributeDefRow, { key }, { label: row.label, type: row.type, options: row.options, updatedAt: now });
      else await tx.manager.insert(ContactAttributeDefRow, row);
      return defView(row);
    });
  }

  async deleteAttributeDef(key: string): Promise<void> {
    const result = await this.dataSource.manager.delete(ContactAttributeDefRow, { key });
    if (!result.affected) throw new ContactsError('contact_attribute_def_not_found', `There is no custom attribute "${key}".`, { key });
  }

  /** Checks values against the admin-defined schema; `null` removes an attribute. */
  private async validateAttributes(values: Record<string, unknown>): Promise<Record<string, unknown>> {
    const keys = Object.keys(values);
    if (!keys.length) return {};
    const defs = new Map((await this.dataSource.manager.find(ContactAttributeDefRow, { where: { key: In(keys) } })).map((def) => [def.key, def]));
    const unknown = keys.filter((key) => !defs.has(key));
    if (unknown.length)
      throw new ContactsError('contact_attribute_unknown', `Unknown custom attribute(s): ${unknown.join(', ')}`, { unknownAttributes: unknown });
    const problems: Array<{ key: string; expected: string }> = [];
    for (const [key, value] of Object.entries(values)) {
      if (value === null) continue;
      const def = defs.get(key)!;
      const ok =
        def.type === 'string'
          ? typeof value === 'string' && value.length <= 2000
          : def.type === 'number'
            ? typeof value === 'number' && Number.isFinite(value)
            : def.type === 'boolean'
              ? typeof value === 'boolean'
              : def.type === 'date'
                ? typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value))
                : typeof value === 'string' && (def.options ?? []).includes(value);
      if (!ok) problems.push({ key, expected: def.type === 'enum' ? `one of ${(def.options ?? []).join(', ')}` : def.type });
    }
    if (problems.length)
      throw new ContactsError('contact_attribute_invalid', `Invalid custom attribute value(s): ${problems.map((p) => p.key).join(', ')}`, { problems });
    return values;
  }

  // ---------------------------------------------------------------- storage helpers

  private async lockContact(tx: Tx, id: string): Promise<ContactRow> {
    const row = await tx.manager.findOne(ContactRow, { where: { id }, lock: this.uow.isMysql ? { mode: 'pessimistic_write' } : undefined });
    if (!row) throw ContactsError.notFound(id);
    return row;
  }

  private async insertContact(
    tx: Tx,
    profile: Profile,
    rest: Partial<Pick<ContactRow, 'language' | 'vip' | 'tags' | 'attributes' | 'teamId'>>,
  ): Promise<ContactRow> {
    const row = this.newContactRow(profile, rest);
    await tx.insert(ContactRow, row);
    await this.writeLookups(tx.manager, row.id, profile);
    await tx.emit(contactCreatedEvent(row.id));
    return row;
  }

  private newIdentityRow(contactId: string, claimed: ReturnType<ContactsService['identityOf']>, verified: boolean): ContactIdentityRow {
    return Object.assign(new ContactIdentityRow(), {
      id: randomUUID(),
      contactId,
      channel: claimed.channel,
      externalIdEnc: this.cipher.encrypt(claimed.externalId),
      externalIdHash: claimed.identityHash,
      verified,
      createdAt: this.clock.now(),
    });
  }

  private newContactRow(profile: Profile, rest: Partial<Pick<ContactRow, 'language' | 'vip' | 'tags' | 'attributes' | 'teamId'>>): ContactRow {
    const now = this.clock.now();
    return Object.assign(new ContactRow(), {
      id: randomUUID(),
      nameEnc: this.cipher.encrypt(profile.name),
      emailsEnc: profile.emails.length ? this.cipher.encryptJson(profile.emails) : null,
      phonesEnc: profile.phones.length ? this.cipher.encryptJson(profile.phones) : null,
      language: rest.language ?? null,
      vip: rest.vip ?? false,
      tags: rest.tags ?? [],
      attributes: rest.attributes ?? {},
      teamId: rest.teamId ?? null,
      status: 'active' as const,
      mergedIntoId: null,
      createdAt: now,
      updatedAt: now,
    });
  }

  private async saveProfile(
    tx: Tx,
    row: ContactRow,
    profile: Profile,
    rest: Partial<Pick<ContactRow, 'language' | 'vip' | 'tags' | 'attributes' | 'teamId'>>,
  ): Promise<void> {
    Object.assign(row, {
      nameEnc: this.cipher.encrypt(profile.name),
      emailsEnc: profile.emails.length ? this.cipher.encryptJson(profile.emails) : null,
      phonesEnc: profile.phones.length ? this.cipher.encryptJson(profile.phones) : null,
      ...rest,
      updatedAt: this.clock.now(),
    });
    await tx.manager.update(ContactRow, { id: row.id }, {
      nameEnc: row.nameEnc,
      emailsEnc: row.emailsEnc,
      phonesEnc: row.phonesEnc,
      language: row.language,
      vip: row.vip,
      tags: row.tags,
      attributes: row.attributes,
      teamId: row.teamId,
      updatedAt: row.updatedAt,
    } as never);
    await tx.manager.delete(ContactLookupRow, { contactId: row.id });
    await this.writeLookups(tx.manager, row.id, profile);
  }

  private async writeLookups(m: EntityManager, contactId: string, profile: Profile): Promise<void> {
    const rows = this.lookupRows(contactId, profile);
    if (rows.length) await m.insert(ContactLookupRow, rows);
  }

  /** The blind-index rows that find a contact by email, phone and name tokens. */
  private lookupRows(contactId: string, profile: Profile): Array<Omit<ContactLookupRow, 'id'>> {
    const rows: Array<Omit<ContactLookupRow, 'id'>> = [];
    for (const email of profile.emails)
      rows.push({ contactId, kind: 'email', hash: this.cipher.blindIndex('email', normaliseEmail(email.value)), verified: email.verified });
    for (const phone of profile.phones) {
      const normalised = normalisePhone(phone.value);
      if (normalised) rows.push({ contactId, kind: 'phone', hash: this.cipher.blindIndex('phone', normalised), verified: phone.verified });
    }
    for (const token of profile.name ? nameTokens(profile.name) : [])
      rows.push({ contactId, kind: 'name', hash: this.cipher.blindIndex('name', token), verified: false });
    return rows;
  }

  private profileOf(row: ContactRow): Profile {
    return {
      name: this.cipher.decrypt(row.nameEnc),
      emails: this.cipher.decryptJson<ContactPoint[]>(row.emailsEnc, []),
      phones: this.cipher.decryptJson<ContactPoint[]>(row.phonesEnc, []),
    };
  }

  private cleanEmails(points: Array<{ value: string; verified?: boolean }>): ContactPoint[] {
    const result: ContactPoint[] = [];
    for (const point of points) {
      if (!isEmail(point.value)) throw new ContactsError('contact_invalid', 'emails must hold email addresses', { field: 'emails' });
      addPoint(result, { value: point.value.trim(), verified: Boolean(point.verified) }, normaliseEmail);
    }
    return result;
  }

  private cleanPhones(points: Array<{ value: string; verified?: boolean }>): ContactPoint[] {
    const result: ContactPoint[] = [];
    for (const point of points) {
      const value = normalisePhone(point.value);
      if (!value) throw new ContactsError('contact_invalid', 'phones must hold phone numbers', { field: 'phones' });
      addPoint(result, { value, verified: Boolean(point.verified) }, (v) => normalisePhone(v) ?? v);
    }
    return result;
  }

  private async view(m: EntityManager, row: ContactRow): Promise<ContactView> {
    const identities = (await this.identityRows.findBy(m, { contactId: row.id })).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    return this.toView(
      row,
      identities.map((identity) => ({
        id: identity.id,
        channel: identity.channel,
        externalId: this.cipher.decrypt(identity.externalIdEnc),
        verified: identity.verified,
        createdAt: identity.createdAt.toISOString(),
      })),
    );
  }

  private toView(row: ContactRow, identities: ContactIdentityView[]): ContactView {
    const profile = this.profileOf(row);
    return {
      id: row.id,
      name: profile.name,
      emails: profile.emails,
      phones: profile.phones,
      language: row.language,
      vip: row.vip,
      tags: row.tags ?? [],
      attributes: row.attributes ?? {},
      teamId: row.teamId,
      status: row.status,
      mergedIntoId: row.mergedIntoId,
      identities,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }
}

/** Adds a point unless an equal one exists; a verified duplicate upgrades the stored one. Returns whether anything changed. */
function addPoint(points: ContactPoint[], point: ContactPoint | null, normalise: (value: string) => string): boolean {
  if (!point) return false;
  const key = normalise(point.value);
  const existing = points.find((candidate) => normalise(candidate.value) === key);
  if (!existing) {
    points.push({ value: point.value, verified: point.verified });
    return true;
  }
  if (point.verified && !existing.verified) {
    existing.verified = true;
    return true;
  }
  return false;
}

function uniqueTags(tags: string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim()).filter(Boolean))];
}

function dropNulls(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== null));
}

function likeEscape(text: string): string {
  return text.replace(/[!%_]/g, (char) => `!${char}`);
}

function defView(row: ContactAttributeDefRow): AttributeDefView {
  return {
    key: row.key,
    label: row.label,
    type: row.type,
    options: row.options,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function contactCreatedEvent(contactId: string): EventToEmit<ContactCreatedEvent> {
  return { subject: CONTACT_CREATED, id: `contact.created:${contactId}`, data: { contactId } };
}

/** The profile a first message's identity brings: its name, and the email and phone it came with. */
function profileOfIdentity(input: ResolveIdentityInput, claimed: { emailPoint: ContactPoint | null; phonePoint: ContactPoint | null }): Profile {
  return { name: input.name ?? null, emails: claimed.emailPoint ? [claimed.emailPoint] : [], phones: claimed.phonePoint ? [claimed.phonePoint] : [] };
}
