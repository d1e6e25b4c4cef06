/**
 * Aggregation datafeeds, `_preview` and the index checks of `_start` (issue 8, scope 2), with
 * the official client: an aggregation datafeed posts one record per histogram bucket and terms
 * bucket (Elasticsearch's AggregationToJsonProcessor), `_preview` answers the records a datafeed
 * would post, and `_start` refuses a datafeed whose indices resolve to nothing.
 */
import { describe, expect, it } from 'vitest';
import { esClient, esError, uniqueId } from './client.ts';

const es = esClient();

const T0 = Date.parse('2017-01-01T00:00:00Z');
const HOUR = 3_600_000;
const TEN_MIN = 600_000;
const AIRLINES = ['AAL', 'JZA'];

/** `hours` hours of flights: per airline one document every 10 minutes, response time by airline and minute. */
async function indexFlights(index: string, hours: number): Promise<void> {
  await es.indices.create({
    index,
    mappings: { properties: { '@timestamp': { type: 'date' }, airline: { type: 'keyword' }, responsetime: { type: 'double' }, extra: { type: 'keyword' } } },
  });
  const operations: unknown[] = [];
  for (let t = T0; t < T0 + hours * HOUR; t += TEN_MIN) {
    for (const [i, airline] of AIRLINES.entries()) {
      operations.push({ index: { _index: index } }, { '@timestamp': t, airline, responsetime: 100 * (i + 1) + (((t - T0) / TEN_MIN) % 6), extra: 'not used' });
    }
  }
  const res = await es.bulk({ operations });
  expect(res.errors).toBe(false);
}

const JOB_BODY = {
  analysis_config: { bucket_span: '1h', summary_count_field_name: 'doc_count', detectors: [{ function: 'mean', field_name: 'responsetime', by_field_name: 'airline' }] },
  data_description: { time_field: '@timestamp' },
};

const AGGS = {
  buckets: {
    date_histogram: { field: '@timestamp', fixed_interval: '1h' },
    aggregations: {
      '@timestamp': { max: { field: '@timestamp' } },
      airline: { terms: { field: 'airline', size: 100 }, aggregations: { responsetime: { avg: { field: 'responsetime' } } } },
    },
  },
};

/** The average response time of an airline's six documents in one hour (minutes 0..50: offsets 0..5). */
const hourAvg = (i: number): number => 100 * (i + 1) + 2.5;

async function waitClosed(job: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if ((await es.ml.getJobStats({ job_id: job })).jobs[0]?.state === 'closed') return;
    if (Date.now() > deadline) throw new Error(`job ${job} was not closed by its datafeed`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const notifications = async (job: string): Promise<string> =>
  JSON.stringify(await es.transport.request<unknown>({ method: 'GET', path: `/_ml/anomaly_detectors/${job}/_notifications` }));

describe('aggregation datafeeds', () => {
  it('a lookback posts one record per histogram and terms bucket; the job counts records, and doc_count is the summary count', async () => {
    const index = uniqueId('flights');
    await indexFlights(index, 48);
    const job = uniqueId('agg-job');
    await es.ml.putJob({ job_id: job, ...JOB_BODY } as never);
    const feed = `datafeed-${job}`;
    await es.ml.putDatafeed({ datafeed_id: feed, job_id: job, indices: [index], aggregations: AGGS as never });
    await es.ml.openJob({ job_id: job });
    expect(await es.ml.startDatafeed({ datafeed_id: feed, start: '2017-01-01T00:00:00Z', end: '2017-01-03T00:00:00Z' })).toMatchObject({ started: true });
    await waitClosed(job);

    const counts: any = (await es.ml.getJobStats({ job_id: job })).jobs[0]?.data_counts;
    // 48 hourly buckets × 2 airlines: one record each, whatever the 6 documents behind each.
    expect(counts.processed_record_count).toBe(96);
    expect(counts.input_record_count).toBe(96);
    // The record time is the max of the time field in its bucket (minute 50 of each hour).
    expect(counts.earliest_record_timestamp).toBe(T0 + 5 * TEN_MIN);
    expect(counts.latest_record_timestamp).toBe(T0 + 47 * HOUR + 5 * TEN_MIN);
    const feedStats: any = (await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0];
    expect(feedStats.state).toBe('stopped');
    expect(feedStats.timing_stats.search_count).toBe(1);
    expect(await notifications(job)).toContain('Datafeed lookback completed');
  });

  it('aggregations Elasticsearch cannot flatten are audited as extraction errors and the job is closed', async () => {
    const index = uniqueId('flights-two-top');
    await indexFlights(index, 2);
    const job = uniqueId('agg-two-top');
    await es.ml.putJob({ job_id: job, ...JOB_BODY } as never);
    const feed = `datafeed-${job}`;
    const aggs = { ...AGGS, other: { terms: { field: 'airline' } } };
    await es.ml.putDatafeed({ datafeed_id: feed, job_id: job, indices: [index], aggregations: aggs as never });
    await es.ml.openJob({ job_id: job });
    await es.ml.startDatafeed({ datafeed_id: feed, start: '2017-01-01T00:00:00Z', end: '2017-01-02T00:00:00Z' });
    await waitClosed(job);
    expect(await notifications(job)).toContain('Datafeed is encountering errors extracting data: Multiple top level aggregations not supported; found: [buckets, other]');
    expect((await es.ml.getJobStats({ job_id: job })).jobs[0]?.data_counts.processed_record_count).toBe(0);
  });

  it('an aggregation the document store does not compute is a 400 naming it at start, and nothing starts', async () => {
    const index = uniqueId('flights-histo');
    await indexFlights(index, 1);
    const job = uniqueId('agg-histo');
    await es.ml.putJob({ job_id: job, ...JOB_BODY } as never);
    const feed = `datafeed-${job}`;
    const aggs = {
      buckets: {
        date_histogram: { field: '@timestamp', fixed_interval: '1h' },
        aggregations: { '@timestamp': { max: { field: '@timestamp' } }, responsetime: { percentiles: { field: 'responsetime', percents: [50] } } },
      },
    };
    await es.ml.putDatafeed({ datafeed_id: feed, job_id: job, indices: [index], aggregations: aggs as never });
    await es.ml.openJob({ job_id: job });
    expect(await esError(es.ml.startDatafeed({ datafeed_id: feed, start: '0', end: '2017-01-02T00:00:00Z' }))).toMatchObject({
      status: 400,
      reason: 'mlplane does not support the [percentiles] aggregation yet',
    });
    expect((await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0]?.state).toBe('stopped');
    await es.ml.closeJob({ job_id: job });
  });
});

describe('preview', () => {
  it('of a datafeed without aggregations: the first scroll_size documents by time, time in epoch ms, only the fields the job uses', async () => {
    const index = uniqueId('preview-scroll');
    await indexFlights(index, 2);
    const job = uniqueId('preview-scroll-job');
    // No summary_count_field_name: a datafeed without aggregations needs every job field mapped.
    await es.ml.putJob({ job_id: job, ...JOB_BODY, analysis_config: { ...JOB_BODY.analysis_config, summary_count_field_name: undefined } } as never);
    const feed = `datafeed-${job}`;
    await es.ml.putDatafeed({ datafeed_id: feed, job_id: job, indices: [index], scroll_size: 3 });
    const out = (await es.ml.previewDatafeed({ datafeed_id: feed })) as unknown as Record<string, unknown>[];
    // Sorted by time; documents of one time come in no set order, as in Elasticsearch.
    expect(out.map((r) => r['@timestamp'])).toEqual([T0, T0, T0 + TEN_MIN]);
    expect(out.slice(0, 2)).toEqual(
      expect.arrayContaining([
        { '@timestamp': T0, airline: 'AAL', responsetime: 100 },
        { '@timestamp': T0, airline: 'JZA', responsetime: 200 },
      ]),
    );
    for (const r of out) expect(Object.keys(r).sort()).toEqual(['@timestamp', 'airline', 'responsetime']);
    // start and end narrow the window.
    const later = (await es.ml.previewDatafeed({ datafeed_id: feed, start: String(T0 + HOUR), end: String(T0 + HOUR + TEN_MIN) })) as unknown as unknown[];
    expect(later).toHaveLength(2);
    expect(later).toEqual(
      expect.arrayContaining([
        { '@timestamp': T0 + HOUR, airline: 'AAL', responsetime: 100 },
        { '@timestamp': T0 + HOUR, airline: 'JZA', responsetime: 200 },
      ]),
    );
    expect(await es.ml.previewDatafeed({ datafeed_id: feed, start: '2030-01-01T00:00:00Z' })).toEqual([]);
  });

  it('of an aggregation datafeed: the records of its first chunk, as the lookback posts them', async () => {
    const index = uniqueId('preview-agg');
    await indexFlights(index, 3);
    const job = uniqueId('preview-agg-job');
    await es.ml.putJob({ job_id: job, ...JOB_BODY } as never);
    const feed = `datafeed-${job}`;
    await es.ml.putDatafeed({ datafeed_id: feed, job_id: job, indices: [index], aggregations: AGGS as never });
    const out = (await es.ml.previewDatafeed({ datafeed_id: feed })) as unknown as Record<string, unknown>[];
    expect(out).toHaveLength(6);
    expect(out[0]).toEqual({ '@timestamp': T0 + 5 * TEN_MIN, airline: 'AAL', responsetime: hourAvg(0), doc_count: 6 });
    expect(Object.keys(out[0] as object)).toEqual(['@timestamp', 'airline', 'responsetime', 'doc_count']);
    expect(out[1]).toEqual({ '@timestamp': T0 + 5 * TEN_MIN, airline: 'JZA', responsetime: hourAvg(1), doc_count: 6 });
    expect(out[5]).toEqual({ '@timestamp': T0 + 2 * HOUR + 5 * TEN_MIN, airline: 'JZA', responsetime: hourAvg(1), doc_count: 6 });
  });

  it('of a datafeed_config and job_config given in the body (nothing stored)', async () => {
    const index = uniqueId('preview-body');
    await indexFlights(index, 1);
    const out = (await es.ml.previewDatafeed({
      datafeed_config: { indices: [index], query: { term: { airline: 'JZA' } }, scroll_size: 2 },
      job_config: { ...JOB_BODY, analysis_config: { bucket_span: '1h', detectors: [{ function: 'mean', field_name: 'responsetime' }] } } as never,
    })) as unknown as unknown[];
    expect(out).toEqual([
      { '@timestamp': T0, responsetime: 200 },
      { '@timestamp': T0 + TEN_MIN, responsetime: 201 },
    ]);
  });

  it("preview errors are Elasticsearch's", async () => {
    const job = uniqueId('preview-errors');
    await es.ml.putJob({ job_id: job, ...JOB_BODY } as never);
    const feed = `datafeed-${job}`;
    await es.ml.putDatafeed({ datafeed_id: feed, job_id: job, indices: [uniqueId('preview-missing')] });
    // The extractor cannot be built, as Elasticsearch's DataExtractorFactory.
    expect(await esError(es.ml.previewDatafeed({ datafeed_id: feed }))).toMatchObject({
      status: 404,
      type: 'resource_not_found_exception',
      reason: expect.stringMatching(new RegExp(`^datafeed \\[${feed}\\] cannot retrieve data because index \\[preview-missing-.*\\] does not exist$`)),
    });
    expect(await esError(es.ml.previewDatafeed({ datafeed_config: { indices: ['x'] } }))).toMatchObject({
      status: 400,
      type: 'illegal_argument_exception',
      reason: '[datafeed_config.job_id] must be set or a [job_config] must be provided',
    });
    expect(await esError(es.ml.previewDatafeed({ job_config: JOB_BODY as never }))).toMatchObject({
      status: 400,
      type: 'illegal_argument_exception',
      reason: '[datafeed_config] must be present when a [job_config.datafeed_config] is not present',
    });
    expect(await esError(es.ml.previewDatafeed({ datafeed_config: { indices: ['x'] }, job_config: { ...JOB_BODY, datafeed_config: { indices: ['x'] } } as never }))).toMatchObject({
      status: 400,
      type: 'illegal_argument_exception',
      reason: '[datafeed_config] must not be present when a [job_config.datafeed_config] is present',
    });
    expect(await esError(es.ml.previewDatafeed({ datafeed_id: feed, start: '2017-02-01T01:00:00Z', end: '2017-02-01T00:00:00Z' }))).toMatchObject({
      status: 400,
      type: 'action_request_validation_exception',
      reason: 'Validation Failed: 1: start [1485910800000] must be earlier than end [1485907200000];',
    });
    expect(await esError(es.ml.previewDatafeed({ datafeed_id: feed, datafeed_config: { indices: ['x'], job_id: job } }))).toMatchObject({
      status: 400,
      type: 'illegal_argument_exception',
      reason: '[datafeed_id] cannot be supplied when either [job_config] or [datafeed_config] is present',
    });
    const unknownJob = uniqueId('nojob');
    expect(await esError(es.ml.previewDatafeed({ datafeed_config: { indices: ['x'], job_id: unknownJob } }))).toMatchObject({
      status: 404,
      type: 'resource_not_found_exception',
      reason: `No known job with id '${unknownJob}'`,
    });
    const unknownField = await esError(
      es.transport.request({ method: 'POST', path: '/_ml/datafeeds/_preview', body: { datafeed_config: { indices: ['x'], job_id: job }, nope: 1 } }),
    );
    expect(unknownField).toMatchObject({ status: 400, type: 'x_content_parse_exception' });
    expect(unknownField.reason).toMatch(/\[preview_datafeed_action\] unknown field \[nope\]$/);
    expect(await esError(es.transport.request({ method: 'GET', path: '/_ml/datafeeds/_preview' }))).toMatchObject({
      status: 400,
      type: 'illegal_argument_exception',
      reason: '[datafeed_id] must not be null.',
    });
  });
});

describe("start checks the datafeed's indices and fields (DataExtractorFactory, DatafeedNodeSelector)", () => {
  it('a missing index is 404, a wildcard matching nothing or ignore_unavailable is 400 for a scroll datafeed and 409 for an aggregation one; put does not check', async () => {
    const job = uniqueId('start-index');
    await es.ml.putJob({ job_id: job, ...JOB_BODY } as never);
    const missing = uniqueId('start-missing');
    const feed = `datafeed-${job}`;
    // PUT does not check that the indices exist, as Elasticsearch (a datafeed may come before its index).
    await es.ml.putDatafeed({ datafeed_id: feed, job_id: job, indices: [missing] });
    await es.ml.openJob({ job_id: job });
    const range = { start: '2017-01-01T00:00:00Z', end: '2017-01-02T00:00:00Z' };
    expect(await esError(es.ml.startDatafeed({ datafeed_id: feed, ...range }))).toMatchObject({
      status: 404,
      type: 'resource_not_found_exception',
      reason: `datafeed [${feed}] cannot retrieve data because index [${missing}] does not exist`,
    });
    await es.ml.updateDatafeed({ datafeed_id: feed, indices: [`${missing}-*`] });
    expect(await esError(es.ml.startDatafeed({ datafeed_id: feed, ...range }))).toMatchObject({
      status: 400,
      type: 'status_exception',
      reason: `datafeed [${feed}] cannot retrieve data because no index matches datafeed's indices [${missing}-*]`,
    });
    await es.ml.updateDatafeed({ datafeed_id: feed, indices: [missing, `${missing}-*`], indices_options: { ignore_unavailable: true } });
    expect((await esError(es.ml.startDatafeed({ datafeed_id: feed, ...range }))).reason).toBe(
      `datafeed [${feed}] cannot retrieve data because no index matches datafeed's indices [${missing}, ${missing}-*]`,
    );
    await es.ml.updateDatafeed({ datafeed_id: feed, indices: [`${missing}-*`], indices_options: { allow_no_indices: false } });
    expect(await esError(es.ml.startDatafeed({ datafeed_id: feed, ...range }))).toMatchObject({
      status: 404,
      reason: `datafeed [${feed}] cannot retrieve data because index [${missing}-*] does not exist`,
    });
    // An aggregation datafeed reads no field capabilities: indices resolving to nothing are the node selector's 409.
    await es.ml.updateDatafeed({ datafeed_id: feed, indices: [`${missing}-*`], indices_options: { allow_no_indices: true }, aggregations: AGGS as never });
    expect(await esError(es.ml.startDatafeed({ datafeed_id: feed, ...range }))).toMatchObject({
      status: 409,
      type: 'status_exception',
      reason: `No node found to start datafeed [${feed}], allocation explanation [cannot start datafeed [${feed}] because index [${missing}-*] does not exist, is closed, or is still initializing.]`,
    });
    expect((await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0]?.state).toBe('stopped');
    expect((await es.ml.getJobStats({ job_id: job })).jobs[0]?.state).toBe('opened');
    await es.ml.closeJob({ job_id: job });
  });

  it('a job field with no mappings, or a time field that is not aggregatable, is 400 at start and preview', async () => {
    const index = uniqueId('start-fields');
    await es.indices.create({ index, mappings: { properties: { '@timestamp': { type: 'date' }, responsetime: { type: 'double' } } } });
    const job = uniqueId('start-fields-job');
    await es.ml.putJob({ job_id: job, ...JOB_BODY } as never);
    const feed = `datafeed-${job}`;
    await es.ml.putDatafeed({ datafeed_id: feed, job_id: job, indices: [index] });
    await es.ml.openJob({ job_id: job });
    const noMapping = { status: 400, type: 'status_exception', reason: `[${feed}] cannot retrieve field [airline] because it has no mappings` };
    expect(await esError(es.ml.startDatafeed({ datafeed_id: feed, start: '0', end: '2017-01-02T00:00:00Z' }))).toMatchObject(noMapping);
    expect(await esError(es.ml.previewDatafeed({ datafeed_id: feed }))).toMatchObject(noMapping);
    const other = uniqueId('start-fields-time');
    await es.indices.create({ index: other, mappings: { properties: { when: { type: 'date' }, airline: { type: 'keyword' }, responsetime: { type: 'double' } } } });
    await es.ml.updateDatafeed({ datafeed_id: feed, indices: [other] });
    expect(await esError(es.ml.startDatafeed({ datafeed_id: feed, start: '0', end: '2017-01-02T00:00:00Z' }))).toMatchObject({
      status: 400,
      reason: `[${feed}] cannot retrieve time field [@timestamp] because it is not aggregatable`,
    });
    await es.ml.closeJob({ job_id: job });
  });
});

/** Elasticsearch's own `preview_datafeed.yml` (x-pack ml REST tests), case by case. */
describe("Elasticsearch's preview_datafeed.yml", () => {
  const index = uniqueId('airline-data');
  const docs = [
    { time: '2017-02-18T00:00:00Z', airline: 'foo', responsetime: 1.0, event_rate: 5 },
    { time: '2017-02-18T00:30:00Z', airline: 'foo', responsetime: 1.0, event_rate: 6 },
    { time: '2017-02-18T01:00:00Z', airline: 'bar', responsetime: 42.0, event_rate: 8 },
    { time: '2017-02-18T01:01:00Z', airline: 'foo', responsetime: 42.0, event_rate: 7 },
  ];
  const job = (over: Record<string, unknown> = {}) => ({
    analysis_config: { bucket_span: '1h', detectors: [{ function: 'sum', field_name: 'responsetime', by_field_name: 'airline' }], ...over },
    data_description: { time_field: 'time' },
  });
  const histogram = (aggs: Record<string, unknown>) => ({
    buckets: { histogram: { field: 'time', interval: 3600000 }, aggregations: { time: { max: { field: 'time' } }, ...aggs } },
  });
  const byAirline = (metrics: Record<string, unknown>, size?: number) => histogram({ airline: { terms: { field: 'airline', ...(size ? { size } : {}) }, aggregations: metrics } });
  const SCROLL = [
    { time: 1487376000000, airline: 'foo', responsetime: 1.0 },
    { time: 1487377800000, airline: 'foo', responsetime: 1.0 },
    { time: 1487379600000, airline: 'bar', responsetime: 42.0 },
    { time: 1487379660000, airline: 'foo', responsetime: 42.0 },
  ];
  const DOC_COUNT = [
    { time: 1487377800000, airline: 'foo', responsetime: 2.0, doc_count: 2 },
    { time: 1487379660000, airline: 'bar', responsetime: 42.0, doc_count: 1 },
    { time: 1487379660000, airline: 'foo', responsetime: 42.0, doc_count: 1 },
  ];
  const preview = async (req: Record<string, unknown>) => (await es.ml.previewDatafeed(req as never)) as unknown as unknown[];

  it('setup: the airline-data index', async () => {
    await es.indices.create({
      index,
      mappings: { properties: { time: { type: 'date' }, airline: { type: 'keyword' }, responsetime: { type: 'float' }, event_rate: { type: 'integer' } } },
    });
    for (const [i, doc] of docs.entries()) await es.index({ index, id: String(i + 1), document: doc });
    await es.indices.refresh({ index });
  });

  it('Test preview scroll datafeed', async () => {
    const jobId = uniqueId('preview-datafeed-job');
    await es.ml.putJob({ job_id: jobId, ...job() } as never);
    const feed = `${jobId}-feed`;
    await es.ml.putDatafeed({ datafeed_id: feed, body: { job_id: jobId, indexes: index } } as never);
    expect(await preview({ datafeed_id: feed })).toEqual(SCROLL);
    expect(await es.transport.request({ method: 'POST', path: `/_ml/datafeeds/${feed}/_preview`, body: {} })).toEqual(SCROLL);
    expect(await preview({ datafeed_config: { job_id: jobId, indexes: index } })).toEqual(SCROLL);
    expect(await preview({ datafeed_config: { job_id: jobId, indexes: index }, job_config: job() })).toEqual(SCROLL);
    expect(await preview({ job_config: { ...job(), datafeed_config: { indexes: index } } })).toEqual(SCROLL);
  });

  it('Test preview aggregation datafeed with doc_count', async () => {
    const jobId = uniqueId('aggregation-doc-count-job');
    await es.ml.putJob({ job_id: jobId, ...job({ summary_count_field_name: 'doc_count' }) } as never);
    const aggregations = byAirline({ responsetime: { sum: { field: 'responsetime' } } }, 100);
    const feed = `${jobId}-feed`;
    await es.ml.putDatafeed({ datafeed_id: feed, body: { job_id: jobId, indexes: index, aggregations } } as never);
    expect(await preview({ datafeed_id: feed })).toEqual(DOC_COUNT);
    expect(await preview({ datafeed_config: { indexes: index, aggregations }, job_config: job({ summary_count_field_name: 'doc_count' }) })).toEqual(DOC_COUNT);
    expect(await preview({ job_config: { ...job({ summary_count_field_name: 'doc_count' }), datafeed_config: { indexes: index, aggregations } } })).toEqual(DOC_COUNT);
  });

  it('Test preview single metric aggregation datafeed with different summary count field', async () => {
    const jobId = uniqueId('aggregation-custom-single-metric-summary-job');
    await es.ml.putJob({
      job_id: jobId,
      analysis_config: { bucket_span: '3600s', summary_count_field_name: 'dc_airline', detectors: [{ function: 'count' }] },
      data_description: { time_field: 'time' },
    } as never);
    const feed = `${jobId}-feed`;
    await es.ml.putDatafeed({
      datafeed_id: feed,
      body: { job_id: jobId, indexes: index, aggregations: histogram({ dc_airline: { cardinality: { field: 'airline' } } }) },
    } as never);
    expect(await preview({ datafeed_id: feed })).toEqual([
      { time: 1487377800000, dc_airline: 1 },
      { time: 1487379660000, dc_airline: 2 },
    ]);
  });

  it('Test preview multi metric aggregation datafeed with different summary count field', async () => {
    const jobId = uniqueId('aggregation-custom-multi-metric-summary-job');
    await es.ml.putJob({
      job_id: jobId,
      analysis_config: { bucket_span: '3600s', summary_count_field_name: 'event_rate', detectors: [{ function: 'mean', field_name: 'responsetime', by_field_name: 'airline' }] },
      data_description: { time_field: 'time' },
    } as never);
    const feed = `${jobId}-feed`;
    const aggregations = byAirline({ responsetime: { sum: { field: 'responsetime' } }, event_rate: { sum: { field: 'event_rate' } } });
    await es.ml.putDatafeed({ datafeed_id: feed, body: { job_id: jobId, indexes: index, aggregations } } as never);
    expect(await preview({ datafeed_id: feed })).toEqual([
      { time: 1487377800000, airline: 'foo', responsetime: 2.0, event_rate: 11 },
      { time: 1487379660000, airline: 'bar', responsetime: 42.0, event_rate: 8 },
      { time: 1487379660000, airline: 'foo', responsetime: 42.0, event_rate: 7 },
    ]);
  });

  it('Test preview missing datafeed, with datafeed_id and job config, with datafeed config and job config with datafeed config', async () => {
    expect((await esError(es.ml.previewDatafeed({ datafeed_id: uniqueId('missing-feed') }))).status).toBe(404);
    expect((await esError(es.ml.previewDatafeed({ datafeed_id: 'some_datafeed_id', job_config: job() as never }))).status).toBe(400);
    expect((await esError(es.ml.previewDatafeed({ job_config: job() as never }))).status).toBe(400);
    expect(
      (await esError(es.ml.previewDatafeed({ datafeed_config: { indexes: index } as never, job_config: { ...job(), datafeed_config: { indexes: index } } as never }))).status,
    ).toBe(400);
  });

  it('Test preview datafeed with unavailable index, and with a query that matches nothing', async () => {
    const jobId = uniqueId('unavailable-job');
    await es.ml.putJob({ job_id: jobId, ...job() } as never);
    await es.ml.putDatafeed({ datafeed_id: `${jobId}-feed`, body: { job_id: jobId, indexes: uniqueId('unavailable-data') } } as never);
    expect((await esError(es.ml.previewDatafeed({ datafeed_id: `${jobId}-feed` }))).status).toBe(404);
    const emptyJob = uniqueId('empty-job');
    await es.ml.putJob({ job_id: emptyJob, ...job() } as never);
    await es.ml.putDatafeed({ datafeed_id: `${emptyJob}-feed`, body: { job_id: emptyJob, indexes: index, query: { term: { airline: 'missing' } } } } as never);
    expect(await preview({ datafeed_id: `${emptyJob}-feed` })).toEqual([]);
  });

  it('Test preview datafeed with start and end (query string, or the body)', async () => {
    const body = { datafeed_config: { job_id: 'preview-datafeed-job', indexes: index }, job_config: job() };
    const expected = [{ time: 1487377800000, airline: 'foo', responsetime: 1.0 }];
    expect(await preview({ start: '2017-02-18T00:30:00Z', end: '2017-02-18T01:00:00Z', ...body })).toEqual(expected);
    expect(await es.transport.request({ method: 'POST', path: '/_ml/datafeeds/_preview', body: { ...body, start: '2017-02-18T00:30:00Z', end: '2017-02-18T01:00:00Z' } })).toEqual(
      expected,
    );
  });
});
