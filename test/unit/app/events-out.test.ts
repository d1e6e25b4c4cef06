import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { BucketResult } from '../../../lib/detect/index.ts';
import type { MlEvent } from '../../../lib/domain/events.ts';
import type { JobRuntime } from '../../../lib/domain/state.ts';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/000000000000/commands.fifo';
const queue = vi.hoisted(() => ({ publishEvents: vi.fn() }));
vi.mock('../../../lib/queue/events.ts', () => queue);
const { anomalyRecordsWritten, jobStateChanged, datafeedStateChanged } = await import('../../../lib/app/events-out.ts');

const published = (): MlEvent[] => queue.publishEvents.mock.calls.flatMap((c) => c[0] as MlEvent[]);
const runtime = (over: Partial<JobRuntime>): JobRuntime => ({ job_id: 'web', state: 'opened', version: 4, ...over }) as JobRuntime;
const bucket = (scores: number[], interim = false): BucketResult =>
  ({
    job_id: 'web',
    timestamp: 0,
    is_interim: interim,
    records: scores.map((s, i) => ({
      job_id: 'web',
      result_type: 'record',
      timestamp: 0,
      detector_index: 0,
      is_interim: interim,
      record_score: s,
      initial_record_score: s,
      probability: 0.001,
      function: 'count',
      bucket_span: 3600,
      actual: [1],
      typical: [2],
      by_field_name: 'host',
      by_field_value: `h${i}`,
    })),
  }) as unknown as BucketResult;

describe('the emission points of events out', () => {
  beforeEach(() => queue.publishEvents.mockReset());

  it('publishes anomaly records only for a job with a threshold, and never interim ones', async () => {
    await anomalyRecordsWritten({}, [bucket([99])]);
    expect(published()).toEqual([]);
    await anomalyRecordsWritten({ custom_settings: { event_record_score_threshold: 50 } }, [bucket([10, 60, 99]), bucket([99], true)]);
    expect(published().map((e) => (e.detail as { record_score: number }).record_score)).toEqual([60, 99]);
  });

  it('publishes a job state change only when the state moved, with the failure reason', async () => {
    await jobStateChanged(runtime({ state: 'opened' }), runtime({ state: 'opened', version: 5 }));
    expect(published()).toEqual([]);
    await jobStateChanged(runtime({ state: 'closing' }), runtime({ state: 'failed', reason: 'Exception closing autodetect process', version: 6 }));
    expect(published()[0]?.detail).toMatchObject({ job_id: 'web', previous_state: 'closing', state: 'failed', reason: 'Exception closing autodetect process' });
  });

  it('gives a stopped datafeed the reason its caller names', async () => {
    await datafeedStateChanged({ datafeed_id: 'df', job_id: 'web' }, { state: 'started' }, { datafeed_id: 'df', state: 'stopped', version: 3 } as never, 'max_empty_searches');
    expect(published()[0]?.detail).toMatchObject({ datafeed_id: 'df', state: 'stopped', reason: 'max_empty_searches' });
  });

  it('never throws when an event cannot be built', async () => {
    await expect(anomalyRecordsWritten({ custom_settings: { event_record_score_threshold: 'x' } }, [bucket([99])])).resolves.toBeUndefined();
    expect(queue.publishEvents).not.toHaveBeenCalled();
  });
});
