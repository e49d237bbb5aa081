/**
 * Business-time arithmetic: pure functions, no I/O, no clock. A calendar is a set of weekly
 * local-time intervals in an IANA time zone, minus holidays (local dates). `null` stands for
 * "around the clock", where business time equals wall time.
 *
 * Daylight-saving changes are handled by mapping each local interval to UTC instants for
 * that specific date, so a 09:00–17:00 day is 8 hours on both sides of a DST switch.
 */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** `{ mon: [["09:00","17:00"]], … }`: local `HH:MM` start (inclusive) and end (exclusive, `24:00` allowed). */
export type WeeklyHours = Partial<Record<Weekday, Array<[string, string]>>>;

export interface CalendarSpec {
  timeZone: string;
  hours: WeeklyHours;
  holidays: string[];
}

export interface CompiledCalendar {
  timeZone: string;
  /** Index 0 = Sunday; minutes from local midnight. */
  days: Array<Array<[number, number]>>;
  holidays: Set<string>;
}

const MAX_DAYS = 3 * 366;
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function minutes(text: string): number {
  if (text === '24:00') return 1440;
  const [h, m] = text.split(':').map(Number);
  return h * 60 + m;
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Returns a list of problems; empty when the calendar is usable. */
export function validateCalendar(spec: CalendarSpec): string[] {
  const problems: string[] = [];
  if (typeof spec.timeZone !== 'string' || !isValidTimeZone(spec.timeZone)) problems.push('timeZone must be an IANA time zone such as Europe/Berlin');
  let any = false;
  if (!spec.hours || typeof spec.hours !== 'object' || Array.isArray(spec.hours)) {
    problems.push('hours must be an object keyed by weekday (sun … sat)');
  } else {
    for (const [day, intervals] of Object.entries(spec.hours)) {
      if (!WEEKDAYS.includes(day as Weekday)) {
        problems.push(`hours.${day} is not a weekday (use sun, mon, tue, wed, thu, fri, sat)`);
        continue;
      }
      if (!Array.isArray(intervals)) {
        problems.push(`hours.${day} must be a list of ["HH:MM","HH:MM"] pairs`);
        continue;
      }
      const sorted: Array<[number, number]> = [];
      for (const interval of intervals) {
        if (!Array.isArray(interval) || interval.length !== 2 || !interval.every((t) => typeof t === 'string' && TIME.test(t))) {
          problems.push(`hours.${day} has an interval that is not ["HH:MM","HH:MM"]`);
          continue;
        }
        const [start, end] = [minutes(interval[0]), minutes(interval[1])];
        if (end <= start) problems.push(`hours.${day} interval ${interval[0]}–${interval[1]} must end after it starts`);
        else sorted.push([start, end]);
      }
      sorted.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < sorted.length; i++) if (sorted[i][0] < sorted[i - 1][1]) problems.push(`hours.${day} has overlapping intervals`);
      if (sorted.length) any = true;
    }
    if (!any) problems.push('hours must contain at least one interval');
  }
  if (!Array.isArray(spec.holidays) || !spec.holidays.every((d) => typeof d === 'string' && DATE.test(d) && !Number.isNaN(Date.parse(`${d}T00:00:00Z`)))) {
    problems.push('holidays must be a list of YYYY-MM-DD dates');
  }
  return problems;
}

export function compileCalendar(spec: CalendarSpec): CompiledCalendar {
  const problems = validateCalendar(spec);
  if (problems.length) throw new Error(`invalid calendar: ${problems.join('; ')}`);
  const days = WEEKDAYS.map((day) =>
    (spec.hours[day] ?? []).map(([start, end]) => [minutes(start), minutes(end)] as [number, number]).sort((a, b) => a[0] - b[0]),
  );
  return { timeZone: spec.timeZone, days, holidays: new Set(spec.holidays) };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, format);
  }
  return format;
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function localParts(zone: string, epochMs: number): LocalParts {
  const values: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(new Date(epochMs))) if (part.type !== 'literal') values[part.type] = Number(part.value);
  return { year: values.year, month: values.month, day: values.day, hour: values.hour % 24, minute: values.minute, second: values.second };
}

/** Offset of the zone from UTC at that instant, in ms (positive east of Greenwich). */
function offsetMs(zone: string, epochMs: number): number {
  const p = localParts(zone, epochMs);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/** The UTC instant of a local wall-clock time (local midnight of the date + minutes). */
export function localToUtc(zone: string, year: number, month: number, day: number, minuteOfDay: number): number {
  const guess = Date.UTC(year, month - 1, day, 0, minuteOfDay);
  const first = offsetMs(zone, guess);
  let result = guess - first;
  const second = offsetMs(zone, result);
  if (second !== first) result = guess - second;
  return result;
}

function isoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Business intervals (UTC ms) from the local day containing `fromMs` onwards. */
function* intervals(calendar: CompiledCalendar, fromMs: number): Generator<[number, number]> {
  const start = localParts(calendar.timeZone, fromMs);
  const base = Date.UTC(start.year, start.month - 1, start.day);
  for (let i = 0; i < MAX_DAYS; i++) {
    const date = new Date(base + i * 86_400_000);
    const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    if (calendar.holidays.has(isoDate(year, month, day))) continue;
    for (const [startMin, endMin] of calendar.days[date.getUTCDay()]) {
      const s = localToUtc(calendar.timeZone, year, month, day, startMin);
      const e = localToUtc(calendar.timeZone, year, month, day, endMin);
      if (e > s) yield [s, e];
    }
  }
  throw new Error(`calendar has no business hours within ${MAX_DAYS} days`);
}

/** The instant at which `ms` of business time will have passed after `from`. */
export function addBusinessMs(calendar: CompiledCalendar | null, from: Date, ms: number): Date {
  if (ms <= 0) return new Date(from);
  if (!calendar) return new Date(from.getTime() + ms);
  const fromMs = from.getTime();
  let remaining = ms;
  for (const [s, e] of intervals(calendar, fromMs)) {
    const begin = Math.max(s, fromMs);
    if (e <= begin) continue;
    const available = e - begin;
    if (remaining <= available) return new Date(begin + remaining);
    remaining -= available;
  }
  /* c8 ignore next */
  throw new Error('unreachable');
}

/** Business time between two instants (0 if `to` is not after `from`). */
export function businessMsBetween(calendar: CompiledCalendar | null, from: Date, to: Date): number {
  const [a, b] = [from.getTime(), to.getTime()];
  if (b <= a) return 0;
  if (!calendar) return b - a;
  let total = 0;
  for (const [s, e] of intervals(calendar, a)) {
    if (s >= b) break;
    const begin = Math.max(s, a);
    const end = Math.min(e, b);
    if (end > begin) total += end - begin;
  }
  return total;
}
