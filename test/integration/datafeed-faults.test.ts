/**
 * Fault tests of the datafeed lookback: an invocation that runs short of time hands the
 * lookback on after a whole chunk, and a crash between posting a chunk to the job and saving
 * the datafeed's progress resumes with nothing posted twice. The test plays the worker: it
 * calls the lookback's apply side itself for a run written directly (no command is queued).
 */
import { describe, expect, it } from 'vitest';
import { esClient, uniqueId } from './client.ts';
import { direct } from './direct.ts';
import type { Command } from '../../lib/domain/command.ts';

const es = esClient();
const T0 = Date.parse('2017-01-01T00:00:00Z');
const DAY = 86_400_000;
const TEN_MIN = 600_000;

describe('a datafeed lookback under faults', () => {
  it('hands itself on between chunks, and a redelivery after a crash before progress was saved posts nothing twice', async () => {
    const { applyDatafeedLookback } = await direct(() => import('../../lib/app/datafeed-lookback.ts'));
    const { getDatafeed, putDatafeed } = await direct(() => import('../../lib/store/datafeeds.ts'));
    const { transitionDatafeed } = await import('../../lib/domain/lifecycle/datafeed.ts');
    const { LookbackDeferred } = await import('../../lib/domain/errors.ts');

    const index = uniqueId('faults');
    await es.indices.create({ index, mappings: { properties: { '@timestamp': { type: 'date' }, total: { type: 'long' } } } });
    const operations: unknown[] = [];
    for (let i = 0; i < 432; i++) operations.push({ index: { _index: index } }, { '@timestamp': T0 + i * TEN_MIN, total: i % 5 });
    expect((await es.bulk({ operations })).errors).toBe(false);

    const job = uniqueId('df-faults');
    const feed = `datafeed-${job}`;
    await es.ml.putJob({
      job_id: job,
      analysis_config: { bucket_span: '1h', detectors: [{ function: 'sum', field_name: 'total' }] },
      data_description: { time_field: '@timestamp' },
    });
    await es.ml.putDatafeed({ datafeed_id: feed, job_id: job, indices: [index], chunking_config: { mode: 'manual', time_span: '1d' } });
    await es.ml.openJob({ job_id: job });
    const stored = await getDatafeed(feed);
    await putDatafeed(stored!.config, transitionDatafeed(stored!.runtime, { type: 'start', node: 'mlplane-0', startMs: T0, endMs: T0 + 3 * DAY, runId: 'fault-run' }));

    const cmd: Command = {
      command_id: '1',
      task_id: 'n:1',
      action: 'datafeed',
      es_action: 'x',
      description: 'test',
      targets: [job],
      params: {},
      status: 'running',
      outcomes: {},
      created_ms: 0,
      expires_at: 0,
    };
    const params = { datafeed_id: feed, run_id: 'fault-run' };
    const processed = async () => (await es.ml.getJobStats({ job_id: job })).jobs[0]?.data_counts.processed_record_count;
    /** Time left that runs out after `chunks` chunk checks. */
    const budget = (chunks: number) => {
      let checks = 0;
      return () => (checks++ < chunks ? 600_000 : 0);
    };

    // One chunk, then out of time: handed on, with that chunk posted and saved.
    await expect(applyDatafeedLookback({ ...cmd }, job, params, { remainingMs: budget(1) })).rejects.toBeInstanceOf(LookbackDeferred);
    expect(await processed()).toBe(144);
    expect((await getDatafeed(feed))?.runtime).toMatchObject({ state: 'started', lookback_ms: T0 + DAY });

    // The next chunk is posted and saved, then the saved progress is rolled back: as if the crash came before the save.
    await expect(applyDatafeedLookback({ ...cmd }, job, params, { remainingMs: budget(1) })).rejects.toBeInstanceOf(LookbackDeferred);
    expect(await processed()).toBe(288);
    const after = await getDatafeed(feed);
    await putDatafeed(after!.config, { ...after!.runtime, lookback_ms: T0 + DAY, version: after!.runtime.version + 1 });

    // The redelivery re-reads day 2 but the job has taken it already, so only day 3 is new; then the datafeed stops and closes its job.
    expect(await applyDatafeedLookback({ ...cmd }, job, params, {})).toEqual({ closed: true });
    expect(await processed()).toBe(432);
    expect((await es.ml.getJobStats({ job_id: job })).jobs[0]?.state).toBe('closed');
    const done = (await getDatafeed(feed))?.runtime;
    expect(done?.state).toBe('stopped');
    expect(done).not.toHaveProperty('lookback_ms');

    // A message of that run delivered again later does nothing.
    expect(await applyDatafeedLookback({ ...cmd }, job, params, {})).toEqual({});
  });
});
