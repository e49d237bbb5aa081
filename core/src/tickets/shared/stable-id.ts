import { createHash } from 'node:crypto';

/**
 * A deterministic UUID-shaped id (36 chars, fits `outbox.event_id`) for an event whose emit may
 * be retried: the same logical change always gets the same id, so the outbox/bus drop repeats.
 */
export function stableEventId(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
