import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StoredDatafeed } from '../../../lib/store/datafeeds.ts';

const listDatafeeds = vi.fn<() => Promise<StoredDatafeed[]>>();
const submitCommand = vi.fn(async (input: unknown) => ({ command_id: '1', input }));
vi.mock('../../../lib/store/datafeeds.ts', () => ({ listDatafeeds: () => listDatafeeds() }));
vi.mock('../../../lib/store/jobs.ts', () => ({
  getJobConfig: async (jobId: string) => ({ config: { job_id: jobId, analysis_config: { bucket_span: '15m', detectors: [{ function: 'count' }] }, data_description: {} } }),
}));
vi.mock('../../../lib/app/commands.ts', () => ({ submitCommand: (input: unknown) => submitCommand(input) }));
const upgradeModeHalts = vi.fn(async () => false);
vi.mock('../../../lib/app/job-lookup.ts', () => ({ upgradeModeHalts: () => upgradeModeHalts() }));

const { runDatafeedTick } = await import('../../../lib/app/datafeed-tick.ts');
const { newDatafeedRuntime } = await import('../../../lib/domain/datafeed/types.ts');

const MIN = 60_000;
const T = Date.UTC(2026, 10, 26, 12, 0, 0);

const feed = (id: string, runtime: Partial<StoredDatafeed['runtime']>, config: Partial<StoredDatafeed['config']> = {}): StoredDatafeed =>
  ({
    config: { datafeed_id: id, job_id: `job-${id}`, query_delay: '90s', ...config },
    runtime: { ...newDatafeedRuntime(id), state: 'started', version: 4, run_id: `run-${id}`, start_ms: 0, ...runtime },
  }) as StoredDatafeed;

describe('the real-time datafeed tick', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T);
    submitCommand.mockClear();
    upgradeModeHalts.mockResolvedValue(false);
  });
  afterEach(() => vi.useRealTimers());

  it('submits one search per due datafeed, into its job, with its due time and the window end now - query_delay floored to frequency', async () => {
    listDatafeeds.mockResolvedValue([
      feed('due', { next_search_ms: T }),
      feed('later', { next_search_ms: T + MIN }),
      feed('lookback', {}),
      feed('with-end', { next_search_ms: T - MIN, end_ms: T + 60 * MIN }),
      feed('stopping', { next_search_ms: T, state: 'stopping' }),
    ]);
    vi.advanceTimersByTime(25_000);
    const out = await runDatafeedTick();
    // bucket_span 15m: the default frequency is 1m; 12:00:25 - 90s = 11:58:55, floored to 11:58.
    expect(out).toEqual([{ datafeed_id: 'due', job_id: 'job-due', due_ms: T, search_to_ms: T - 2 * MIN, command_id: '1' }]);
    expect(submitCommand).toHaveBeenCalledTimes(1);
    expect(submitCommand.mock.calls[0]?.[0]).toMatchObject({
      action: 'datafeed',
      targets: ['job-due'],
      params: { datafeed_id: 'due', run_id: 'run-due', due_ms: T, search_to_ms: T - 2 * MIN },
    });
  });

  it('a datafeed becomes due when the clock reaches its due time, and its configured frequency sets the window', async () => {
    listDatafeeds.mockResolvedValue([feed('f', { next_search_ms: T + 10 * MIN }, { frequency: '10m', query_delay: '0s' })]);
    expect(await runDatafeedTick()).toEqual([]);
    vi.advanceTimersByTime(10 * MIN - 1);
    expect(await runDatafeedTick()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(await runDatafeedTick()).toEqual([{ datafeed_id: 'f', job_id: 'job-f', due_ms: T + 10 * MIN, search_to_ms: T + 10 * MIN, command_id: '1' }]);
  });

  it('one datafeed failing to submit does not keep the others from theirs; the failure is thrown afterwards', async () => {
    listDatafeeds.mockResolvedValue([feed('a', { next_search_ms: T }), feed('b', { next_search_ms: T })]);
    submitCommand.mockRejectedValueOnce(new Error('queue down'));
    await expect(runDatafeedTick()).rejects.toThrow(AggregateError);
    expect(submitCommand).toHaveBeenCalledTimes(2);
    expect(submitCommand.mock.calls[1]?.[0]).toMatchObject({ params: { datafeed_id: 'b' } });
  });

  it('submits nothing while upgrade mode halts job and datafeed work, and catches up once it is off', async () => {
    listDatafeeds.mockResolvedValue([feed('due', { next_search_ms: T - 10 * MIN })]);
    upgradeModeHalts.mockResolvedValue(true);
    expect(await runDatafeedTick()).toEqual([]);
    expect(submitCommand).not.toHaveBeenCalled();
    upgradeModeHalts.mockResolvedValue(false);
    expect(await runDatafeedTick()).toHaveLength(1);
  });
});
