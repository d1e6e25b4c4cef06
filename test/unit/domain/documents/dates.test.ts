import { describe, expect, it } from 'vitest';
import { DateParseFailure, parseDate, parseDateMath, parseIsoDate } from '../../../../lib/domain/documents/dates.ts';

const NOW = Date.UTC(2026, 10, 25, 13, 47, 12, 345);

describe('date formats', () => {
  it('strict_date_optional_time reads dates, times, fractions and offsets', () => {
    expect(parseIsoDate('2017-01-01')).toBe(Date.UTC(2017, 0, 1));
    expect(parseIsoDate('2017-01-01T10:20')).toBe(Date.UTC(2017, 0, 1, 10, 20));
    expect(parseIsoDate('2017-01-01T10:20:30.123456Z')).toBe(Date.UTC(2017, 0, 1, 10, 20, 30, 123));
    expect(parseIsoDate('2017-01-01T10:20:30+02:00')).toBe(Date.UTC(2017, 0, 1, 8, 20, 30));
    expect(new Date(parseIsoDate('0050-01-01')!).getUTCFullYear()).toBe(50);
  });

  it('strict parsing refuses impossible dates and other shapes', () => {
    for (const bad of ['2017-02-30', '2017-13-01', '17-01-01', '2017/01/01', 'abc', '2017-01-01T25:00']) expect(parseIsoDate(bad), bad).toBeUndefined();
  });

  it('epoch_millis and epoch_second, and || lists tried in order', () => {
    expect(parseDate(1483228800000)).toBe(Date.UTC(2017, 0, 1));
    expect(parseDate('1483228800000')).toBe(Date.UTC(2017, 0, 1));
    expect(parseDate(1483228800, 'epoch_second')).toBe(Date.UTC(2017, 0, 1));
    expect(parseDate('2017-01-01', 'epoch_second||strict_date_optional_time')).toBe(Date.UTC(2017, 0, 1));
    expect(parseDate('2017-01-01', 'epoch_millis')).toBeUndefined();
  });
});

describe('date math', () => {
  it('now with additions, subtractions and rounding', () => {
    expect(parseDateMath('now', 'strict_date_optional_time', NOW)).toBe(NOW);
    expect(parseDateMath('now-1h', 'strict_date_optional_time', NOW)).toBe(NOW - 3_600_000);
    expect(parseDateMath('now/d', 'strict_date_optional_time', NOW)).toBe(Date.UTC(2026, 10, 25));
    expect(parseDateMath('now/d', 'strict_date_optional_time', NOW, true)).toBe(Date.UTC(2026, 10, 26) - 1);
    expect(parseDateMath('now-1M/M', 'strict_date_optional_time', NOW)).toBe(Date.UTC(2026, 9, 1));
    expect(parseDateMath('now/w', 'strict_date_optional_time', NOW)).toBe(Date.UTC(2026, 10, 23));
  });

  it('an anchor date in the field format followed by ||', () => {
    expect(parseDateMath('2017-01-01||+1d', 'strict_date_optional_time', NOW)).toBe(Date.UTC(2017, 0, 2));
    expect(parseDateMath('1483228800||/d', 'epoch_second', NOW)).toBe(Date.UTC(2017, 0, 1));
  });

  it("a value that is not a date is Elasticsearch's failure text", () => {
    expect(() => parseDateMath('nope', 'strict_date_optional_time||epoch_millis', NOW)).toThrow(DateParseFailure);
    expect(() => parseDateMath('nope', 'strict_date_optional_time||epoch_millis', NOW)).toThrow(
      'failed to parse date field [nope] with format [strict_date_optional_time||epoch_millis]',
    );
    expect(() => parseDateMath('now+x', 'strict_date_optional_time', NOW)).toThrow('operator not supported for date math [+x]');
  });
});
