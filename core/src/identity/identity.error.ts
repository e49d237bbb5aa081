import { AppError } from '../platform/errors/app-error.js';

export type IdentityErrorCode =
  | 'unauthenticated'
  | 'invalid_token'
  | 'forbidden'
  | 'insufficient_scope'
  | 'user_deactivated'
  | 'csrf_failed'
  | 'login_failed'
  | 'local_login_disabled'
  | 'oidc_not_configured'
  | 'oidc_unavailable'
  | 'user_not_found'
  | 'team_not_found'
  | 'team_exists'
  | 'api_key_not_found';

const STATUS: Record<IdentityErrorCode, number> = {
  unauthenticated: 401,
  invalid_token: 401,
  forbidden: 403,
  insufficient_scope: 403,
  user_deactivated: 403,
  csrf_failed: 403,
  login_failed: 401,
  local_login_disabled: 404,
  oidc_not_configured: 404,
  oidc_unavailable: 503,
  user_not_found: 404,
  team_not_found: 404,
  team_exists: 409,
  api_key_not_found: 404,
};

export class IdentityError extends AppError {
  constructor(
    readonly identityCode: IdentityErrorCode,
    message: string,
    details?: unknown,
    /** Value for the `WWW-Authenticate` header on a 401. */
    readonly challenge?: string,
  ) {
    super(identityCode, message, STATUS[identityCode], details);
  }
}
