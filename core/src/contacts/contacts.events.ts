export const CONTACT_CREATED = 'sb.evt.contact.created';
export const CONTACT_UPDATED = 'sb.evt.contact.updated';
export const CONTACT_MERGED = 'sb.evt.contact.merged';

export interface ContactCreatedEvent {
  contactId: string;
}

export interface ContactUpdatedEvent {
  contactId: string;
}

export interface ContactMergedEvent {
  survivorId: string;
  mergedId: string;
  /** `true` for a merge on a shared verified email or phone. */
  automatic: boolean;
  /** The actor id for an explicit merge; null when automatic. */
  mergedBy: string | null;
}
