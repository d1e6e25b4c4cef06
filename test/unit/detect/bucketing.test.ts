import { describe, expect, it } from 'vitest';
import { AnomalyModel, type InputRecord } from '../../../lib/detect/index.ts';
import { HOUR, MINUTE, T0, makeSpec } from './helpers.ts';

const hourly = (over: Parameters<typeof makeSpec>[1] = {}) => makeSpec({ function: 'count' }, { bucketSpanMs: HOUR, ...over });
const at = (ms: number, fields: Record<string, unknown> = {}): InputRecord => ({ timeMs: T0 + ms, fields });

describe('bucketing', () => {
  it('puts records in buckets starting at floor(t / span) and finalises a bucket when a later bucket starts', () => {
    const m = AnomalyModel.create(hourly());
    const first = m.ingest([at(10 * MINUTE), at(20 * MINUTE)]);
    expect(first.buckets).toEqual([]);
    expect(first.processed_record_count).toBe(2);
    expect(first.earliest_record_timestamp).toBe(T0 + 10 * MINUTE);
    expect(first.latest_record_timestamp).toBe(T0 + 20 * MINUTE);
    const second = m.ingest([at(HOUR + 5 * MINUTE)]);
    expect(second.buckets).toHaveLength(1);
    const b = second.buckets[0];
    expect(b).toMatchObject({ job_id: 'job-1', result_type: 'bucket', timestamp: T0, bucket_span: 3600, event_count: 2, is_interim: false });
    expect(b?.bucket_influencers[0]).toMatchObject({ result_type: 'bucket_influencer', influencer_field_name: 'bucket_time', timestamp: T0, bucket_span: 3600 });
  });

  it('finalises the empty buckets between data and counts them', () => {
    const m = AnomalyModel.create(hourly());
    const out = m.ingest([at(0), at(3 * HOUR + 1)]);
    expect(out.buckets.map((b) => [b.timestamp - T0, b.event_count])).toEqual([
      [0, 1],
      [HOUR, 0],
      [2 * HOUR, 0],
    ]);
    expect(m.bucketCounts()).toEqual({
      bucket_count: 3,
      empty_bucket_count: 2,
      sparse_bucket_count: 0,
      latest_bucket_timestamp: T0 + 2 * HOUR,
      latest_empty_bucket_timestamp: T0 + 2 * HOUR,
    });
  });

  it('counts a bucket with far fewer records than usual as sparse', () => {
    const m = AnomalyModel.create(hourly());
    const recs: InputRecord[] = [];
    for (let b = 0; b < 20; b++) {
      const n = b === 15 ? 1 : 100;
      for (let i = 0; i < n; i++) recs.push(at(b * HOUR + i * 1000));
    }
    recs.push(at(21 * HOUR));
    m.ingest(recs);
    expect(m.bucketCounts()).toMatchObject({ sparse_bucket_count: 1, latest_sparse_bucket_timestamp: T0 + 15 * HOUR, empty_bucket_count: 1 });
  });

  it('weights counts and event_count by the summary count field', () => {
    const m = AnomalyModel.create(hourly({ summaryCountFieldName: 'doc_count' }));
    const out = m.ingest([at(0, { doc_count: 5 }), at(1, { doc_count: '7' }), at(2), at(HOUR)]);
    expect(out.buckets[0]?.event_count).toBe(13);
  });

  it('drops a record older than the first non-final bucket as out of order', () => {
    const m = AnomalyModel.create(hourly());
    m.ingest([at(2 * HOUR + 30 * MINUTE)]);
    m.ingest([at(3 * HOUR + 1)]);
    const out = m.ingest([at(2 * HOUR + 50 * MINUTE), at(3 * HOUR + 2)]);
    expect(out.out_of_order_timestamp_count).toBe(1);
    expect(out.processed_record_count).toBe(1);
  });

  it('keeps buckets open for the latency window and accepts late records into them', () => {
    const m = AnomalyModel.create(hourly({ latencyMs: 2 * HOUR }));
    const a = m.ingest([at(30 * MINUTE), at(HOUR + 30 * MINUTE), at(2 * HOUR + 30 * MINUTE), at(45 * MINUTE)]);
    expect(a.buckets).toEqual([]);
    expect(a.out_of_order_timestamp_count).toBe(0);
    // Bucket 0 ends at 1h: final once the newest record reaches 1h + 2h latency.
    const b = m.ingest([at(2 * HOUR + 59 * MINUTE)]);
    expect(b.buckets).toEqual([]);
    const c = m.ingest([at(3 * HOUR)]);
    expect(c.buckets.map((x) => [x.timestamp - T0, x.event_count])).toEqual([[0, 2]]);
    const d = m.ingest([at(10 * MINUTE)]);
    expect(d.out_of_order_timestamp_count).toBe(1);
  });

  it('accepts records earlier than the first one while their bucket could not be final yet', () => {
    const m = AnomalyModel.create(hourly({ latencyMs: 2 * HOUR }));
    const out = m.ingest([at(5 * HOUR), at(3 * HOUR + 10 * MINUTE), at(HOUR)]);
    expect(out.processed_record_count).toBe(2);
    expect(out.out_of_order_timestamp_count).toBe(1);
    expect(m.lastFinalizedBucketEndMs()).toBe(T0 + 3 * HOUR);
  });
});

describe('flush', () => {
  // post_data.yml: 1h buckets, epoch times 1403481600 and 1403481700.
  const spec = makeSpec({ function: 'count' }, { bucketSpanMs: HOUR });
  const rec = (s: number): InputRecord => ({ timeMs: s * 1000, fields: {} });

  it('reports the start of the first open bucket as last_finalized_bucket_end after data', () => {
    const m = AnomalyModel.create(spec);
    m.ingest([rec(1403481600), rec(1403481700)]);
    expect(m.flush({})).toEqual({ buckets: [], interim: [], lastFinalizedBucketEndMs: 1403481600000 });
  });

  it('has no last_finalized_bucket_end without data', () => {
    const m = AnomalyModel.create(spec);
    expect(m.flush({})).toEqual({ buckets: [], interim: [] });
    expect(m.lastFinalizedBucketEndMs()).toBeUndefined();
  });

  it('advance_time finalises every bucket ending at or before it, empty ones included', () => {
    const m = AnomalyModel.create(spec);
    m.ingest([rec(1403481600)]);
    const out = m.flush({ advanceTimeMs: 1403481600000 + 3 * HOUR });
    expect(out.buckets.map((b) => [b.timestamp, b.event_count])).toEqual([
      [1403481600000, 1],
      [1403481600000 + HOUR, 0],
      [1403481600000 + 2 * HOUR, 0],
    ]);
    expect(out.lastFinalizedBucketEndMs).toBe(1403481600000 + 3 * HOUR);
    expect(m.bucketCounts().empty_bucket_count).toBe(2);
    // Data before the advanced time is now out of order.
    expect(m.ingest([rec(1403481600 + 2 * 3600)]).out_of_order_timestamp_count).toBe(1);
  });

  it('skip_time jumps to the next bucket boundary without results for the gap', () => {
    const m = AnomalyModel.create(spec);
    m.ingest([rec(1403481600)]);
    const skipped = m.flush({ skipTimeMs: 1403488700000 });
    expect(skipped.lastFinalizedBucketEndMs).toBe(1403488800000);
    expect(skipped.buckets.map((b) => b.timestamp)).toEqual([1403481600000]);
    m.ingest([rec(1403488800), rec(1403488900)]);
    const closing = m.finalizeAll();
    expect([...skipped.buckets, ...closing].map((b) => [b.timestamp, b.event_count])).toEqual([
      [1403481600000, 1],
      [1403488800000, 2],
    ]);
    expect(m.bucketCounts().bucket_count).toBe(2);
    expect(m.bucketCounts().empty_bucket_count).toBe(0);
  });

  it('calc_interim scores the open bucket without finalising it or learning from it', () => {
    const m = AnomalyModel.create(makeSpec({ function: 'count' }));
    const recs: InputRecord[] = [];
    for (let b = 0; b < 30; b++) for (let i = 0; i < 10; i++) recs.push(at(b * 10 * MINUTE + i * 1000));
    // A burst in the open bucket: 80 records in its first half.
    for (let i = 0; i < 80; i++) recs.push(at(30 * 10 * MINUTE + i * 1000));
    m.ingest(recs);
    const before = Buffer.from(m.serialize());
    const out = m.flush({ calcInterim: true });
    expect(out.buckets).toEqual([]);
    expect(out.interim).toHaveLength(1);
    const b = out.interim[0];
    expect(b).toMatchObject({ timestamp: T0 + 300 * MINUTE, is_interim: true, event_count: 80 });
    expect(b?.records[0]).toMatchObject({ is_interim: true, function: 'count', function_description: 'count', actual: [80] });
    expect(b?.anomaly_score).toBeGreaterThan(0);
    expect(Buffer.from(m.serialize()).equals(before)).toBe(true);
    // The bucket is still open: more data goes into it.
    m.ingest([at(300 * MINUTE + 500_000)]);
    expect(m.finalizeAll()[0]?.event_count).toBe(81);
  });

  it('finalizeAll finalises every buffered bucket that holds data and stops there', () => {
    const m = AnomalyModel.create(hourly({ latencyMs: 3 * HOUR }));
    m.ingest([at(0), at(2 * HOUR + 1)]);
    const out = m.finalizeAll();
    expect(out.map((b) => [b.timestamp - T0, b.event_count])).toEqual([
      [0, 1],
      [HOUR, 0],
      [2 * HOUR, 1],
    ]);
    expect(m.lastFinalizedBucketEndMs()).toBe(T0 + 3 * HOUR);
    expect(m.finalizeAll()).toEqual([]);
  });
});
