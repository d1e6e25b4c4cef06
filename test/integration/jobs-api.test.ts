import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { esClient, esError, hourlyCounts, uniqueId } from './client.ts';

const es = esClient();
const T0 = Date.UTC(2026, 0, 5);
const raw = (method: string, path: string, body?: string, querystring?: Record<string, string>) =>
  es.transport.request({ method, path, body, querystring }, { headers: { 'content-type': 'application/json' } });

const countJob = (job_id: string, extra: Record<string, unknown> = {}) =>
  es.ml.putJob({
    job_id,
    analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] },
    data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
    ...extra,
  });

describe('put job: bad input gets the Elasticsearch error and creates nothing', () => {
  it('malformed JSON is 400', async () => {
    const id = uniqueId('malformed');
    const e = await esError(raw('PUT', `/_ml/anomaly_detectors/${id}`, '{"analysis_config": {'));
    expect(e.status).toBe(400);
    expect(['x_content_parse_exception', 'parse_exception', 'json_parse_exception']).toContain(e.type);
    expect(await esError(es.ml.getJobs({ job_id: id }))).toMatchObject({ status: 404 });
  });

  it('an unknown field is x_content_parse_exception naming job_details', async () => {
    const id = uniqueId('unknown-field');
    const e = await esError(raw('PUT', `/_ml/anomaly_detectors/${id}`, JSON.stringify({ analysis_config: { detectors: [{ function: 'count' }] }, data_description: {}, foo: 1 })));
    expect(e.status).toBe(400);
    expect(e.type).toBe('x_content_parse_exception');
    expect(e.reason).toMatch(/\[job_details\] unknown field \[foo\]/);
  });

  it('a wrong type is 400 failed to parse field', async () => {
    const id = uniqueId('wrong-type');
    const e = await esError(raw('PUT', `/_ml/anomaly_detectors/${id}`, JSON.stringify({ analysis_config: { bucket_span: '1h', detectors: 'count' }, data_description: {} })));
    expect(e.status).toBe(400);
    expect(e.reason).toMatch(/failed to parse field \[(analysis_config|detectors)\]/);
  });

  it('an invalid job id is 400 with the id rules', async () => {
    const e = await esError(countJob('Bad_ID'));
    expect(e).toMatchObject({
      status: 400,
      type: 'illegal_argument_exception',
      reason: "Invalid job_id; 'Bad_ID' can contain lowercase alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric",
    });
  });

  it('a bad bucket_span time unit is 400 naming the setting', async () => {
    const id = uniqueId('bad-span');
    const e = await esError(
      es.ml.putJob({ job_id: id, analysis_config: { bucket_span: '1w', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' } }),
    );
    expect(e.status).toBe(400);
    expect(JSON.stringify(e.body)).toContain('failed to parse setting [bucket_span] with value [1w] as a time value: unit is missing or unrecognized');
  });

  it('a taken id is resource_already_exists_exception', async () => {
    const id = uniqueId('taken');
    await countJob(id);
    const e = await esError(countJob(id));
    expect(e).toMatchObject({ status: 400, type: 'resource_already_exists_exception', reason: `The job cannot be created with the Id '${id}'. The Id is already used.` });
  });

  it('a missing body is 400 request body is required', async () => {
    const e = await esError(raw('PUT', `/_ml/anomaly_detectors/${uniqueId('nobody')}`));
    expect(e).toMatchObject({ status: 400, type: 'parse_exception', reason: 'request body is required' });
  });

  it('an oversized body is refused before it is read', async () => {
    const res = await fetch(`${inject('esUrl')}/_ml/anomaly_detectors/huge/_data`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`elastic:${inject('elasticPassword')}`).toString('base64')}`, 'content-type': 'application/json' },
      body: 'x'.repeat(101 * 1024 * 1024),
    }).catch((err: Error) => err);
    if (res instanceof Error) return expect(res.message).toMatch(/fetch failed|socket|EPIPE|ECONNRESET/);
    expect(res.status).toBe(413);
  });
});

describe('get jobs and stats', () => {
  it('resolves groups and wildcards, sorted, and honours allow_no_match', async () => {
    const p = uniqueId('get');
    await countJob(`${p}-b`, { groups: [`${p}-g`] });
    await countJob(`${p}-a`, { groups: [`${p}-g`] });
    const byGroup = await es.ml.getJobs({ job_id: `${p}-g` });
    expect(byGroup.jobs.map((j) => j.job_id)).toEqual([`${p}-a`, `${p}-b`]);
    const wild = await es.ml.getJobStats({ job_id: `${p}-*` });
    expect(wild.count).toBe(2);
    expect(wild.jobs.every((j) => j.state === 'closed' && j.model_size_stats.model_bytes === 0)).toBe(true);
    expect((await es.ml.getJobs({ job_id: `${p}-nothing-*` })).count).toBe(0);
    expect(await esError(es.ml.getJobs({ job_id: `${p}-nothing-*`, allow_no_match: false }))).toMatchObject({ status: 404, reason: `No known job with id '${p}-nothing-*'` });
    expect(await esError(es.ml.getJobStats({ job_id: 'missing-job' }))).toMatchObject({ status: 404 });
  });

  it('an open job shows node, open_time and an empty assignment_explanation', async () => {
    const id = uniqueId('stats-open');
    await countJob(id);
    await es.ml.openJob({ job_id: id });
    const s = (await es.ml.getJobStats({ job_id: id })).jobs[0]!;
    expect(s.state).toBe('opened');
    expect(s.node?.name).toBeTruthy();
    expect(s.open_time).toMatch(/^\d+s$/);
    expect(s.assignment_explanation).toBe('');
    await es.ml.closeJob({ job_id: id });
  });
});

describe('job stats data_counts', () => {
  it('input_field_count counts every field of a posted document less the time field, as jobs_get_stats.yml expects', async () => {
    const id = uniqueId('field-count');
    await es.ml.putJob({
      job_id: id,
      analysis_config: { bucket_span: '1h', detectors: [{ function: 'metric', field_name: 'responsetime', by_field_name: 'airline' }] },
      data_description: { time_field: 'time', time_format: 'epoch' },
    });
    await es.ml.openJob({ job_id: id });
    await es.ml.postData({
      job_id: id,
      data: [
        { airline: 'AAL', responsetime: '132.2046', time: '1403481600' },
        { airline: 'JZA', responsetime: '990.4628', time: '1403481600' },
        { airline: 'JZA', responsetime: '244.1276', time: '1403485200' },
      ],
    });
    await es.ml.flushJob({ job_id: id });
    const counts = (await es.ml.getJobStats({ job_id: id })).jobs[0]!.data_counts;
    expect(counts).toMatchObject({ processed_record_count: 3, processed_field_count: 6, input_field_count: 6 });
    // A field the job does not analyse counts too; an object counts by its fields.
    await es.ml.postData({ job_id: id, data: [{ airline: 'AAL', responsetime: '1', time: '1403488800', host: { name: 'a', tags: ['x', 'y'] } }] });
    expect((await es.ml.getJobStats({ job_id: id })).jobs[0]!.data_counts.input_field_count).toBe(6 + 4);
    await es.ml.closeJob({ job_id: id });
  });
});

describe('deprecation warnings on errors', () => {
  it('close with allow_no_jobs warns on the 404 as on the 200 (jobs_crud.yml catches missing with the warning)', async () => {
    const warning = 'Deprecated field [allow_no_jobs] used, expected [allow_no_match] instead';
    const ok = await es.transport.request({ method: 'POST', path: '/_ml/anomaly_detectors/missing-*/_close', querystring: { allow_no_jobs: 'true' } }, { meta: true });
    expect(ok.warnings?.join()).toContain(warning);
    const failed = await es.transport
      .request({ method: 'POST', path: '/_ml/anomaly_detectors/missing-*/_close', querystring: { allow_no_jobs: 'false' } }, { meta: true })
      .catch((err) => err.meta);
    expect(failed.statusCode).toBe(404);
    expect(failed.warnings?.join()).toContain(warning);
  });

  it('post data warns on a bad reset_start as on any other answer (post_data.yml invalid parameters)', async () => {
    const id = uniqueId('reset-warn');
    await countJob(id);
    await es.ml.openJob({ job_id: id });
    const failed = await es.transport
      .request({ method: 'POST', path: `/_ml/anomaly_detectors/${id}/_data`, querystring: { reset_start: 'not_a_date' }, body: { timestamp: T0 } }, { meta: true })
      .catch((err) => err.meta);
    expect(failed.statusCode).toBe(400);
    expect(JSON.stringify(failed.body)).toContain('parse_exception');
    expect(failed.warnings?.join()).toContain('Posting data directly to anomaly detection jobs is deprecated');
    await es.ml.closeJob({ job_id: id });
  });
});

describe('open job', () => {
  it('is 404 for an unknown job and 409 when already open', async () => {
    expect(await esError(es.ml.openJob({ job_id: 'missing-job' }))).toMatchObject({ status: 404, reason: "No known job with id 'missing-job'" });
    const id = uniqueId('twice');
    await countJob(id);
    await es.ml.openJob({ job_id: id });
    expect(await esError(es.ml.openJob({ job_id: id }))).toMatchObject({
      status: 409,
      type: 'status_exception',
      reason: `Cannot open job [${id}] because it has already been opened`,
    });
    await es.ml.closeJob({ job_id: id });
  });
});

describe('delete job', () => {
  it('refuses an open job without force, deletes it with force, and then it is gone', async () => {
    const id = uniqueId('del');
    await countJob(id);
    await es.ml.openJob({ job_id: id });
    await es.ml.postData({ job_id: id, data: hourlyCounts(T0, 3, () => 1) });
    expect(await esError(es.ml.deleteJob({ job_id: id }))).toMatchObject({ status: 409, reason: `Cannot delete job [${id}] because the job is opened` });
    expect(await es.ml.deleteJob({ job_id: id, force: true })).toEqual({ acknowledged: true });
    expect(await esError(es.ml.getJobs({ job_id: id }))).toMatchObject({ status: 404 });
    expect(await esError(es.ml.getBuckets({ job_id: id }))).toMatchObject({ status: 404 });
    expect(await esError(es.ml.deleteJob({ job_id: id }))).toMatchObject({ status: 404 });
  });

  it('wait_for_completion=false answers with a task that _tasks reports', async () => {
    const id = uniqueId('del-async');
    await countJob(id);
    const meta = await es.ml.deleteJob({ job_id: id, wait_for_completion: false }, { meta: true });
    expect(meta.statusCode).toBe(200);
    const res = meta.body as unknown as { task: string };
    expect(res.task).toMatch(/^[^:]+:\d+$/);
    const task = await es.tasks.get({ task_id: res.task, wait_for_completion: true });
    expect(task.completed).toBe(true);
    expect(task.task.action).toBe('cluster:admin/xpack/ml/job/delete');
    expect(task.response).toEqual({ acknowledged: true });
    expect(await esError(es.tasks.get({ task_id: 'nonsense' }))).toMatchObject({ status: 400, reason: 'malformed task id nonsense' });
    expect(await esError(es.tasks.get({ task_id: 'node:1' }))).toMatchObject({ status: 404 });
  });
});

describe('model snapshots', () => {
  it('lists newest first, pages with from/size and filters by id', async () => {
    const id = uniqueId('snaps');
    await countJob(id);
    for (let i = 0; i < 2; i++) {
      await es.ml.openJob({ job_id: id });
      await es.ml.postData({ job_id: id, data: hourlyCounts(T0 + i * 10 * 3_600_000, 10, () => 3) });
      await es.ml.closeJob({ job_id: id });
    }
    const all = await es.ml.getModelSnapshots({ job_id: id });
    expect(all.count).toBe(2);
    expect(all.model_snapshots[0]!.timestamp).toBeGreaterThanOrEqual(all.model_snapshots[1]!.timestamp);
    const page = await es.ml.getModelSnapshots({ job_id: id, from: 1, size: 1 });
    expect(page.count).toBe(2);
    expect(page.model_snapshots).toHaveLength(1);
    const one = await es.ml.getModelSnapshots({ job_id: id, snapshot_id: all.model_snapshots[1]!.snapshot_id });
    expect(one.count).toBe(1);
    expect(await esError(es.ml.getModelSnapshots({ job_id: 'missing-job' }))).toMatchObject({ status: 404 });
  });
});

describe('routing', () => {
  it('an unknown path is Elasticsearch no-handler 400 and a wrong method 405', async () => {
    const e = await esError(raw('GET', '/_ml/nothing_here'));
    expect(e.status).toBe(400);
    const m = await esError(raw('PATCH', '/_ml/anomaly_detectors/x'));
    expect(m.status).toBe(405);
  });
});

describe('what the model cannot run yet', () => {
  it('a function that is not modelled yet is refused at put with a clear 400, and nothing is created', async () => {
    const id = uniqueId('rare');
    const e = await esError(
      es.ml.putJob({ job_id: id, analysis_config: { detectors: [{ function: 'rare', by_field_name: 'x' }] }, data_description: { time_field: 'timestamp' } }),
    );
    expect(e.status).toBe(400);
    expect(e.reason).toMatch(/^mlplane does not support the \[rare\] function yet/);
    const over = await esError(
      es.ml.putJob({ job_id: id, analysis_config: { detectors: [{ function: 'count', over_field_name: 'x' }] }, data_description: { time_field: 'timestamp' } }),
    );
    expect(over.reason).toBe('mlplane does not support over_field_name (population analysis) yet');
    expect(await esError(es.ml.getJobs({ job_id: id }))).toMatchObject({ status: 404 });
  });
});
