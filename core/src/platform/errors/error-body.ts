export interface ErrorBody {
  error: {
    code: string;
    message: string;
    details?: unknown;
    correlationId?: string;
  };
}

export function errorBody(code: string, message: string, details?: unknown, correlationId?: string): ErrorBody {
  const body: ErrorBody = { error: { code, message } };
  if (details !== undefined) body.error.details = details;
  if (correlationId !== undefined) body.error.correlationId = correlationId;
  return body;
}
