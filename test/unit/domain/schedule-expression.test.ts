import { describe, expect, it } from 'vitest';
import { ScheduleConfigError } from '../../../lib/domain/errors.ts';
import { checkScheduleTiming, fromLocal, nextFireTime, parseScheduleExpression } from '../../../lib/domain/schedule-expression.ts';

/** The next `n` firings after `after` (ISO, to the second). */
function firings(expression: string, after: string, n = 3, timeZone = 'UTC'): string[] {
  const parsed = parseScheduleExpression(expression);
  const out: string[] = [];
  let t = Date.parse(after);
  for (let i = 0; i < n; i++) {
    const next = nextFireTime({ expression: parsed, timeZone, rateStartMs: Date.parse(after) }, t);
    if (next === undefined) break;
    out.push(new Date(next).toISOString().replace('.000Z', 'Z'));
    t = next;
  }
  return out;
}

describe('cron expressions (EventBridge syntax)', () => {
  it.each([
    ['every day at 10:00', 'cron(0 10 * * ? *)', ['2026-01-01T10:00:00Z', '2026-01-02T10:00:00Z', '2026-01-03T10:00:00Z']],
    ['every 15 minutes from minute 1 (n/s)', 'cron(1/15 * * * ? *)', ['2026-01-01T00:01:00Z', '2026-01-01T00:16:00Z', '2026-01-01T00:31:00Z']],
    ['*/s', 'cron(*/20 9 * * ? *)', ['2026-01-01T09:00:00Z', '2026-01-01T09:20:00Z', '2026-01-01T09:40:00Z']],
    ['a list and a range-with-step', 'cron(0 8,12-18/3 * * ? *)', ['2026-01-01T08:00:00Z', '2026-01-01T12:00:00Z', '2026-01-01T15:00:00Z']],
    ['weekdays by name (1-7 = SUN-SAT)', 'cron(0 18 ? * MON-FRI *)', ['2026-01-01T18:00:00Z', '2026-01-02T18:00:00Z', '2026-01-05T18:00:00Z']],
    ['day-of-week numbers: 1 is Sunday', 'cron(0 0 ? * 1 *)', ['2026-01-04T00:00:00Z', '2026-01-11T00:00:00Z', '2026-01-18T00:00:00Z']],
    ['months by name', 'cron(0 0 1 JAN,JUL ? *)', ['2026-07-01T00:00:00Z', '2027-01-01T00:00:00Z', '2027-07-01T00:00:00Z']],
    ['the last day of the month (L)', 'cron(0 0 L * ? *)', ['2026-01-31T00:00:00Z', '2026-02-28T00:00:00Z', '2026-03-31T00:00:00Z']],
    ['the weekday nearest the 1st, staying in the month (1W)', 'cron(0 0 1W * ? *)', ['2026-02-02T00:00:00Z', '2026-03-02T00:00:00Z', '2026-04-01T00:00:00Z']],
    ['the weekday nearest a Saturday 15th (15W)', 'cron(0 0 15W 8 ? *)', ['2026-08-14T00:00:00Z', '2027-08-16T00:00:00Z', '2028-08-15T00:00:00Z']],
    ['the last Friday of the month (6L)', 'cron(0 0 ? * 6L *)', ['2026-01-30T00:00:00Z', '2026-02-27T00:00:00Z', '2026-03-27T00:00:00Z']],
    ['the second Tuesday (3#2)', 'cron(0 0 ? * 3#2 *)', ['2026-01-13T00:00:00Z', '2026-02-10T00:00:00Z', '2026-03-10T00:00:00Z']],
    ['a year field', 'cron(0 0 29 2 ? 2028-2032)', ['2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z']],
  ])('%s: %s', (_what, expression, expected) => {
    expect(firings(expression, '2026-01-01T00:00:00Z', 3)).toEqual(expected);
  });

  it('never fires again after its last year', () => {
    expect(firings('cron(0 0 1 1 ? 2025)', '2026-01-01T00:00:00Z')).toEqual([]);
  });

  it('evaluates in the time zone: 02:00 Europe/Berlin is 01:00 UTC in winter and 00:00 UTC in summer', () => {
    expect(firings('cron(0 2 * * ? *)', '2026-03-27T00:00:00Z', 3, 'Europe/Berlin')).toEqual(['2026-03-27T01:00:00Z', '2026-03-28T01:00:00Z', '2026-03-30T00:00:00Z']);
  });

  it.each([
    ['6 fields', 'cron(0 2 * * ?)', 'cron expressions have 6 fields'],
    ['neither day field is ?', 'cron(0 2 * * * *)', 'exactly one of the day-of-month and day-of-week fields must be ?'],
    ['both day fields are ?', 'cron(0 2 ? * ? *)', 'exactly one of the day-of-month and day-of-week fields must be ?'],
    ['minutes out of range', 'cron(60 2 * * ? *)', 'minutes field: [60] is out of range 0-59'],
    ['hours out of range', 'cron(0 24 * * ? *)', 'hours field: [24] is out of range 0-23'],
    ['day-of-week 0', 'cron(0 2 ? * 0 *)', 'day-of-week field: [0] is out of range 1-7'],
    ['year before 1970', 'cron(0 2 * * ? 1969)', 'year field: [1969] is out of range 1970-2199'],
    ['? outside the day fields', 'cron(? 2 * * ? *)', 'minutes field: ? is only allowed in day-of-month and day-of-week'],
    ['two # expressions', 'cron(0 2 ? * 3#1,6#3 *)', 'a # expression stands alone'],
    ['# week 6', 'cron(0 2 ? * 3#6 *)', 'the week number after # must be 1-5'],
    ['W on a list', 'cron(0 2 1,15W * ? *)', 'W follows one day'],
    ['a backwards range', 'cron(0 2 ? * FRI-MON *)', 'the range [FRI-MON] runs backwards'],
    ['an unknown name', 'cron(0 2 ? * FRIDAY *)', 'day-of-week field: [FRIDAY] is not a value'],
    ['a zero increment', 'cron(0/0 2 * * ? *)', 'the increment in [0/0] must be a positive integer'],
  ])('refuses %s', (_what, expression, message) => {
    expect(() => parseScheduleExpression(expression)).toThrow(message);
  });
});

describe('rate expressions', () => {
  it('fires at the start and every period after it', () => {
    const start = Date.parse('2026-01-01T00:00:00Z');
    expect(nextFireTime({ expression: parseScheduleExpression('rate(5 minutes)'), timeZone: 'UTC', rateStartMs: start }, start - 1)).toBe(start);
    expect(firings('rate(5 minutes)', '2026-01-01T00:00:00Z', 3)).toEqual(['2026-01-01T00:05:00Z', '2026-01-01T00:10:00Z', '2026-01-01T00:15:00Z']);
    expect(firings('rate(1 day)', '2026-01-01T00:00:00Z', 2)).toEqual(['2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z']);
  });

  it.each([
    ['rate(1 minutes)', 'the unit is singular for 1'],
    ['rate(2 hour)', 'the unit is plural for values above 1'],
    ['rate(0 minutes)', 'the rate value must be a positive integer'],
    ['rate(5 seconds)', 'rate expressions are rate(value unit)'],
    ['rate(1.5 hours)', 'rate expressions are rate(value unit)'],
  ])('refuses %s', (expression, message) => {
    expect(() => parseScheduleExpression(expression)).toThrow(message);
  });
});

describe('at expressions', () => {
  it('fire once, at the wall-clock time in the time zone', () => {
    expect(firings('at(2026-05-01T12:00:00)', '2026-01-01T00:00:00Z', 3, 'Asia/Kolkata')).toEqual(['2026-05-01T06:30:00Z']);
  });

  it.each([['at(2026-02-30T00:00:00)'], ['at(2026-05-01 12:00:00)'], ['at(2026-05-01T12:00)'], ['at(2026-05-01T24:00:00)']])('refuses %s', (expression) => {
    expect(() => parseScheduleExpression(expression)).toThrow(/at expressions are at\(yyyy-mm-ddThh:mm:ss\)|is not a date and time/);
  });
});

describe('wall-clock times across DST (Scheduler: skipped when the clocks go forward, once when they go back)', () => {
  it('a time the clocks skip has no instant', () => {
    expect(fromLocal({ year: 2026, month: 3, day: 29, hour: 2, minute: 30, second: 0 }, 'Europe/Berlin')).toBeUndefined();
  });

  it('a time that happens twice is its first instant', () => {
    expect(new Date(fromLocal({ year: 2026, month: 10, day: 25, hour: 2, minute: 30, second: 0 }, 'Europe/Berlin')!).toISOString()).toBe('2026-10-25T00:30:00.000Z');
  });

  it('an hourly cron skips the missing hour and does not repeat the doubled one', () => {
    expect(firings('cron(30 * * * ? *)', '2026-03-29T00:00:00Z', 2, 'Europe/Berlin')).toEqual(['2026-03-29T00:30:00Z', '2026-03-29T01:30:00Z']);
    expect(firings('cron(30 * * * ? *)', '2026-10-24T23:45:00Z', 3, 'Europe/Berlin')).toEqual(['2026-10-25T00:30:00Z', '2026-10-25T02:30:00Z', '2026-10-25T03:30:00Z']);
  });
});

describe('checkScheduleTiming', () => {
  const ok = { name: 'close-nightly', expression: 'cron(0 2 * * ? *)' };

  it('accepts a schedule and returns its parsed expression', () => {
    expect(checkScheduleTiming({ ...ok, timezone: 'Europe/Berlin', flexible_window_minutes: 1440 }).kind).toBe('cron');
    expect(checkScheduleTiming({ ...ok, flexible_window_minutes: 'OFF' }).kind).toBe('cron');
  });

  it.each([
    [{ ...ok, expression: 'cron(0 2 * * * *)' }, 'schedule [close-nightly]: expression [cron(0 2 * * * *)]: exactly one of'],
    [{ ...ok, name: 'has space' }, 'schedule [has space]: name: must be 1-64 characters'],
    [{ ...ok, name: 'x'.repeat(65) }, 'name: must be 1-64 characters'],
    [{ ...ok, timezone: 'Europe/Berlim' }, 'schedule [close-nightly]: timezone: [Europe/Berlim] is not a time zone'],
    [{ ...ok, flexible_window_minutes: 0 }, 'schedule [close-nightly]: flexible_window_minutes: must be OFF or an integer from 1 to 1440, got 0'],
    [{ ...ok, flexible_window_minutes: 1441 }, 'got 1441'],
    [{ ...ok, flexible_window_minutes: 2.5 }, 'got 2.5'],
    [{ ...ok, expression: 'at(2026-03-29T02:30:00)', timezone: 'Europe/Berlin' }, 'that time does not exist in Europe/Berlin'],
  ])('refuses %o', (timing, message) => {
    expect(() => checkScheduleTiming(timing)).toThrow(message);
    expect(() => checkScheduleTiming(timing)).toThrow(ScheduleConfigError);
  });
});
