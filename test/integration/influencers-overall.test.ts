import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esClient, esError, uniqueId } from './client.ts';

const es = esClient();
const HOUR = 3_600_000;
const DAYS = 14;
const END = Math.floor(Date.now() / HOUR) * HOUR;
const T0 = END - DAYS * 24 * HOUR;
/** web-2 jumps at this hour; web-3 in the last hour, left open for an interim result. */
const SPIKE = DAYS * 24 - 40;
const LAST = DAYS * 24 - 1;
const HOSTS = ['web-1', 'web-2', 'web-3'];
const prefix = uniqueId('infl');
const jobA = `${prefix}-mean`;
const jobB = `${prefix}-high`;
const group = `${prefix}-grp`;

/** `{timestamp, host, value}` per host and hour, hours [from, to). */
function docs(from: number, to: number): { timestamp: number; host: string; value: number }[] {
  const out: { timestamp: number; host: string; value: number }[] = [];
  for (let h = from; h < to; h++) {
    for (const [i, host] of HOSTS.entries()) {
      const spike = (h === SPIKE && host === 'web-2') || (h === LAST && host === 'web-3');
      out.push({ timestamp: T0 + h * HOUR + 60_000 * i, host, value: spike ? 400 : 100 + 5 * Math.sin(h * 0.7 + i) });
    }
  }
  return out;
}

beforeAll(async () => {
  await es.ml.putJob({
    job_id: jobA,
    groups: [group],
    analysis_config: { bucket_span: '1h', detectors: [{ function: 'mean', field_name: 'value', by_field_name: 'host' }], influencers: ['host'] },
    data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
  });
  await es.ml.putJob({
    job_id: jobB,
    groups: [group],
    analysis_config: { bucket_span: '30m', detectors: [{ function: 'high_mean', field_name: 'value' }], influencers: ['host'] },
    data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
  });
  for (const job of [jobA, jobB]) {
    await es.ml.openJob({ job_id: job });
    await es.ml.postData({ job_id: job, data: docs(0, LAST + 1) });
  }
  // The last hour stays open: its interim results carry interim influencers.
  await es.ml.flushJob({ job_id: jobA, calc_interim: true });
}, 180_000);

afterAll(async () => {
  await es.ml.closeJob({ job_id: `${jobA},${jobB}` });
}, 60_000);

describe('GET results/influencers', () => {
  it('ranks the host behind the anomaly first, scored as its record', async () => {
    const r = await es.ml.getInfluencers({ job_id: jobA, exclude_interim: true });
    const top = r.influencers[0] as any;
    expect(top).toMatchObject({
      job_id: jobA,
      result_type: 'influencer',
      influencer_field_name: 'host',
      influencer_field_value: 'web-2',
      host: 'web-2',
      timestamp: T0 + SPIKE * HOUR,
      bucket_span: 3600,
      is_interim: false,
    });
    const rec = (await es.ml.getRecords({ job_id: jobA, start: String(T0 + SPIKE * HOUR), end: String(T0 + (SPIKE + 1) * HOUR) })).records.find(
      (x) => x.by_field_value === 'web-2',
    );
    expect(rec).toBeDefined();
    expect(top.influencer_score).toBe(rec?.record_score);
    expect(top.initial_influencer_score).toBe(rec?.initial_record_score);
    expect(top.probability).toBe(rec?.probability);
    expect(top.influencer_score).toBeGreaterThan(50);
    const scores = r.influencers.map((i) => i.influencer_score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(r.count).toBe(r.influencers.length);
    // The bucket carries a bucket influencer for `host` beside `bucket_time`.
    const bucket = (await es.ml.getBuckets({ job_id: jobA, timestamp: String(T0 + SPIKE * HOUR) })).buckets[0];
    expect(bucket?.bucket_influencers.map((b) => b.influencer_field_name).sort()).toEqual(['bucket_time', 'host']);
  });

  it('filters by score, time and interim, sorts and pages as Elasticsearch', async () => {
    const all = await es.ml.getInfluencers({ job_id: jobA });
    const interim = all.influencers.filter((i) => i.is_interim);
    expect(interim.map((i) => [i.influencer_field_value, i.timestamp])).toEqual([['web-3', T0 + LAST * HOUR]]);
    const finals = await es.ml.getInfluencers({ job_id: jobA, exclude_interim: true });
    expect(finals.count).toBe(all.count - 1);

    const high = await es.ml.getInfluencers({ job_id: jobA, influencer_score: 50 });
    expect(high.count).toBe(all.influencers.filter((i) => i.influencer_score >= 50).length);
    expect(high.influencers.every((i) => i.influencer_score >= 50)).toBe(true);

    const asc = await es.ml.getInfluencers({ job_id: jobA, desc: false });
    expect(asc.influencers.map((i) => i.influencer_score)).toEqual([...all.influencers.map((i) => i.influencer_score)].sort((a, b) => a - b));
    const byTime = await es.ml.getInfluencers({ job_id: jobA, sort: 'timestamp' });
    const times = byTime.influencers.map((i) => i.timestamp);
    expect(times).toEqual([...times].sort((a, b) => b - a));

    const page = await es.ml.getInfluencers({ job_id: jobA, page: { from: 1, size: 1 } });
    expect(page.count).toBe(all.count);
    expect(page.influencers).toEqual(all.influencers.slice(1, 2));
    const query = await es.ml.getInfluencers({ job_id: jobA, from: 1, size: 1 });
    expect(query.influencers).toEqual(all.influencers.slice(1, 2));

    const range = await es.ml.getInfluencers({ job_id: jobA, start: new Date(T0 + SPIKE * HOUR).toISOString(), end: String(T0 + (SPIKE + 1) * HOUR) });
    expect(range.influencers.length).toBeGreaterThan(0);
    expect(range.influencers.every((i) => i.timestamp === T0 + SPIKE * HOUR)).toBe(true);
  });

  it('serves influencers in the .ml-anomalies-* search with their Elasticsearch id', async () => {
    const r = (await es.search({
      index: `.ml-anomalies-${jobA}`,
      query: {
        bool: {
          filter: [
            { term: { result_type: 'influencer' } },
            { term: { influencer_field_value: 'web-2' } },
            { range: { timestamp: { gte: T0 + SPIKE * HOUR, lt: T0 + (SPIKE + 1) * HOUR } } },
          ],
        },
      },
    })) as any;
    expect(r.hits.hits).toHaveLength(1);
    // Influencer.getId: "web-2".hashCode() is 113003513 (((((119·31 + 101)·31 + 98)·31 + 45)·31 + 50), its length 5.
    expect(r.hits.hits[0]._id).toBe(`${jobA}_influencer_${T0 + SPIKE * HOUR}_3600_host_113003513_5`);
  });

  it('answers bad requests as Elasticsearch does', async () => {
    expect(await esError(es.ml.getInfluencers({ job_id: `${prefix}-missing` }))).toMatchObject({ status: 404, type: 'resource_not_found_exception' });
    expect(await esError(es.ml.getInfluencers({ job_id: jobA, start: 'invalid' }))).toMatchObject({
      status: 400,
      type: 'parse_exception',
      reason: 'Query param [start] with value [invalid] cannot be parsed as a date or converted to a number',
    });
    expect(await esError(es.ml.getInfluencers({ job_id: jobA, size: -1 }))).toMatchObject({ status: 400, reason: 'Parameter [size] cannot be < 0' });
    const unknown = await esError(es.transport.request({ method: 'POST', path: `/_ml/anomaly_detectors/${jobA}/results/influencers`, body: { bogus: 1 } }));
    expect(unknown).toMatchObject({ status: 400, type: 'x_content_parse_exception' });
    expect(unknown.reason).toContain('[cluster:monitor/xpack/ml/job/results/influencers/get] unknown field [bogus]');
    const score = await esError(es.transport.request({ method: 'GET', path: `/_ml/anomaly_detectors/${jobA}/results/influencers`, querystring: { influencer_score: 'high' } }));
    expect(score).toMatchObject({ status: 400, type: 'number_format_exception', reason: 'For input string: "high"' });
    // Buckets and records read their score filter the same way (RestGetBucketsAction, RestGetRecordsAction: Double.parseDouble).
    for (const [kind, param] of [
      ['buckets', 'anomaly_score'],
      ['records', 'record_score'],
    ] as const) {
      const e = await esError(es.transport.request({ method: 'GET', path: `/_ml/anomaly_detectors/${jobA}/results/${kind}`, querystring: { [param]: '0x10' } }));
      expect(e).toMatchObject({ status: 400, type: 'number_format_exception', reason: 'For input string: "0x10"' });
    }
  });
});

describe('GET results/overall_buckets', () => {
  /** Per job, its largest bucket score in [from, to). */
  async function maxScore(job: string, from: number, to: number): Promise<number> {
    const b = await es.ml.getBuckets({ job_id: job, start: String(from), end: String(to), exclude_interim: true });
    return Math.max(...b.buckets.map((x) => x.anomaly_score));
  }

  it('scores each hour by the mean of the top_n job maxima, over a group', async () => {
    const at = T0 + SPIKE * HOUR;
    const [a, b] = [await maxScore(jobA, at, at + HOUR), await maxScore(jobB, at, at + HOUR)];
    const r = await es.ml.getOverallBuckets({ job_id: group, top_n: 2, start: String(at), end: String(at + HOUR), exclude_interim: true });
    expect(r).toEqual({
      count: 1,
      overall_buckets: [
        {
          timestamp: at,
          bucket_span: 3600,
          overall_score: (a + b) / 2,
          // By job id: "<prefix>-high" before "<prefix>-mean".
          jobs: [
            { job_id: jobB, max_anomaly_score: b },
            { job_id: jobA, max_anomaly_score: a },
          ],
          is_interim: false,
          result_type: 'overall_bucket',
        },
      ],
    });
    const top1 = await es.ml.getOverallBuckets({ job_id: `${prefix}-*`, start: String(at), end: String(at + HOUR), exclude_interim: true });
    expect(top1.overall_buckets[0]?.overall_score).toBe(Math.max(a, b));
  });

  it('covers the history hour by hour, merges into a larger bucket_span, and filters on overall_score', async () => {
    const all = await es.ml.getOverallBuckets({ job_id: group, top_n: 2 });
    expect(all.count).toBe(DAYS * 24);
    expect(all.overall_buckets.at(-1)).toMatchObject({ timestamp: T0 + LAST * HOUR, is_interim: true });
    const daily = await es.ml.getOverallBuckets({ job_id: group, top_n: 2, bucket_span: '1d' });
    expect(daily.overall_buckets.every((o) => o.bucket_span === 86_400)).toBe(true);
    const spikeDay = Math.floor((T0 + SPIKE * HOUR) / 86_400_000) * 86_400_000;
    const hourly = all.overall_buckets.filter((o) => o.timestamp >= spikeDay && o.timestamp < spikeDay + 86_400_000);
    expect(daily.overall_buckets.find((o) => o.timestamp === spikeDay)?.overall_score).toBe(Math.max(...hourly.map((o) => o.overall_score)));
    const high = await es.ml.getOverallBuckets({ job_id: group, top_n: 2, overall_score: 40 });
    expect(high.overall_buckets.map((o) => o.timestamp)).toEqual(all.overall_buckets.filter((o) => o.overall_score >= 40).map((o) => o.timestamp));
  });

  it('answers bad requests and unmatched expressions as Elasticsearch does', async () => {
    expect(await esError(es.ml.getOverallBuckets({ job_id: `${prefix}-missing` }))).toMatchObject({ status: 404, reason: `No known job with id '${prefix}-missing'` });
    expect(await es.ml.getOverallBuckets({ job_id: `${prefix}-none-*` })).toEqual({ count: 0, overall_buckets: [] });
    expect(await esError(es.ml.getOverallBuckets({ job_id: `${prefix}-none-*`, allow_no_match: false }))).toMatchObject({ status: 404 });
    // The client sends these in the body: wrapped by the request parser, as Elasticsearch does.
    const zero = await esError(es.ml.getOverallBuckets({ job_id: group, top_n: 0 }));
    expect(zero).toMatchObject({ status: 400, type: 'x_content_parse_exception' });
    expect(JSON.stringify(zero.body)).toContain('[topN] parameter must be positive, found [0]');
    const query = (q: Record<string, string>) => es.transport.request({ method: 'GET', path: `/_ml/anomaly_detectors/${group}/results/overall_buckets`, querystring: q });
    expect(await esError(query({ top_n: '-1' }))).toMatchObject({ status: 400, type: 'illegal_argument_exception', reason: '[topN] parameter must be positive, found [-1]' });
    expect(await esError(query({ bucket_span: '59m' }))).toMatchObject({
      status: 400,
      type: 'status_exception',
      reason: 'Param [bucket_span] must be greater or equal to the max bucket_span [1h]',
    });
    expect(await esError(query({ start: 'invalid' }))).toMatchObject({
      status: 400,
      type: 'parse_exception',
      reason: 'Query param [start] with value [invalid] cannot be parsed as a date or converted to a number',
    });
    expect(await esError(query({ end: 'invalid' }))).toMatchObject({
      status: 400,
      reason: 'Query param [end] with value [invalid] cannot be parsed as a date or converted to a number',
    });
    const body = await esError(es.ml.getOverallBuckets({ job_id: group, start: 'invalid' }));
    expect(JSON.stringify(body.body)).toContain('Query param [start] with value [invalid] cannot be parsed as a date or converted to a number');
  });
});
