import { describe, expect, it } from 'vitest';
import { IllegalArgumentError } from '../../../../lib/domain/errors.ts';
import { nextCronWallTime } from '../../../../lib/domain/watcher/quartz/next.ts';
import { MAX_YEAR, parseQuartzCron, validateCron } from '../../../../lib/domain/watcher/quartz/parse.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => (ms < 0 ? 'never' : new Date(ms).toISOString().replace('.000Z', 'Z'));
/** The next n wall times of a cron after a (UTC-written) wall time. */
const next = (expr: string, after: string, n = 1): string[] => {
  const cron = parseQuartzCron(expr);
  const out: string[] = [];
  let t = at(after);
  for (let i = 0; i < n; i++) {
    t = nextCronWallTime(cron, t);
    out.push(iso(t));
    if (t < 0) break;
  }
  return out;
};

/** The `caused_by` reason of an invalid expression (the Quartz message with its Java class). */
const problem = (expr: string): string => {
  try {
    validateCron(expr);
  } catch (e) {
    expect(e).toBeInstanceOf(IllegalArgumentError);
    const body = (e as IllegalArgumentError).toBody();
    expect(body.error.reason).toBe(`invalid cron expression [${expr}]`);
    return String(body.error.caused_by?.reason);
  }
  throw new Error(`${expr} was accepted`);
};

describe('Quartz cron fire times (Elasticsearch Cron.getNextValidTimeAfter)', () => {
  it('fields: seconds, ranges, steps and lists; the next time is strictly after, at whole seconds', () => {
    expect(next('*/10 * * * * ?', '2026-11-26T00:00:05.500Z', 3)).toEqual(['2026-11-26T00:00:10Z', '2026-11-26T00:00:20Z', '2026-11-26T00:00:30Z']);
    expect(next('0 0 12 * * ?', '2026-11-26T12:00:00Z')).toEqual(['2026-11-27T12:00:00Z']);
    expect(next('0 15,45 9-10 * * ?', '2026-11-26T09:20:00Z', 3)).toEqual(['2026-11-26T09:45:00Z', '2026-11-26T10:15:00Z', '2026-11-26T10:45:00Z']);
    expect(next('0 0/20 8 * * ?', '2026-11-26T00:00:00Z', 3)).toEqual(['2026-11-26T08:00:00Z', '2026-11-26T08:20:00Z', '2026-11-26T08:40:00Z']);
    expect(next('0 5-15/5 * * * ?', '2026-11-26T00:00:00Z', 3)).toEqual(['2026-11-26T00:05:00Z', '2026-11-26T00:10:00Z', '2026-11-26T00:15:00Z']);
  });

  it('month and day names, case-insensitive, and overflowing ranges', () => {
    // 2026-11-26 is a Thursday.
    expect(next('0 0 12 ? * mon-wed', '2026-11-26T00:00:00Z', 2)).toEqual(['2026-11-30T12:00:00Z', '2026-12-01T12:00:00Z']);
    expect(next('0 0 12 ? * SAT-MON', '2026-11-26T00:00:00Z', 3)).toEqual(['2026-11-28T12:00:00Z', '2026-11-29T12:00:00Z', '2026-11-30T12:00:00Z']);
    expect(next('0 0 0 1 NOV-FEB ?', '2026-12-15T00:00:00Z', 3)).toEqual(['2027-01-01T00:00:00Z', '2027-02-01T00:00:00Z', '2027-11-01T00:00:00Z']);
    expect(next('0 0 22-2 * * ?', '2026-11-26T03:00:00Z', 3)).toEqual(['2026-11-26T22:00:00Z', '2026-11-26T23:00:00Z', '2026-11-27T00:00:00Z']);
  });

  it('day-of-week numbers run 1–7 from Sunday, and L alone in day-of-week is Saturday', () => {
    expect(next('0 0 12 ? * 1', '2026-11-26T00:00:00Z')).toEqual(['2026-11-29T12:00:00Z']);
    expect(next('0 0 12 ? * L', '2026-11-26T00:00:00Z')).toEqual(['2026-11-28T12:00:00Z']);
  });

  it('L is the last day of the month, L-n n days before it, leap years included', () => {
    expect(next('0 0 10 L * ?', '2028-01-31T10:00:00Z', 3)).toEqual(['2028-02-29T10:00:00Z', '2028-03-31T10:00:00Z', '2028-04-30T10:00:00Z']);
    expect(next('0 0 10 L-2 * ?', '2026-02-01T00:00:00Z', 2)).toEqual(['2026-02-26T10:00:00Z', '2026-03-29T10:00:00Z']);
    expect(next('0 0 10 L * ?', '2026-12-31T11:00:00Z')).toEqual(['2027-01-31T10:00:00Z']);
  });

  it('W is the nearest weekday without leaving the month; LW the last weekday', () => {
    // 2026-11-15 is a Sunday → Monday 16th; 2026-08-01 is a Saturday → Monday 3rd (not July 31st).
    expect(next('0 0 12 15W * ?', '2026-11-01T00:00:00Z')).toEqual(['2026-11-16T12:00:00Z']);
    expect(next('0 0 12 1W * ?', '2026-08-01T00:00:00Z')).toEqual(['2026-08-03T12:00:00Z']);
    // 2026-02-14 is a Saturday → Friday 13th.
    expect(next('0 0 12 14W * ?', '2026-02-01T00:00:00Z')).toEqual(['2026-02-13T12:00:00Z']);
    // 2026-01-31 is a Saturday → Friday 30th; 2026-05-31 is a Sunday → Friday 29th.
    expect(next('0 0 12 LW * ?', '2026-01-01T00:00:00Z')).toEqual(['2026-01-30T12:00:00Z']);
    expect(next('0 0 12 LW * ?', '2026-05-01T00:00:00Z')).toEqual(['2026-05-29T12:00:00Z']);
  });

  it('# is the nth weekday of the month (no fire in a month without a 5th), nL the last', () => {
    expect(next('0 15 10 ? * 6#3', '2026-11-01T00:00:00Z', 2)).toEqual(['2026-11-20T10:15:00Z', '2026-12-18T10:15:00Z']);
    expect(next('0 15 10 ? * MON#1', '2026-11-26T00:00:00Z')).toEqual(['2026-12-07T10:15:00Z']);
    // Fifth Friday: November 2026 has none after the 27th, January 2027 has the 29th.
    expect(next('0 0 9 ? * 6#5', '2026-11-01T00:00:00Z')).toEqual(['2027-01-29T09:00:00Z']);
    expect(next('0 15 10 ? * 6L', '2026-11-01T00:00:00Z', 2)).toEqual(['2026-11-27T10:15:00Z', '2026-12-25T10:15:00Z']);
    expect(next('0 15 10 ? * FRIL', '2026-11-01T00:00:00Z')).toEqual(['2026-11-27T10:15:00Z']);
  });

  it('the optional year field limits the years; a past year never fires', () => {
    expect(next('0 0 0 29 2 ? 2028', '2026-11-26T00:00:00Z')).toEqual(['2028-02-29T00:00:00Z']);
    expect(next('0 0 0 1 1 ? 2020', '2026-11-26T00:00:00Z')).toEqual(['never']);
    expect(next('0 0 0 1 1 ? 2027-2029', '2028-06-01T00:00:00Z', 2)).toEqual(['2029-01-01T00:00:00Z', 'never']);
  });

  it('a day that no month has never fires, and the search stops at the year bound', () => {
    expect(next('0 0 0 30 2 ?', '2026-11-26T00:00:00Z')).toEqual(['never']);
    expect(Math.max(...parseQuartzCron('0 0 0 * * ?').years)).toBe(MAX_YEAR);
  });
});

describe('Quartz cron validation: Elasticsearch texts', () => {
  it('wraps the Quartz message in "invalid cron expression [<as given>]" with the Java exception', () => {
    expect(problem('0 0 0 * * *')).toBe(
      'illegal cron expression format [java.lang.IllegalArgumentException: support for specifying both a day-of-week AND a day-of-month parameter is not implemented.]',
    );
    expect(problem('0 0 * * *')).toBe('illegal cron expression format [java.lang.IllegalArgumentException: unexpected end of expression at pos [9].]');
    expect(problem('60 * * * * ?')).toBe('illegal cron expression format [java.lang.IllegalArgumentException: Minute and Second values must be between 0 and 59]');
    expect(problem('0 0 24 * * ?')).toBe('illegal cron expression format [java.lang.IllegalArgumentException: Hour values must be between 0 and 23]');
    expect(problem('0 0 0 32 * ?')).toBe('illegal cron expression format [java.lang.IllegalArgumentException: Day of month values must be between 1 and 31]');
    expect(problem('0 0 0 ? 13 MON')).toBe('illegal cron expression format [java.lang.IllegalArgumentException: Month values must be between 1 and 12]');
    expect(problem('0 0 0 ? * 8')).toBe('illegal cron expression format [java.lang.IllegalArgumentException: Day-of-Week values must be between 1 and 7]');
  });

  it('refuses ? outside the day fields, ? in both, and the special characters where they do not belong', () => {
    expect(problem('? 0 0 ? * MON')).toBe(
      "illegal cron expression format [java.lang.IllegalArgumentException: '?' can only be specified for Day-of-Month or Day-of-Week. at pos [1]]",
    );
    expect(problem('0 0 0 ? * ?')).toBe(
      "illegal cron expression format [java.lang.IllegalArgumentException: '?' can only be specified for Day-of-Month -OR- Day-of-Week. at pos [1]]",
    );
    expect(problem('0 0 5L * * ?')).toBe("illegal cron expression format [java.lang.IllegalArgumentException: 'L' option is not valid here. at pos [1]]");
    expect(problem('0 0 0 ? * 5W')).toBe("illegal cron expression format [java.lang.IllegalArgumentException: 'W' option is not valid here. at pos [1]]");
    expect(problem('0 0 0 5#2 * ?')).toBe("illegal cron expression format [java.lang.IllegalArgumentException: '#' option is not valid here. at pos [1]]");
    expect(problem('0 0 0 ? * 2#6')).toBe(
      "illegal cron expression format [java.lang.IllegalArgumentException: a numeric value between 1 and 5 must follow the '#' option at pos [2]]",
    );
    expect(problem('0 0 0 ? * 2#1,3#2')).toBe(
      'illegal cron expression format [java.lang.IllegalArgumentException: support for specifying multiple "nth" days is not implemented.]',
    );
    expect(problem('0 0 0 L,15 * ?')).toBe(
      "illegal cron expression format [java.lang.IllegalArgumentException: support for specifying 'L' and 'LW' with other days of the month is not implemented]",
    );
    expect(problem('0 0 0 ? * 5L,6')).toBe(
      "illegal cron expression format [java.lang.IllegalArgumentException: support for specifying 'L' with other days of the week is not implemented]",
    );
    expect(problem('0 0 0 L-31 * ?')).toBe('illegal cron expression format [java.lang.IllegalArgumentException: offset from last day must be <= 30 at pos [2]]');
  });

  it('refuses bad names, steps and characters', () => {
    expect(problem('0 0 0 ? * FOO')).toBe('illegal cron expression format [java.lang.IllegalArgumentException: invalid Day-of-Week value [FOO] at pos [0]]');
    expect(problem('0 0 0 1 FOO ?')).toBe('illegal cron expression format [java.lang.IllegalArgumentException: invalid Month value [FOO] at pos [0]]');
    expect(problem('0 ABC 0 1 * ?')).toBe("illegal cron expression format [java.lang.IllegalArgumentException: illegal characters [ABC] at pos [0] ']");
    expect(problem('0 */61 0 1 * ?')).toBe('illegal cron expression format [java.lang.IllegalArgumentException: increment [61] > 60 at pos [4]]');
    // Quartz only looks two characters past '?': `?/` alone passes, `?/5` does not.
    expect(() => validateCron('0 0 0 1 * ?/')).not.toThrow();
    expect(problem('0 0 0 1 * ?/5')).toBe("illegal cron expression format [java.lang.IllegalArgumentException: illegal character [/] after '?' at pos [1]]");
    expect(problem('0 0 0 1 * $')).toBe('illegal cron expression format [java.lang.IllegalArgumentException: Unexpected character [$] at pos [0] ]');
    // Java runtime exceptions inside the parser keep their own class in the message.
    expect(problem('A * * * * ?')).toBe('illegal cron expression format [java.lang.StringIndexOutOfBoundsException: begin 0, end 3, length 1]');
    expect(problem('0 0 0 1-X * ?')).toBe('illegal cron expression format [java.lang.NumberFormatException: For input string: "X"]');
  });

  it('accepts what Elasticsearch accepts, keeping the expression upper-cased', () => {
    for (const ok of ['0 0 12 ? * mon-fri', '0 0/5 14,18 * * ?', '0 15 10 ? * 6#3', '0 15 10 L-3W * ?', '0 0 0 1 1 ? 2030', '0   0  0 ? *   MON']) {
      expect(() => validateCron(ok)).not.toThrow();
    }
    expect(parseQuartzCron('0 0 12 ? * mon-fri').expression).toBe('0 0 12 ? * MON-FRI');
  });
});
