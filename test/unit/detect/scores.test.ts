import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AnomalyModel, type BucketResult, type InputRecord } from '../../../lib/detect/index.ts';
import { logStudentTail, rawScoreFromLn } from '../../../lib/detect/stats.ts';
import { HOUR, MINUTE, bucketsOf, gaussian, makeSpec, rng, topBucket } from './helpers.ts';

const SPAN = 10 * MINUTE;

/** A mean series ~N(100, 5²) with `spikes` (bucket → value) and one record per bucket. */
function meanRun(buckets: number, spikes: Record<number, number>, over: Parameters<typeof makeSpec>[1] = {}) {
  const g = gaussian(rng(17));
  const m = AnomalyModel.create(makeSpec({ function: 'mean', field_name: 'v' }, { bucketSpanMs: SPAN, ...over }));
  const out = [...m.ingest(bucketsOf(buckets, SPAN, (b) => [{ v: spikes[b] ?? 100 + 5 * g() }])).buckets, ...m.finalizeAll()];
  return { m, out };
}

describe('probabilities', () => {
  it('matches the Student-t upper tail', () => {
    expect(Math.exp(logStudentTail(2, 4))).toBeCloseTo(0.0580583, 6);
    expect(Math.exp(logStudentTail(1, 5))).toBeCloseTo(0.1816087, 6);
    expect(Math.exp(logStudentTail(3, 1e6))).toBeCloseTo(0.0013499, 6);
    expect(logStudentTail(0, 8)).toBeCloseTo(Math.log(0.5), 12);
    expect(Number.isFinite(logStudentTail(1e200, 8))).toBe(true);
  });

  it('keeps probabilities in [1e-308, 1] for absurd values', () => {
    const { out } = meanRun(100, { 80: 1e300 });
    const r = out[80]!.records[0]!;
    expect(r.probability).toBeGreaterThanOrEqual(1e-308);
    expect(r.probability).toBeLessThan(1e-30);
    expect(out.every((b) => b.bucket_influencers[0]!.probability > 0 && b.bucket_influencers[0]!.probability <= 1)).toBe(true);
  });

  it('reports no anomaly during the warm-up', () => {
    const { out } = meanRun(20, { 3: 10_000 });
    expect(out[3]!.records).toEqual([]);
    expect(out[3]!.anomaly_score).toBe(0);
  });
});

describe('scores', () => {
  it('scores ordinary buckets 0 and the largest anomaly critical', () => {
    const { out } = meanRun(1500, { 1000: 180, 1300: 135 });
    expect(out[1000]!.anomaly_score).toBeGreaterThan(75);
    expect(out[1000]!.records[0]!.record_score).toBeGreaterThan(75);
    expect(out[1300]!.anomaly_score).toBeLessThan(out[1000]!.anomaly_score);
    expect(out[1300]!.anomaly_score).toBeGreaterThan(20);
    const ordinary = out.filter((_, i) => i !== 1000 && i !== 1300);
    expect(ordinary.filter((b) => b.anomaly_score === 0).length / ordinary.length).toBeGreaterThan(0.9);
    // Model v2 tests each bucket twice (alone and in the 12-bucket mean): in 1,000 buckets of
    // noise one reaches p ≈ 1e-3, which this normaliser maps just under 50.
    expect(Math.max(...ordinary.map((b) => b.anomaly_score))).toBeLessThan(50);
    expect(out.every((b) => b.anomaly_score === b.initial_anomaly_score)).toBe(true);
    expect(out.flatMap((b) => b.records).every((r) => r.record_score === r.initial_record_score)).toBe(true);
  });

  it('gives the bucket influencer the bucket score, raw score and probability', () => {
    const { out } = meanRun(300, { 200: 200 });
    const b = out[200]!;
    const bi = b.bucket_influencers[0]!;
    expect(bi.anomaly_score).toBe(b.anomaly_score);
    // Elasticsearch's piecewise raw score of the probability (lib/detect/stats.ts).
    expect(bi.raw_anomaly_score).toBeCloseTo(rawScoreFromLn(Math.log(bi.probability)), 9);
    expect(bi.raw_anomaly_score).toBeGreaterThan(1);
    expect(bi.probability).toBe(b.records[0]!.probability);
    const quiet = out.find((x) => x.bucket_influencers[0]!.probability > 0.05)!;
    expect(quiet.bucket_influencers[0]!.raw_anomaly_score).toBe(0);
  });

  it('lowers earlier scores on renormalisation after a larger anomaly, keeping the initial ones', () => {
    const { m, out } = meanRun(2000, { 1000: 180, 1800: 1000 });
    const early = out[1000]!;
    expect(early.initial_anomaly_score).toBeGreaterThan(75);
    const { bucket: again, changed } = m.renormalize(early);
    expect(changed).toBe(true);
    expect(again.initial_anomaly_score).toBe(early.initial_anomaly_score);
    expect(again.anomaly_score).toBeLessThan(early.initial_anomaly_score * 0.8);
    expect(again.bucket_influencers[0]!.anomaly_score).toBe(again.anomaly_score);
    expect(again.records[0]!.initial_record_score).toBe(early.records[0]!.initial_record_score);
    expect(again.records[0]!.record_score).toBeLessThan(early.records[0]!.record_score);
    expect(m.normalizeRecordScore(0.5)).toBe(0);
    expect(m.normalizeBucketScore(0)).toBe(0);
  });

  it('does not make every bucket anomalous when many series are pure noise', () => {
    const g = gaussian(rng(31));
    const m = AnomalyModel.create(makeSpec({ function: 'mean', field_name: 'v', by_field_name: 'h' }, { bucketSpanMs: SPAN }));
    const recs = bucketsOf(300, SPAN, (b) => Array.from({ length: 300 }, (_, h) => ({ h: `h${h}`, v: (b === 250 && h === 7 ? 200 : 100) + 5 * g() })));
    const out = [...m.ingest(recs).buckets, ...m.finalizeAll()];
    expect(topBucket(out)).toBe(out[250]);
    expect(out[250]!.records[0]!.by_field_value).toBe('h7');
    const others = out.filter((_, i) => i !== 250);
    expect(others.filter((b) => b.anomaly_score > 25).length).toBeLessThan(others.length * 0.02);
    // Records are written for unusual series only, most anomalous first, at most 500.
    for (const b of out) {
      expect(b.records.length).toBeLessThanOrEqual(500);
      expect(b.records.every((r, i) => r.probability < 0.05 && (i === 0 || b.records[i - 1]!.probability <= r.probability))).toBe(true);
    }
  });
});

const here = dirname(fileURLToPath(import.meta.url));
// A copy of three NAB series and their labelled windows (NAB's MIT licence beside them), so the test runs anywhere.
const nab = resolve(here, '../../fixtures/nab');

function nabRecords(file: string): InputRecord[] {
  return readFileSync(resolve(nab, 'data', file), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [ts, v] = line.split(',');
      return { timeMs: Date.parse(`${ts!.replace(' ', 'T')}Z`), fields: { cpu: Number(v) } };
    });
}

describe('NAB AWS CloudWatch CPU data', () => {
  const windows = JSON.parse(readFileSync(resolve(nab, 'labels/combined_windows.json'), 'utf8')) as Record<string, [string, string][]>;

  it.each(['realAWSCloudwatch/ec2_cpu_utilization_ac20cd.csv', 'realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv', 'realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv'])(
    'finds the labelled anomaly of %s among the three least likely buckets',
    (file) => {
      const m = AnomalyModel.create(makeSpec({ function: 'mean', field_name: 'cpu' }, { bucketSpanMs: 5 * MINUTE }));
      const out: BucketResult[] = [...m.ingest(nabRecords(file)).buckets, ...m.finalizeAll()];
      expect(out.length).toBeGreaterThan(4000);
      // Model v2 also flags the unlabelled level shifts some of these files have (the
      // multi-bucket feature), so the labelled anomaly need not be the single top bucket.
      const prob = (b: BucketResult) => b.bucket_influencers[0]!.probability;
      const third = out.map(prob).sort((a, b) => a - b)[2]!;
      const inWindow = out.filter((b) =>
        (windows[file] ?? []).some(([a, e]) => b.timestamp >= Date.parse(`${a.replace(' ', 'T')}Z`) && b.timestamp <= Date.parse(`${e.replace(' ', 'T')}Z`)),
      );
      const top = topBucket(inWindow);
      expect(prob(top)).toBeLessThanOrEqual(third);
      // Major or above: the anomalies come after 2–3 days of 5-minute buckets, and a score is
      // ranked among the scores seen so far (30-minute equivalent percentile, as Elasticsearch does).
      expect(top.anomaly_score).toBeGreaterThan(50);
      // Most of the two weeks is unremarkable.
      expect(out.filter((b) => b.anomaly_score > 50).length).toBeLessThan(out.length * 0.01);
    },
  );

  it('does not flag the flat hours of a steady series', () => {
    const m = AnomalyModel.create(makeSpec({ function: 'mean', field_name: 'cpu' }, { bucketSpanMs: HOUR }));
    const out = [...m.ingest(nabRecords('artificialNoAnomaly/art_flatline.csv')).buckets, ...m.finalizeAll()];
    expect(out.flatMap((b) => b.records)).toEqual([]);
  });
});
