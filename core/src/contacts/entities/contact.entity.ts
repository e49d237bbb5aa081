import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { BoolColumn, JsonColumn, TimestampColumn } from '../../platform/database/entity-columns.js';

export type ContactStatus = 'active' | 'merged';

/**
 * A customer. Name, emails and phones are PII: stored AES-256-GCM encrypted (`*_enc`),
 * searched through keyed blind indexes in `contact_lookups`. A merged contact stays as a
 * tombstone (`status = 'merged'`, `merged_into_id` = the survivor).
 */
@Entity('contacts')
@Index('ix_contacts_status_created', ['status', 'createdAt', 'id'])
@Index('ix_contacts_merged_into', ['mergedIntoId'])
export class ContactRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'name_enc', type: 'text', nullable: true })
  nameEnc: string | null;

  /** Encrypted JSON `[{ value, verified }]`. */
  @Column({ name: 'emails_enc', type: 'text', nullable: true })
  emailsEnc: string | null;

  @Column({ name: 'phones_enc', type: 'text', nullable: true })
  phonesEnc: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  language: string | null;

  @BoolColumn({ default: false })
  vip: boolean;

  @JsonColumn()
  tags: string[];

  @JsonColumn()
  attributes: Record<string, unknown>;

  @Column({ name: 'team_id', type: 'varchar', length: 36, nullable: true })
  teamId: string | null;

  @Column({ type: 'varchar', length: 16 })
  status: ContactStatus;

  @Column({ name: 'merged_into_id', type: 'varchar', length: 36, nullable: true })
  mergedIntoId: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}

/** A channel identity: (channel, external id). The external id is PII too. */
@Entity('contact_identities')
@Index('ux_contact_identities_channel_hash', ['channel', 'externalIdHash'], { unique: true })
@Index('ix_contact_identities_contact', ['contactId'])
@Index('ix_contact_identities_hash', ['externalIdHash'])
export class ContactIdentityRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'contact_id', type: 'varchar', length: 36 })
  contactId: string;

  @Column({ type: 'varchar', length: 64 })
  channel: string;

  @Column({ name: 'external_id_enc', type: 'text' })
  externalIdEnc: string;

  @Column({ name: 'external_id_hash', type: 'varchar', length: 64 })
  externalIdHash: string;

  @BoolColumn({ default: false })
  verified: boolean;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}

export type LookupKind = 'email' | 'phone' | 'name';

/** Blind-index rows for exact search: one per email, phone and name token of a contact. */
@Entity('contact_lookups')
@Index('ix_contact_lookups_kind_hash', ['kind', 'hash'])
@Index('ix_contact_lookups_contact', ['contactId'])
export class ContactLookupRow {
  @PrimaryGeneratedColumn({ name: 'id' })
  id: number;

  @Column({ name: 'contact_id', type: 'varchar', length: 36 })
  contactId: string;

  @Column({ type: 'varchar', length: 16 })
  kind: LookupKind;

  @Column({ type: 'varchar', length: 64 })
  hash: string;

  @BoolColumn({ default: false })
  verified: boolean;
}

/** Every merge, explicit or automatic: the history that lets an admin see (and later undo) it. */
@Entity('contact_merges')
@Index('ix_contact_merges_survivor', ['survivorId'])
export class ContactMergeRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'survivor_id', type: 'varchar', length: 36 })
  survivorId: string;

  @Column({ name: 'merged_id', type: 'varchar', length: 36 })
  mergedId: string;

  @Column({ name: 'actor_id', type: 'varchar', length: 191, nullable: true })
  actorId: string | null;

  @BoolColumn({ default: false })
  automatic: boolean;

  @Column({ type: 'varchar', length: 64, nullable: true })
  reason: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}

export type AttributeType = 'string' | 'number' | 'boolean' | 'date' | 'enum';

/** Admin-defined custom attribute: the typed schema contact attributes are validated against. */
@Entity('contact_attribute_defs')
export class ContactAttributeDefRow {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  key: string;

  @Column({ type: 'varchar', length: 200 })
  label: string;

  @Column({ type: 'varchar', length: 16 })
  type: AttributeType;

  @JsonColumn({ nullable: true })
  options: string[] | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
