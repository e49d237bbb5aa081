import { AppError } from '../platform/errors/app-error.js';

export type ConversationsErrorCode =
  | 'conversation_not_found'
  | 'inbox_not_found'
  | 'message_not_found'
  | 'message_too_large'
  | 'message_invalid'
  | 'message_content_invalid'
  | 'conversation_invalid'
  | 'invalid_cursor'
  | 'invalid_sort'
  | 'attachment_not_found'
  | 'attachment_missing'
  | 'attachment_too_large'
  | 'attachment_type_not_allowed'
  | 'attachment_type_mismatch'
  | 'attachment_in_use'
  | 'attachment_invalid';

const STATUS: Record<ConversationsErrorCode, number> = {
  conversation_not_found: 404,
  inbox_not_found: 404,
  message_not_found: 404,
  message_too_large: 413,
  message_invalid: 400,
  message_content_invalid: 400,
  conversation_invalid: 400,
  invalid_cursor: 400,
  invalid_sort: 400,
  attachment_not_found: 404,
  attachment_missing: 400,
  attachment_too_large: 413,
  attachment_type_not_allowed: 415,
  attachment_type_mismatch: 415,
  attachment_in_use: 409,
  attachment_invalid: 400,
};

export class ConversationsError extends AppError {
  constructor(code: ConversationsErrorCode, message: string, details?: unknown) {
    super(code, message, STATUS[code], details);
  }

  static notFound(id?: string): ConversationsError {
    return new ConversationsError('conversation_not_found', 'There is no such conversation.', id ? { id } : undefined);
  }

  static inboxNotFound(id?: string): ConversationsError {
    return new ConversationsError('inbox_not_found', 'There is no such inbox.', id ? { id } : undefined);
  }
}
