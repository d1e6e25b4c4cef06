import { describe, expect, it } from 'vitest';
import { esClient, esError, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();

async function putJob(id: string, extra: Record<string, unknown> = {}) {
  return es.ml.putJob({
    job_id: id,
    analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }], summary_count_field_name: 'doc_count' },
    data_description: { time_field: 'time', time_format: 'epoch_ms' },
    ...extra,
  });
}

describe('datafeed CRUD with the official client', () => {
  it('put, get, stats, update and delete', async () => {
    const job = uniqueId('dfj');
    const feed = `datafeed-${job}`;
    await putJob(job);
    const put = await es.ml.putDatafeed({ datafeed_id: feed, job_id: job, indices: ['server-metrics'], query: { match_all: {} }, scroll_size: 2000, frequency: '1m' });
    expect(put).toMatchObject({
      datafeed_id: feed,
      job_id: job,
      authorization: { roles: ['superuser'] },
      chunking_config: { mode: 'auto' },
      indices: ['server-metrics'],
      scroll_size: 2000,
      frequency: '1m',
      query: { match_all: {} },
      delayed_data_check_config: { enabled: true },
      indices_options: { expand_wildcards: ['open'], ignore_unavailable: false, allow_no_indices: true, ignore_throttled: false },
    });
    expect(put.query_delay).toMatch(/^\d+ms$/);

    const got = await es.ml.getDatafeeds({ datafeed_id: feed });
    expect(got.count).toBe(1);
    expect(got.datafeeds[0]).toEqual(put);
    expect((await es.ml.getDatafeeds({ datafeed_id: `${feed},nothing-*` })).count).toBe(1);

    const stats = await es.ml.getDatafeedStats({ datafeed_id: feed });
    expect(stats.datafeeds[0]).toMatchObject({ datafeed_id: feed, state: 'stopped', timing_stats: { job_id: job, search_count: 0, bucket_count: 0 } });
    expect(stats.datafeeds[0]).not.toHaveProperty('running_state');
    expect(stats.datafeeds[0]).not.toHaveProperty('node');
    expect(stats.datafeeds[0]).not.toHaveProperty('assignment_explanation');

    const updated = await es.ml.updateDatafeed({ datafeed_id: feed, indices: ['index-*'], scroll_size: 10000, query_delay: '0s', max_empty_searches: 5 });
    expect(updated).toMatchObject({ datafeed_id: feed, job_id: job, indices: ['index-*'], scroll_size: 10000, query_delay: '0s', max_empty_searches: 5, frequency: '1m' });
    const cleared = await es.ml.updateDatafeed({ datafeed_id: feed, max_empty_searches: -1 });
    expect(cleared).not.toHaveProperty('max_empty_searches');

    expect(await es.ml.deleteDatafeed({ datafeed_id: feed })).toEqual({ acknowledged: true });
    expect((await esError(es.ml.getDatafeeds({ datafeed_id: feed }))).status).toBe(404);
    // The job is free for a new datafeed once its datafeed is gone.
    await es.ml.putDatafeed({ datafeed_id: `${feed}-2`, job_id: job, indices: ['x'] });
    await es.ml.deleteDatafeed({ datafeed_id: `${feed}-2`, force: true });
  });

  it('export drops generated fields; wildcards and allow_no_match', async () => {
    const job = uniqueId('dfexp');
    await putJob(job);
    await es.ml.putDatafeed({ datafeed_id: `${job}-feed`, job_id: job, indices: ['i'] });
    const exported = await es.ml.getDatafeeds({ datafeed_id: `${job}-feed`, exclude_generated: true });
    expect(exported.datafeeds[0]).toEqual({
      datafeed_id: `${job}-feed`,
      job_id: job,
      query: { match_all: { boost: 1 } },
      indices: ['i'],
      scroll_size: 1000,
      delayed_data_check_config: { enabled: true },
    });
    expect((await es.ml.getDatafeeds({ datafeed_id: `${job}-*` })).count).toBe(1);
    expect(await es.ml.getDatafeeds({ datafeed_id: 'missing-feeds-*' })).toEqual({ count: 0, datafeeds: [] });
    const missing = await esError(es.ml.getDatafeeds({ datafeed_id: 'missing-feeds-*', allow_no_match: false }));
    expect(missing).toMatchObject({ status: 404, type: 'resource_not_found_exception', reason: 'No datafeed with id [missing-feeds-*] exists' });
    expect((await es.ml.getDatafeedStats({ datafeed_id: 'missing-feeds-*' })).count).toBe(0);
  });
});

describe('datafeed_config inside put job', () => {
  it('creates the datafeed with the job, shows it in GET jobs, and the job delete deletes it', async () => {
    const job = uniqueId('dfcfg');
    const res: any = await es.ml.putJob({
      job_id: job,
      analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] },
      data_description: { time_field: 'time' },
      datafeed_config: { indices: ['server-metrics'] },
    });
    expect(res.datafeed_config).toMatchObject({ datafeed_id: job, job_id: job, indices: ['server-metrics'] });
    const got: any = await es.ml.getJobs({ job_id: job });
    expect(got.jobs[0].datafeed_config).toEqual(res.datafeed_config);
    expect((await es.ml.getJobs({ job_id: job, exclude_generated: true })).jobs[0]).not.toHaveProperty('datafeed_config');
    expect((await es.ml.getDatafeeds({ datafeed_id: job })).count).toBe(1);
    // Opening and closing the job leave its datafeed alone.
    await es.ml.openJob({ job_id: job });
    await es.ml.closeJob({ job_id: job });
    expect((await es.ml.getDatafeedStats({ datafeed_id: job })).datafeeds[0]?.state).toBe('stopped');

    expect(await es.ml.deleteJob({ job_id: job })).toEqual({ acknowledged: true });
    expect((await esError(es.ml.getDatafeeds({ datafeed_id: job }))).status).toBe(404);
  });

  it('a bad datafeed_config creates nothing', async () => {
    const job = uniqueId('dfbad');
    const e = await esError(
      es.ml.putJob({
        job_id: job,
        analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] },
        data_description: { time_field: 'time' },
        datafeed_config: { indices: ['i'], query: { no_such_query: {} } } as never,
      }),
    );
    expect(e).toMatchObject({ status: 400, type: 'x_content_parse_exception' });
    expect(e.reason).toMatch(/\[job_details\] failed to parse field \[datafeed_config\]/);
    expect((await esError(es.ml.getJobs({ job_id: job }))).status).toBe(404);
  });

  it('a datafeed id already taken by another job fails the put and leaves no job behind', async () => {
    const first = uniqueId('dftaken');
    await putJob(first);
    await es.ml.putDatafeed({ datafeed_id: `${first}-feed`, job_id: first, indices: ['i'] });
    const job = uniqueId('dftaken2');
    const e = await esError(putJob(job, { datafeed_config: { datafeed_id: `${first}-feed`, indices: ['i'] } }));
    expect(e).toMatchObject({ status: 400, type: 'resource_already_exists_exception', reason: `A datafeed with id [${first}-feed] already exists` });
    expect((await esError(es.ml.getJobs({ job_id: job }))).status).toBe(404);
  });
});

describe('datafeed bad input', () => {
  it('a datafeed for an unknown job is 404', async () => {
    const e = await esError(es.ml.putDatafeed({ datafeed_id: uniqueId('df'), job_id: 'a-missing-job', indices: ['i'] }));
    expect(e).toMatchObject({ status: 404, type: 'resource_not_found_exception', reason: "No known job with id 'a-missing-job'" });
  });

  it('a second datafeed for one job is 409; a taken datafeed id is resource_already_exists_exception', async () => {
    const job = uniqueId('dftwo');
    const other = uniqueId('dftwo-other');
    await putJob(job);
    await putJob(other);
    await es.ml.putDatafeed({ datafeed_id: `${job}-a`, job_id: job, indices: ['i'] });
    const two = await esError(es.ml.putDatafeed({ datafeed_id: `${job}-b`, job_id: job, indices: ['i'] }));
    expect(two).toMatchObject({ status: 409, type: 'status_exception', reason: `A datafeed [${job}-a] already exists for job [${job}]` });
    const taken = await esError(es.ml.putDatafeed({ datafeed_id: `${job}-a`, job_id: other, indices: ['i'] }));
    expect(taken).toMatchObject({ status: 400, type: 'resource_already_exists_exception', reason: `A datafeed with id [${job}-a] already exists` });
  });

  it('two concurrent puts for one job: exactly one wins', async () => {
    const job = uniqueId('dfrace');
    await putJob(job);
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => es.ml.putDatafeed({ datafeed_id: `${job}-${n}`, job_id: job, indices: ['i'] })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await es.ml.getDatafeeds({ datafeed_id: `${job}-*` })).count).toBe(1);
  });

  it('a bad query type, headers in the body and changing the job are 400s', async () => {
    const job = uniqueId('dfq');
    await putJob(job);
    const badQuery = await esError(es.transport.request({ method: 'PUT', path: `/_ml/datafeeds/${job}-f`, body: { job_id: job, indices: ['i'], query: 'match_all' } }));
    expect(badQuery).toMatchObject({ status: 400, type: 'x_content_parse_exception' });
    expect(badQuery.reason).toMatch(/\[datafeed_config\] query doesn't support values of type: VALUE_STRING/);
    const misspelled = await esError(es.ml.putDatafeed({ datafeed_id: `${job}-f`, job_id: job, indices: ['i'], query: { match_all_misspelled: {} } as never }));
    expect(misspelled.reason).toMatch(/failed to parse field \[query\]/);
    const headers = await esError(es.transport.request({ method: 'PUT', path: `/_ml/datafeeds/${job}-f`, body: { job_id: job, indices: ['i'], headers: { a: 'b' } } }));
    expect(headers.reason).toMatch(/unknown field \[headers\]/);
    await es.ml.putDatafeed({ datafeed_id: `${job}-f`, job_id: job, indices: ['i'] });
    const change = await esError(es.ml.updateDatafeed({ datafeed_id: `${job}-f`, job_id: 'another-job' }));
    expect(change).toMatchObject({ status: 400, type: 'status_exception', reason: "Datafeed's job_id cannot be changed." });
  });

  it('unknown datafeeds are 404 on get, stats, update, delete, start, stop and preview', async () => {
    const id = uniqueId('nofeed');
    const reason = `No datafeed with id [${id}] exists`;
    const calls = [
      () => es.ml.getDatafeeds({ datafeed_id: id }),
      () => es.ml.getDatafeedStats({ datafeed_id: id }),
      () => es.ml.updateDatafeed({ datafeed_id: id, scroll_size: 5 }),
      () => es.ml.deleteDatafeed({ datafeed_id: id }),
      () => es.ml.startDatafeed({ datafeed_id: id }),
      () => es.ml.stopDatafeed({ datafeed_id: id }),
      () => es.ml.previewDatafeed({ datafeed_id: id }),
    ];
    for (const call of calls) {
      expect(await esError(call())).toMatchObject({ status: 404, type: 'resource_not_found_exception', reason });
    }
  });

  it('start: end before start is 400, a closed job is 409', async () => {
    const job = uniqueId('dfstart');
    await putJob(job);
    await es.ml.putDatafeed({ datafeed_id: `${job}-f`, job_id: job, indices: ['i'] });
    const order = await esError(es.ml.startDatafeed({ datafeed_id: `${job}-f`, start: '2017-02-01T01:00:00Z', end: '2017-02-01T00:00:00Z' }));
    expect(order).toMatchObject({
      status: 400,
      type: 'action_request_validation_exception',
      reason: 'Validation Failed: 1: start [1485910800000] must be earlier than end [1485907200000];',
    });
    const closed = await esError(es.ml.startDatafeed({ datafeed_id: `${job}-f`, start: '0' }));
    expect(closed).toMatchObject({ status: 409, type: 'status_exception', reason: `cannot start datafeed [${job}-f] because job [${job}] is closed` });
    // Real time (no end) is supported: test/integration/datafeed-realtime.test.ts.
  });

  it('stop: a stopped datafeed, twice, is stopped:true; a wildcard with no match too unless allow_no_match=false', async () => {
    const job = uniqueId('dfstop');
    await putJob(job);
    await es.ml.putDatafeed({ datafeed_id: `${job}-f`, job_id: job, indices: ['i'] });
    expect(await es.ml.stopDatafeed({ datafeed_id: `${job}-f` })).toEqual({ stopped: true });
    expect(await es.ml.stopDatafeed({ datafeed_id: `${job}-f`, force: true })).toEqual({ stopped: true });
    expect(await es.ml.stopDatafeed({ datafeed_id: 'missing-stop-*' })).toEqual({ stopped: true });
    expect((await esError(es.ml.stopDatafeed({ datafeed_id: 'missing-stop-*', allow_no_match: false }))).status).toBe(404);
    // A body wins over the query string (spec A.0).
    const body = await esError(
      es.transport.request({ method: 'POST', path: '/_ml/datafeeds/missing-stop-*/_stop', querystring: { allow_no_match: 'true' }, body: { allow_no_match: false } }),
    );
    expect(body.status).toBe(404);
  });
});

describe('datafeeds_crud.yml and jobs_crud.yml cases', () => {
  it('put and get a datafeed with aggregations (stored as given, max_empty_searches -1 unset)', async () => {
    const job = uniqueId('dfaggs');
    await putJob(job);
    const aggs = {
      histogram_buckets: {
        date_histogram: { field: '@timestamp', fixed_interval: '5m', time_zone: 'UTC', min_doc_count: 0 },
        aggs: {
          '@timestamp': { max: { field: '@timestamp' } },
          bytes_in_avg: { avg: { field: 'system.network.in.bytes' } },
          bytes_in_derivative: { derivative: { buckets_path: 'bytes_in_avg' } },
          non_negative_bytes: { bucket_script: { buckets_path: { bytes: 'bytes_in_derivative' }, script: 'params.bytes > 0 ? params.bytes : null' } },
        },
      },
    };
    await es.transport.request({ method: 'PUT', path: `/_ml/datafeeds/${job}-aggs`, body: { job_id: job, indices: ['index-foo'], aggs, max_empty_searches: -1 } });
    const got: any = (await es.ml.getDatafeeds({ datafeed_id: `${job}-aggs` })).datafeeds[0];
    expect(got.aggregations).toEqual(aggs);
    expect(got).not.toHaveProperty('max_empty_searches');
    expect(got.chunking_config).toEqual({ mode: 'manual', time_span: '300000000ms' });
    expect(got.authorization.roles).toEqual(['superuser']);
  });

  it('an aggregated datafeed needs summary_count_field_name on its job', async () => {
    const job = uniqueId('dfnosc');
    await es.ml.putJob({ job_id: job, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'time' } });
    const e = await esError(
      es.transport.request({
        method: 'PUT',
        path: `/_ml/datafeeds/${job}-aggs`,
        body: { job_id: job, indices: ['i'], aggregations: { b: { date_histogram: { field: 'time', fixed_interval: '5m' }, aggs: { time: { max: { field: 'time' } } } } } },
      }),
    );
    expect(e).toMatchObject({
      status: 400,
      type: 'status_exception',
      reason: 'A job configured with a datafeed with aggregations must set summary_count_field_name; use doc_count or suitable alternative',
    });
  });

  it('indices options in the body and in the parameters (with the ignore_throttled deprecation warning)', async () => {
    const job = uniqueId('dfopts');
    await putJob(job);
    await es.ml.putDatafeed({ datafeed_id: `${job}-a`, job_id: job, indices: ['index-foo'], indices_options: { expand_wildcards: ['closed', 'open'], ignore_throttled: false } });
    let got: any = (await es.ml.getDatafeeds({ datafeed_id: `${job}-a` })).datafeeds[0];
    expect(got.indices_options).toMatchObject({ expand_wildcards: ['open', 'closed'], ignore_throttled: false });
    await es.ml.updateDatafeed({ datafeed_id: `${job}-a`, indices_options: { ignore_throttled: true } });
    got = (await es.ml.getDatafeeds({ datafeed_id: `${job}-a` })).datafeeds[0];
    expect(got.indices_options.ignore_throttled).toBe(true);
    await es.ml.deleteDatafeed({ datafeed_id: `${job}-a` });

    const put = await es.ml.putDatafeed({ datafeed_id: `${job}-p`, job_id: job, indices: ['index-foo'], ignore_throttled: false }, { meta: true });
    expect(put.warnings?.join()).toContain('[ignore_throttled] parameter is deprecated because frozen indices have been deprecated');
    await es.transport.request({ method: 'POST', path: `/_ml/datafeeds/${job}-p/_update`, querystring: { ignore_throttled: 'false', allow_no_indices: 'false' }, body: {} });
    got = (await es.ml.getDatafeeds({ datafeed_id: `${job}-p` })).datafeeds[0];
    expect(got.indices_options).toMatchObject({ ignore_throttled: false, allow_no_indices: false });
  });

  it('put and update with ignore_throttled warn on their errors too', async () => {
    const job = uniqueId('dfwarn');
    const failed = (request: Promise<unknown>) =>
      request.then(
        () => ({ statusCode: 200, warnings: null }),
        (err) => err.meta,
      );
    const put = await failed(es.ml.putDatafeed({ datafeed_id: `${job}-p`, job_id: 'missing-job-for-warning', indices: ['index-foo'], ignore_throttled: false }, { meta: true }));
    expect(put.statusCode).toBe(404);
    expect(put.warnings?.join()).toContain('[ignore_throttled] parameter is deprecated');
    const update = await failed(
      es.transport.request({ method: 'POST', path: `/_ml/datafeeds/${job}-missing/_update`, querystring: { ignore_throttled: 'true' }, body: {} }, { meta: true }),
    );
    expect(update.statusCode).toBe(404);
    expect(update.warnings?.join()).toContain('[ignore_throttled] parameter is deprecated');
  });

  it('put job with a datafeed and indices options in the parameters', async () => {
    const job = uniqueId('dfjobopts');
    const res: any = await es.transport.request({
      method: 'PUT',
      path: `/_ml/anomaly_detectors/${job}`,
      querystring: { ignore_throttled: 'false', allow_no_indices: 'false' },
      body: { analysis_config: { detectors: [{ function: 'count' }] }, data_description: { format: 'xcontent' }, datafeed_config: { indexes: ['index-foo'] } },
    });
    expect(res.datafeed_config).toMatchObject({ datafeed_id: job, indices_options: { ignore_throttled: false, allow_no_indices: false } });
    expect((await es.ml.getDatafeeds({ datafeed_id: job })).datafeeds[0]?.indices_options).toMatchObject({ allow_no_indices: false });
  });
});

describe('a datafeed with a task (state written directly)', () => {
  it('refuses update, delete, start and job delete as Elasticsearch does, and force delete removes it', async () => {
    const { getDatafeed, putDatafeed } = await direct(() => import('../../lib/store/datafeeds.ts'));
    const { transitionDatafeed } = await import('../../lib/domain/lifecycle/datafeed.ts');
    const job = uniqueId('dftask');
    const feed = `${job}-f`;
    await putJob(job);
    await es.ml.putDatafeed({ datafeed_id: feed, job_id: job, indices: ['i'] });
    await es.ml.openJob({ job_id: job });
    const stored = await getDatafeed(feed);
    const starting = transitionDatafeed(stored!.runtime, { type: 'start', node: 'mlplane-0', startMs: 0, endMs: 1000, runId: 'test-run' });
    await putDatafeed(stored!.config, starting);
    await putDatafeed(stored!.config, transitionDatafeed(starting, { type: 'started' }));

    const stats: any = (await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0];
    expect(stats).toMatchObject({ state: 'started', assignment_explanation: '', node: { name: 'mlplane-0' }, running_state: { real_time_configured: false } });

    expect(await esError(es.ml.updateDatafeed({ datafeed_id: feed, scroll_size: 5 }))).toMatchObject({
      status: 409,
      reason: `Cannot update datafeed [${feed}] while its status is started`,
    });
    expect(await esError(es.ml.deleteDatafeed({ datafeed_id: feed }))).toMatchObject({ status: 409, reason: `Cannot delete datafeed [${feed}] while its status is started` });
    expect(await esError(es.ml.startDatafeed({ datafeed_id: feed }))).toMatchObject({
      status: 409,
      reason: `cannot start datafeed [${feed}] because it has already been started`,
    });
    // A datafeed started with an end closes its job when it stops (spec A.3 step 6); the stop waits until it has stopped.
    expect(await es.ml.stopDatafeed({ datafeed_id: feed })).toEqual({ stopped: true });
    expect((await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0]?.state).toBe('stopped');
    const deadline = Date.now() + 30_000;
    while ((await es.ml.getJobStats({ job_id: job })).jobs[0]?.state !== 'closed') {
      if (Date.now() > deadline) throw new Error('the stopped datafeed did not close its job');
      await new Promise((r) => setTimeout(r, 100));
    }
    // Closing the job stopped the datafeed; a datafeed left started beside a closed job (written directly) blocks the job's delete.
    const stopped = await getDatafeed(feed);
    const again = transitionDatafeed(stopped!.runtime, { type: 'start', node: 'mlplane-0', startMs: 0, endMs: 1000, runId: 'test-run-2' });
    await putDatafeed(stopped!.config, again);
    await putDatafeed(stopped!.config, transitionDatafeed(again, { type: 'started' }));
    const jobDelete = await esError(es.ml.deleteJob({ job_id: job }));
    expect(jobDelete).toMatchObject({ status: 409, type: 'status_exception', reason: `failed to delete job [${job}] as its datafeed [${feed}] could not be deleted` });
    expect(jobDelete.body.error.caused_by).toMatchObject({ reason: `Cannot delete datafeed [${feed}] while its status is started` });
    expect((await es.ml.getJobs({ job_id: job })).count).toBe(1);

    expect(await es.ml.deleteDatafeed({ datafeed_id: feed, force: true })).toEqual({ acknowledged: true });
    expect(await es.ml.deleteJob({ job_id: job })).toEqual({ acknowledged: true });
  });

  it('close job stops its started datafeed first (spec A.1 step 5), with the audit "Datafeed stopped"', async () => {
    const { getDatafeed, putDatafeed } = await direct(() => import('../../lib/store/datafeeds.ts'));
    const { transitionDatafeed } = await import('../../lib/domain/lifecycle/datafeed.ts');
    const job = uniqueId('dfclose');
    const feed = `${job}-f`;
    await putJob(job);
    await es.ml.putDatafeed({ datafeed_id: feed, job_id: job, indices: ['i'] });
    await es.ml.openJob({ job_id: job });
    const stored = await getDatafeed(feed);
    const starting = transitionDatafeed(stored!.runtime, { type: 'start', node: 'mlplane-0', startMs: 0, endMs: 1000, runId: 'test-run' });
    await putDatafeed(stored!.config, starting);
    await putDatafeed(stored!.config, transitionDatafeed(starting, { type: 'started' }));

    expect(await es.ml.closeJob({ job_id: job })).toEqual({ closed: true });
    const stats: any = (await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0];
    expect(stats.state).toBe('stopped');
    expect(stats).not.toHaveProperty('node');
    const notes = await es.transport.request<any>({ method: 'GET', path: `/_ml/anomaly_detectors/${job}/_notifications` });
    expect(JSON.stringify(notes)).toContain('"Datafeed stopped"');
    expect(await es.ml.deleteDatafeed({ datafeed_id: feed })).toEqual({ acknowledged: true });
  });
});

describe('start_stop_datafeed.yml: start waits for started, and persistent task allocation', () => {
  async function feedOnIndex(): Promise<{ job: string; feed: string; index: string }> {
    const job = uniqueId('alloc');
    const index = uniqueId('alloc-index');
    await es.indices.create({ index, mappings: { properties: { time: { type: 'date' }, doc_count: { type: 'long' } } } });
    await putJob(job);
    await es.ml.putDatafeed({ datafeed_id: `datafeed-${job}`, job_id: job, indices: [index] });
    await es.ml.openJob({ job_id: job });
    return { job, feed: `datafeed-${job}`, index };
  }

  it('a start answers once the datafeed is started, as Elasticsearch waits for the task (stats right after say started)', async () => {
    const { job, feed } = await feedOnIndex();
    expect(await es.ml.startDatafeed({ datafeed_id: feed, start: '0' })).toMatchObject({ started: true });
    expect((await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0]?.state).toBe('started');
    await es.ml.stopDatafeed({ datafeed_id: feed });
    await es.ml.closeJob({ job_id: job });
  });

  it('with cluster.persistent_tasks.allocation.enable none a start is 429 and the datafeed stays stopped; with all it starts', async () => {
    const { job, feed } = await feedOnIndex();
    const none = await es.cluster.putSettings({ persistent: { 'cluster.persistent_tasks.allocation.enable': 'none' } });
    expect(none.persistent).toEqual({ cluster: { persistent_tasks: { allocation: { enable: 'none' } } } });
    try {
      expect(await esError(es.ml.startDatafeed({ datafeed_id: feed, start: '0' }))).toMatchObject({
        status: 429,
        type: 'status_exception',
        reason: 'Could not start datafeed, allocation explanation [no persistent task assignments are allowed due to cluster settings]',
      });
      expect((await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0]?.state).toBe('stopped');
      expect(await esError(es.cluster.putSettings({ persistent: { 'cluster.persistent_tasks.allocation.enable': 'some' } }))).toMatchObject({ status: 400 });
    } finally {
      await es.cluster.putSettings({ persistent: { 'cluster.persistent_tasks.allocation.enable': 'all' } });
    }
    expect(await es.ml.startDatafeed({ datafeed_id: feed, start: '0' })).toMatchObject({ started: true });
    expect((await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0]?.state).toBe('started');
    await es.ml.stopDatafeed({ datafeed_id: feed });
    await es.ml.closeJob({ job_id: job });
    await es.cluster.putSettings({ persistent: { 'cluster.persistent_tasks.allocation.enable': null } });
  });

  it('cluster health of an index: green when it exists, 408 red and timed out when it does not', async () => {
    const { job, index } = await feedOnIndex();
    expect(await es.cluster.health({ index, wait_for_status: 'green' })).toMatchObject({ status: 'green', timed_out: false, active_primary_shards: 1 });
    const missing = await es.cluster.health({ index: uniqueId('no-such-index') }, { ignore: [408] });
    expect(missing).toMatchObject({ status: 'red', timed_out: true });
    await es.ml.closeJob({ job_id: job });
  });
});
