import type { estypes } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esClient, uniqueId } from './client.ts';

const es = esClient();
const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
const HOURS = 30 * 24;
// Two moderate anomalies (+4 on a level of 10 ± 1), 16 days apart, then a much larger one (+1,000).
const FIRST = 240;
const SECOND = 624;
const LARGE = 672;
const SPIKES: Record<number, number> = { [FIRST]: 4, [SECOND]: 4, [LARGE]: 1000 };

/** 30 days of hourly values of one host, the same on every run (a fixed linear congruential generator). */
function series(): { timestamp: number; v: number; host: string }[] {
  let seed = 7;
  const rnd = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  return Array.from({ length: HOURS }, (_, h) => ({ timestamp: T0 + h * HOUR + 1000, v: 10 + (rnd() - 0.5) * 2 + (SPIKES[h] ?? 0), host: 'web-1' }));
}

// With influencer host: its influencer results are rescored with the records.
const defaultJob = uniqueId('renorm-default');
// Updated to a 5-day window: the window ending at the newest bucket (hour 719) starts at hour 599,
// so it holds the second moderate anomaly and not the first.
const windowedJob = uniqueId('renorm-window');

async function run(jobId: string, update?: Record<string, unknown>, influencers?: string[]): Promise<void> {
  await es.ml.putJob({
    job_id: jobId,
    analysis_config: { bucket_span: '1h', detectors: [{ function: 'mean', field_name: 'v' }], ...(influencers ? { influencers } : {}) },
    data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
  });
  if (update) await es.ml.updateJob({ job_id: jobId, ...update });
  await es.ml.openJob({ job_id: jobId });
  await es.ml.postData({ job_id: jobId, data: series() });
  // The renormalization a post requests runs in the job's command order, before this flush.
  await es.ml.flushJob({ job_id: jobId });
}

/** A bucket with its records (`expand`), as the client returns it. */
type Expanded = estypes.MlBucketSummary & { records: estypes.MlAnomaly[] };
const bucketAt = async (jobId: string, h: number) => (await es.ml.getBuckets({ job_id: jobId, timestamp: String(T0 + h * HOUR), expand: true })).buckets[0] as Expanded;

beforeAll(async () => {
  await run(defaultJob, undefined, ['host']);
  await run(windowedJob, { renormalization_window_days: 5 });
}, 120_000);

afterAll(async () => {
  // Open jobs hold the node's ML memory the next test files need.
  await es.ml.closeJob({ job_id: windowedJob, force: true });
  await es.ml.deleteJob({ job_id: windowedJob, force: true });
  await es.ml.deleteJob({ job_id: defaultJob, force: true });
}, 60_000);

describe('renormalization', () => {
  it('rescores the earlier anomalies once a much larger one comes: anomaly_score and record_score drop, initial_* keep the first score', async () => {
    for (const h of [FIRST, SECOND]) {
      const b = await bucketAt(defaultJob, h);
      expect(b.initial_anomaly_score).toBeGreaterThanOrEqual(50);
      expect(b.anomaly_score).toBeLessThan(b.initial_anomaly_score / 2);
      const r = b.records[0]!;
      expect(r.initial_record_score).toBeGreaterThanOrEqual(50);
      expect(r.record_score).toBeLessThan(r.initial_record_score / 2);
      // The bucket is the container of its bucket influencers: its score is theirs.
      expect(b.bucket_influencers[0]).toMatchObject({ anomaly_score: b.anomaly_score, initial_anomaly_score: b.initial_anomaly_score });
    }
    const large = await bucketAt(defaultJob, LARGE);
    expect(large.anomaly_score).toBe(large.initial_anomaly_score);
    expect(large.anomaly_score).toBeGreaterThanOrEqual(75);
    // Results records read the parts: the same new scores.
    const records = (await es.ml.getRecords({ job_id: defaultJob, start: String(T0 + FIRST * HOUR), end: String(T0 + FIRST * HOUR + 1) })).records;
    expect(records[0]?.record_score).toBe((await bucketAt(defaultJob, FIRST)).records[0]!.record_score);
  });

  it('record_score and anomaly_score filters and sorts see the new scores (score index and parts)', async () => {
    const high = await es.ml.getRecords({ job_id: defaultJob, record_score: 50, sort: 'record_score', desc: true });
    expect(high.records.map((r) => r.timestamp)).toEqual([T0 + LARGE * HOUR]);
    const second = (await bucketAt(defaultJob, SECOND)).anomaly_score;
    const low = await es.ml.getRecords({ job_id: defaultJob, record_score: Math.min(second, 9) - 0.5, sort: 'record_score', desc: true });
    expect(low.records.slice(0, 2).map((r) => r.timestamp)).toEqual([T0 + LARGE * HOUR, T0 + SECOND * HOUR]);
    const buckets = await es.ml.getBuckets({ job_id: defaultJob, anomaly_score: 50 });
    expect(buckets.buckets.map((b) => b.timestamp)).toEqual([T0 + LARGE * HOUR]);
  });

  it('the .ml-anomalies-* search serves the rescored documents', async () => {
    const b = await bucketAt(defaultJob, FIRST);
    const r = (await es.search({
      index: `.ml-anomalies-${defaultJob}`,
      query: { bool: { filter: [{ term: { result_type: 'record' } }, { range: { timestamp: { gte: T0 + FIRST * HOUR, lt: T0 + FIRST * HOUR + 1 } } }] } },
    })) as any;
    expect(r.hits.hits[0]._source).toMatchObject({ record_score: b.records[0]!.record_score, initial_record_score: b.records[0]!.initial_record_score });
    const alerts = await es.count({
      index: `.ml-anomalies-${defaultJob}`,
      query: { bool: { filter: [{ term: { result_type: 'record' } }, { range: { record_score: { gte: 50 } } }] } },
    });
    expect(alerts.count).toBe(1);
  });

  it('rescores influencer results too: influencer_score follows the record, initial_influencer_score keeps the first score', async () => {
    for (const h of [FIRST, SECOND]) {
      const r = (await bucketAt(defaultJob, h)).records[0]!;
      const { influencers, count } = await es.ml.getInfluencers({ job_id: defaultJob, start: String(T0 + h * HOUR), end: String(T0 + h * HOUR + 1) });
      expect(count).toBe(1);
      expect(influencers[0]).toMatchObject({
        influencer_field_name: 'host',
        influencer_field_value: 'web-1',
        initial_influencer_score: r.initial_record_score,
        influencer_score: r.record_score,
      });
      expect(influencers[0]!.influencer_score).toBeLessThan(influencers[0]!.initial_influencer_score / 2);
    }
    const large = (await es.ml.getInfluencers({ job_id: defaultJob, start: String(T0 + LARGE * HOUR), end: String(T0 + LARGE * HOUR + 1) })).influencers[0]!;
    expect(large.influencer_score).toBe(large.initial_influencer_score);
    expect(large.influencer_score).toBeGreaterThanOrEqual(75);
  });

  it('influencer_score filters and sorts see the new influencer scores (score index and parts)', async () => {
    // At or above the score index floor: the index alone.
    const high = await es.ml.getInfluencers({ job_id: defaultJob, influencer_score: 50, sort: 'influencer_score', desc: true });
    expect(high.influencers.map((i) => i.timestamp)).toEqual([T0 + LARGE * HOUR]);
    expect(high.count).toBe(1);
    // Below it: the parts, skipped by their summaries' influencer top.
    const second = (await bucketAt(defaultJob, SECOND)).records[0]!.record_score;
    const low = await es.ml.getInfluencers({ job_id: defaultJob, influencer_score: Math.min(second, 9) - 0.5, sort: 'influencer_score', desc: true });
    expect(low.influencers.slice(0, 2).map((i) => [i.timestamp, i.influencer_score])).toEqual([
      [T0 + LARGE * HOUR, high.influencers[0]!.influencer_score],
      [T0 + SECOND * HOUR, second],
    ]);
    // Sorted by influencer_score over everything: the earlier anomalies come after the large one, in their new order.
    const all = await es.ml.getInfluencers({ job_id: defaultJob, sort: 'influencer_score', desc: true, page: { size: 1000 } });
    const scores = all.influencers.map((i) => i.influencer_score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(all.influencers[0]!.timestamp).toBe(T0 + LARGE * HOUR);
    const at = (h: number) => all.influencers.find((i) => i.timestamp === T0 + h * HOUR)!;
    expect(at(FIRST).influencer_score).toBeLessThan(at(FIRST).initial_influencer_score / 2);
  });

  it('honours renormalization_window_days set by a job update: outside the window nothing changes', async () => {
    const first = await bucketAt(windowedJob, FIRST);
    expect(first.anomaly_score).toBe(first.initial_anomaly_score);
    expect(first.records[0]!.record_score).toBe(first.records[0]!.initial_record_score);
    const second = await bucketAt(windowedJob, SECOND);
    expect(second.anomaly_score).toBeLessThan(second.initial_anomaly_score / 2);
    // Both jobs saw the same data and scored it the same at first.
    expect(first.initial_anomaly_score).toBe((await bucketAt(defaultJob, FIRST)).initial_anomaly_score);
  });

  it('results retention and job deletion keep working on rescored results', async () => {
    // Retention counts back from the newest bucket (hour 718): 10 days keep hour 478 on, so the first anomaly goes.
    await es.ml.updateJob({ job_id: defaultJob, results_retention_days: 10 });
    expect(await es.ml.deleteExpiredData({ job_id: defaultJob })).toEqual({ deleted: true });
    const kept = await es.ml.getRecords({ job_id: defaultJob, record_score: 0, sort: 'record_score', desc: true, page: { size: 1000 } });
    const times = kept.records.map((r) => r.timestamp);
    expect(times).toContain(T0 + SECOND * HOUR);
    expect(times).not.toContain(T0 + FIRST * HOUR);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(T0 + 478 * HOUR);
    const second = await bucketAt(defaultJob, SECOND);
    expect(second.anomaly_score).toBeLessThan(second.initial_anomaly_score / 2);
    await es.ml.closeJob({ job_id: defaultJob });
    await es.ml.deleteJob({ job_id: defaultJob });
    await es.ml.putJob({
      job_id: defaultJob,
      analysis_config: { bucket_span: '1h', detectors: [{ function: 'mean', field_name: 'v' }] },
      data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
    });
    expect((await es.ml.getBuckets({ job_id: defaultJob })).count).toBe(0);
    expect((await es.ml.getRecords({ job_id: defaultJob, record_score: 10 })).count).toBe(0);
  });
});
