import { AppError } from '../platform/errors/app-error.js';

export type AssistErrorCode = 'assist_conversation_not_found' | 'assist_invalid';

export class AssistError extends AppError {
  constructor(code: AssistErrorCode, message: string, details?: unknown) {
    super(code, message, code === 'assist_invalid' ? 400 : 404, details);
  }
}
