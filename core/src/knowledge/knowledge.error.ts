import { AppError } from '../platform/errors/app-error.js';

export type KnowledgeErrorCode =
  'kb_entry_not_found' | 'kb_version_not_found' | 'kb_proposal_not_found' | 'kb_invalid' | 'kb_version_conflict' | 'kb_import_invalid' | 'kb_proposal_decided';

const STATUS: Record<KnowledgeErrorCode, number> = {
  kb_entry_not_found: 404,
  kb_version_not_found: 404,
  kb_proposal_not_found: 404,
  kb_invalid: 400,
  kb_version_conflict: 409,
  kb_import_invalid: 400,
  kb_proposal_decided: 409,
};

export class KnowledgeError extends AppError {
  constructor(code: KnowledgeErrorCode, message: string, details?: unknown) {
    super(code, message, STATUS[code], details);
  }
}
