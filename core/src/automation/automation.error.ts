import { AppError } from '../platform/errors/app-error.js';

export type AutomationErrorCode = 'automation_rule_not_found' | 'automation_macro_not_found' | 'canned_response_not_found' | 'automation_invalid';

export class AutomationError extends AppError {
  constructor(code: AutomationErrorCode, message: string, details?: unknown) {
    super(code, message, code === 'automation_invalid' ? 400 : 404, details);
  }
}
