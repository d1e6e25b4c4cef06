/**
 * Set upgrade mode (issue 9, spec A.4 and C) with the official client: enabling halts job and
 * datafeed work (a lookback stops between two chunks and its message is parked), blocked
 * actions answer 429, stats show the AWAITING_UPGRADE assignment, `_tasks` lists no ML task;
 * disabling resumes the parked work where it stopped, with nothing lost or posted twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { esClient, esError, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();

const T0 = Date.parse('2017-01-01T00:00:00Z');
const TEN_MIN = 600_000;
const AWAITING = 'persistent task cannot be assigned while upgrade mode is enabled.';

const setUpgradeMode = (query: Record<string, string>) => es.transport.request<any>({ method: 'POST', path: '/_ml/set_upgrade_mode', querystring: query });
const info = () => es.transport.request<any>({ method: 'GET', path: '/_ml/info' });

async function indexMetrics(index: string, n: number): Promise<void> {
  await es.indices.create({ index, mappings: { properties: { '@timestamp': { type: 'date' }, total: { type: 'long' } } } });
  for (let from = 0; from < n; from += 1000) {
    const operations: unknown[] = [];
    for (let i = from; i < Math.min(n, from + 1000); i++) operations.push({ index: { _index: index } }, { '@timestamp': T0 + i * TEN_MIN, total: 100 + (i % 7) });
    expect((await es.bulk({ operations })).errors).toBe(false);
  }
}

async function putJob(job: string): Promise<void> {
  await es.ml.putJob({
    job_id: job,
    analysis_config: { bucket_span: '1h', detectors: [{ function: 'sum', field_name: 'total' }] },
    data_description: { time_field: '@timestamp' },
  });
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

afterEach(async () => {
  // Every test leaves upgrade mode off, as Elasticsearch's YAML teardown does (a no-op ack when it is off).
  await until(
    'upgrade mode off',
    () => setUpgradeMode({ enabled: 'false', timeout: '30s' }).catch((e) => e),
    (r) => r?.acknowledged === true,
    60_000,
  );
});

describe('set upgrade mode: the user story', () => {
  it('halts a running lookback between two chunks, blocks new work, and resumes it with nothing lost', { timeout: 300_000 }, async () => {
    const index = uniqueId('um-metrics');
    const job = uniqueId('um-job');
    const other = uniqueId('um-other');
    await indexMetrics(index, 3000);
    await putJob(job);
    await putJob(other);
    const feed = `datafeed-${job}`;
    // 124 six-hour chunks: the lookback is still running when upgrade mode comes on.
    await es.ml.putDatafeed({ datafeed_id: feed, job_id: job, indices: [index], chunking_config: { mode: 'manual', time_span: '6h' } });
    await es.ml.openJob({ job_id: job });
    expect((await info()).upgrade_mode).toBe(false);

    await es.ml.startDatafeed({ datafeed_id: feed, start: '2017-01-01T00:00:00Z', end: '2017-02-01T00:00:00Z' });
    await until(
      'some data posted',
      () => es.ml.getJobStats({ job_id: job }),
      (s) => (s.jobs[0]?.data_counts.processed_record_count ?? 0) > 0,
    );
    expect(await setUpgradeMode({ enabled: 'true', timeout: '30s' })).toEqual({ acknowledged: true });

    const on = await info();
    expect(on.upgrade_mode).toBe(true);
    expect(Date.parse(on.upgrade_mode_since)).toBeGreaterThan(Date.now() - 120_000);
    expect(on.parked_commands).toBeGreaterThanOrEqual(1);

    // Acknowledged means nothing is being written: the counts stay where they are.
    const halted = (await es.ml.getJobStats({ job_id: job })).jobs[0]!;
    expect(halted.state).toBe('opened');
    expect(halted.node).toBeUndefined();
    expect(halted.assignment_explanation).toBe(AWAITING);
    const processed = halted.data_counts.processed_record_count;
    expect(processed).toBeLessThan(3000);
    const feedStats: any = (await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0];
    expect(feedStats.state).toBe('started');
    expect(feedStats.node).toBeUndefined();
    expect(feedStats.assignment_explanation).toBe(AWAITING);
    expect(await es.tasks.list({ actions: 'xpack/ml/job*,xpack/ml/datafeed*' })).toEqual({ nodes: {} });

    // Blocked actions: 429 with the action's name, nothing changed.
    const open = await esError(es.ml.openJob({ job_id: other }));
    expect(open).toMatchObject({ status: 429, type: 'status_exception', reason: 'Cannot perform cluster:admin/xpack/ml/job/open action while upgrade mode is enabled' });
    const post = await esError(es.ml.postData({ job_id: job, data: [{ '@timestamp': T0, total: 1 }] }));
    expect(post).toMatchObject({ status: 429, reason: 'Cannot perform cluster:admin/xpack/ml/job/data/post action while upgrade mode is enabled' });
    const close = await esError(es.ml.closeJob({ job_id: job }));
    expect(close.reason).toBe('Cannot perform cluster:admin/xpack/ml/job/close action while upgrade mode is enabled');
    const stop = await esError(es.ml.stopDatafeed({ datafeed_id: feed }));
    expect(stop.reason).toBe('Cannot perform cluster:admin/xpack/ml/datafeed/stop action while upgrade mode is enabled');
    // The filter runs before the action, as Elasticsearch's MlUpgradeModeActionFilter: an unknown job is 429 too, not 404.
    expect((await esError(es.ml.deleteJob({ job_id: 'no-such-job' }))).reason).toBe('Cannot perform cluster:admin/xpack/ml/job/delete action while upgrade mode is enabled');
    expect((await esError(es.ml.openJob({ job_id: 'no-such-job' }))).status).toBe(429);
    expect((await esError(es.ml.putFilter({ filter_id: uniqueId('f'), items: ['a'] }))).reason).toBe(
      'Cannot perform cluster:admin/xpack/ml/filters/put action while upgrade mode is enabled',
    );
    expect((await esError(es.ml.deleteFilter({ filter_id: 'any' }))).status).toBe(429);
    // Reads stay allowed; the same value again is acknowledged at once.
    expect((await es.ml.getJobs({ job_id: other })).count).toBe(1);
    expect(await setUpgradeMode({ enabled: 'true' })).toEqual({ acknowledged: true });
    await new Promise((r) => setTimeout(r, 1000));
    expect((await es.ml.getJobStats({ job_id: job })).jobs[0]!.data_counts.processed_record_count).toBe(processed);

    expect(await setUpgradeMode({ enabled: 'false', timeout: '30s' })).toEqual({ acknowledged: true });
    const off = await info();
    expect(off.upgrade_mode).toBe(false);
    expect(off).not.toHaveProperty('parked_commands');
    const resumed = (await es.ml.getJobStats({ job_id: job })).jobs[0]!;
    expect(resumed.assignment_explanation).toBe('');
    expect(resumed.node).toBeDefined();

    // The parked lookback resumes after its last posted chunk, reaches its end and closes the job: every document once, one snapshot.
    const closed = await until(
      'the datafeed closes its job',
      () => es.ml.getJobStats({ job_id: job }),
      (s) => s.jobs[0]?.state === 'closed',
    );
    expect(closed.jobs[0]!.data_counts.processed_record_count).toBe(3000);
    expect(closed.jobs[0]!.data_counts.input_record_count).toBe(3000);
    expect((await es.ml.getModelSnapshots({ job_id: job })).count).toBe(1);
    expect(((await es.ml.getDatafeedStats({ datafeed_id: feed })).datafeeds[0] as any).state).toBe('stopped');
    // The open refused during upgrade mode now works.
    expect((await es.ml.openJob({ job_id: other })).opened).toBe(true);
    await es.ml.closeJob({ job_id: other });
  });

  it('lists ML tasks again once disabled, and _cat/tasks shows the job', async () => {
    const job = uniqueId('um-tasks');
    await putJob(job);
    await es.ml.openJob({ job_id: job });
    const listed = (await es.tasks.list({ actions: 'xpack/ml/job*' })) as any;
    const tasks = Object.values(listed.nodes).flatMap((n: any) => Object.values(n.tasks)) as any[];
    expect(tasks.some((t) => t.action === 'xpack/ml/job[c]' && t.description === `job-${job}`)).toBe(true);
    expect(await es.cat.tasks({ actions: ['xpack/ml/job*'], v: true })).toMatch(/xpack\/ml\/job\[c\]/);
    await setUpgradeMode({ enabled: 'true' });
    expect(await es.cat.tasks({ actions: ['xpack/ml/job*'] })).toBe('');
    await setUpgradeMode({ enabled: 'false' });
    expect(await es.cat.tasks({ actions: ['xpack/ml/job*'] })).toMatch(/.+job.+/);
    await es.ml.closeJob({ job_id: job });
  });
});

describe('set upgrade mode: the schedules', () => {
  it('background persist and nightly maintenance do nothing while it is on (persist and delete_expired_data are blocked actions)', async () => {
    const { runBackgroundPersist } = await direct(() => import('../../lib/app/persist.ts'));
    const { runMaintenance } = await direct(() => import('../../lib/app/maintenance.ts'));
    const job = uniqueId('um-persist');
    await putJob(job);
    await es.ml.openJob({ job_id: job });
    await es.ml.postData({ job_id: job, data: [{ '@timestamp': T0, total: 1 }] });
    const later = Date.now() + 4 * 3_600_000;
    await setUpgradeMode({ enabled: 'true' });
    expect(await runBackgroundPersist(later)).toEqual([]);
    expect(await runMaintenance()).toEqual([]);
    await setUpgradeMode({ enabled: 'false' });
    expect(await runBackgroundPersist(later)).toContain(job);
    expect((await runMaintenance()).length).toBeGreaterThan(0);
    await es.ml.closeJob({ job_id: job });
  });
});

describe('set upgrade mode: bad input', () => {
  it('refuses a bad enabled, a bad timeout, an unknown parameter and a body, changing nothing', async () => {
    expect(await esError(setUpgradeMode({ enabled: 'maybe' }))).toMatchObject({
      status: 400,
      type: 'illegal_argument_exception',
      reason: 'Failed to parse value [maybe] as only [true] or [false] are allowed.',
    });
    expect(await esError(setUpgradeMode({ enabled: 'true', timeout: 'soon' }))).toMatchObject({ status: 400, type: 'illegal_argument_exception' });
    expect(await esError(setUpgradeMode({ enabled: 'true', foo: 'bar' }))).toMatchObject({ status: 400, reason: expect.stringContaining('unrecognized parameter') });
    const body = await esError(es.transport.request({ method: 'POST', path: '/_ml/set_upgrade_mode', body: { enabled: true } }));
    expect(body).toMatchObject({ status: 400, reason: 'request [POST /_ml/set_upgrade_mode] does not support having a body' });
    expect((await info()).upgrade_mode).toBe(false);
  });
});

describe('set upgrade mode: waiting for in-flight work', () => {
  it("times out while work holds a live lease (mode stays on), refuses a second call meanwhile, and acks once a dead worker's lease expires", async () => {
    const { putLease, releaseLease } = await direct(() => import('../../lib/store/upgrade.ts'));
    // A worker carrying out a command, renewing its lease.
    await putLease('999', 'some-job', Date.now() + 60_000);
    try {
      const pending = esError(setUpgradeMode({ enabled: 'true', timeout: '2s' }));
      await until(
        'the request holds the flag',
        () => info(),
        (i) => i.upgrade_mode === true,
        10_000,
      );
      const busy = await esError(setUpgradeMode({ enabled: 'false' }));
      expect(busy.status).toBe(429);
      expect(busy.body.error).toMatchObject({
        type: 'status_exception',
        reason: 'Cannot change [upgrade_mode]. Previous request is still being processed.',
        caused_by: { type: 'illegal_state_exception', reason: 'Attempted to set [upgrade_mode] to [false] from [true] while previous request was processing.' },
      });
      const timedOut = await pending;
      expect(timedOut).toMatchObject({ status: 429, type: 'timeout_exception' });
      expect(timedOut.reason).toContain('999 on some-job');
      expect((await info()).upgrade_mode).toBe(true);
      expect(await setUpgradeMode({ enabled: 'false' })).toEqual({ acknowledged: true });

      // The worker died: its lease is no longer renewed and expires in 2 s; the ack comes then.
      await putLease('999', 'some-job', Date.now() + 2_000);
      const started = Date.now();
      expect(await setUpgradeMode({ enabled: 'true', timeout: '30s' })).toEqual({ acknowledged: true });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    } finally {
      await releaseLease('999', 'some-job');
    }
  });

  it('a close halted between two steps resumes at its next step after disable, with one snapshot', async () => {
    const { closeJob } = await direct(() => import('../../lib/app/close.ts'));
    const { WorkParked } = await direct(() => import('../../lib/domain/errors.ts'));
    const job = uniqueId('um-close');
    await putJob(job);
    await es.ml.openJob({ job_id: job });
    await es.ml.postData({ job_id: job, data: Array.from({ length: 48 }, (_, h) => ({ '@timestamp': T0 + h * 3_600_000, total: 10 + (h % 3) })) });
    // The post's renormalization runs in the job's command order; this test calls the close directly, so it waits for it.
    await es.ml.flushJob({ job_id: job });
    const steps: string[] = [];
    // Upgrade mode comes on while the close is in its flush step.
    const hook = async (step: string) => {
      steps.push(step);
      if (step === 'flush_buffers') await setUpgradeMode({ enabled: 'true' });
    };
    await expect(closeJob(job, '1', hook)).rejects.toBeInstanceOf(WorkParked);
    expect(steps).toEqual(['stop_datafeed', 'flush_buffers']);
    expect((await es.ml.getJobStats({ job_id: job })).jobs[0]!.state).toBe('closing');
    await setUpgradeMode({ enabled: 'false' });
    await closeJob(job, '1', hook);
    const { CLOSE_STEPS } = await direct(() => import('../../lib/domain/state.ts'));
    expect(steps).toEqual([...CLOSE_STEPS]);
    expect((await es.ml.getJobStats({ job_id: job })).jobs[0]!.state).toBe('closed');
    expect((await es.ml.getModelSnapshots({ job_id: job })).count).toBe(1);
  });

  it("expires_in switches upgrade mode off by itself on the schedule's check", async () => {
    const { checkUpgradeModeExpiry } = await direct(() => import('../../lib/app/upgrade-mode.ts'));
    expect(await setUpgradeMode({ enabled: 'true', expires_in: '1s' })).toEqual({ acknowledged: true });
    const on = await info();
    expect(Date.parse(on.upgrade_mode_expires) - Date.parse(on.upgrade_mode_since)).toBe(1000);
    expect((await checkUpgradeModeExpiry(Date.now())).expired).toBe(false);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await checkUpgradeModeExpiry(Date.now())).toMatchObject({ expired: true });
    await until(
      'upgrade mode off',
      () => info(),
      (i) => i.upgrade_mode === false,
      30_000,
    );
    expect(await esError(setUpgradeMode({ enabled: 'true', expires_in: '0s' }))).toMatchObject({ status: 400 });
  });
});
