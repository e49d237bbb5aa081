import { AppError } from '../platform/errors/app-error.js';

export type RealtimeErrorCode = 'visitor_token_invalid' | 'visitor_token_expired' | 'realtime_origin_refused';

export class RealtimeError extends AppError {
  constructor(code: RealtimeErrorCode, message: string, details?: unknown) {
    super(code, message, code === 'realtime_origin_refused' ? 403 : 401, details);
  }
}
