import { SetMetadata } from '@nestjs/common';

export const ROLES = ['admin', 'supervisor', 'agent', 'auditor', 'integrator'] as const;
export type Role = (typeof ROLES)[number];

export const REQUIRED_ROLES = 'switchboard:roles';

/** The caller needs at least one of these roles. */
export const Roles = (...roles: Role[]) => SetMetadata(REQUIRED_ROLES, roles);
