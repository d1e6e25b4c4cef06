import { describe, expect, it } from 'vitest';
import { AnomalyModel, type BucketResult, type RecordResult } from '../../../lib/detect/index.ts';
import { influencerResults, isCopiedInfluencerField, renormalizedInfluencers } from '../../../lib/detect/model/influencers.ts';
import { isBigUpdate } from '../../../lib/detect/normalizer.ts';
import { MINUTE, T0, bucketsOf, gaussian, makeSpec, rng, topBucket } from './helpers.ts';

const SPAN = 10 * MINUTE;
const BUCKETS = 700;
const AT = 650;
const hosts = ['a', 'b', 'c'];

function record(over: Partial<RecordResult>): RecordResult {
  return {
    job_id: 'j',
    result_type: 'record',
    probability: 0.01,
    record_score: 10,
    initial_record_score: 10,
    bucket_span: 600,
    detector_index: 0,
    is_interim: false,
    timestamp: T0,
    function: 'mean',
    function_description: 'mean',
    typical: [1],
    actual: [2],
    ...over,
  };
}

/** `mean(value) by host`, influencer host (and `user` when asked), host b jumps at bucket AT. */
function hostJob(influencers: string[], interimAt?: number): { model: AnomalyModel; buckets: BucketResult[] } {
  const g = gaussian(rng(5));
  const model = AnomalyModel.create(makeSpec({ function: 'mean', field_name: 'value', by_field_name: 'host' }, { bucketSpanMs: SPAN, influencers }));
  const recs = bucketsOf(interimAt ?? BUCKETS, SPAN, (b) => hosts.map((host) => ({ host, user: `u-${host}`, value: (host === 'b' && b === AT ? 300 : 100) + 3 * g() })));
  return { model, buckets: [...model.ingest(recs).buckets, ...(interimAt === undefined ? model.finalizeAll() : [])] };
}

describe('influencer results', () => {
  it('writes one influencer per anomalous host value with the probability and score of its record', () => {
    const { buckets } = hostJob(['host']);
    const b = topBucket(buckets);
    expect(b.timestamp).toBe(T0 + AT * SPAN);
    const rec = b.records.find((r) => r.by_field_value === 'b') as RecordResult;
    expect(b.influencers?.[0]).toEqual({
      job_id: 'job-1',
      result_type: 'influencer',
      influencer_field_name: 'host',
      influencer_field_value: 'b',
      host: 'b',
      influencer_score: rec.record_score,
      initial_influencer_score: rec.initial_record_score,
      probability: rec.probability,
      bucket_span: 600,
      is_interim: false,
      timestamp: b.timestamp,
    });
    expect(b.influencers?.every((i) => b.records.some((r) => r.by_field_value === i.influencer_field_value))).toBe(true);
  });

  it('adds a bucket influencer per influencer field that never outscores bucket_time', () => {
    const { buckets } = hostJob(['host', 'user']);
    const b = topBucket(buckets);
    const names = b.bucket_influencers.map((x) => x.influencer_field_name);
    expect(names).toEqual(['bucket_time', 'host', 'user']);
    const [time, host] = b.bucket_influencers;
    expect(host?.anomaly_score).toBeGreaterThan(0);
    expect(host?.probability).toBeGreaterThanOrEqual(time?.probability as number);
    expect(host?.anomaly_score).toBeLessThanOrEqual(time?.anomaly_score as number);
    expect(b.anomaly_score).toBe(time?.anomaly_score);
    expect(host).toMatchObject({ job_id: 'job-1', result_type: 'bucket_influencer', timestamp: b.timestamp, bucket_span: 600, is_interim: false });
    // Each influencer's value of field user is copied as `user: <value>`.
    expect(b.influencers?.find((i) => i.influencer_field_name === 'user')).toMatchObject({ user: 'u-b', influencer_field_value: 'u-b' });
  });

  it('writes none for buckets without records, nor for jobs without influencers', () => {
    const { buckets } = hostJob(['host']);
    const quiet = buckets.filter((b) => b.records.length === 0);
    expect(quiet.length).toBeGreaterThan(0);
    expect(quiet.every((b) => b.influencers === undefined && b.bucket_influencers.length === 1)).toBe(true);
    const none = hostJob([]).buckets;
    expect(none.every((b) => b.influencers === undefined && b.bucket_influencers.length === 1)).toBe(true);
  });

  it('marks the influencers of interim buckets interim', () => {
    const { model } = hostJob(['host'], AT + 1);
    const { interim } = model.flush({ calcInterim: true });
    const b = interim.find((x) => x.timestamp === T0 + AT * SPAN) as BucketResult;
    expect(b.influencers?.length).toBeGreaterThan(0);
    expect(b.influencers?.every((i) => i.is_interim)).toBe(true);
    expect(b.bucket_influencers.every((x) => x.is_interim)).toBe(true);
  });

  it('takes the least probability of the records a value influences, and on ties the higher score', () => {
    const records = [
      record({ probability: 0.01, record_score: 20, initial_record_score: 25, influencers: [{ influencer_field_name: 'user', influencer_field_values: ['x', 'y'] }] }),
      record({
        probability: 0.001,
        record_score: 60,
        initial_record_score: 61,
        detector_index: 1,
        influencers: [{ influencer_field_name: 'user', influencer_field_values: ['y'] }],
      }),
      record({
        probability: 0.001,
        record_score: 70,
        initial_record_score: 50,
        detector_index: 2,
        influencers: [{ influencer_field_name: 'user', influencer_field_values: ['y'] }],
      }),
      record({ probability: 1e-6, record_score: 95, initial_record_score: 95 }),
    ];
    const out = influencerResults('j', ['host', 'user'], records, T0, 600, false);
    expect(out.map((i) => [i.influencer_field_value, i.probability, i.influencer_score, i.initial_influencer_score])).toEqual([
      ['y', 0.001, 70, 61],
      ['x', 0.01, 20, 25],
    ]);
  });

  it('copies the field into the document unless Elasticsearch reserves its name', () => {
    expect(isCopiedInfluencerField('host')).toBe(true);
    expect(isCopiedInfluencerField('host.name')).toBe(true);
    expect(isCopiedInfluencerField('job_id')).toBe(false);
    expect(isCopiedInfluencerField('timestamp.x')).toBe(false);
    const [doc] = influencerResults('j', ['probability'], [record({ influencers: [{ influencer_field_name: 'probability', influencer_field_values: ['v'] }] })], T0, 600, false);
    expect(doc?.probability).toBe(0.01);
  });
});

describe('renormalised influencer results', () => {
  const userY = [{ influencer_field_name: 'user', influencer_field_values: ['y'] }];
  /** The bucket's two records, the first scored `score` (initially 60). */
  const records = (score: number) => [
    record({ probability: 0.001, record_score: score, initial_record_score: 60, influencers: [{ influencer_field_name: 'host', influencer_field_values: ['a'] }, ...userY] }),
    record({
      probability: 0.01,
      record_score: 20,
      initial_record_score: 20,
      detector_index: 1,
      influencers: [{ influencer_field_name: 'user', influencer_field_values: ['x'] }],
    }),
  ];
  const stored = () => influencerResults('j', ['host', 'user'], records(60), T0, 600, false);
  /** The same records after a renormalisation that gave the first `score`. */
  const rescored = records;

  it('moves influencer_score to the rescored score of its least likely record, keeping initial_influencer_score, probability and order', () => {
    const before = stored();
    const after = renormalizedInfluencers(before, rescored(15));
    expect(after.map((i) => [i.influencer_field_name, i.influencer_field_value, i.influencer_score, i.initial_influencer_score, i.probability])).toEqual([
      ['host', 'a', 15, 60, 0.001],
      // Its least likely record is now below x's: stored order (the score index keys by position) is kept all the same.
      ['user', 'y', 15, 60, 0.001],
      ['user', 'x', 20, 20, 0.01],
    ]);
    expect(after[2]).toBe(before[2]);
    expect(before[0]?.influencer_score).toBe(60);
  });

  it('writes a new score only on the big-update rule: a small move keeps the stored documents', () => {
    const before = stored();
    expect(isBigUpdate(60, 61)).toBe(false);
    expect(renormalizedInfluencers(before, rescored(61))).toBe(before);
    expect(renormalizedInfluencers([], [])).toEqual([]);
  });

  it('lowers earlier influencer scores when the model renormalises after a larger anomaly', () => {
    const g = gaussian(rng(17));
    const m = AnomalyModel.create(makeSpec({ function: 'mean', field_name: 'v' }, { bucketSpanMs: SPAN, influencers: ['host'] }));
    const spikes: Record<number, number> = { 1000: 180, 1800: 1000 };
    const recs = bucketsOf(2000, SPAN, (b) => [{ host: 'web-1', v: spikes[b] ?? 100 + 5 * g() }]);
    // Up to the first record of bucket 1001: bucket 1000 is the last one finalised.
    const early = m.ingest(recs.slice(0, 1002)).buckets.find((b) => b.timestamp === T0 + 1000 * SPAN) as BucketResult;
    const infl = early.influencers?.[0];
    expect(infl).toMatchObject({ influencer_field_value: 'web-1', influencer_score: early.records[0]?.record_score });
    expect(infl?.influencer_score).toBeGreaterThan(50);
    m.ingest(recs.slice(1002));
    const { bucket: again, changed } = m.renormalize(early);
    expect(changed).toBe(true);
    const now = again.influencers?.[0];
    expect(now?.influencer_score).toBeLessThan((infl?.influencer_score ?? 0) * 0.8);
    expect(now?.influencer_score).toBe(again.records[0]?.record_score);
    expect(now?.initial_influencer_score).toBe(infl?.initial_influencer_score);
    // The stored bucket is left as it was: renormalize returns a new object.
    expect(early.influencers?.[0]).toBe(infl);
  });
});
