import { AppError } from '../platform/errors/app-error.js';

export type AnalyticsErrorCode = 'analytics_invalid_range' | 'analytics_invalid_group' | 'analytics_team_not_found';

export class AnalyticsError extends AppError {
  constructor(code: AnalyticsErrorCode, message: string, details?: unknown) {
    super(code, message, code === 'analytics_team_not_found' ? 404 : 400, details);
  }
}
