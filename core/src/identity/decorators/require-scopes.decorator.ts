import { SetMetadata } from '@nestjs/common';

export const REQUIRED_SCOPES = 'switchboard:scopes';

/**
 * API-key scopes a route needs (all of them), e.g. `@RequireScopes('tickets:write')`. Users are
 * governed by roles instead. API keys may call only routes that declare scopes (or whose
 * `@Roles` include `integrator`).
 */
export const RequireScopes = (...scopes: string[]) => SetMetadata(REQUIRED_SCOPES, scopes);
