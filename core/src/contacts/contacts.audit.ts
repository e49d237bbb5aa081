import { Injectable } from '@nestjs/common';
import type { Actor } from '../identity/actor.js';
import type { Tx } from '../platform/database/unit-of-work.js';
import { AuditService } from '../compliance/audit/audit.service.js';

export interface ContactAuditEntry {
  actor: Actor | null;
  action: 'contact.viewed' | 'contact.listed' | 'contact.merged' | 'contact.created' | 'contact.updated';
  /** The contact; null for a list (the contacts shown are in `details.contactIds`). */
  objectId: string | null;
  outcome: 'success' | 'denied';
  /** Ids and flags only: never names, emails or phones. */
  details?: Record<string, unknown>;
}

/** Contacts' audit trail: PII reads and changes go to the hash-chained audit log (compliance/audit). */
@Injectable()
export class ContactsAudit {
  constructor(private readonly audit: AuditService) {}

  /** With `tx`, the entry commits with the caller's change. Automatic actions are recorded as the system. */
  async record(entry: ContactAuditEntry, tx?: Tx): Promise<void> {
    await this.audit.record(
      {
        actor: entry.actor ? { kind: entry.actor.kind, id: entry.actor.id } : { kind: 'system', id: 'system' },
        action: entry.action,
        objectType: 'contact',
        objectId: entry.objectId,
        outcome: entry.outcome,
        details: entry.details ?? null,
      },
      tx,
    );
  }
}
