import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bucketWindowIndex, chunks, jobIdFor, parseNabCsv, parseNabTimestamp, summarize, windowIndex, windowsFor, type NabWindow } from '../../../examples/nab/nab.ts';

const FIVE_MIN = 300_000;
const t = (iso: string): number => Date.parse(`${iso}Z`);

describe('parseNabTimestamp', () => {
  it('reads a NAB timestamp as UTC epoch milliseconds', () => {
    expect(parseNabTimestamp('2014-02-14 14:27:00')).toBe(Date.UTC(2014, 1, 14, 14, 27, 0));
  });

  it('reads the microsecond form of the label files, truncated to milliseconds', () => {
    expect(parseNabTimestamp('2014-02-18 16:02:00.000000')).toBe(Date.UTC(2014, 1, 18, 16, 2, 0));
    expect(parseNabTimestamp('2014-02-18 16:02:00.123999')).toBe(Date.UTC(2014, 1, 18, 16, 2, 0, 123));
  });

  it('rejects text that is not a timestamp and dates that do not exist', () => {
    expect(() => parseNabTimestamp('14/02/2014 14:27')).toThrow(/not a NAB timestamp/);
    expect(() => parseNabTimestamp('2014-02-30 10:00:00')).toThrow(/not a valid date/);
    expect(() => parseNabTimestamp('2014-02-14 24:00:00')).toThrow(/not a valid date/);
  });
});

describe('parseNabCsv', () => {
  it('turns each row into an epoch-ms timestamp and a numeric value, in file order', () => {
    const csv = 'timestamp,value\n2014-02-14 14:27:00,51.846000000000004\n2014-02-14 14:32:00,44.508\n';
    expect(parseNabCsv(csv)).toEqual([
      { timestamp: Date.UTC(2014, 1, 14, 14, 27), value: 51.846000000000004 },
      { timestamp: Date.UTC(2014, 1, 14, 14, 32), value: 44.508 },
    ]);
  });

  it('accepts CRLF line endings and skips blank lines', () => {
    const csv = 'timestamp,value\r\n2014-02-14 14:27:00,1\r\n\r\n2014-02-14 14:32:00,2e3\r\n';
    expect(parseNabCsv(csv).map((r) => r.value)).toEqual([1, 2000]);
  });

  it('rejects a file whose header is not timestamp,value', () => {
    expect(() => parseNabCsv('time,value\n2014-02-14 14:27:00,1\n')).toThrow(/line 1: expected the header/);
  });

  it('names the line of a malformed row', () => {
    expect(() => parseNabCsv('timestamp,value\n2014-02-14 14:27:00,1\n2014-02-14 14:32:00,abc\n')).toThrow(/line 3: value is not a number/);
    expect(() => parseNabCsv('timestamp,value\n2014-02-14 14:27:00,\n')).toThrow(/line 2: value is not a number/);
    expect(() => parseNabCsv('timestamp,value\n2014-02-14,14:27:00,1\n')).toThrow(/line 2: expected 2 fields/);
    expect(() => parseNabCsv('timestamp,value\nyesterday,1\n')).toThrow(/line 2: not a NAB timestamp/);
  });

  it('parses every shipped data file into 5-minute points', () => {
    for (const file of ['ec2_cpu_utilization_5f5533.csv', 'rds_cpu_utilization_cc0c53.csv', 'ec2_network_in_257a54.csv']) {
      const records = parseNabCsv(readFileSync(new URL(`../../../examples/nab/data/${file}`, import.meta.url), 'utf8'));
      expect(records.length).toBeGreaterThan(4000);
      const gaps = records.slice(1).map((r, i) => r.timestamp - records[i]!.timestamp);
      expect(gaps.every((g) => g > 0 && g % FIVE_MIN === 0)).toBe(true);
    }
  });
});

describe('windowsFor', () => {
  const combined = {
    'realAWSCloudwatch/a.csv': [['2014-02-18 16:02:00.000000', '2014-02-19 08:42:00.000000']] as [string, string][],
    'realAWSCloudwatch/b.csv': [] as [string, string][],
  };

  it('finds a file by its name alone or by its NAB key and parses its windows', () => {
    const expected = [{ start: t('2014-02-18T16:02:00'), end: t('2014-02-19T08:42:00') }];
    expect(windowsFor(combined, 'a.csv')).toEqual(expected);
    expect(windowsFor(combined, 'realAWSCloudwatch/a.csv')).toEqual(expected);
    expect(windowsFor(combined, 'b.csv')).toEqual([]);
  });

  it('rejects a file that has no entry', () => {
    expect(() => windowsFor(combined, 'c.csv')).toThrow(/no labelled windows for c.csv/);
  });

  it('has an entry for every shipped data file', () => {
    const shipped = JSON.parse(readFileSync(new URL('../../../examples/nab/combined_windows.json', import.meta.url), 'utf8'));
    for (const file of ['ec2_cpu_utilization_5f5533.csv', 'rds_cpu_utilization_cc0c53.csv', 'ec2_network_in_257a54.csv']) {
      expect(windowsFor(shipped, file).length).toBeGreaterThan(0);
    }
  });
});

describe('window matching', () => {
  const windows: NabWindow[] = [
    { start: t('2014-02-18T16:02:00'), end: t('2014-02-19T08:42:00') },
    { start: t('2014-02-24T10:17:00'), end: t('2014-02-25T02:57:00') },
  ];

  it('counts a timestamp on either bound as inside and one a millisecond outside as outside', () => {
    expect(windowIndex(windows[0]!.start, windows)).toBe(0);
    expect(windowIndex(windows[1]!.end, windows)).toBe(1);
    expect(windowIndex(windows[0]!.start - 1, windows)).toBe(-1);
    expect(windowIndex(windows[1]!.end + 1, windows)).toBe(-1);
  });

  it('counts a bucket that starts before a window but overlaps its start as inside', () => {
    expect(windowIndex(t('2014-02-18T16:00:00'), windows)).toBe(-1);
    expect(bucketWindowIndex(t('2014-02-18T16:00:00'), FIVE_MIN, windows)).toBe(0);
  });

  it('does not count a bucket that ends exactly where a window starts', () => {
    expect(bucketWindowIndex(t('2014-02-18T15:57:00'), FIVE_MIN, windows)).toBe(-1);
    expect(bucketWindowIndex(t('2014-02-18T15:57:00') + 1, FIVE_MIN, windows)).toBe(0);
  });

  it('summarizes how many of the top records are inside and which windows were hit', () => {
    const top = [
      { timestamp: t('2014-02-19T00:20:00'), record_score: 95 },
      { timestamp: t('2014-02-19T00:25:00'), record_score: 90 },
      { timestamp: t('2014-02-21T00:00:00'), record_score: 80 },
    ];
    expect(summarize(top, [], windows, FIVE_MIN)).toEqual({ topInside: 2, topCount: 3, windowsHit: 1, windowCount: 2 });
  });

  it('counts a window as hit by a strong record outside the top, but not by a weak one', () => {
    const top = [{ timestamp: t('2014-02-21T00:00:00'), record_score: 80 }];
    const strong = [{ timestamp: t('2014-02-24T12:00:00'), record_score: 50 }];
    const weak = [{ timestamp: t('2014-02-24T12:00:00'), record_score: 49.9 }];
    expect(summarize(top, strong, windows, FIVE_MIN).windowsHit).toBe(1);
    expect(summarize(top, weak, windows, FIVE_MIN).windowsHit).toBe(0);
    expect(summarize(top, strong, windows, FIVE_MIN).topInside).toBe(0);
  });
});

describe('chunks and job ids', () => {
  it('splits records into consecutive chunks of at most the given size, losing none', () => {
    const xs = Array.from({ length: 12_001 }, (_, i) => i);
    const cs = chunks(xs, 5_000);
    expect(cs.map((c) => c.length)).toEqual([5_000, 5_000, 2_001]);
    expect(cs.flat()).toEqual(xs);
    expect(() => chunks(xs, 0)).toThrow(/chunk size/);
  });

  it('names a job nab-<file> in the characters a job id allows', () => {
    expect(jobIdFor('ec2_cpu_utilization_5f5533.csv')).toBe('nab-ec2_cpu_utilization_5f5533');
    expect(jobIdFor('iio_us-east-1_i-a2eb1cd9_NetworkIn.csv')).toBe('nab-iio_us-east-1_i-a2eb1cd9_networkin');
    expect(jobIdFor('a.b c.csv')).toBe('nab-a-b-c');
  });
});
