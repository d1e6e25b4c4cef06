/**
 * Running datafeeds with the official client (issue 8, the user story): documents indexed
 * with `_bulk`, a job and its datafeed, open, start with `start`/`end`: the lookback posts the
 * documents in range to the job, stops the datafeed at `end` and closes the job by itself,
 * with final results and a model snapshot.
 */
import { describe, expect, it } from 'vitest';
import { esClient, esError, uniqueId } from './client.ts';

const es = esClient();

const T0 = Date.parse('2017-01-01T00:00:00Z');
const TEN_MIN = 600_000;

/** One series, one document every 10 minutes from 2017-01-01 for `n` documents. */
async function indexMetrics(index: string, n: number): Promise<void> {
  await es.indices.create({ index, mappings: { properties: { '@timestamp': { type: 'date' }, host: { type: 'keyword' }, total: { type: 'long' } } } });
  for (let from = 0; from < n; from += 1000) {
    const operations: unknown[] = [];
    for (let i = from; i < Math.min(n, from + 1000); i++) {
      operations.push({ index: { _index: index } }, { '@timestamp': new Date(T0 + i * TEN_MIN).toISOString(), host: 'host-1', total: 100 + (i % 7) });
    }
    const res = await es.bulk({ operations });
    expect(res.errors).toBe(false);
  }
}

async function putJobAndFeed(job: string, index: string): Promise<string> {
  await es.ml.putJob({
    job_id: job,
    analysis_config: { bucket_span: '1h', detectors: [{ function: 'sum', field_name: 'total' }] },
    data_description: { time_field: '@timestamp' },
  });
  const feed = `datafeed-${job}`;
  await es.ml.putDatafeed({ datafeed_id: feed, job_id: job, indices: [index], query: { match_all: {} } });
  return feed;
}

/** Polls until the job is closed (the lookback closes it by itself), with a deadline. */
async function waitClosed(job: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const stats = await es.ml.getJobStats({ job_id: job });
    if (stats.jobs[0]?.state === 'closed') return;
    if (Date.now() > deadline) throw new Error(`job ${job} was not closed by its datafeed`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('a datafeed started with an end runs its lookback and closes its job', () => {
  it('posts exactly the documents in [start, end), stops at end, closes the job with results and a snapshot', async () => {
    const index = uniqueId('server-metrics');
    const job = uniqueId('total-requests');
    // ~3 weeks: 3,000 documents from 2017-01-01 (to 2017-01-21T19:50Z); the range ends before the last ones.
    await indexMetrics(index, 3000);
    const feed = await putJobAndFeed(job, index);
    await es.ml.openJob({ job_id: job });
    const end = '2017-01-20T00:00:00Z';
    const inRange = (Date.parse(end) - T0) / TEN_MIN;

    expect(await es.ml.startDatafeed({ datafeed_id: feed, start: '2017-01-01T00:00:00Z', end })).toEqual({ started: true, node: expect.any(String) });

    await waitClosed(job);
    const stats = (await es.ml.getJobStats({ job_id: job })).jobs[0] as any;
    expect(stats.data_counts.processed_record_count).toBe(inRange);
    expect(stats.data_counts.input_record_count).toBe(inRange);
    expect(stats.data_counts.earliest_record_timestamp).toBe(T0);
    expect(stats.data_counts.latest_record_timestamp).toBe(Date.parse(end) - TEN_MIN);
    const buckets = await es.ml.getBuckets({ job_id: job, page: { size: 1 } });
    expect(buckets.count).toBeGreaterThan(400);
    const snapshots = await es.ml.getModelSnapshots({ job_id: job });
    expect(snapshots.count).toBe(1);

    const feedStats: any = (await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0];
    expect(feedStats.state).toBe('stopped');
    expect(feedStats.timing_stats.search_count).toBeGreaterThanOrEqual(1);

    const notes = JSON.stringify(await es.transport.request<any>({ method: 'GET', path: `/_ml/anomaly_detectors/${job}/_notifications` }));
    expect(notes).toContain('Datafeed started (from: 2017-01-01T00:00:00.000Z to: 2017-01-20T00:00:00.000Z) with frequency [600000ms]');
    expect(notes).toContain('Datafeed lookback completed');
    expect(notes).toContain('Datafeed stopped');
  });

  it('a datafeed over an unknown index is refused at start (404, as the DataExtractorFactory of Elasticsearch) and its job stays open', async () => {
    const job = uniqueId('df-missing-index');
    const missing = uniqueId('no-such-index');
    const feed = await putJobAndFeed(job, missing);
    await es.ml.openJob({ job_id: job });
    const err = await esError(es.ml.startDatafeed({ datafeed_id: feed, start: '2017-01-01T00:00:00Z', end: '2017-01-02T00:00:00Z' }));
    expect(err).toMatchObject({ status: 404, type: 'resource_not_found_exception', reason: `datafeed [${feed}] cannot retrieve data because index [${missing}] does not exist` });
    expect((await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0]?.state).toBe('stopped');
    expect((await es.ml.getJobStats({ job_id: job })).jobs[0]?.state).toBe('opened');
    await es.ml.closeJob({ job_id: job });
  });

  it('a started datafeed cannot be started again (409)', async () => {
    const index = uniqueId('twice');
    await indexMetrics(index, 10);
    const job = uniqueId('df-twice');
    const feed = await putJobAndFeed(job, index);
    await es.ml.openJob({ job_id: job });
    // The datafeed moves to `starting` in the start request itself, so the second start always finds it started or its run over.
    await es.ml.startDatafeed({ datafeed_id: feed, start: '2017-01-01T00:00:00Z', end: '2018-01-01T00:00:00Z' });
    const second = await esError(es.ml.startDatafeed({ datafeed_id: feed, start: '2017-01-01T00:00:00Z', end: '2018-01-01T00:00:00Z' }));
    // Either still running (409 already started) or already done, which closed the job (409 job closed).
    expect(second.status).toBe(409);
    expect(second.reason).toMatch(/^cannot start datafeed \[.*\] because (it has already been started|job \[.*\] is (closed|closing))$/);
    await waitClosed(job);
    expect((await es.ml.getJobStats({ job_id: job })).jobs[0]?.data_counts.processed_record_count).toBe(10);
  });

  it('the orderly shutdown: _all/_stop waits for the chunk in flight and closes the jobs of datafeeds with an end; _all/_close then answers closed', async () => {
    const index = uniqueId('shutdown');
    await indexMetrics(index, 3000);
    const jobs = [uniqueId('shutdown-a'), uniqueId('shutdown-b')];
    for (const job of jobs) {
      await es.ml.putJob({
        job_id: job,
        analysis_config: { bucket_span: '1h', detectors: [{ function: 'sum', field_name: 'total' }] },
        data_description: { time_field: '@timestamp' },
      });
      // One-day chunks (144 documents each), so a stop lands between chunks of a running lookback.
      await es.ml.putDatafeed({ datafeed_id: `datafeed-${job}`, job_id: job, indices: [index], chunking_config: { mode: 'manual', time_span: '1d' } });
      await es.ml.openJob({ job_id: job });
      await es.ml.startDatafeed({ datafeed_id: `datafeed-${job}`, start: '2017-01-01T00:00:00Z', end: '2017-02-01T00:00:00Z' });
    }
    expect(await es.ml.stopDatafeed({ datafeed_id: '_all' })).toEqual({ stopped: true });
    for (const job of jobs) expect((await es.ml.getDatafeedStats({ datafeed_id: `datafeed-${job}` })).datafeeds[0]?.state).toBe('stopped');
    expect(await es.ml.closeJob({ job_id: '_all' })).toEqual({ closed: true });
    for (const job of jobs) {
      await waitClosed(job);
      const dc = (await es.ml.getJobStats({ job_id: job })).jobs[0]?.data_counts as any;
      // Whole chunks only, none twice: a multiple of one day's documents, at most all of them.
      expect(dc.processed_record_count % 144 === 0 || dc.processed_record_count === 3000).toBe(true);
      expect(dc.processed_record_count).toBeLessThanOrEqual(3000);
      const notes = JSON.stringify(await es.transport.request<any>({ method: 'GET', path: `/_ml/anomaly_detectors/${job}/_notifications` }));
      expect(notes).toContain('Datafeed stopped');
    }
  });

  it('a forced stop stops the datafeed at once and its job (started with an end) is closed behind it', async () => {
    const index = uniqueId('force');
    await indexMetrics(index, 1000);
    const job = uniqueId('df-force');
    await es.ml.putJob({ job_id: job, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: '@timestamp' } });
    await es.ml.putDatafeed({ datafeed_id: `datafeed-${job}`, job_id: job, indices: [index], chunking_config: { mode: 'manual', time_span: '1d' } });
    await es.ml.openJob({ job_id: job });
    await es.ml.startDatafeed({ datafeed_id: `datafeed-${job}`, start: '2017-01-01T00:00:00Z', end: '2017-02-01T00:00:00Z' });
    expect(await es.ml.stopDatafeed({ datafeed_id: `datafeed-${job}`, force: true })).toEqual({ stopped: true });
    const feed: any = (await es.ml.getDatafeedStats({ datafeed_id: `datafeed-${job}` })).datafeeds[0];
    expect(feed.state).toBe('stopped');
    await waitClosed(job);
    const dc = (await es.ml.getJobStats({ job_id: job })).jobs[0]?.data_counts as any;
    expect(dc.processed_record_count % 144 === 0 || dc.processed_record_count === 1000).toBe(true);
  });

  it('close job stops its running datafeed first (spec A.1 step 5), gracefully or with force', async () => {
    const index = uniqueId('close-first');
    await indexMetrics(index, 1000);
    for (const force of [false, true]) {
      const job = uniqueId(`df-close-${force}`);
      await es.ml.putJob({ job_id: job, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: '@timestamp' } });
      await es.ml.putDatafeed({ datafeed_id: `datafeed-${job}`, job_id: job, indices: [index], chunking_config: { mode: 'manual', time_span: '1d' } });
      await es.ml.openJob({ job_id: job });
      await es.ml.startDatafeed({ datafeed_id: `datafeed-${job}`, start: '2017-01-01T00:00:00Z', end: '2017-02-01T00:00:00Z' });
      expect(await es.ml.closeJob({ job_id: job, force })).toEqual({ closed: true });
      expect((await es.ml.getDatafeedStats({ datafeed_id: `datafeed-${job}` })).datafeeds[0]?.state).toBe('stopped');
      await waitClosed(job);
      const dc = (await es.ml.getJobStats({ job_id: job })).jobs[0]?.data_counts as any;
      expect(dc.processed_record_count % 144 === 0 || dc.processed_record_count === 1000).toBe(true);
    }
  });

  it('stopping an unknown datafeed is 404', async () => {
    expect(await esError(es.ml.stopDatafeed({ datafeed_id: uniqueId('nope') }))).toMatchObject({ status: 404, type: 'resource_not_found_exception' });
  });

  it('a window holding more documents than one search returns is read page by page: every document once, even where a page ends inside a shared timestamp', async () => {
    const index = uniqueId('dense');
    const job = uniqueId('dense-job');
    await es.indices.create({ index, mappings: { properties: { '@timestamp': { type: 'date' }, total: { type: 'long' } } } });
    // 25,000 documents, 7 per timestamp (so a 10,000-hit page ends inside a timestamp), one every 10 s: one default window (1,000 hourly buckets) holds them all.
    const DOCS = 25_000;
    for (let from = 0; from < DOCS; from += 5000) {
      const operations: unknown[] = [];
      for (let i = from; i < from + 5000; i++) operations.push({ index: { _index: index } }, { '@timestamp': T0 + Math.floor(i / 7) * 10_000, total: i % 13 });
      expect((await es.bulk({ operations })).errors).toBe(false);
    }
    await es.ml.putJob({
      job_id: job,
      analysis_config: { bucket_span: '1h', detectors: [{ function: 'sum', field_name: 'total' }] },
      data_description: { time_field: '@timestamp' },
    });
    await es.ml.putDatafeed({ datafeed_id: `datafeed-${job}`, job_id: job, indices: [index] });
    await es.ml.openJob({ job_id: job });
    await es.ml.startDatafeed({ datafeed_id: `datafeed-${job}`, start: '2017-01-01T00:00:00Z', end: '2017-03-01T00:00:00Z' });
    await waitClosed(job);
    const dc = (await es.ml.getJobStats({ job_id: job })).jobs[0]?.data_counts as any;
    expect(dc.processed_record_count).toBe(DOCS);
    expect(dc.out_of_order_timestamp_count).toBe(0);
    // Windows sized to about one page of 10,000 hits (3-4 searches over the data), then doubling back across the empty weeks to `end`
    // (about 8 more): a few searches that each read about a page, where halving a 25,000-document window re-read it for every page.
    const searches = ((await es.ml.getDatafeedStats({ datafeed_id: `datafeed-${job}` })).datafeeds[0] as any).timing_stats.search_count;
    expect(searches).toBeLessThanOrEqual(16);
  });
});
