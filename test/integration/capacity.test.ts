import { afterAll, describe, expect, it } from 'vitest';
import { esClient, esError, uniqueId } from './client.ts';

const es = esClient();

const job = (job_id: string, allow_lazy_open = false) =>
  es.ml.putJob({ job_id, allow_lazy_open, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' } });

describe('cluster settings and ML capacity', () => {
  afterAll(async () => {
    await es.cluster.putSettings({ persistent: { 'xpack.ml.max_open_jobs': null, 'xpack.ml.max_model_memory_limit': null } });
  });

  it('PUT _cluster/settings accepts the ML settings and rejects unknown ones, changing nothing', async () => {
    const ok = await es.cluster.putSettings({ persistent: { 'xpack.ml.max_model_memory_limit': '512mb' } });
    expect(ok.acknowledged).toBe(true);
    expect(ok.persistent).toEqual({ xpack: { ml: { max_model_memory_limit: '512mb' } } });
    const info = await es.ml.info();
    expect(info.limits.max_model_memory_limit).toBe('512mb');
    expect(info.defaults.anomaly_detectors.model_memory_limit).toBe('512mb');
    const e = await esError(es.cluster.putSettings({ persistent: { 'foo.bar': 1 } }));
    expect(e).toMatchObject({ status: 400, type: 'illegal_argument_exception', reason: 'persistent setting [foo.bar], not recognized' });
    const bad = await esError(es.cluster.putSettings({ persistent: { 'xpack.ml.max_open_jobs': 0 } }));
    expect(bad.status).toBe(400);
    // Logger levels are Elasticsearch settings too (its YAML tests set them): kept when a Log4j level, refused otherwise.
    const logger = 'logger.org.elasticsearch.xpack.ml.action.TransportSetUpgradeModeAction';
    expect((await es.cluster.putSettings({ transient: { [logger]: 'TRACE' } })).acknowledged).toBe(true);
    expect(await esError(es.cluster.putSettings({ transient: { [logger]: 'LOUD' } }))).toMatchObject({ status: 400, reason: 'Unknown level constant [LOUD].' });
    await es.cluster.putSettings({ transient: { [logger]: null } });
    expect((await es.cluster.getSettings()).persistent).toEqual({ xpack: { ml: { max_model_memory_limit: '512mb' } } });
    // Shown in ByteSizeValue human form, as Elasticsearch does (6144 MiB is "6gb").
    await es.cluster.putSettings({ persistent: { 'xpack.ml.max_model_memory_limit': '6gb' } });
    expect((await es.ml.info()).limits.max_model_memory_limit).toBe('6gb');
    expect((await es.ml.info()).defaults.anomaly_detectors.model_memory_limit).toBe('1gb');
    await es.cluster.putSettings({ persistent: { 'xpack.ml.max_model_memory_limit': null } });
    expect((await es.ml.info()).limits.max_model_memory_limit).toBeUndefined();
  });

  it('without capacity a job is 429, a lazy job waits in opening with node "" and opens when a slot frees', async () => {
    // Close everything first so the capacity count is ours.
    await es.ml.closeJob({ job_id: '_all', force: true });
    const p = uniqueId('cap');
    await job(`${p}-first`);
    await job(`${p}-eager`);
    await job(`${p}-lazy`, true);
    await es.cluster.putSettings({ persistent: { 'xpack.ml.max_open_jobs': 1 } });
    try {
      await es.ml.openJob({ job_id: `${p}-first` });
      const e = await esError(es.ml.openJob({ job_id: `${p}-eager` }));
      expect(e.status).toBe(429);
      expect(e.type).toBe('status_exception');
      expect(e.reason).toBe('Could not open job because no ML nodes with sufficient capacity were found');
      expect(e.body.error.caused_by.type).toBe('illegal_state_exception');
      expect(e.body.error.root_cause[0].type).toBe('status_exception');
      expect((await es.ml.getJobStats({ job_id: `${p}-eager` })).jobs[0]!.state).toBe('closed');

      const lazy = await es.ml.openJob({ job_id: `${p}-lazy` });
      expect(lazy).toEqual({ opened: true, node: '' });
      const waiting = (await es.ml.getJobStats({ job_id: `${p}-lazy` })).jobs[0]!;
      expect(waiting.state).toBe('opening');
      expect(waiting.node).toBeUndefined();
      expect(waiting.assignment_explanation).toContain('xpack.ml.max_open_jobs [1]');

      await es.ml.closeJob({ job_id: `${p}-first` });
      const promoted = (await es.ml.getJobStats({ job_id: `${p}-lazy` })).jobs[0]!;
      expect(promoted.state).toBe('opened');
      expect(promoted.node).toBeDefined();
      await es.ml.closeJob({ job_id: `${p}-lazy` });
    } finally {
      await es.cluster.putSettings({ persistent: { 'xpack.ml.max_open_jobs': null } });
    }
  });

  it('capacity by memory: a 3000g lazy job waits in opening with node "" and closes gracefully; without lazy open it is 429 naming the memory', async () => {
    const p = uniqueId('mem');
    const put = await es.ml.putJob({
      job_id: `${p}-lazy`,
      analysis_config: { detectors: [{ function: 'count' }] },
      data_description: {},
      analysis_limits: { model_memory_limit: '3000g' },
      allow_lazy_open: true,
    });
    expect(put.analysis_limits?.model_memory_limit).toBe('3072000mb');
    expect(await es.ml.openJob({ job_id: `${p}-lazy` })).toEqual({ opened: true, node: '' });
    const waiting = (await es.ml.getJobStats({ job_id: `${p}-lazy` })).jobs[0]!;
    expect(waiting.state).toBe('opening');
    expect(waiting.assignment_explanation).toContain('because this node has insufficient available memory');
    // Another job still fits beside it: the waiting job holds no memory.
    await es.ml.putJob({ job_id: `${p}-small`, analysis_config: { detectors: [{ function: 'count' }] }, data_description: {}, analysis_limits: { model_memory_limit: '10mb' } });
    expect((await es.ml.openJob({ job_id: `${p}-small` })).node).not.toBe('');
    await es.ml.closeJob({ job_id: `${p}-small` });
    // Closing it frees no memory it could use: it keeps waiting, and closes gracefully.
    expect((await es.ml.getJobStats({ job_id: `${p}-lazy` })).jobs[0]!.state).toBe('opening');
    expect(await es.ml.closeJob({ job_id: `${p}-lazy` })).toEqual({ closed: true });

    await es.ml.putJob({ job_id: `${p}-eager`, analysis_config: { detectors: [{ function: 'count' }] }, data_description: {}, analysis_limits: { model_memory_limit: '3000g' } });
    const e = await esError(es.ml.openJob({ job_id: `${p}-eager` }));
    expect(e).toMatchObject({ status: 429, reason: 'Could not open job because no ML nodes with sufficient capacity were found' });
    expect(e.body.error.caused_by.reason).toContain('Available memory for ML [24gb], memory required by existing jobs [');
    expect(e.body.error.caused_by.reason).toContain('estimated memory required for this job [2.9tb]');
    expect((await es.ml.getJobStats({ job_id: `${p}-eager` })).jobs[0]!.state).toBe('closed');
  });

  it('with cluster.persistent_tasks.allocation.enable none an open is 429 and the job stays closed', async () => {
    const id = uniqueId('alloc-open');
    await job(id);
    await es.cluster.putSettings({ transient: { 'cluster.persistent_tasks.allocation.enable': 'none' } });
    try {
      expect(await esError(es.ml.openJob({ job_id: id }))).toMatchObject({
        status: 429,
        reason: 'Cannot open jobs because persistent task assignment is disabled by the [cluster.persistent_tasks.allocation.enable] setting',
      });
      expect((await es.ml.getJobStats({ job_id: id })).jobs[0]!.state).toBe('closed');
    } finally {
      await es.cluster.putSettings({ transient: { 'cluster.persistent_tasks.allocation.enable': null } });
    }
    expect((await es.ml.openJob({ job_id: id })).opened).toBe(true);
    await es.ml.closeJob({ job_id: id });
  });
});
