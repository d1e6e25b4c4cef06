/**
 * DELETE _ml/_delete_expired_data through the official client: the answers, Elasticsearch's
 * errors for bad input, what the removers delete and keep, the idle-job auto-close, and the
 * upgrade-mode refusal. Global state (the cluster setting, upgrade mode) is restored in `finally`.
 */
import { describe, expect, it } from 'vitest';
import { esClient, esError, hourlyCounts, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();
const DAY = 86_400_000;
const T0 = Date.parse('2017-01-01T00:00:00Z');

const notifications = async (job: string): Promise<string[]> =>
  (await es.transport.request<any>({ method: 'GET', path: `/_ml/anomaly_detectors/${job}/_notifications`, querystring: { size: 1000 } })).notifications.map(
    (n: { message: string }) => n.message,
  );

async function putJob(id: string, extra: Record<string, unknown> = {}): Promise<void> {
  await es.ml.putJob({ job_id: id, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' }, ...extra });
}

describe('DELETE _ml/_delete_expired_data', () => {
  it('answers deleted: true for every job, for a job, a wildcard and _all, with query or body parameters', async () => {
    const id = uniqueId('ded-plain');
    await putJob(id);
    expect(await es.ml.deleteExpiredData()).toEqual({ deleted: true });
    expect(await es.ml.deleteExpiredData({ job_id: id })).toEqual({ deleted: true });
    expect(await es.ml.deleteExpiredData({ job_id: `${id.slice(0, -2)}*`, requests_per_second: 100000, timeout: '10h' })).toEqual({ deleted: true });
    expect(await es.ml.deleteExpiredData({ job_id: '_all' })).toEqual({ deleted: true });
    const viaQuery = await es.transport.request({ method: 'DELETE', path: `/_ml/_delete_expired_data/${id}`, querystring: { requests_per_second: '-1', timeout: '1h' } });
    expect(viaQuery).toEqual({ deleted: true });
  });

  it('answers deleted: false when the timeout runs out before the next job, with Elasticsearch’s warning on the job', async () => {
    const id = uniqueId('ded-timeout');
    await putJob(id);
    expect(await es.ml.deleteExpiredData({ job_id: id, timeout: '-1' })).toEqual({ deleted: false });
    expect((await notifications(id)).some((m) => m.startsWith('Deleting expired ML data was cancelled after the timeout period of [-1] was exceeded.'))).toBe(true);
  });

  it('refuses an unknown job, a bad requests_per_second, a bad timeout and an unknown body field', async () => {
    expect(await esError(es.ml.deleteExpiredData({ job_id: 'not-a-job' }))).toMatchObject({
      status: 404,
      type: 'resource_not_found_exception',
      reason: "No known job with id 'not-a-job'",
    });
    expect(await esError(es.ml.deleteExpiredData({ requests_per_second: 0 }))).toMatchObject({
      status: 400,
      type: 'action_request_validation_exception',
      reason: 'Validation Failed: 1: [requests_per_second] must either be -1 or greater than 0;',
    });
    expect(await esError(es.transport.request({ method: 'DELETE', path: '/_ml/_delete_expired_data', querystring: { requests_per_second: 'fast' } }))).toMatchObject({
      status: 400,
      type: 'illegal_argument_exception',
      reason: 'Failed to parse float parameter [requests_per_second] with value [fast]',
    });
    expect(await esError(es.transport.request({ method: 'DELETE', path: '/_ml/_delete_expired_data', querystring: { timeout: 'soon' } }))).toMatchObject({ status: 400 });
    expect(await esError(es.transport.request({ method: 'DELETE', path: '/_ml/_delete_expired_data', body: { speed: 1 } }))).toMatchObject({
      status: 400,
      type: 'x_content_parse_exception',
      reason: '[1:2] [delete_expired_data_request] unknown field [speed]',
    });
  });

  it('deletes expired results and snapshots and keeps the rest, auditing each', async () => {
    const id = uniqueId('ded-retain');
    await putJob(id, { results_retention_days: 2, model_snapshot_retention_days: 2, daily_model_snapshot_retention_after_days: 1 });
    await es.ml.openJob({ job_id: id });
    await es.ml.postData({ job_id: id, data: hourlyCounts(T0, 24 * 5, () => 3).map((r) => ({ timestamp: r.timestamp })) });
    await es.ml.closeJob({ job_id: id });
    expect((await es.ml.getBuckets({ job_id: id, size: 1000 })).count).toBe(120);
    const current = (await es.ml.getJobs({ job_id: id })).jobs[0]?.model_snapshot_id as string;
    const newest = (await es.ml.getModelSnapshots({ job_id: id, snapshot_id: current })).model_snapshots[0]?.timestamp as number;
    const { writeSnapshot } = await direct(() => import('../../lib/store/snapshots.ts'));
    const put = (snapshotId: string, timestamp: number, retain = false) =>
      writeSnapshot({ job_id: id, snapshot_id: snapshotId, timestamp, snapshot_doc_count: 1, retain, min_version: '7.0.0' }, new Uint8Array([1]));
    await put('too-old', newest - 3 * DAY);
    await put('retained', newest - 5 * DAY, true);
    await put('day-first', newest - 1.5 * DAY);
    await put('day-second', newest - 1.5 * DAY + 3_600_000);
    await put('young', newest - 3_600_000);

    expect(await es.ml.deleteExpiredData({ job_id: id })).toEqual({ deleted: true });

    const left = await es.ml.getBuckets({ job_id: id, size: 1000 });
    expect(left.count).toBeGreaterThanOrEqual(47);
    expect(left.count).toBeLessThanOrEqual(49);
    const ids = (await es.ml.getModelSnapshots({ job_id: id })).model_snapshots.map((s) => s.snapshot_id).sort();
    expect(ids).toEqual([current, 'day-first', 'retained', 'young'].sort());
    const messages = await notifications(id);
    expect(messages.some((m) => /^Deleted results prior to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(m))).toBe(true);
    expect(messages).toContain('[2] expired model snapshots deleted');

    // A second run finds nothing more and audits nothing new.
    expect(await es.ml.deleteExpiredData({ job_id: id })).toEqual({ deleted: true });
    expect((await es.ml.getBuckets({ job_id: id, size: 1000 })).count).toBe(left.count);
    expect((await notifications(id)).length).toBe(messages.length);
  });

  it('closes an opened job idle longer than xpack.ml.idle_job_auto_close_timeout, through the normal close', async () => {
    const id = uniqueId('ded-idle');
    await putJob(id);
    expect(await esError(es.cluster.putSettings({ persistent: { 'xpack.ml.idle_job_auto_close_timeout': '0s' } }))).toMatchObject({
      status: 400,
      type: 'illegal_argument_exception',
      reason: 'failed to parse value [0s] for setting [xpack.ml.idle_job_auto_close_timeout], must be >= [1s]',
    });
    try {
      await es.ml.openJob({ job_id: id });
      // Off by default: an idle job stays open.
      await es.ml.deleteExpiredData({ job_id: id });
      expect((await es.ml.getJobStats({ job_id: id })).jobs[0]?.state).toBe('opened');
      await es.cluster.putSettings({ persistent: { 'xpack.ml.idle_job_auto_close_timeout': '1s' } });
      const deadline = Date.now() + 30_000;
      let state = 'opened';
      while (state !== 'closed' && Date.now() < deadline) {
        await es.ml.deleteExpiredData({ job_id: id });
        state = (await es.ml.getJobStats({ job_id: id })).jobs[0]?.state as string;
      }
      expect(state).toBe('closed');
      const messages = await notifications(id);
      expect(messages.some((m) => m.startsWith('Job closed automatically during maintenance: '))).toBe(true);
      // The normal close ran: its audit trail follows the auto-close message.
      expect(messages).toContain('Job is closing');
    } finally {
      await es.cluster.putSettings({ persistent: { 'xpack.ml.idle_job_auto_close_timeout': null } });
    }
  });

  it('is refused with 429 while upgrade mode is on', async () => {
    await es.transport.request({ method: 'POST', path: '/_ml/set_upgrade_mode', querystring: { enabled: 'true' } });
    try {
      expect(await esError(es.ml.deleteExpiredData())).toMatchObject({
        status: 429,
        reason: 'Cannot perform cluster:admin/xpack/ml/delete_expired_data action while upgrade mode is enabled',
      });
    } finally {
      await es.transport.request({ method: 'POST', path: '/_ml/set_upgrade_mode', querystring: { enabled: 'false' } });
    }
  });
});
