export interface QuietHours {
  timeZone: string;
  /** Local `HH:MM` when quiet hours begin. */
  start: string;
  /** Local `HH:MM` when they end (may be on the next day). */
  end: string;
}

function localMinutes(timeZone: string, date: Date): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(date);
  const hour = Number(parts.find((part) => part.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((part) => part.type === 'minute')?.value ?? 0);
  return hour * 60 + minute;
}

const toMinutes = (text: string) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));

/** The earliest moment at or after `now` outside quiet hours (minute precision). */
export function nextAllowedTime(quiet: QuietHours | null, now: Date): Date {
  if (!quiet) return now;
  const start = toMinutes(quiet.start);
  const end = toMinutes(quiet.end);
  if (start === end) return now;
  const current = localMinutes(quiet.timeZone, now);
  const inQuiet = start < end ? current >= start && current < end : current >= start || current < end;
  if (!inQuiet) return now;
  const wait = (end - current + 1440) % 1440;
  const next = new Date(now.getTime() + wait * 60_000);
  next.setUTCSeconds(0, 0);
  return next;
}
