/**
 * Stream layout. Every durable subject belongs to exactly one stream; `sb.rt.*` and
 * `sb.plugin.*` are core NATS (not stored).
 */
export interface StreamSpec {
  name: string;
  subjects: string[];
  maxAgeMs: number;
}

const DAY = 24 * 60 * 60 * 1000;

export const STREAMS: StreamSpec[] = [
  { name: 'SB_EVENTS', subjects: ['sb.evt.>'], maxAgeMs: 7 * DAY },
  { name: 'SB_INBOUND', subjects: ['sb.inbound.>'], maxAgeMs: 7 * DAY },
  { name: 'SB_OUTBOUND', subjects: ['sb.outbound.>'], maxAgeMs: 7 * DAY },
  { name: 'SB_TELEMETRY', subjects: ['sb.telemetry.>'], maxAgeMs: 2 * DAY },
  { name: 'SB_DLQ', subjects: ['sb.dlq.>'], maxAgeMs: 30 * DAY },
];

/** How long JetStream remembers a message id to drop re-publishes of it. */
export const DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

export function streamFor(subject: string): StreamSpec | undefined {
  return STREAMS.find((stream) => stream.subjects.some((pattern) => subjectMatches(pattern, subject)));
}

export function deadLetterSubject(subject: string): string {
  return `sb.dlq.${subject.replace(/^sb\./, '')}`;
}

/** NATS wildcard matching: `*` one token, `>` one or more trailing tokens. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** Rejects subjects with empty tokens, wildcards or spaces in places a publisher controls. */
export function isValidPublishSubject(subject: string): boolean {
  return subject.length <= 256 && subject.split('.').every((token) => TOKEN.test(token));
}
