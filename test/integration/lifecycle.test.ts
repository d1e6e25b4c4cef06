import { describe, expect, it } from 'vitest';
import type { estypes } from '@elastic/elasticsearch';
import { esClient, esError, hourlyCounts, uniqueId } from './client.ts';

const es = esClient();
const T0 = Date.UTC(2026, 0, 5);

const seedJob = (job_id: string): estypes.MlPutJobRequest => ({
  job_id,
  analysis_config: { bucket_span: '1h', summary_count_field_name: 'doc_count', detectors: [{ function: 'low_count' }] },
  data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
});

describe('the seed example: put, open, post data, close', () => {
  it('runs the whole job lifecycle with the official client', async () => {
    const id = uniqueId('low-request-rate');
    const put = await es.ml.putJob(seedJob(id));
    expect(put.job_id).toBe(id);
    expect(put.analysis_config.bucket_span).toBe('1h');
    expect(put.analysis_limits?.model_memory_limit).toBe('1024mb');

    const opened = await es.ml.openJob({ job_id: id });
    expect(opened.opened).toBe(true);
    expect(opened.node).not.toBe('');

    // 14 days of a steady request rate with a daily rhythm, then a collapse for 3 hours.
    const data = hourlyCounts(T0, 14 * 24, (h) => (h >= 300 && h < 303 ? 2 : 1000 + 300 * Math.sin((2 * Math.PI * (h % 24)) / 24)));
    const counts = await es.ml.postData({ job_id: id, data });
    expect(counts.processed_record_count).toBe(data.length);
    expect(counts.earliest_record_timestamp).toBe(T0);
    expect(counts.latest_record_timestamp).toBe(T0 + (data.length - 1) * 3_600_000);

    const closed = await es.ml.closeJob({ job_id: id });
    expect(closed).toEqual({ closed: true });

    const stats = await es.ml.getJobStats({ job_id: id });
    const s = stats.jobs[0]!;
    expect(s.state).toBe('closed');
    expect(s.node).toBeUndefined();
    expect(s.open_time).toBeUndefined();
    expect(s.data_counts.processed_record_count).toBe(data.length);
    expect(s.data_counts.bucket_count).toBe(data.length);
    expect(s.model_size_stats.model_bytes).toBeGreaterThan(0);

    const job = (await es.ml.getJobs({ job_id: id })).jobs[0]!;
    expect(typeof job.finished_time).toBe('number');
    expect(job.model_snapshot_id).toBeDefined();

    const snaps = await es.ml.getModelSnapshots({ job_id: id });
    expect(snaps.count).toBe(1);
    expect(snaps.model_snapshots[0]!.snapshot_id).toBe(job.model_snapshot_id);
    expect(snaps.model_snapshots[0]!.model_size_stats?.model_bytes).toBe(s.model_size_stats.model_bytes);

    const buckets = await es.ml.getBuckets({ job_id: id, size: 1000 });
    expect(buckets.count).toBe(data.length);
    const worst = [...buckets.buckets].sort((a, b) => b.anomaly_score - a.anomaly_score)[0]!;
    expect(worst.timestamp).toBeGreaterThanOrEqual(T0 + 300 * 3_600_000);
    expect(worst.timestamp).toBeLessThan(T0 + 303 * 3_600_000);
    expect(worst.anomaly_score).toBeGreaterThan(50);

    const records = await es.ml.getRecords({ job_id: id });
    expect(records.count).toBeGreaterThan(0);
    const top = records.records[0]!;
    expect(top.function).toBe('low_count');
    expect(top.timestamp).toBeGreaterThanOrEqual(T0 + 300 * 3_600_000);
    expect(top.actual![0]).toBeLessThan(top.typical![0]!);
    expect(top.record_score).toBeGreaterThan(50);
  });

  it('reopening a closed job clears finished_time and keeps its data counts', async () => {
    const id = uniqueId('reopen');
    await es.ml.putJob(seedJob(id));
    await es.ml.openJob({ job_id: id });
    await es.ml.postData({ job_id: id, data: hourlyCounts(T0, 5, () => 10) });
    await es.ml.closeJob({ job_id: id });
    await es.ml.openJob({ job_id: id });
    const job = (await es.ml.getJobs({ job_id: id })).jobs[0]!;
    expect(job.finished_time).toBeUndefined();
    const stats = (await es.ml.getJobStats({ job_id: id })).jobs[0]!;
    expect(stats.state).toBe('opened');
    expect(stats.data_counts.processed_record_count).toBe(5);
    await es.ml.closeJob({ job_id: id });
  });
});

describe('post data', () => {
  it('answers with the deprecation warning and accepts NDJSON', async () => {
    const id = uniqueId('ndjson');
    await es.ml.putJob(seedJob(id));
    await es.ml.openJob({ job_id: id });
    const res = await es.transport.request({ method: 'POST', path: `/_ml/anomaly_detectors/${id}/_data`, bulkBody: hourlyCounts(T0, 3, () => 5) }, { meta: true });
    expect(res.warnings?.[0]).toContain('Posting data directly to anomaly detection jobs is deprecated');
    expect((res.body as any).processed_record_count).toBe(3);
    expect((res.body as any).input_bytes).toBeGreaterThan(0);
    await es.ml.closeJob({ job_id: id });
  });

  it('is 409 for a closed job and for an unknown one, and changes nothing', async () => {
    const id = uniqueId('closed-post');
    await es.ml.putJob(seedJob(id));
    const e1 = await esError(es.ml.postData({ job_id: id, data: hourlyCounts(T0, 2, () => 1) }));
    expect(e1).toMatchObject({ status: 409, type: 'status_exception', reason: `Cannot perform requested action because job [${id}] is not open` });
    const e2 = await esError(es.ml.postData({ job_id: 'no-such-job', data: hourlyCounts(T0, 2, () => 1) }));
    expect(e2).toMatchObject({ status: 409, reason: 'Cannot perform requested action because job [no-such-job] is not open' });
    const stats = (await es.ml.getJobStats({ job_id: id })).jobs[0]!;
    expect(stats.data_counts.input_record_count).toBe(0);
  });

  it('rejects a malformed body with 400 and keeps the counts', async () => {
    const id = uniqueId('bad-data');
    await es.ml.putJob(seedJob(id));
    await es.ml.openJob({ job_id: id });
    // A string body is text/plain to the client's transport, which Elasticsearch refuses with 406; say it is JSON.
    const e = await esError(
      es.transport.request(
        { method: 'POST', path: `/_ml/anomaly_detectors/${id}/_data`, body: '{"timestamp": 1, "doc_count": ' },
        { headers: { 'content-type': 'application/json' } },
      ),
    );
    expect(e.status).toBe(400);
    const stats = (await es.ml.getJobStats({ job_id: id })).jobs[0]!;
    expect(stats.data_counts.input_record_count).toBe(0);
    expect(stats.state).toBe('opened');
    await es.ml.closeJob({ job_id: id });
  });
});

describe('flush', () => {
  it('calc_interim writes interim results that final results replace', async () => {
    const id = uniqueId('interim');
    await es.ml.putJob({ job_id: id, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' } });
    await es.ml.openJob({ job_id: id });
    await es.ml.postData({ job_id: id, data: hourlyCounts(T0, 30, () => 1).flatMap((r) => Array.from({ length: 20 }, (_, i) => ({ timestamp: r.timestamp + i * 60_000 }))) });
    // Half of hour 30, then an interim flush.
    await es.ml.postData({ job_id: id, data: Array.from({ length: 10 }, (_, i) => ({ timestamp: T0 + 30 * 3_600_000 + i * 60_000 })) });
    await es.ml.flushJob({ job_id: id, calc_interim: true });
    const interim = await es.ml.getBuckets({ job_id: id, start: String(T0 + 30 * 3_600_000) });
    expect(interim.buckets.map((b) => b.is_interim)).toEqual([true]);
    await es.ml.postData({ job_id: id, data: hourlyCounts(T0 + 31 * 3_600_000, 2, () => 1).map((r) => ({ timestamp: r.timestamp })) });
    const after = await es.ml.getBuckets({ job_id: id, start: String(T0 + 30 * 3_600_000) });
    expect(after.buckets.every((b) => !b.is_interim)).toBe(true);
    expect((await es.ml.getBuckets({ job_id: id, size: 1000, exclude_interim: false })).buckets.some((b) => b.is_interim)).toBe(false);
    await es.ml.closeJob({ job_id: id });
  });

  it('finalizes buckets and reports last_finalized_bucket_end', async () => {
    const id = uniqueId('flush');
    await es.ml.putJob(seedJob(id));
    await es.ml.openJob({ job_id: id });
    const none = await es.ml.flushJob({ job_id: id });
    expect(none).toEqual({ flushed: true });
    await es.ml.postData({ job_id: id, data: hourlyCounts(T0, 3, () => 5) });
    const f = await es.ml.flushJob({ job_id: id, advance_time: String(T0 + 3 * 3_600_000) });
    expect(f.flushed).toBe(true);
    expect(f.last_finalized_bucket_end).toBe(T0 + 3 * 3_600_000);
    await es.ml.closeJob({ job_id: id });
    const e = await esError(es.ml.flushJob({ job_id: id }));
    expect(e).toMatchObject({ status: 409, reason: `Cannot perform requested action because job [${id}] is not open` });
  });
});

describe('post data warnings', () => {
  it('a refused post carries the deprecation warning too', async () => {
    const res = await es.transport
      .request({ method: 'POST', path: '/_ml/anomaly_detectors/no-such-job/_data', body: '{"timestamp":1}' }, { meta: true, headers: { 'content-type': 'application/json' } })
      .catch((err: any) => err.meta);
    expect(res.statusCode).toBe(409);
    expect(res.warnings?.[0]).toContain('Posting data directly to anomaly detection jobs is deprecated');
  });
});
