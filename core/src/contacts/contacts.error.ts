import { AppError } from '../platform/errors/app-error.js';

export type ContactsErrorCode =
  | 'contact_not_found'
  | 'contact_invalid'
  | 'contact_merge_invalid'
  | 'contact_identity_conflict'
  | 'contact_attribute_unknown'
  | 'contact_attribute_invalid'
  | 'contact_attribute_def_not_found'
  | 'invalid_cursor'
  | 'invalid_sort';

const STATUS: Record<ContactsErrorCode, number> = {
  contact_not_found: 404,
  contact_invalid: 400,
  contact_merge_invalid: 409,
  contact_identity_conflict: 409,
  contact_attribute_unknown: 400,
  contact_attribute_invalid: 400,
  contact_attribute_def_not_found: 404,
  invalid_cursor: 400,
  invalid_sort: 400,
};

export class ContactsError extends AppError {
  constructor(code: ContactsErrorCode, message: string, details?: unknown) {
    super(code, message, STATUS[code], details);
  }

  static notFound(id?: string): ContactsError {
    return new ContactsError('contact_not_found', 'There is no such contact.', id ? { id } : undefined);
  }
}
