import { describe, expect, it } from 'vitest';
import { AnomalyModel, type BucketResult } from '../../../lib/detect/index.ts';
import { seasonalBytes } from '../../../lib/detect/feature.ts';
import { DAY, HOUR, bucketsOf, gaussian, makeSpec, rng } from './helpers.ts';

/** Hourly mean of ~N(10, 1) with a daily peak of +30 at 14:00, for `days` days. */
function dailyPeak(spanMs: number, days: number, extra?: (hourOfDay: number, day: number) => number): BucketResult[] {
  const g = gaussian(rng(11));
  const m = AnomalyModel.create(makeSpec({ function: 'mean', field_name: 'load' }, { bucketSpanMs: spanMs }));
  const perDay = DAY / spanMs;
  const recs = bucketsOf(days * perDay, spanMs, (b) => {
    const hour = Math.floor(((b % perDay) * spanMs) / HOUR);
    const day = Math.floor(b / perDay);
    const peak = hour === 14 ? 30 : 0;
    return [{ load: 10 + peak + (extra?.(hour, day) ?? 0) + g() }];
  });
  return [...m.ingest(recs).buckets, ...m.finalizeAll()];
}

const peakOfDay = (buckets: BucketResult[], day: number, hour: number) => buckets.find((b) => b.timestamp === buckets[0]!.timestamp + day * DAY + hour * HOUR) as BucketResult;

describe('daily periodicity', () => {
  it('flags a daily peak while the history is short, and no longer once two days are learnt', () => {
    const buckets = dailyPeak(HOUR, 10);
    // The first peak is news: a very unlikely record. (Its score stays low: 14 hours of history
    // cannot tell it is rare, and the normaliser ranks it among them, as Elasticsearch's does.)
    const first = peakOfDay(buckets, 0, 14);
    expect(first.records[0]?.probability).toBeLessThan(1e-6);
    expect(first.anomaly_score).toBeGreaterThan(0);
    // From day 3 on the peak is typical: no unusual record, no score.
    for (let day = 3; day < 10; day++) {
      const b = peakOfDay(buckets, day, 14);
      expect(b.records, `day ${day}`).toEqual([]);
      expect(b.anomaly_score).toBe(0);
      const r = b.bucket_influencers[0]!;
      expect(r.probability).toBeGreaterThan(0.05);
    }
  });

  it('still flags a peak at an unusual hour after the daily profile is learnt', () => {
    const buckets = dailyPeak(HOUR, 10, (hour, day) => (day === 8 && hour === 3 ? 30 : 0));
    const b = peakOfDay(buckets, 8, 3);
    expect(b.anomaly_score).toBeGreaterThan(50);
    expect(b.records[0]?.actual[0]).toBeGreaterThan(35);
    expect(b.records[0]?.typical[0]).toBeLessThan(12);
  });

  it('reports the seasonal typical value at the daily peak', () => {
    const buckets = dailyPeak(HOUR, 10, (hour, day) => (day === 9 && hour === 14 ? 60 : 0));
    const r = peakOfDay(buckets, 9, 14).records[0];
    expect(r?.actual[0]).toBeGreaterThan(95);
    expect(r?.typical[0]).toBeGreaterThan(35);
    expect(r?.typical[0]).toBeLessThan(45);
  });

  it('learns a daily peak with 15-minute buckets too', () => {
    const buckets = dailyPeak(15 * 60_000, 8);
    for (let day = 4; day < 8; day++) {
      for (let q = 0; q < 4; q++) {
        const b = buckets.find((x) => x.timestamp === buckets[0]!.timestamp + day * DAY + 14 * HOUR + q * 15 * 60_000)!;
        expect(b.anomaly_score, `day ${day} quarter ${q}`).toBeLessThan(5);
      }
    }
  });

  it('keeps no daily candidate for buckets longer than an hour, only the weekly one', () => {
    const m = AnomalyModel.create(makeSpec({ function: 'mean', field_name: 'load' }, { bucketSpanMs: 2 * HOUR }));
    m.ingest(bucketsOf(12 * 5, 2 * HOUR, (b) => [{ load: b % 12 === 7 ? 40 : 10 }]));
    m.finalizeAll();
    // One series without seasonal arrays (under a day of data): header, series and normalizers.
    const one = AnomalyModel.create(makeSpec({ function: 'mean', field_name: 'load' }, { bucketSpanMs: 2 * HOUR }));
    one.ingest(bucketsOf(11, 2 * HOUR, (b) => [{ load: b === 7 ? 40 : 10 }])); // under a day: no seasonal arrays
    one.finalizeAll();
    // A week of 2-hour slots: 84. The normalizers' per-series maxima may differ by a few dozen
    // bytes (the series of `one` has not scored a record yet), far less than a daily candidate
    // of 12 slots would add.
    const extra = m.modelBytes() - one.modelBytes();
    expect(extra).toBeGreaterThanOrEqual(seasonalBytes(84));
    expect(extra).toBeLessThan(seasonalBytes(84) + seasonalBytes(12));
  });
});
