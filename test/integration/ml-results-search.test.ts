import { beforeAll, describe, expect, it } from 'vitest';
import { esClient, esError, hourlyCounts, uniqueId } from './client.ts';

const es = esClient();
const HOUR = 3_600_000;
// 14 days of hourly counts ending at the last full hour, with a collapse 16 to 14 hours ago,
// so `now-1d` covers the anomaly and the job's first week does not.
const END = Math.floor(Date.now() / HOUR) * HOUR;
const T0 = END - 14 * 24 * HOUR;
const SPIKE = 14 * 24 - 16;
const jobId = uniqueId('ml-results-search');

/** The classic alert query: records of score >= 75 in the last day. */
const classic = (job?: string) => ({
  bool: {
    filter: [
      { term: { result_type: 'record' } },
      { range: { record_score: { gte: 75 } } },
      { range: { timestamp: { gte: 'now-1d' } } },
      ...(job ? [{ term: { job_id: job } }] : []),
    ],
  },
});

beforeAll(async () => {
  await es.ml.putJob({
    job_id: jobId,
    analysis_config: { bucket_span: '1h', summary_count_field_name: 'doc_count', detectors: [{ function: 'low_count' }] },
    data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
  });
  await es.ml.openJob({ job_id: jobId });
  const data = hourlyCounts(T0, 14 * 24, (h) => (h >= SPIKE && h < SPIKE + 3 ? 2 : 1000 + 300 * Math.sin((2 * Math.PI * (h % 24)) / 24)));
  await es.ml.postData({ job_id: jobId, data });
  await es.ml.closeJob({ job_id: jobId });
}, 120_000);

describe('_search and _count of .ml-anomalies-* answer from the results store', () => {
  it('the classic alert query over .ml-anomalies-* returns the anomaly record as a .ml-anomalies-shared hit with its ES id', async () => {
    const top = (await es.ml.getRecords({ job_id: jobId })).records[0]!;
    expect(top.record_score).toBeGreaterThanOrEqual(75);
    const r = (await es.search({ index: '.ml-anomalies-*', query: classic(jobId) as any, sort: [{ record_score: 'desc' }] as any })) as any;
    expect(r.hits.total).toEqual({ value: expect.any(Number), relation: 'eq' });
    expect(r.hits.total.value).toBeGreaterThan(0);
    const hit = r.hits.hits[0];
    expect(hit._index).toBe('.ml-anomalies-shared');
    // AnomalyRecord.getId: no by/over/partition values give Objects.hash(null, null, null) = 29791 and length 0.
    expect(hit._id).toBe(`${jobId}_record_${top.timestamp}_3600_0_29791_0`);
    expect(hit._source).toMatchObject({ job_id: jobId, result_type: 'record', timestamp: top.timestamp, record_score: top.record_score, function: 'low_count' });
    expect(hit._source.timestamp).toBeGreaterThanOrEqual(T0 + SPIKE * HOUR);
  });

  it('buckets are hits too, and .ml-anomalies-<job> reads only that job', async () => {
    const all = await es.count({ index: `.ml-anomalies-${jobId}`, query: { term: { result_type: 'bucket' } } });
    expect(all.count).toBe(14 * 24);
    const lastDay = (await es.search({
      index: `.ml-anomalies-${jobId}`,
      size: 1,
      query: { bool: { filter: [{ term: { result_type: 'bucket' } }, { range: { timestamp: { gte: T0 } } }] } },
      sort: [{ timestamp: 'asc' }] as any,
    })) as any;
    expect(lastDay.hits.hits[0]._id).toBe(`${jobId}_bucket_${T0}_3600`);
    const none = await es.count({ index: '.ml-anomalies-shared', query: { bool: { filter: [{ term: { job_id: jobId } }, { range: { timestamp: { lt: T0 } } }] } } });
    expect(none.count).toBe(0);
    const byPattern = await es.count({
      index: `.ml-anomalies-${jobId.slice(0, -2)}*`,
      query: { bool: { filter: [{ term: { result_type: 'bucket' } }, { term: { job_id: jobId } }] } },
    });
    expect(byPattern.count).toBe(14 * 24);
    const notifications = await esError(es.search({ index: '.ml-notifications-*' }));
    expect(notifications).toMatchObject({ status: 400, type: 'illegal_argument_exception', reason: 'mlplane does not support the [.ml-notifications-*] index yet' });
    const missing = await esError(es.search({ index: '.ml-anomalies-no-such-job' }));
    expect(missing).toMatchObject({ status: 404, type: 'index_not_found_exception', reason: 'no such index [.ml-anomalies-no-such-job]' });
  });

  it('writes to .ml-anomalies-* answer a 400', async () => {
    const write = await esError(es.index({ index: '.ml-anomalies-shared', document: { job_id: jobId } }));
    expect(write).toMatchObject({ status: 400, type: 'illegal_argument_exception' });
    expect(write.reason).toContain('[.ml-anomalies-shared]');
    const b = (await es.bulk({ operations: [{ index: { _index: `.ml-anomalies-${jobId}` } }, { a: 1 }] })) as any;
    expect(b.errors).toBe(true);
    expect(b.items[0].index).toMatchObject({ status: 400, error: { type: 'illegal_argument_exception' } });
    expect((await esError(es.delete({ index: '.ml-anomalies-shared', id: 'x' }))).status).toBe(400);
    expect((await esError(es.indices.delete({ index: '.ml-anomalies-shared' }))).status).toBe(400);
  });

  it('a watch with the classic search input and a compare condition on ctx.payload.hits.total executes and its condition is met', async () => {
    const r = (
      (await es.watcher.executeWatch({
        watch: {
          trigger: { schedule: { interval: '1h' } },
          input: { search: { request: { indices: ['.ml-anomalies-*'], body: { query: classic() } } } },
          condition: { compare: { 'ctx.payload.hits.total': { gt: 0 } } },
          actions: { log: { logging: { text: 'anomalies: {{ctx.payload.hits.total}}' } } },
        },
      } as any)) as any
    ).watch_record;
    expect(r.state).toBe('executed');
    expect(r.result.condition.met).toBe(true);
    expect(r.result.input.payload.hits.total).toBeGreaterThan(0);
    expect(r.result.input.payload.hits.hits.some((h: any) => h._source.job_id === jobId)).toBe(true);
  });
});
