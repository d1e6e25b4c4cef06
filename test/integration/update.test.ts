import { describe, expect, it } from 'vitest';
import { esClient, esError, hourlyCounts, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();
const T0 = Date.UTC(2026, 0, 5);
const HOUR = 3_600_000;
const update = (job_id: string, body: Record<string, unknown>) => es.transport.request<any>({ method: 'POST', path: `/_ml/anomaly_detectors/${job_id}/_update`, body });

async function twoDetectorJob(id: string, extra: Record<string, unknown> = {}) {
  return es.ml.putJob({
    job_id: id,
    description: 'pre-update description',
    analysis_config: {
      bucket_span: '5m',
      detectors: [
        { function: 'mean', field_name: 'responsetime', by_field_name: 'airline' },
        { function: 'count', by_field_name: 'airline' },
      ],
    },
    data_description: { time_field: 'time', time_format: 'epoch_ms' },
    model_snapshot_retention_days: 30,
    daily_model_snapshot_retention_after_days: 2,
    ...extra,
  });
}

describe('update job: the seed example and the response', () => {
  it('answers with the whole updated job', async () => {
    const id = uniqueId('upd');
    await twoDetectorJob(id);
    const res = await update(id, {
      description: 'Post update description',
      detectors: [
        { detector_index: 0, custom_rules: [{ actions: ['skip_result'], conditions: [{ applies_to: 'actual', operator: 'lt', value: 10 }] }] },
        { detector_index: 1, description: 'updated description' },
      ],
      model_plot_config: { enabled: false, terms: 'foobar' },
      groups: ['group-1', 'group-2'],
      analysis_limits: { model_memory_limit: '20mb' },
      background_persist_interval: '3h',
      renormalization_window_days: 10,
      results_retention_days: 40,
      model_snapshot_retention_days: 20,
      custom_settings: { a: 'b' },
      model_prune_window: '60d',
    });
    expect(res.job_id).toBe(id);
    expect(res.description).toBe('Post update description');
    expect(res.groups).toEqual(['group-1', 'group-2']);
    expect(res.model_plot_config).toEqual({ enabled: false, terms: 'foobar', annotations_enabled: false });
    expect(res.analysis_limits.model_memory_limit).toBe('20mb');
    expect(res.analysis_config.detectors[0].custom_rules[0].actions).toEqual(['skip_result']);
    expect(res.analysis_config.detectors[1].detector_description).toBe('updated description');
    expect(res.analysis_config.detectors[1].detector_index).toBe(1);
    expect(res.background_persist_interval).toBe('3h');
    expect(res.renormalization_window_days).toBe(10);
    expect(res.results_retention_days).toBe(40);
    expect(res.model_snapshot_retention_days).toBe(20);
    expect(res.daily_model_snapshot_retention_after_days).toBe(2);
    expect(res.custom_settings).toEqual({ a: 'b' });
    expect(res.analysis_config.bucket_span).toBe('5m');
    expect(res.analysis_config.model_prune_window).toBe('60d');
    expect(res.datafeed_config).toBeUndefined();
    const got = (await es.ml.getJobs({ job_id: id })).jobs[0]!;
    expect(got.description).toBe('Post update description');
    const notes = await es.transport.request<any>({ method: 'GET', path: `/_ml/anomaly_detectors/${id}/_notifications` });
    expect(notes.notifications[0].message).toMatch(/^Job updated: \[/);
    expect(notes.notifications[0].message).toContain('analysis_limits');
  });

  it('close and get by group name use the new groups', async () => {
    const id = uniqueId('grp');
    await twoDetectorJob(id);
    await update(id, { groups: [`${id}-g`] });
    expect((await es.ml.getJobs({ job_id: `${id}-g` })).jobs.map((j) => j.job_id)).toEqual([id]);
    await es.ml.openJob({ job_id: id });
    expect(await es.ml.closeJob({ job_id: `${id}-g` })).toEqual({ closed: true });
    expect((await es.ml.getJobStats({ job_id: id })).jobs[0]!.state).toBe('closed');
  });
});

describe('update job: the reference docs example', () => {
  it('the official client updates the seed job and gets the docs response fields', async () => {
    const id = uniqueId('low-request-rate');
    await es.ml.putJob({
      job_id: id,
      analysis_config: { bucket_span: '1h', summary_count_field_name: 'doc_count', detectors: [{ function: 'low_count' }] },
      data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
    });
    const res = await es.ml.updateJob({
      job_id: id,
      description: 'An updated job',
      detectors: [{ detector_index: 0, description: 'An updated detector description' }],
      groups: ['kibana_sample_data', 'kibana_sample_web_logs'],
      model_plot_config: { enabled: true },
      renormalization_window_days: 30,
      background_persist_interval: '2h',
      model_snapshot_retention_days: 7,
      results_retention_days: 60,
    });
    expect(res).toMatchObject({
      job_id: id,
      job_type: 'anomaly_detector',
      groups: ['kibana_sample_data', 'kibana_sample_web_logs'],
      description: 'An updated job',
      analysis_config: {
        bucket_span: '1h',
        summary_count_field_name: 'doc_count',
        detectors: [{ detector_description: 'An updated detector description', function: 'low_count', detector_index: 0 }],
        influencers: [],
      },
      analysis_limits: { model_memory_limit: '1024mb', categorization_examples_limit: 4 },
      data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
      model_plot_config: { enabled: true, annotations_enabled: true },
      renormalization_window_days: 30,
      background_persist_interval: '2h',
      model_snapshot_retention_days: 7,
      daily_model_snapshot_retention_after_days: 1,
      results_retention_days: 60,
      results_index_name: 'shared',
      allow_lazy_open: false,
    });
    expect(typeof res.create_time).toBe('number');
    // The docs write `detectors` as a single object; Elasticsearch's object-array fields accept that too.
    const single = await update(id, { detectors: { detector_index: 0, description: 'single object form' } });
    expect(single.analysis_config.detectors[0].detector_description).toBe('single object form');
  });
});

describe('update job: bad input changes nothing', () => {
  it('rejects _all, unknown fields, unknown jobs, bad indexes and bad values with Elasticsearch errors', async () => {
    const id = uniqueId('bad');
    await twoDetectorJob(id);
    expect(await esError(update('_all', { description: 'x' }))).toMatchObject({ status: 400, type: 'status_exception', reason: 'Cannot update more than 1 job at a time' });
    // The body is parsed first (spec A.2 step 1 before step 2).
    expect((await esError(update('_all', { bogus: 1 }))).reason).toMatch(/\[job_update\] unknown field \[bogus\]/);
    const unknown = await esError(update(id, { foo: 1 }));
    expect(unknown).toMatchObject({ status: 400, type: 'x_content_parse_exception' });
    expect(unknown.reason).toMatch(/\[job_update\] unknown field \[foo\]/);
    expect(await esError(update('missing-job', { description: 'x' }))).toMatchObject({ status: 404, reason: "No known job with id 'missing-job'" });
    expect(await esError(update(id, { detectors: [{ detector_index: 5, description: 'x' }] }))).toMatchObject({
      status: 400,
      reason: 'Supplied detector_index [5] is >= the number of detectors [2]',
    });
    expect(await esError(update(id, { background_persist_interval: '30m' }))).toMatchObject({
      status: 400,
      type: 'illegal_argument_exception',
      reason: 'background_persist_interval cannot be less than 3,600. Value = 1,800',
    });
    expect(await esError(update(id, { daily_model_snapshot_retention_after_days: 31 }))).toMatchObject({
      reason: 'The value of daily_model_snapshot_retention_after_days [31] cannot be greater than model_snapshot_retention_days [30]',
    });
    expect(await esError(update(id, { model_snapshot_retention_days: 1 }))).toMatchObject({
      reason: 'The value of daily_model_snapshot_retention_after_days [2] cannot be greater than model_snapshot_retention_days [1]',
    });
    expect(await esError(update(id, { model_prune_window: '2m' }))).toMatchObject({
      status: 400,
      type: 'status_exception',
      reason: 'model_prune_window [2m] must be a multiple of bucket_span [5m]',
    });
    expect(await esError(update(id, { model_prune_window: '5m' }))).toMatchObject({ reason: 'model_prune_window [5m] must be at least 2 times greater than bucket_span [5m]' });
    const prune = await esError(update(id, { model_prune_window: '8w' }));
    // Like the YAML runner's catch regex, match anywhere in the error (ES wraps it in a ConstructingObjectParser "failed to build" error).
    expect(prune.status).toBe(400);
    expect(JSON.stringify(prune.body)).toMatch(/\[job_update\] failed to parse field \[model_prune_window\]/);
    const rule = await esError(update(id, { detectors: [{ detector_index: 0, custom_rules: [{ actions: ['skip_result'] }] }] }));
    expect(rule.status).toBe(400);
    expect(rule.body.error.root_cause[0]).toEqual({ type: 'status_exception', reason: 'Invalid detector rule: at least scope or a condition is required' });
    const scope = await esError(update(id, { detectors: [{ detector_index: 0, custom_rules: [{ scope: { host: { filter_id: 'f' } } }] }] }));
    expect(scope.reason).toBe("Invalid detector rule: scope field 'host' is invalid; select from [airline]");
    expect(await esError(update(id, { groups: [id] }))).toMatchObject({ status: 400, type: 'resource_already_exists_exception' });
    expect(await esError(update(id, { groups: ['Bad Group'] }))).toMatchObject({ status: 400 });
    const after = (await es.ml.getJobs({ job_id: id })).jobs[0]!;
    expect(after.description).toBe('pre-update description');
    expect(after.model_snapshot_retention_days).toBe(30);
    expect(after.analysis_config.detectors[0]!.custom_rules).toBeUndefined();
    expect(after.groups ?? []).toEqual([]);
  });

  it('model_memory_limit cannot change while opened but can while closed, and resets when analysis_limits omits it', async () => {
    const id = uniqueId('mml');
    await twoDetectorJob(id, { analysis_limits: { model_memory_limit: '10mb' } });
    await es.ml.openJob({ job_id: id });
    expect(await esError(update(id, { analysis_limits: { model_memory_limit: '20mb' } }))).toMatchObject({
      status: 400,
      type: 'status_exception',
      reason: 'Cannot update analysis_limits while the job is open',
    });
    await es.ml.closeJob({ job_id: id });
    expect((await update(id, { analysis_limits: { model_memory_limit: '20mb' } })).analysis_limits.model_memory_limit).toBe('20mb');
    expect((await update(id, { analysis_limits: { model_memory_limit: '15mb' } })).analysis_limits.model_memory_limit).toBe('15mb');
    expect((await update(id, { analysis_limits: { categorization_examples_limit: 5 } })).analysis_limits).toEqual({
      model_memory_limit: '1024mb',
      categorization_examples_limit: 5,
    });
  });

  it('an update posted before a close is applied before it, even while the job is busy', async () => {
    const { submitCommand, awaitCommand } = await direct(() => import('../../lib/app/commands.ts'));
    const id = uniqueId('order');
    await twoDetectorJob(id);
    await es.ml.openJob({ job_id: id });
    // Data, then the update, then the close, queued back to back in the job's FIFO group.
    const body = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ time: T0 + i * 1000, airline: `a${i % 50}`, responsetime: 100 + (i % 7) })).join('\n');
    const data = await submitCommand({ action: 'data', es_action: 'cluster:admin/xpack/ml/job/data/post', description: 'd', targets: [id], payload: body });
    const upd = await submitCommand({
      action: 'update',
      es_action: 'cluster:admin/xpack/ml/job/update',
      description: 'u',
      targets: [id],
      payload: '{"description":"before close"}',
    });
    const close = await submitCommand({ action: 'close', es_action: 'cluster:admin/xpack/ml/job/close', description: 'c', targets: [id] });
    for (const c of [data, upd, close]) expect((await awaitCommand(c.command_id, 60_000)).kind).toBe('finished');
    const job = (await es.ml.getJobs({ job_id: id })).jobs[0]!;
    expect(job.description).toBe('before close');
    expect(typeof job.finished_time).toBe('number');
    const notes = await es.transport.request<any>({ method: 'GET', path: `/_ml/anomaly_detectors/${id}/_notifications` });
    const messages: string[] = notes.notifications.map((n: any) => n.message).reverse();
    expect(messages.findIndex((m) => m.startsWith('Job updated'))).toBeGreaterThanOrEqual(0);
    expect(messages.findIndex((m) => m.startsWith('Job updated'))).toBeLessThan(messages.indexOf('Job is closing'));
  });
});

describe('update job: each property takes effect', () => {
  it('custom rules act on the next data: skip_result drops the record of a scoped series', async () => {
    const id = uniqueId('rules');
    const filterId = uniqueId('quiet');
    await es.ml.putFilter({ filter_id: filterId, items: ['b'] });
    await es.ml.putJob({
      job_id: id,
      analysis_config: { bucket_span: '1h', detectors: [{ function: 'high_mean', field_name: 'cpu', by_field_name: 'host' }] },
      data_description: { time_field: 'timestamp' },
    });
    await es.ml.openJob({ job_id: id });
    const data = (hours: number[], spike: number) => hours.flatMap((h) => ['a', 'b'].map((host) => ({ timestamp: T0 + h * HOUR, host, cpu: h === spike ? 95 : 20 + (h % 3) })));
    await es.ml.postData({ job_id: id, data: data([...Array(60).keys()], 50) });
    await es.ml.flushJob({ job_id: id, advance_time: String(T0 + 60 * HOUR) });
    const before = await es.ml.getRecords({ job_id: id, record_score: 1 });
    expect(before.records.some((r) => r.by_field_value === 'b' && r.timestamp === T0 + 50 * HOUR)).toBe(true);
    await update(id, { detectors: [{ detector_index: 0, custom_rules: [{ actions: ['skip_result'], scope: { host: { filter_id: filterId } } }] }] });
    await es.ml.postData({
      job_id: id,
      data: data(
        [...Array(40).keys()].map((h) => h + 60),
        90,
      ),
    });
    await es.ml.closeJob({ job_id: id });
    const after = await es.ml.getRecords({ job_id: id, start: String(T0 + 60 * HOUR), record_score: 1 });
    expect(after.records.some((r) => r.by_field_value === 'a' && r.timestamp === T0 + 90 * HOUR)).toBe(true);
    expect(after.records.some((r) => r.by_field_value === 'b')).toBe(false);
  });

  it('model_plot_config writes model plot results, only for terms when set', async () => {
    const id = uniqueId('plot');
    await es.ml.putJob({
      job_id: id,
      analysis_config: { bucket_span: '1h', detectors: [{ function: 'mean', field_name: 'cpu', by_field_name: 'host' }] },
      data_description: { time_field: 'timestamp' },
    });
    await update(id, { model_plot_config: { enabled: true, terms: 'a' } });
    await es.ml.openJob({ job_id: id });
    const data = [...Array(30).keys()].flatMap((h) => ['a', 'b'].map((host) => ({ timestamp: T0 + h * HOUR, host, cpu: 20 + (h % 4) })));
    await es.ml.postData({ job_id: id, data });
    await es.ml.closeJob({ job_id: id });
    const plot = await es.transport.request<any>({ method: 'GET', path: `/_ml/anomaly_detectors/${id}/results/model_plot` });
    expect(plot.count).toBeGreaterThan(0);
    for (const p of plot.model_plot) {
      expect(p.by_field_value).toBe('a');
      expect(p.model_lower).toBeLessThanOrEqual(p.model_median);
      expect(p.model_median).toBeLessThanOrEqual(p.model_upper);
    }
  });

  it('results_retention_days makes maintenance delete older results and snapshot retention prunes snapshots', async () => {
    const id = uniqueId('retain');
    await es.ml.putJob({ job_id: id, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' } });
    await es.ml.openJob({ job_id: id });
    await es.ml.postData({ job_id: id, data: hourlyCounts(T0, 24 * 5, () => 3).map((r) => ({ timestamp: r.timestamp })) });
    await es.ml.closeJob({ job_id: id });
    expect((await es.ml.getBuckets({ job_id: id, size: 1000 })).count).toBe(120);
    await update(id, { results_retention_days: 2 });
    const { runMaintenance } = await direct(() => import('../../lib/app/maintenance.ts'));
    await runMaintenance();
    const left = await es.ml.getBuckets({ job_id: id, size: 1000 });
    expect(left.count).toBeLessThanOrEqual(49);
    expect(left.count).toBeGreaterThanOrEqual(47);
  });
});

describe('filters', () => {
  it('put sorts and deduplicates, update adds and removes, and removing an absent item is 400', async () => {
    const id = uniqueId('f');
    const put = await es.ml.putFilter({ filter_id: id, description: 'd', items: ['b', 'a', 'b'] });
    expect(put).toEqual({ filter_id: id, description: 'd', items: ['a', 'b'] });
    const upd = await es.ml.updateFilter({ filter_id: id, add_items: ['c'], remove_items: ['a'] });
    expect(upd.items).toEqual(['b', 'c']);
    expect(await esError(es.ml.updateFilter({ filter_id: id, remove_items: ['zzz'] }))).toMatchObject({
      status: 400,
      type: 'status_exception',
      reason: `Cannot remove item [zzz] as it is not present in filter [${id}]`,
    });
    expect((await es.ml.getFilters({ filter_id: id })).filters[0]!.items).toEqual(['b', 'c']);
    expect(await esError(es.ml.putFilter({ filter_id: id, items: [] }))).toMatchObject({ status: 400, type: 'resource_already_exists_exception' });
    expect(await esError(es.ml.getFilters({ filter_id: 'missing-filter' }))).toMatchObject({ status: 404 });
    expect(await esError(es.ml.putFilter({ filter_id: uniqueId('big'), items: Array.from({ length: 10_001 }, (_, i) => `i${i}`) }))).toMatchObject({
      status: 400,
    });
  });

  it('a filter used by a job cannot be deleted', async () => {
    const f = uniqueId('used');
    await es.ml.putFilter({ filter_id: f, items: ['x'] });
    const id = uniqueId('uses');
    await es.ml.putJob({
      job_id: id,
      analysis_config: {
        bucket_span: '1h',
        detectors: [{ function: 'count', by_field_name: 'host', custom_rules: [{ actions: ['skip_result'], scope: { host: { filter_id: f } } }] }],
      },
      data_description: { time_field: 'timestamp' },
    });
    expect(await esError(es.ml.deleteFilter({ filter_id: f }))).toMatchObject({ status: 409, reason: `Cannot delete filter [${f}] currently used by jobs [${id}]` });
    await es.ml.deleteJob({ job_id: id });
    expect(await es.ml.deleteFilter({ filter_id: f })).toEqual({ acknowledged: true });
  });
});

describe('filters at the size limit', () => {
  it('a filter of 10,000 long items is stored and read back whole', async () => {
    const id = uniqueId('huge');
    const items = Array.from({ length: 10_000 }, (_, i) => `host-${String(i).padStart(5, '0')}.eu-west-1.compute.internal.example.com`);
    const put = await es.ml.putFilter({ filter_id: id, items });
    expect(put.items).toHaveLength(10_000);
    const got = (await es.ml.getFilters({ filter_id: id })).filters[0]!;
    expect(got.items).toEqual([...items].sort());
    expect(await esError(es.ml.getFilters({ filter_id: id, from: -1 }))).toMatchObject({ status: 400, reason: 'Parameter [from] cannot be < 0' });
  });
});
