import { AppError } from '../platform/errors/app-error.js';

export type SettingsErrorCode = 'setting_unknown' | 'setting_invalid' | 'setting_version_conflict';

export class SettingsError extends AppError {
  constructor(code: SettingsErrorCode, message: string, details?: unknown) {
    super(code, message, code === 'setting_unknown' ? 404 : code === 'setting_version_conflict' ? 409 : 400, details);
  }
}
