/**
 * Real-time datafeeds with the official client: `_start` without `end` runs the lookback to
 * `now - query_delay` and goes on in real time; each real-time search is submitted by the
 * scheduled tick, driven here through its use case with a chosen instant instead of waiting
 * for the minute (the integration system runs no cron).
 */
import { describe, expect, it } from 'vitest';
import { esClient, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();
const MIN = 60_000;

const { runDatafeedTick } = await direct(() => import('../../lib/app/datafeed-tick.ts'));
const { getDatafeed } = await direct(() => import('../../lib/store/datafeeds.ts'));
const { getCommand } = await direct(() => import('../../lib/store/commands.ts'));

/** Polls `check` until it returns a value, with a deadline. */
async function until<T>(what: string, check: () => Promise<T | undefined>, deadlineMs = 120_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const feedRuntime = async (feed: string) => (await getDatafeed(feed))?.runtime;
const processed = async (job: string): Promise<number> => ((await es.ml.getJobStats({ job_id: job })).jobs[0] as any).data_counts.processed_record_count;
const notes = async (job: string): Promise<string[]> =>
  (await es.transport.request<any>({ method: 'GET', path: `/_ml/anomaly_detectors/${job}/_notifications`, querystring: { size: 1000 } })).notifications.map(
    (n: { message: string }) => n.message,
  );

/** Waits until the datafeed has finished its lookback and is waiting for its first real-time search. */
const realtimeIdle = (feed: string) =>
  until(`${feed} in real time`, async () => {
    const rt = await feedRuntime(feed);
    return rt?.next_search_ms !== undefined ? rt : undefined;
  });

/** Runs the tick at `nowMs` and waits until every search it submitted has run; the datafeed as it is then. */
async function tick(feed: string, nowMs: number) {
  const searches = (await runDatafeedTick(nowMs)).filter((s) => s.datafeed_id === feed);
  await settled(searches.map((s) => s.command_id));
  return { searches, runtime: await feedRuntime(feed) };
}

/** Waits until the commands have run. */
async function settled(commandIds: string[]): Promise<void> {
  for (const id of commandIds) {
    const status = await until(`command ${id}`, async () => {
      const s = (await getCommand(id))?.status;
      return s === 'done' || s === 'failed' ? s : undefined;
    });
    expect(status).toBe('done');
  }
}

async function setUp(opts: { docsAt: number[]; datafeed?: Record<string, unknown> }): Promise<{ index: string; job: string; feed: string }> {
  const index = uniqueId('rt-metrics');
  const job = uniqueId('rt-job');
  const feed = `datafeed-${job}`;
  await es.indices.create({ index, mappings: { properties: { '@timestamp': { type: 'date' }, total: { type: 'long' } } } });
  await indexAt(index, opts.docsAt);
  await es.ml.putJob({
    job_id: job,
    analysis_config: { bucket_span: '1m', detectors: [{ function: 'sum', field_name: 'total' }] },
    data_description: { time_field: '@timestamp' },
  });
  await es.ml.putDatafeed({ datafeed_id: feed, job_id: job, indices: [index], query_delay: '0s', frequency: '1m', ...opts.datafeed });
  await es.ml.openJob({ job_id: job });
  return { index, job, feed };
}

async function indexAt(index: string, times: number[]): Promise<void> {
  if (times.length === 0) return;
  const operations = times.flatMap((t, i) => [{ index: { _index: index } }, { '@timestamp': new Date(t).toISOString(), total: 10 + (i % 3) }]);
  expect((await es.bulk({ operations })).errors).toBe(false);
}

/** `n` times `stepMs` apart from `fromMs`. */
const times = (fromMs: number, n: number, stepMs = 10_000) => Array.from({ length: n }, (_, i) => fromMs + i * stepMs);

describe('a datafeed started without end runs in real time', () => {
  it('posts the lookback, then what arrives later on the next tick (once, however often the tick runs), and a stop leaves the job open', async () => {
    const base = Math.floor(Date.now() / MIN) * MIN;
    const { index, job, feed } = await setUp({ docsAt: times(base - 30 * MIN, 60) });

    expect(await es.ml.startDatafeed({ datafeed_id: feed, start: String(base - 60 * MIN) })).toEqual({ started: true, node: expect.any(String) });
    const first = await realtimeIdle(feed);
    expect(await processed(job)).toBe(60);
    const messages = await notes(job);
    expect(messages).toContain(`Datafeed started (from: ${new Date(base - 60 * MIN).toISOString()} to: real-time) with frequency [60000ms]`);
    expect(messages).toContain('Datafeed lookback completed');
    expect(messages).toContain('Datafeed continued in real-time');
    expect(messages).not.toContain('Datafeed stopped');

    const stats: any = (await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0];
    expect(stats.state).toBe('started');
    expect(stats.running_state).toMatchObject({
      real_time_configured: true,
      real_time_running: true,
      search_interval: { start_ms: expect.any(Number), end_ms: expect.any(Number) },
    });
    expect((await es.ml.getJobStats({ job_id: job })).jobs[0]?.state).toBe('opened');

    // Documents arriving after the lookback (timestamps past its end) are the next tick's.
    await indexAt(index, times(base + 3 * MIN, 12));
    const tickAt = base + 10 * MIN;
    // Two ticks at the same instant (a retried invocation): each finds the datafeed due, yet one search posts.
    const [a, b] = await Promise.all([runDatafeedTick(tickAt), runDatafeedTick(tickAt)]);
    const searches = [...a, ...b].filter((s) => s.datafeed_id === feed);
    expect(searches).toHaveLength(2);
    expect(searches[0]).toMatchObject({ job_id: job, due_ms: first.next_search_ms, search_to_ms: base + 10 * MIN });
    await settled(searches.map((s) => s.command_id));
    const second = await feedRuntime(feed);
    expect(second?.lookback_ms).toBe(base + 10 * MIN);
    expect(second?.search_interval?.end_ms).toBe(base + 10 * MIN);
    expect(await processed(job)).toBe(72);
    // The real-time search flushed with advance_time = its end: the buckets before it are final.
    const buckets = await es.ml.getBuckets({ job_id: job, start: String(base + 3 * MIN), end: String(base + 5 * MIN), exclude_interim: true });
    expect(buckets.count).toBe(2);

    // A tick at the same instant again: the window has not grown, nothing more is posted.
    expect((await tick(feed, tickAt)).searches).toHaveLength(1);
    expect(await processed(job)).toBe(72);

    // A real-time datafeed has no end: stopping it leaves its job open (Elasticsearch's rule).
    expect(await es.ml.stopDatafeed({ datafeed_id: feed })).toEqual({ stopped: true });
    expect((await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0]).not.toHaveProperty('running_state');
    expect((await es.ml.getJobStats({ job_id: job })).jobs[0]?.state).toBe('opened');
    expect(await notes(job)).toContain('Datafeed stopped');
    expect(await runDatafeedTick(base + 20 * MIN)).not.toContainEqual(expect.objectContaining({ datafeed_id: feed }));
    await es.ml.closeJob({ job_id: job });
  });

  it('started again on a job that has data, the lookback goes on after that data (skipToStartTime), posting nothing twice', async () => {
    const base = Math.floor(Date.now() / MIN) * MIN;
    const { index, job, feed } = await setUp({ docsAt: times(base - 30 * MIN, 30) });
    await es.ml.startDatafeed({ datafeed_id: feed, start: String(base - 60 * MIN) });
    await realtimeIdle(feed);
    await es.ml.stopDatafeed({ datafeed_id: feed });
    expect(await processed(job)).toBe(30);

    await indexAt(index, times(base - 5 * MIN, 6));
    await es.ml.startDatafeed({ datafeed_id: feed, start: String(base - 60 * MIN) });
    await realtimeIdle(feed);
    const counts = ((await es.ml.getJobStats({ job_id: job })).jobs[0] as any).data_counts;
    expect(counts.processed_record_count).toBe(36);
    expect(counts.out_of_order_timestamp_count).toBe(0);
    const lastBefore = base - 30 * MIN + 29 * 10_000;
    expect(await notes(job)).toContain(`Datafeed started (from: ${new Date(lastBefore + 1).toISOString()} to: real-time) with frequency [60000ms]`);
    await es.ml.closeJob({ job_id: job });
  });

  it('a search error is audited once, the window is searched again, and the recovery is audited', async () => {
    const base = Math.floor(Date.now() / MIN) * MIN;
    const job = uniqueId('rt-missing');
    const feed = `datafeed-${job}`;
    const index = uniqueId('rt-not-yet');
    await es.ml.putJob({
      job_id: job,
      analysis_config: { bucket_span: '1m', detectors: [{ function: 'sum', field_name: 'total' }] },
      data_description: { time_field: '@timestamp' },
    });
    await es.ml.putDatafeed({ datafeed_id: feed, job_id: job, indices: [index], query_delay: '0s', frequency: '1m' });
    await es.ml.openJob({ job_id: job });
    // `_start` checks the index exists (as Elasticsearch does); it goes away under the running datafeed.
    const mappings = { properties: { '@timestamp': { type: 'date' as const }, total: { type: 'long' as const } } };
    await es.indices.create({ index, mappings });
    await es.ml.startDatafeed({ datafeed_id: feed, start: String(base - 60 * MIN) });
    await realtimeIdle(feed);
    await es.indices.delete({ index });
    await tick(feed, base + 10 * MIN);
    const error = `Datafeed is encountering errors extracting data: no such index [${index}]`;
    expect((await notes(job)).filter((m) => m === error)).toHaveLength(1);
    expect((await feedRuntime(feed))?.state).toBe('started');

    // The index comes back with documents from the time of the failed search's window: nothing was skipped.
    await es.indices.create({ index, mappings });
    await indexAt(index, times(base + 3 * MIN, 12));
    await tick(feed, base + 11 * MIN);
    expect(await processed(job)).toBe(12);
    const messages = await notes(job);
    expect(messages.filter((m) => m === error)).toHaveLength(1);
    expect(messages).toContain('Datafeed has recovered data extraction and analysis');
    await es.ml.closeJob({ job_id: job });
  });

  it('max_empty_searches stops a datafeed whose job never saw data, and closes the job', async () => {
    const base = Math.floor(Date.now() / MIN) * MIN;
    const { job, feed } = await setUp({ docsAt: [], datafeed: { max_empty_searches: 2 } });
    await es.ml.startDatafeed({ datafeed_id: feed, start: String(base - 60 * MIN) });
    // The empty lookback is the first empty search; it does not stop the datafeed by itself.
    const first = await realtimeIdle(feed);
    expect(first.empty_searches).toBe(1);
    const messages = await notes(job);
    expect(messages).not.toContain('Datafeed lookback completed');

    await tick(feed, base + 10 * MIN);
    await until('the job closed', async () => ((await es.ml.getJobStats({ job_id: job })).jobs[0]?.state === 'closed' ? true : undefined));
    expect((await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0]?.state).toBe('stopped');
    expect(await notes(job)).toContain('Datafeed stopped');
  });

  it('a job that has seen data is not stopped by max_empty_searches', async () => {
    const base = Math.floor(Date.now() / MIN) * MIN;
    const { job, feed } = await setUp({ docsAt: times(base - 30 * MIN, 6), datafeed: { max_empty_searches: 1 } });
    await es.ml.startDatafeed({ datafeed_id: feed, start: String(base - 60 * MIN) });
    expect((await realtimeIdle(feed)).empty_searches).toBe(0);
    const { runtime } = await tick(feed, base + 10 * MIN);
    expect(runtime?.empty_searches).toBe(1);
    expect(runtime?.state).toBe('started');
    expect((await es.ml.getJobStats({ job_id: job })).jobs[0]?.state).toBe('opened');
    await es.ml.closeJob({ job_id: job });
    expect((await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0]?.state).toBe('stopped');
  });

  it('the delayed-data check audits documents indexed after their buckets were searched', async () => {
    const base = Math.floor(Date.now() / MIN) * MIN;
    const { index, job, feed } = await setUp({
      docsAt: times(base - 30 * MIN, 120),
      datafeed: { delayed_data_check_config: { enabled: true, check_window: '1h' } },
    });
    await es.ml.startDatafeed({ datafeed_id: feed, start: String(base - 60 * MIN) });
    await realtimeIdle(feed);
    // Late: 4 documents in the bucket at base-20m, which the lookback already searched; new data for the next search.
    await indexAt(index, times(base - 20 * MIN, 4, 1_000));
    await indexAt(index, times(base + 3 * MIN, 6));
    const { runtime } = await tick(feed, base + 10 * MIN);
    expect(runtime?.last_data_check_ms).toBeDefined();
    const expected = `Datafeed has missed 4 documents due to ingest latency, latest bucket with missing data is [${new Date(base - 20 * MIN).toISOString()}]. Consider increasing query_delay`;
    expect(await notes(job)).toContain(expected);
    const audit = (await es.transport.request<any>({ method: 'GET', path: `/_ml/anomaly_detectors/${job}/_notifications`, querystring: { size: 1000 } })).notifications.find(
      (n: { message: string }) => n.message === expected,
    );
    expect(audit.level).toBe('warning');
    await es.ml.stopDatafeed({ datafeed_id: feed });
    await es.ml.closeJob({ job_id: job });
  });
});
