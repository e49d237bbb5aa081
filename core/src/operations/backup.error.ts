import { AppError } from '../platform/errors/app-error.js';

export type BackupErrorCode =
  | 'backup_key_missing'
  | 'backup_key_invalid'
  | 'backup_wrong_key'
  | 'backup_corrupt'
  | 'backup_tool_missing'
  | 'backup_tool_failed'
  | 'backup_target_not_empty'
  | 'backup_verification_failed';

/** Errors of `switchboard backup` / `restore`; the CLI prints the message and exits non-zero. */
export class BackupError extends AppError {
  constructor(code: BackupErrorCode, message: string, details?: unknown) {
    super(code, message, 400, details);
  }
}
