import { AppError } from '../errors/app-error.js';

export type BusErrorCode = 'bus_unavailable' | 'no_responders' | 'timeout' | 'subject_not_allowed' | 'remote_error';

export class BusError extends AppError {
  constructor(code: BusErrorCode, message: string, status = 503) {
    super(code, message, status);
  }
}
