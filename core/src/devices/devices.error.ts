import { AppError } from '../platform/errors/app-error.js';

export type DevicesErrorCode =
  | 'device_not_found'
  | 'device_exists'
  | 'device_invalid'
  | 'device_import_invalid'
  | 'rule_not_found'
  | 'rule_invalid'
  | 'telemetry_invalid'
  | 'episode_not_found';

const STATUS: Record<DevicesErrorCode, number> = {
  device_not_found: 404,
  device_exists: 409,
  device_invalid: 400,
  device_import_invalid: 400,
  rule_not_found: 404,
  rule_invalid: 400,
  telemetry_invalid: 400,
  episode_not_found: 404,
};

export class DevicesError extends AppError {
  constructor(code: DevicesErrorCode, message: string, details?: unknown) {
    super(code, message, STATUS[code], details);
  }

  static deviceNotFound(id: string): DevicesError {
    return new DevicesError('device_not_found', `There is no device "${id}".`, { id });
  }
}
