import { describe, expect, it } from 'vitest';
import { esClient, esError, hourlyCounts, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();
const T0 = Date.UTC(2026, 0, 5);

async function job(id: string, groups: string[] = [], open = true): Promise<void> {
  await es.ml.putJob({
    job_id: id,
    groups,
    analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] },
    data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
  });
  if (open) await es.ml.openJob({ job_id: id });
}

const state = async (id: string) => (await es.ml.getJobStats({ job_id: id })).jobs[0]!.state;

async function markFailed(id: string): Promise<void> {
  const store = await direct(() => import('../../lib/store/jobs.ts'));
  const rt = (await store.getJobRuntime(id))!;
  await store.putJobRuntime({ ...rt, state: 'failed', reason: 'simulated process crash', version: rt.version + 1 });
}

describe('close anomaly detection jobs (spec A.1)', () => {
  it('closes a comma list, a group and a wildcard', async () => {
    const p = uniqueId('cl');
    await job(`${p}-a`);
    await job(`${p}-b`, [`${p}-grp`]);
    await job(`${p}-c`, [`${p}-grp`]);
    await job(`${p}-wild-1`);
    await job(`${p}-wild-2`);
    expect(await es.ml.closeJob({ job_id: `${p}-a` })).toEqual({ closed: true });
    expect(await es.ml.closeJob({ job_id: `${p}-grp` })).toEqual({ closed: true });
    for (const s of ['a', 'b', 'c']) expect(await state(`${p}-${s}`)).toBe('closed');
    expect(await state(`${p}-wild-1`)).toBe('opened');
    expect(await es.ml.closeJob({ job_id: `${p}-wild-*` })).toEqual({ closed: true });
    expect(await state(`${p}-wild-1`)).toBe('closed');
    expect(await state(`${p}-wild-2`)).toBe('closed');
  });

  it('closing an already closed job answers closed, forced or not', async () => {
    const id = uniqueId('closed');
    await job(id, [], false);
    expect(await es.ml.closeJob({ job_id: id })).toEqual({ closed: true });
    expect(await es.ml.closeJob({ job_id: id, force: true })).toEqual({ closed: true });
  });

  it('an unknown id is 404 whatever allow_no_match says', async () => {
    const e = await esError(es.ml.closeJob({ job_id: 'missing-job', allow_no_match: true }));
    expect(e).toMatchObject({ status: 404, type: 'resource_not_found_exception', reason: "No known job with id 'missing-job'" });
  });

  it('a wildcard that matches nothing is fine with allow_no_match and 404 without', async () => {
    expect(await es.ml.closeJob({ job_id: 'missing-*' })).toEqual({ closed: true });
    const e = await esError(es.ml.closeJob({ job_id: 'missing-*', allow_no_match: false }));
    expect(e).toMatchObject({ status: 404, reason: "No known job with id 'missing-*'" });
  });

  it('the body wins over the query string', async () => {
    const e = await esError(
      es.transport.request({ method: 'POST', path: '/_ml/anomaly_detectors/missing-*/_close', querystring: { allow_no_match: 'true' }, body: { allow_no_match: false } }),
    );
    expect(e.status).toBe(404);
    const ok = await es.transport.request({
      method: 'POST',
      path: '/_ml/anomaly_detectors/missing-*/_close',
      querystring: { allow_no_match: 'false' },
      body: { allow_no_match: true },
    });
    expect(ok).toEqual({ closed: true });
  });

  it('an unknown body field is x_content_parse_exception naming the close action parser', async () => {
    const e = await esError(es.transport.request({ method: 'POST', path: '/_ml/anomaly_detectors/x/_close', body: { foo: 1 } }));
    expect(e.status).toBe(400);
    expect(e.type).toBe('x_content_parse_exception');
    expect(e.reason).toMatch(/^\[1:\d+\] \[cluster:admin\/xpack\/ml\/job\/close\] unknown field \[foo\]$/);
  });

  it('a bad timeout is 400 with the TimeValue message', async () => {
    const id = uniqueId('bad-timeout');
    await job(id);
    const e = await esError(es.transport.request({ method: 'POST', path: `/_ml/anomaly_detectors/${id}/_close`, querystring: { timeout: '10x' } }));
    expect(e).toMatchObject({
      status: 400,
      type: 'illegal_argument_exception',
      reason: 'failed to parse setting [timeout] with value [10x] as a time value: unit is missing or unrecognized',
    });
    expect(await state(id)).toBe('opened');
    await es.ml.closeJob({ job_id: id });
  });

  it('a bad timeout in the body is x_content_parse_exception wrapping the TimeValue error', async () => {
    const e = await esError(es.transport.request({ method: 'POST', path: '/_ml/anomaly_detectors/missing-*/_close', body: { timeout: 'abc' } }));
    expect(e.status).toBe(400);
    expect(e.type).toBe('x_content_parse_exception');
    expect(e.reason).toMatch(/^\[1:\d+\] \[cluster:admin\/xpack\/ml\/job\/close\] failed to parse field \[timeout\]$/);
    expect(e.body.error.caused_by).toMatchObject({
      type: 'illegal_argument_exception',
      reason: 'failed to parse setting [timeout] with value [abc] as a time value: unit is missing or unrecognized',
    });
  });

  it('an unknown query parameter is 400 and nothing is closed', async () => {
    const id = uniqueId('bad-param');
    await job(id);
    const e = await esError(es.transport.request({ method: 'POST', path: `/_ml/anomaly_detectors/${id}/_close`, querystring: { bogus: 'x' } }));
    expect(e).toMatchObject({ status: 400, type: 'illegal_argument_exception', reason: `request [/_ml/anomaly_detectors/${id}/_close] contains unrecognized parameter: [bogus]` });
    expect(await state(id)).toBe('opened');
    await es.ml.closeJob({ job_id: id });
  });

  it('a failed job needs force: one job names it, several do not, and nothing changes', async () => {
    const p = uniqueId('failed');
    await job(`${p}-1`, [`${p}-g`]);
    await job(`${p}-2`, [`${p}-g`]);
    await markFailed(`${p}-1`);
    const one = await esError(es.ml.closeJob({ job_id: `${p}-1` }));
    expect(one).toMatchObject({ status: 409, type: 'status_exception', reason: `cannot close job [${p}-1] because it failed, use force close` });
    const many = await esError(es.ml.closeJob({ job_id: `${p}-g` }));
    expect(many).toMatchObject({ status: 409, reason: 'one or more jobs have state failed, use force close' });
    expect(await state(`${p}-1`)).toBe('failed');
    expect(await state(`${p}-2`)).toBe('opened');
    expect(await es.ml.closeJob({ job_id: `${p}-g`, force: true })).toEqual({ closed: true });
    expect(await state(`${p}-1`)).toBe('closed');
    expect(await state(`${p}-2`)).toBe('closed');
  });

  it('force close skips final results and the snapshot but sets finished_time', async () => {
    const id = uniqueId('force');
    await job(id);
    await es.ml.postData({ job_id: id, data: hourlyCounts(T0, 10, () => 5).map((r) => ({ timestamp: r.timestamp })) });
    expect(await es.ml.closeJob({ job_id: id, force: true })).toEqual({ closed: true });
    expect(await state(id)).toBe('closed');
    const j = (await es.ml.getJobs({ job_id: id })).jobs[0]!;
    expect(typeof j.finished_time).toBe('number');
    expect(j.model_snapshot_id).toBeUndefined();
    expect((await es.ml.getModelSnapshots({ job_id: id })).count).toBe(0);
  });

  it('_all closes every open job', async () => {
    const id = uniqueId('all');
    await job(id);
    expect(await es.ml.closeJob({ job_id: '_all' })).toEqual({ closed: true });
    expect(await state(id)).toBe('closed');
  });

  it('a timeout that runs out is 500 illegal_state_exception, and the close carries on', async () => {
    const id = uniqueId('timeout');
    await job(id);
    await es.ml.postData({ job_id: id, data: hourlyCounts(T0, 48, () => 5).map((r) => ({ timestamp: r.timestamp })) });
    const e = await esError(es.ml.closeJob({ job_id: id, timeout: '0s' }));
    expect(e).toMatchObject({ status: 500, type: 'illegal_state_exception', reason: 'Timed out when waiting for persistent tasks after 0s' });
    const deadline = Date.now() + 30_000;
    while ((await state(id)) !== 'closed') {
      if (Date.now() > deadline) throw new Error('close did not finish');
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});
