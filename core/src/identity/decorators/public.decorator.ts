import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'switchboard:public';

/** Marks a route as reachable without authentication. Everything else requires it. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
