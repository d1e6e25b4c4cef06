import { describe, expect, it } from 'vitest';
import { AnomalyModel, type BucketResult, type DetectorFunction } from '../../../lib/detect/index.ts';
import { MINUTE, bucketsOf, gaussian, makeSpec, rng, topBucket } from './helpers.ts';

const SPAN = 10 * MINUTE;
// The anomaly comes after about four and a half days of 10-minute buckets: the normaliser
// ranks a score among the scores seen so far (as Elasticsearch's does), so a critical score
// needs a history in which it is rare.
const BUCKETS = 700;
const AT = 650;

type Docs = Record<string, unknown>[];
type Anomaly = 'spike' | 'dip' | 'empty' | 'one_high' | 'one_low' | 'few';

/** Normal buckets: ~40 events (count) or 5 values ~ N(100, 5²). */
function normal(isCount: boolean, g: () => number): Docs {
  if (isCount) return Array.from({ length: Math.max(1, Math.round(40 + 4 * g())) }, () => ({}));
  return Array.from({ length: 5 }, () => ({ value: 100 + 5 * g() }));
}

function anomalous(kind: Anomaly, isCount: boolean, g: () => number): Docs {
  switch (kind) {
    case 'empty':
      return [];
    case 'few':
      return Array.from({ length: 2 }, () => ({ value: 100 }));
    case 'spike':
      return isCount ? Array.from({ length: 100 }, () => ({})) : Array.from({ length: 5 }, () => ({ value: 160 }));
    case 'dip':
      return Array.from({ length: 5 }, () => ({ value: 40 }));
    case 'one_high':
      return [...normal(false, g).slice(0, 4), { value: 200 }];
    case 'one_low':
      return [...normal(false, g).slice(0, 4), { value: 10 }];
  }
}

function run(fn: DetectorFunction, kind: Anomaly, seed = 1): BucketResult[] {
  const isCount = fn.includes('count');
  const g = gaussian(rng(seed));
  const m = AnomalyModel.create(makeSpec({ function: fn, ...(isCount ? {} : { field_name: 'value' }) }, { bucketSpanMs: SPAN }));
  const recs = bucketsOf(BUCKETS, SPAN, (b) => (b === AT ? anomalous(kind, isCount, g) : normal(isCount, g)));
  return [...m.ingest(recs).buckets, ...m.finalizeAll()];
}

const at = (buckets: BucketResult[]) => buckets.find((b) => b.timestamp === buckets[0]!.timestamp + AT * SPAN) as BucketResult;

// [function, anomaly, description of the reported feature, actual]
const flagged: [DetectorFunction, Anomaly, string, number][] = [
  ['count', 'spike', 'count', 100],
  ['count', 'empty', 'count', 0],
  ['high_count', 'spike', 'count', 100],
  ['low_count', 'empty', 'count', 0],
  ['non_zero_count', 'spike', 'count', 100],
  ['high_non_zero_count', 'spike', 'count', 100],
  ['low_non_zero_count', 'few', 'count', 2],
  ['mean', 'spike', 'mean', 160],
  ['mean', 'dip', 'mean', 40],
  ['high_mean', 'spike', 'mean', 160],
  ['low_mean', 'dip', 'mean', 40],
  ['sum', 'spike', 'sum', 800],
  ['sum', 'empty', 'sum', 0],
  ['high_sum', 'spike', 'sum', 800],
  ['low_sum', 'empty', 'sum', 0],
  ['non_null_sum', 'spike', 'sum', 800],
  ['high_non_null_sum', 'spike', 'sum', 800],
  ['low_non_null_sum', 'dip', 'sum', 200],
  ['min', 'one_low', 'min', 10],
  ['max', 'one_high', 'max', 200],
  ['metric', 'one_high', 'max', 200],
  ['metric', 'one_low', 'min', 10],
];

const ignored: [DetectorFunction, Anomaly][] = [
  ['high_count', 'empty'],
  ['low_count', 'spike'],
  ['non_zero_count', 'empty'],
  ['high_mean', 'dip'],
  ['low_mean', 'spike'],
  ['high_sum', 'empty'],
  ['low_sum', 'spike'],
  ['non_null_sum', 'empty'],
  ['min', 'one_high'],
  ['max', 'one_low'],
];

describe('detector functions', () => {
  it.each(flagged)('%s finds an injected %s as the top bucket', (fn, kind, description, actual) => {
    const buckets = run(fn, kind);
    const b = at(buckets);
    expect(topBucket(buckets)).toBe(b);
    expect(b.anomaly_score).toBeGreaterThan(50);
    const r = b.records[0];
    expect(r).toBeDefined();
    expect(r).toMatchObject({ function: fn, function_description: description, detector_index: 0, result_type: 'record', is_interim: false });
    expect(r!.actual[0]).toBeCloseTo(actual, 6);
    expect(r!.probability).toBeLessThan(1e-3);
    expect(r!.record_score).toBeGreaterThan(50);
    if (!fn.includes('count')) expect(r!.field_name).toBe('value');
    else expect(r!.field_name).toBeUndefined();
  });

  it.each(ignored)('%s does not flag an injected %s on its other side', (fn, kind) => {
    const buckets = run(fn, kind);
    const b = at(buckets);
    if (fn.startsWith('non_zero') || fn.startsWith('non_null')) expect(b.records).toEqual([]);
    expect(b.records.filter((r) => r.probability < 0.01)).toEqual([]);
    expect(b.anomaly_score).toBeLessThan(10);
  });

  it.each(['count', 'low_count', 'mean', 'sum', 'min', 'max', 'metric', 'non_zero_count'] as DetectorFunction[])('%s does not flag a flat series', (fn) => {
    const isCount = fn.includes('count');
    const m = AnomalyModel.create(makeSpec({ function: fn, field_name: 'value' }, { bucketSpanMs: SPAN }));
    const recs = bucketsOf(300, SPAN, () => Array.from({ length: 10 }, () => (isCount ? {} : { value: 42.5 })));
    const buckets = [...m.ingest(recs).buckets, ...m.finalizeAll()];
    expect(buckets).toHaveLength(300);
    expect(buckets.flatMap((b) => b.records)).toEqual([]);
    expect(buckets.every((b) => b.anomaly_score === 0 && b.bucket_influencers[0]!.probability === 1)).toBe(true);
  });

  it('reports typical near the learnt level and the record with the lowest probability first', () => {
    const buckets = run('mean', 'spike', 3);
    const r = at(buckets).records[0]!;
    expect(r.typical[0]).toBeGreaterThan(95);
    expect(r.typical[0]).toBeLessThan(105);
    const all = buckets.flatMap((b) => b.records);
    expect(all.every((x) => x.probability < 0.05 && x.probability >= 1e-308)).toBe(true);
  });

  it('ignores records without a numeric value for metric functions', () => {
    const m = AnomalyModel.create(makeSpec({ function: 'mean', field_name: 'value' }, { bucketSpanMs: SPAN }));
    const recs = bucketsOf(40, SPAN, (b) => [{ value: 10 }, { value: 'n/a' }, { other: 1 }, ...(b === 30 ? [{ value: '10' }] : [])]);
    const buckets = [...m.ingest(recs).buckets, ...m.finalizeAll()];
    expect(buckets.flatMap((b) => b.records)).toEqual([]);
    expect(buckets[0]?.event_count).toBe(3);
  });
});

describe('series splitting', () => {
  const hosts = ['a', 'b', 'c'];

  it('splits by the by field and reports the anomalous by value', () => {
    const g = gaussian(rng(5));
    const m = AnomalyModel.create(makeSpec({ function: 'mean', field_name: 'value', by_field_name: 'host' }, { bucketSpanMs: SPAN, influencers: ['host'] }));
    const recs = bucketsOf(BUCKETS, SPAN, (b) => hosts.flatMap((host) => [{ host, value: (host === 'b' && b === AT ? 300 : 100) + 3 * g() }]));
    const buckets = [...m.ingest(recs).buckets, ...m.finalizeAll()];
    const b = at(buckets);
    expect(topBucket(buckets)).toBe(b);
    expect(b.records[0]).toMatchObject({
      by_field_name: 'host',
      by_field_value: 'b',
      influencers: [{ influencer_field_name: 'host', influencer_field_values: ['b'] }],
    });
    expect(b.records[0]?.partition_field_name).toBeUndefined();
    expect(m.modelSizeStats()).toMatchObject({ total_by_field_count: 3, total_partition_field_count: 0, total_over_field_count: 0 });
  });

  it('splits by partition and by field together', () => {
    const g = gaussian(rng(6));
    const m = AnomalyModel.create(makeSpec({ function: 'high_count', by_field_name: 'host', partition_field_name: 'region' }, { bucketSpanMs: SPAN }));
    const recs = bucketsOf(BUCKETS, SPAN, (b) =>
      ['eu', 'us'].flatMap((region) =>
        hosts.flatMap((host) => {
          const n = region === 'us' && host === 'a' && b === AT ? 90 : Math.max(1, Math.round(15 + 3 * g()));
          return Array.from({ length: n }, () => ({ region, host }));
        }),
      ),
    );
    const buckets = [...m.ingest(recs).buckets, ...m.finalizeAll()];
    const b = at(buckets);
    expect(topBucket(buckets)).toBe(b);
    expect(b.records[0]).toMatchObject({ partition_field_name: 'region', partition_field_value: 'us', by_field_name: 'host', by_field_value: 'a', actual: [90] });
    expect(m.seriesCounts()).toEqual([6]);
    expect(m.modelSizeStats()).toMatchObject({ total_by_field_count: 6, total_partition_field_count: 2 });
  });

  it('puts records without the by field in the "" series', () => {
    const m = AnomalyModel.create(makeSpec({ function: 'count', by_field_name: 'host' }, { bucketSpanMs: SPAN }));
    const recs = bucketsOf(BUCKETS, SPAN, (b) => Array.from({ length: b === AT ? 100 : 20 }, () => ({ other: 1 })));
    const buckets = [...m.ingest(recs).buckets, ...m.finalizeAll()];
    expect(m.seriesCounts()).toEqual([1]);
    expect(at(buckets).records[0]).toMatchObject({ by_field_name: 'host', by_field_value: '' });
  });

  it('lists the influencer values seen in the anomalous series', () => {
    const m = AnomalyModel.create(makeSpec({ function: 'count', by_field_name: 'host' }, { bucketSpanMs: SPAN, influencers: ['user', 'host'] }));
    const recs = bucketsOf(BUCKETS, SPAN, (b) => Array.from({ length: b === AT ? 100 : 20 }, (_, i) => ({ host: 'h1', user: b === AT && i % 2 === 0 ? 'mallory' : 'alice' })));
    const buckets = [...m.ingest(recs).buckets, ...m.finalizeAll()];
    const infl = at(buckets).records[0]?.influencers;
    expect(infl).toEqual([
      { influencer_field_name: 'user', influencer_field_values: ['mallory', 'alice'] },
      { influencer_field_name: 'host', influencer_field_values: ['h1'] },
    ]);
  });

  it('runs several detectors over the same records', () => {
    const g = gaussian(rng(9));
    const m = AnomalyModel.create({
      ...makeSpec({}, { bucketSpanMs: SPAN }),
      detectors: [
        { detector_index: 0, function: 'count' },
        { detector_index: 1, function: 'high_mean', field_name: 'value' },
      ],
    });
    const recs = bucketsOf(BUCKETS, SPAN, (b) => Array.from({ length: 10 }, () => ({ value: (b === AT ? 500 : 100) + 5 * g() })));
    const b = at([...m.ingest(recs).buckets, ...m.finalizeAll()]);
    expect(b.records.map((r) => r.detector_index)).toEqual([1]);
  });
});
