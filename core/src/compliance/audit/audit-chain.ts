import { createHash } from 'node:crypto';

/** prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainFields {
  seq: number;
  at: Date;
  actorKind: string;
  actorId: string | null;
  action: string;
  objectType: string | null;
  objectId: string | null;
  outcome: string;
  ip: string | null;
  details: string | null;
}

/** The exact bytes hashed for an entry: a JSON array in fixed order (timestamps in ms UTC). */
export function canonical(entry: ChainFields): string {
  return JSON.stringify([
    entry.seq,
    entry.at.toISOString(),
    entry.actorKind,
    entry.actorId,
    entry.action,
    entry.objectType,
    entry.objectId,
    entry.outcome,
    entry.ip,
    entry.details,
  ]);
}

/** `H(previous hash ‖ entry)`. */
export function chainHash(prevHash: string, entry: ChainFields): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonical(entry)).digest('hex');
}

/** Stable JSON (sorted keys) so details hash the same after a round trip. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

export interface VerifyProblem {
  seq: number;
  problem: 'edited' | 'deleted' | 'chain_broken' | 'head_mismatch';
  message: string;
}
