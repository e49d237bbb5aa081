import { AppError } from '../platform/errors/app-error.js';

export type NlpErrorCode =
  | 'nlp_model_not_found'
  | 'nlp_job_not_found'
  | 'nlp_invalid_pack'
  | 'nlp_invalid_training_data'
  | 'nlp_job_not_running'
  | 'nlp_no_previous_version'
  | 'nlp_model_unavailable';

const STATUS: Record<NlpErrorCode, number> = {
  nlp_model_not_found: 404,
  nlp_job_not_found: 404,
  nlp_invalid_pack: 400,
  nlp_invalid_training_data: 400,
  nlp_job_not_running: 409,
  nlp_no_previous_version: 409,
  nlp_model_unavailable: 503,
};

export class NlpError extends AppError {
  constructor(code: NlpErrorCode, message: string, details?: unknown) {
    super(code, message, STATUS[code], details);
  }
}
