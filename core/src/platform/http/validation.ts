import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { PlatformError } from '../errors/app-error.js';

interface FieldProblem {
  field: string;
  problems: string[];
}

function flatten(errors: ValidationError[], prefix = ''): FieldProblem[] {
  const result: FieldProblem[] = [];
  for (const error of errors) {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    if (error.constraints) result.push({ field, problems: Object.values(error.constraints) });
    if (error.children?.length) result.push(...flatten(error.children, field));
  }
  return result;
}

/**
 * Strict body/query validation: unknown fields are rejected by name, types are enforced,
 * and the error carries one entry per bad field.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const details = flatten(errors);
      const unknown = details.filter((detail) => detail.problems.some((problem) => problem.includes('should not exist'))).map((detail) => detail.field);
      const message = unknown.length ? `Unknown field(s): ${unknown.join(', ')}` : `Invalid field(s): ${details.map((detail) => detail.field).join(', ')}`;
      return new PlatformError('validation_failed', message, 400, { fields: details, unknownFields: unknown });
    },
  });
}
