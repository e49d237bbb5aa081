import { AppError } from '../platform/errors/app-error.js';

export type CsatErrorCode = 'csat_not_found' | 'csat_already_answered' | 'csat_expired' | 'csat_rate_limited';

const STATUS: Record<CsatErrorCode, number> = { csat_not_found: 404, csat_already_answered: 409, csat_expired: 410, csat_rate_limited: 429 };

export class CsatError extends AppError {
  constructor(code: CsatErrorCode, message: string) {
    super(code, message, STATUS[code]);
  }
}
