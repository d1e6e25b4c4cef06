import { describe, expect, it } from 'vitest';
import { INGEST_SLICE_RECORDS, addTiming, ingestYielding } from '../../../lib/app/ingest.ts';
import { AnomalyModel, type BucketResult, type InputRecord } from '../../../lib/detect/index.ts';
import type { TimingStats } from '../../../lib/domain/state.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 0, 1);
const spec = () => ({
  jobId: 'j',
  bucketSpanMs: HOUR,
  latencyMs: 0,
  detectors: [{ detector_index: 0, function: 'count' as const }],
  influencers: [],
  modelMemoryLimitBytes: 1 << 26,
});
const records = (n: number): InputRecord[] => Array.from({ length: n }, (_, i) => ({ timeMs: T0 + i * 60_000 + (i % 7 === 3 ? -3 * HOUR : 0), fields: {} }));

describe('ingestYielding', () => {
  it('gives what one ingest of the whole body gives', async () => {
    const recs = records(3 * INGEST_SLICE_RECORDS + 17);
    const one = AnomalyModel.create(spec()).ingest(recs);
    const { out } = await ingestYielding(AnomalyModel.create(spec()), recs);
    const { buckets, ...counts } = out;
    const { buckets: oneBuckets, ...oneCounts } = one;
    expect(counts).toEqual(oneCounts);
    expect(oneCounts.out_of_order_timestamp_count).toBeGreaterThan(0);
    const key = (b: BucketResult[]) => b.map((x) => [x.timestamp, x.event_count, x.anomaly_score]);
    expect(key(buckets)).toEqual(key(oneBuckets));
  });

  it('lets the event loop run between slices of a big body', async () => {
    let done = false;
    let ranBeforeDone = false;
    setImmediate(() => {
      ranBeforeDone = !done;
    });
    await ingestYielding(AnomalyModel.create(spec()), records(2 * INGEST_SLICE_RECORDS));
    done = true;
    expect(ranBeforeDone).toBe(true);
  });
});

describe('addTiming', () => {
  const base: TimingStats = { job_id: 'j', bucket_count: 4, total_bucket_processing_time_ms: 8, exponential_average_bucket_processing_time_ms: 2 } as TimingStats;

  it('moves the exponential average as n single-bucket steps would', () => {
    const buckets = Array.from({ length: 5 }, () => ({}) as BucketResult);
    let ema = 2;
    for (let i = 0; i < 5; i++) ema = ema * 0.99 + 3 * 0.01;
    const t = addTiming(base, buckets, 15);
    expect(t.bucket_count).toBe(9);
    expect(t.exponential_average_bucket_processing_time_ms).toBeCloseTo(ema, 12);
  });

  it('counts the buckets of empty runs', () => {
    const t = addTiming(base, [], 10, 70_000_000);
    expect(t.bucket_count).toBe(70_000_004);
    expect(Number.isFinite(t.exponential_average_bucket_processing_time_ms)).toBe(true);
  });
});
