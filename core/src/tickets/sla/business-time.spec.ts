import { describe, expect, it } from '@jest/globals';
import { addBusinessMs, businessMsBetween, compileCalendar, localToUtc, validateCalendar, type WeeklyHours } from './business-time.js';

const H = 3_600_000;
const weekdays9to17: WeeklyHours = {
  mon: [['09:00', '17:00']],
  tue: [['09:00', '17:00']],
  wed: [['09:00', '17:00']],
  thu: [['09:00', '17:00']],
  fri: [['09:00', '17:00']],
};

describe('business time', () => {
  // 2026-01-09 is a Friday; 2026-01-12 (Monday) is declared a holiday.
  const berlin = compileCalendar({ timeZone: 'Europe/Berlin', hours: weekdays9to17, holidays: ['2026-01-12'] });

  it('maps local wall time to UTC in winter and summer', () => {
    expect(new Date(localToUtc('Europe/Berlin', 2026, 1, 9, 16 * 60)).toISOString()).toBe('2026-01-09T15:00:00.000Z');
    expect(new Date(localToUtc('Europe/Berlin', 2026, 7, 9, 16 * 60)).toISOString()).toBe('2026-07-09T14:00:00.000Z');
    expect(new Date(localToUtc('Asia/Shanghai', 2026, 1, 9, 9 * 60)).toISOString()).toBe('2026-01-09T01:00:00.000Z');
  });

  it('carries a target across a weekend and a holiday', () => {
    // Friday 16:00 Berlin + 4 business hours: 1 h on Friday, weekend and Monday holiday skipped, 3 h on Tuesday.
    const due = addBusinessMs(berlin, new Date('2026-01-09T15:00:00Z'), 4 * H);
    expect(due.toISOString()).toBe('2026-01-13T11:00:00.000Z'); // Tuesday 12:00 Berlin
    expect(businessMsBetween(berlin, new Date('2026-01-09T15:00:00Z'), due)).toBe(4 * H);
  });

  it('starts counting at the next opening when created outside hours', () => {
    // Saturday 10:00 Berlin + 30 min → Tuesday 09:30 (Monday is the holiday).
    const due = addBusinessMs(berlin, new Date('2026-01-10T09:00:00Z'), 30 * 60_000);
    expect(due.toISOString()).toBe('2026-01-13T08:30:00.000Z');
  });

  it('counts nothing over a weekend and holiday', () => {
    expect(businessMsBetween(berlin, new Date('2026-01-09T16:00:00Z'), new Date('2026-01-13T08:00:00Z'))).toBe(0);
    expect(businessMsBetween(berlin, new Date('2026-01-13T08:00:00Z'), new Date('2026-01-13T09:00:00Z'))).toBe(H);
  });

  it('keeps an 8-hour day across the spring DST switch', () => {
    // 2026-03-27 Friday (UTC+1), 2026-03-30 Monday (UTC+2); no holiday in this calendar.
    const cal = compileCalendar({ timeZone: 'Europe/Berlin', hours: weekdays9to17, holidays: [] });
    const due = addBusinessMs(cal, new Date('2026-03-27T15:00:00Z'), 2 * H); // Fri 16:00 CET
    expect(due.toISOString()).toBe('2026-03-30T08:00:00.000Z'); // Mon 10:00 CEST
    expect(businessMsBetween(cal, new Date('2026-03-30T00:00:00Z'), new Date('2026-03-31T00:00:00Z'))).toBe(8 * H);
  });

  it('handles split shifts and a 24x7 null calendar', () => {
    const split = compileCalendar({
      timeZone: 'UTC',
      hours: {
        mon: [
          ['13:00', '17:00'],
          ['08:00', '12:00'],
        ],
      },
      holidays: [],
    });
    // Monday 2026-01-05 11:00 + 2h → 12:00 then 13:00-14:00
    expect(addBusinessMs(split, new Date('2026-01-05T11:00:00Z'), 2 * H).toISOString()).toBe('2026-01-05T14:00:00.000Z');
    expect(addBusinessMs(null, new Date('2026-01-05T11:00:00Z'), 2 * H).toISOString()).toBe('2026-01-05T13:00:00.000Z');
    expect(businessMsBetween(null, new Date('2026-01-05T11:00:00Z'), new Date('2026-01-05T12:00:00Z'))).toBe(H);
  });

  it('validates calendars', () => {
    expect(validateCalendar({ timeZone: 'Mars/Base', hours: {}, holidays: ['x'] })).toEqual([
      'timeZone must be an IANA time zone such as Europe/Berlin',
      'hours must contain at least one interval',
      'holidays must be a list of YYYY-MM-DD dates',
    ]);
    expect(validateCalendar({ timeZone: 'UTC', hours: { mon: [['10:00', '09:00']] }, holidays: [] })[0]).toContain('must end after it starts');
    expect(validateCalendar({ timeZone: 'UTC', hours: weekdays9to17, holidays: ['2026-12-25'] })).toEqual([]);
  });
});
