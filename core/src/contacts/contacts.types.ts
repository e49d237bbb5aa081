import type { AttributeType, ContactStatus } from './entities/contact.entity.js';

export interface ContactPoint {
  value: string;
  verified: boolean;
}

export interface ContactIdentityView {
  id: string;
  channel: string;
  externalId: string;
  verified: boolean;
  createdAt: string;
}

/** What other modules and the API see of a contact (decrypted). */
export interface ContactView {
  id: string;
  name: string | null;
  emails: ContactPoint[];
  phones: ContactPoint[];
  language: string | null;
  vip: boolean;
  tags: string[];
  attributes: Record<string, unknown>;
  teamId: string | null;
  status: ContactStatus;
  /** Set on a merged contact (a tombstone): the contact that holds its history now. */
  mergedIntoId: string | null;
  identities: ContactIdentityView[];
  createdAt: string;
  updatedAt: string;
}

export interface ResolveIdentityInput {
  channel: string;
  externalId: string;
  /** The channel vouches for the identity (and for the email/phone it supplies). Auto-merge happens only then. */
  verified: boolean;
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  language?: string | null;
}

export interface ContactInput {
  name?: string | null;
  emails?: Array<{ value: string; verified?: boolean }>;
  phones?: Array<{ value: string; verified?: boolean }>;
  language?: string | null;
  vip?: boolean;
  tags?: string[];
  attributes?: Record<string, unknown>;
  teamId?: string | null;
}

export interface ContactSearch {
  /** Free text: a name (all words must match exactly), an email, a phone number or a channel identifier. */
  q?: string;
  email?: string;
  phone?: string;
  identifier?: string;
  channel?: string;
  tag?: string;
  vip?: boolean;
  teamId?: string;
  includeMerged?: boolean;
  sort?: string;
  cursor?: string;
  limit?: number;
}

export interface AttributeDefView {
  key: string;
  label: string;
  type: AttributeType;
  options: string[] | null;
  createdAt: string;
  updatedAt: string;
}
