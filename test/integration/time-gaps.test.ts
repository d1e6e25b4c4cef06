import { describe, expect, it } from 'vitest';
import { esClient, uniqueId } from './client.ts';

const es = esClient();
const HOUR = 3_600_000;
/** The data: 2025-01-01T00:00Z, then 9999-01-01T00:00Z. */
const FIRST = 1735689600000;
const YEAR_9999 = 253370764800000;
/** Final 1h buckets once the year-9999 record is in: Elasticsearch's bucket_count. */
const GAP_BUCKETS = (YEAR_9999 - FIRST) / HOUR;

const countJob = async (job_id: string) => {
  await es.ml.putJob({
    job_id,
    analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] },
    data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
  });
  await es.ml.openJob({ job_id });
};
const buckets = (job_id: string, params: Record<string, unknown>) =>
  es.transport.request<any>({ method: 'GET', path: `/_ml/anomaly_detectors/${job_id}/results/buckets`, querystring: params });

describe('time gaps', () => {
  it('a record in the year 9999 answers with Elasticsearch data counts while another job is served', async () => {
    const far = uniqueId('gap-far');
    const other = uniqueId('gap-other');
    await countJob(far);
    await countJob(other);
    await es.ml.postData({ job_id: far, data: [{ timestamp: FIRST }] });
    const farPost = es.ml.postData({ job_id: far, data: [{ timestamp: YEAR_9999 }] });
    // Another job's requests are answered meanwhile.
    const otherCounts = await es.ml.postData({ job_id: other, data: [{ timestamp: FIRST }, { timestamp: FIRST + HOUR }] });
    expect(otherCounts.processed_record_count).toBe(2);
    expect((await es.ml.getJobStats({ job_id: other })).jobs[0]!.data_counts.bucket_count).toBe(1);

    const dc = await farPost;
    expect(dc).toMatchObject({
      processed_record_count: 2,
      input_record_count: 2,
      out_of_order_timestamp_count: 0,
      invalid_date_count: 0,
      bucket_count: GAP_BUCKETS,
      empty_bucket_count: GAP_BUCKETS - 1,
      latest_empty_bucket_timestamp: YEAR_9999 - HOUR,
      earliest_record_timestamp: FIRST,
      latest_record_timestamp: YEAR_9999,
    });
    const stats = (await es.ml.getJobStats({ job_id: far })).jobs[0]!;
    expect(stats.data_counts.bucket_count).toBe(GAP_BUCKETS);
    expect(stats.timing_stats.bucket_count).toBe(GAP_BUCKETS);
    expect(stats.model_size_stats.model_bytes).toBeLessThan(64 * 1024);

    // Every final bucket is served, empty ones included, a page at a time.
    const all = await buckets(far, { size: 3 });
    expect(all.count).toBe(GAP_BUCKETS);
    expect(all.buckets.map((b: any) => [b.timestamp, b.event_count])).toEqual([
      [FIRST, 1],
      [FIRST + HOUR, 0],
      [FIRST + 2 * HOUR, 0],
    ]);
    const last = await buckets(far, { size: 2, desc: true });
    expect(last.buckets.map((b: any) => b.timestamp)).toEqual([YEAR_9999 - HOUR, YEAR_9999 - 2 * HOUR]);
    expect(last.buckets[0]).toMatchObject({ job_id: far, result_type: 'bucket', bucket_span: 3600, anomaly_score: 0, event_count: 0, is_interim: false });
    const deep = await buckets(far, { from: GAP_BUCKETS - 2, size: 5 });
    expect(deep.buckets.map((b: any) => b.timestamp)).toEqual([YEAR_9999 - 2 * HOUR, YEAR_9999 - HOUR]);
    const byCount = await buckets(far, { sort: 'event_count', desc: true, size: 3 });
    expect(byCount.count).toBe(GAP_BUCKETS);
    expect(byCount.buckets.map((b: any) => [b.timestamp, b.event_count])).toEqual([
      [FIRST, 1],
      [YEAR_9999 - HOUR, 0],
      [YEAR_9999 - 2 * HOUR, 0],
    ]);
    const middle = Date.UTC(5000, 0, 1, 0, 30);
    const page = await buckets(far, { start: middle, end: middle + 3 * HOUR, expand: true });
    expect(page.count).toBe(3);
    expect(page.buckets.map((b: any) => [b.timestamp, b.records])).toEqual([
      [middle + HOUR / 2, []],
      [middle + (3 * HOUR) / 2, []],
      [middle + (5 * HOUR) / 2, []],
    ]);
    const one = await es.transport.request<any>({ method: 'GET', path: `/_ml/anomaly_detectors/${far}/results/buckets/${middle + HOUR / 2}` });
    expect(one.count).toBe(1);
    // The run's buckets score 0: an anomaly_score filter leaves only stored buckets.
    const scored = await buckets(far, { anomaly_score: 1, size: 10_000 });
    expect(scored.count).toBeLessThan(10_000);
    expect(scored.buckets.every((b: any) => b.anomaly_score >= 1)).toBe(true);

    await es.ml.closeJob({ job_id: far });
    expect((await buckets(far, { size: 1, desc: true })).buckets[0]).toMatchObject({ timestamp: YEAR_9999, event_count: 1 });
    await es.ml.closeJob({ job_id: other });
  });

  it('a time past year 33658 is an invalid date; a time before 1970 is out of order', async () => {
    const id = uniqueId('gap-bounds');
    await countJob(id);
    const dc = await es.ml.postData({ job_id: id, data: [{ timestamp: 1e20 }, { timestamp: -5 * HOUR }, { timestamp: FIRST }] });
    expect(dc).toMatchObject({ input_record_count: 3, invalid_date_count: 1, out_of_order_timestamp_count: 1, processed_record_count: 1 });
    await es.ml.closeJob({ job_id: id });
  });

  it('records posted again inside the open bucket are processed again, as in Elasticsearch', async () => {
    const id = uniqueId('gap-repost');
    await countJob(id);
    const minutes = Array.from({ length: 10 }, (_, i) => ({ timestamp: FIRST + i * 60_000 }));
    expect((await es.ml.postData({ job_id: id, data: minutes })).processed_record_count).toBe(10);
    const again = await es.ml.postData({ job_id: id, data: minutes });
    expect(again).toMatchObject({ processed_record_count: 20, out_of_order_timestamp_count: 0 });
    await es.ml.closeJob({ job_id: id });
  });
});
