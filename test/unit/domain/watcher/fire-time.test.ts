import { describe, expect, it } from 'vitest';
import { IllegalArgumentError } from '../../../../lib/domain/errors.ts';
import { dueFireTime, nextFireTime, type Schedule, scheduleCrons, validateScheduleCrons } from '../../../../lib/domain/watcher/fire-time.ts';
import { parseTrigger } from '../../../../lib/domain/watcher/schedule.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? 'never' : new Date(ms).toISOString().replace('.000Z', 'Z'));
/** The next n fire times of a schedule after an instant. */
const fires = (schedule: Schedule, after: string, n = 1, timezone?: string, start?: string): string[] => {
  const out: string[] = [];
  let t: number | undefined = at(after);
  for (let i = 0; i < n && t !== undefined; i++) {
    t = nextFireTime(schedule, timezone, t, start === undefined ? undefined : at(start));
    out.push(iso(t));
  }
  return out;
};

describe('fire times of each schedule type', () => {
  it('hourly fires at each listed minute of every hour', () => {
    const hourly: Schedule = { type: 'hourly', value: { minute: [0, 5] } };
    expect(scheduleCrons(hourly)).toEqual(['0 0,5 * * * ?']);
    expect(fires(hourly, '2026-11-26T10:03:00Z', 3)).toEqual(['2026-11-26T10:05:00Z', '2026-11-26T11:00:00Z', '2026-11-26T11:05:00Z']);
  });

  it('daily fires at noon, midnight, HH:mm and {hour, minute} times', () => {
    const daily: Schedule = { type: 'daily', value: { at: ['noon', 'midnight', '7:30', { hour: [18, 20], minute: [15] }] } };
    expect(scheduleCrons(daily)).toEqual(['0 0 12 * * ?', '0 0 0 * * ?', '0 30 7 * * ?', '0 15 18,20 * * ?']);
    expect(fires(daily, '2026-11-26T08:00:00Z', 5)).toEqual([
      '2026-11-26T12:00:00Z',
      '2026-11-26T18:15:00Z',
      '2026-11-26T20:15:00Z',
      '2026-11-27T00:00:00Z',
      '2026-11-27T07:30:00Z',
    ]);
  });

  it('weekly fires on the listed days at the listed times (days as cron keys, names or 1 = Sunday)', () => {
    const weekly: Schedule = {
      type: 'weekly',
      value: [
        { on: ['MON', 'friday'], at: ['noon'] },
        { on: [1], at: ['09:00'] },
      ],
    };
    expect(scheduleCrons(weekly)).toEqual(['0 0 12 ? * MON,FRI', '0 0 9 ? * SUN']);
    // 2026-11-26 is a Thursday.
    expect(fires(weekly, '2026-11-26T00:00:00Z', 3)).toEqual(['2026-11-27T12:00:00Z', '2026-11-29T09:00:00Z', '2026-11-30T12:00:00Z']);
  });

  it('monthly fires on day numbers and last_day', () => {
    const monthly: Schedule = {
      type: 'monthly',
      value: [
        { on: [1, 15], at: ['noon'] },
        { on: ['last_day'], at: ['midnight'] },
      ],
    };
    expect(scheduleCrons(monthly)).toEqual(['0 0 12 1,15 * ?', '0 0 0 L * ?']);
    expect(fires(monthly, '2027-02-10T00:00:00Z', 4)).toEqual(['2027-02-15T12:00:00Z', '2027-02-28T00:00:00Z', '2027-03-01T12:00:00Z', '2027-03-15T12:00:00Z']);
  });

  it('yearly fires in the listed months on the listed days', () => {
    const yearly: Schedule = {
      type: 'yearly',
      value: [
        { in: ['JANUARY', 'jul'], on: [1], at: ['noon'] },
        { in: [12], on: ['last_day'], at: ['23:59'] },
      ],
    };
    expect(scheduleCrons(yearly)).toEqual(['0 0 12 1 1,7 ?', '0 59 23 L 12 ?']);
    expect(fires(yearly, '2026-11-26T00:00:00Z', 3)).toEqual(['2026-12-31T23:59:00Z', '2027-01-01T12:00:00Z', '2027-07-01T12:00:00Z']);
  });

  it('cron fires at the earliest of its expressions, seconds included', () => {
    expect(fires({ type: 'cron', value: '0/10 * * * * ?' }, '2026-11-26T10:00:05Z', 2)).toEqual(['2026-11-26T10:00:10Z', '2026-11-26T10:00:20Z']);
    expect(fires({ type: 'cron', value: ['0 0 12 ? * MON-FRI', '0 30 8 ? * SAT'] }, '2026-11-27T13:00:00Z', 2)).toEqual(['2026-11-28T08:30:00Z', '2026-11-30T12:00:00Z']);
  });

  it('a cron whose years are past never fires again; an invalid cron throws Elasticsearch’s error', () => {
    expect(fires({ type: 'cron', value: '0 0 0 1 1 ? 2020' }, '2026-11-26T00:00:00Z')).toEqual(['never']);
    expect(() => nextFireTime({ type: 'cron', value: '0 0 0 * * *' }, undefined, 0)).toThrow(IllegalArgumentError);
  });
});

describe('interval schedules (IntervalSchedule.nextScheduledTimeAfter)', () => {
  it('fire every interval from the start: the first one interval after it, not at it', () => {
    const every5m: Schedule = { type: 'interval', value: '5m' };
    const start = '2026-11-26T10:00:07.250Z';
    expect(fires(every5m, start, 3, undefined, start)).toEqual(['2026-11-26T10:05:07.250Z', '2026-11-26T10:10:07.250Z', '2026-11-26T10:15:07.250Z']);
  });

  it('stay on the grid of the start whatever the time asked about, and after a fire time give the next one', () => {
    const every10s: Schedule = { type: 'interval', value: '10s' };
    const start = '2026-11-26T10:00:03Z';
    expect(fires(every10s, '2026-11-26T10:07:00Z', 1, undefined, start)).toEqual(['2026-11-26T10:07:03Z']);
    expect(fires(every10s, '2026-11-26T10:07:03Z', 1, undefined, start)).toEqual(['2026-11-26T10:07:13Z']);
    // Before the start: the first fire.
    expect(fires(every10s, '2026-11-26T09:00:00Z', 1, undefined, start)).toEqual(['2026-11-26T10:00:13Z']);
  });

  it('read the units s m h d w and a number of seconds', () => {
    const start = at('2026-01-01T00:00:00Z');
    const first = (value: unknown) => (nextFireTime({ type: 'interval', value }, undefined, start, start) as number) - start;
    expect([first('30s'), first('2m'), first('1h'), first('2d'), first('1w'), first(90)]).toEqual([30_000, 120_000, 3_600_000, 172_800_000, 604_800_000, 90_000]);
  });
});

describe('time zones', () => {
  it('a fixed offset moves the wall clock (ES CronTimezoneTests: +1 at 02:00 is 01:00Z)', () => {
    expect(fires({ type: 'cron', value: '0 0 2 * * ?' }, '2020-01-01T00:00:00Z', 1, '+01:00')).toEqual(['2020-01-01T01:00:00Z']);
    expect(fires({ type: 'cron', value: '0 0 1 1 1 ?' }, '2020-01-01T00:00:01Z', 1, '+01:00')).toEqual(['2021-01-01T00:00:00Z']);
    expect(fires({ type: 'daily', value: { at: ['noon'] } }, '2026-11-26T00:00:00Z', 1, 'UTC-05:30')).toEqual(['2026-11-26T17:30:00Z']);
  });

  it('a region follows its daylight-saving rules (London at 02:00: 02:00Z in winter, 01:00Z in summer)', () => {
    const daily2: Schedule = { type: 'cron', value: '0 0 2 * * ?' };
    expect(fires(daily2, '2020-03-01T00:00:00Z', 1, 'Europe/London')).toEqual(['2020-03-01T02:00:00Z']);
    expect(fires(daily2, '2020-03-30T00:00:00Z', 1, 'Europe/London')).toEqual(['2020-03-30T01:00:00Z']);
    expect(fires({ type: 'weekly', value: [{ on: ['MON'], at: ['09:00'] }] }, '2026-11-26T00:00:00Z', 1, 'America/New_York')).toEqual(['2026-11-30T14:00:00Z']);
  });

  it('a wall time in the spring-forward gap fires as if the change had not happened yet', () => {
    // London 2025-03-30: 01:00 GMT jumps to 02:00 BST; 01:30 does not exist.
    expect(fires({ type: 'cron', value: '0 30 1 * * ?' }, '2025-03-30T00:00:00Z', 2, 'Europe/London')).toEqual(['2025-03-30T01:30:00Z', '2025-03-31T00:30:00Z']);
    // Every minute keeps ticking through the gap.
    expect(fires({ type: 'cron', value: '0 * * * * ?' }, '2025-03-30T00:59:00Z', 2, 'Europe/London')).toEqual(['2025-03-30T01:00:00Z', '2025-03-30T01:01:00Z']);
  });

  it('a wall time the fall-back repeats fires once, at its first occurrence', () => {
    // London 2024-10-27: 02:00 BST goes back to 01:00 GMT; 01:30 happens at 00:30Z and 01:30Z.
    const daily130: Schedule = { type: 'daily', value: { at: ['1:30'] } };
    expect(fires(daily130, '2024-10-27T00:00:00Z', 2, 'Europe/London')).toEqual(['2024-10-27T00:30:00Z', '2024-10-28T01:30:00Z']);
    // Asked from inside the repeated hour, after 01:30 BST has passed: the next day.
    expect(fires(daily130, '2024-10-27T01:10:00Z', 1, 'Europe/London')).toEqual(['2024-10-28T01:30:00Z']);
  });

  it('monthly last_day and yearly schedules use the zone’s calendar day', () => {
    // 23:00 on the last day in Tokyo (UTC+9) is 14:00Z that day.
    expect(fires({ type: 'monthly', value: [{ on: ['last_day'], at: ['23:00'] }] }, '2026-11-26T00:00:00Z', 1, 'Asia/Tokyo')).toEqual(['2026-11-30T14:00:00Z']);
    // Midnight of January 1st in Sydney (UTC+11 in summer) is December 31st 13:00Z.
    expect(fires({ type: 'yearly', value: [{ in: ['JANUARY'], on: [1], at: ['midnight'] }] }, '2026-11-26T00:00:00Z', 1, 'Australia/Sydney')).toEqual(['2026-12-31T13:00:00Z']);
  });
});

describe('schedules as the put-watch parser stores them', () => {
  it('every type parsed from a put body fires where Elasticsearch fires it', () => {
    const after = '2026-11-26T10:03:00Z';
    const first = (trigger: unknown) => {
      const s = parseTrigger('w', trigger);
      return fires(s, after, 1, s.timezone, after)[0];
    };
    expect(first({ schedule: { hourly: { minute: [0, 5] } } })).toBe('2026-11-26T10:05:00Z');
    expect(first({ schedule: { daily: { at: ['17:30', { hour: [6, 11], minute: '15' }] } } })).toBe('2026-11-26T11:15:00Z');
    expect(first({ schedule: { weekly: { on: ['monday', 'fri'], at: 'noon' } } })).toBe('2026-11-27T12:00:00Z');
    expect(first({ schedule: { weekly: [{ day: 1, time: '8:00' }] } })).toBe('2026-11-29T08:00:00Z');
    expect(first({ schedule: { monthly: { on: ['first_day', 15], at: 'noon' } } })).toBe('2026-12-01T12:00:00Z');
    expect(first({ schedule: { monthly: { on: 'last_day', at: 'midnight' } } })).toBe('2026-11-30T00:00:00Z');
    expect(first({ schedule: { yearly: { in: ['december', 1], on: 24, at: '18:00' } } })).toBe('2026-12-24T18:00:00Z');
    expect(first({ schedule: { interval: '10s' } })).toBe('2026-11-26T10:03:10Z');
    expect(first({ schedule: { interval: 90 } })).toBe('2026-11-26T10:04:30Z');
    expect(first({ schedule: { cron: '0 0/5 * * * ?', timezone: 'Asia/Kolkata' } })).toBe('2026-11-26T10:05:00Z');
    expect(first({ schedule: { cron: ['0 0 12 ? * mon', '0 0 8 ? * SAT'] } })).toBe('2026-11-28T08:00:00Z');
    expect(first({ schedule: { daily: { at: 'noon' }, timezone: 'Asia/Kolkata' } })).toBe('2026-11-27T06:30:00Z');
  });

  it('a calendar schedule whose crons Quartz refuses is refused as Elasticsearch refuses it at put', () => {
    // MonthTimes.crons builds `0 0 12 1,L * ?`; Cron refuses L with other days (400 illegal_argument_exception).
    const s = parseTrigger('w', { schedule: { monthly: { on: [1, 'last_day'], at: 'noon' } } });
    expect(() => validateScheduleCrons(s)).toThrow(IllegalArgumentError);
    expect(() => validateScheduleCrons(s)).toThrow('invalid cron expression [0 0 12 1,L * ?]');
    expect(() => validateScheduleCrons(parseTrigger('w', { schedule: { monthly: { on: [1, 15] } } }))).not.toThrow();
  });
});

describe('the fire time a tick owes (dueFireTime)', () => {
  const hourly: Schedule = { type: 'hourly', value: { minute: [0] } };
  it('is the first fire time after the activation or the last tick that ran it, once the clock reaches it', () => {
    const activatedMs = at('2026-11-26T09:10:00Z');
    expect(dueFireTime(hourly, undefined, { activatedMs, lastTriggeredMs: undefined }, at('2026-11-26T09:59:59Z'))).toBeUndefined();
    expect(iso(dueFireTime(hourly, undefined, { activatedMs, lastTriggeredMs: undefined }, at('2026-11-26T10:00:20Z')))).toBe('2026-11-26T10:00:00Z');
    expect(dueFireTime(hourly, undefined, { activatedMs, lastTriggeredMs: at('2026-11-26T10:00:20Z') }, at('2026-11-26T10:01:20Z'))).toBeUndefined();
    // Hours of downtime: one run, for the earliest missed fire time.
    expect(iso(dueFireTime(hourly, undefined, { activatedMs, lastTriggeredMs: at('2026-11-26T10:00:20Z') }, at('2026-11-26T15:30:00Z')))).toBe('2026-11-26T11:00:00Z');
  });
});
