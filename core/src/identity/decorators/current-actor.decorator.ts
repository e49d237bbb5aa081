import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Actor } from '../actor.js';

export const CurrentActor = createParamDecorator((_: unknown, context: ExecutionContext): Actor | undefined => {
  const request = context.switchToHttp().getRequest<{ actor?: Actor }>();
  return request.actor;
});
