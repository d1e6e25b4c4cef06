import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AnomalyModel } from '../../../lib/detect/index.ts';
import type { JobConfig } from '../../../lib/domain/job/types.ts';
import { newJobRuntime, type JobRuntime } from '../../../lib/domain/state.ts';

const model = vi.hoisted(() => ({
  writeModelState: vi.fn(),
  deleteModelGeneration: vi.fn(),
  deleteModelGenerationsExcept: vi.fn(),
}));
const jobs = vi.hoisted(() => ({ putJobRuntime: vi.fn() }));
const results = vi.hoisted(() => ({ writeResults: vi.fn(), deleteResultsAt: vi.fn() }));
vi.mock('../../../lib/store/model.ts', () => model);
vi.mock('../../../lib/store/jobs.ts', () => jobs);
vi.mock('../../../lib/store/results.ts', () => results);
vi.mock('../../../lib/app/events-out.ts', () => ({ anomalyRecordsWritten: vi.fn() }));

const { commitBatch, MODEL_SWEEP_EVERY } = await import('../../../lib/app/ingest.ts');

const job = { job_id: 'j', create_time: 1 } as unknown as JobConfig;
const spec = { jobId: 'j', bucketSpanMs: 3_600_000, latencyMs: 0, detectors: [{ detector_index: 0, function: 'count' as const }], influencers: [], modelMemoryLimitBytes: 1 << 26 };
const runtime = (generation?: number): JobRuntime => ({
  ...newJobRuntime('j', 0),
  state: 'opened',
  ...(generation === undefined ? {} : { model: { generation, chunks: 3, bytes: 10 } }),
});

describe('committing a batch', () => {
  beforeEach(() => {
    vi.resetAllMocks();
    model.writeModelState.mockImplementation(async (_job: string, generation: number) => ({ generation, chunks: 1, bytes: 1 }));
  });

  it('deletes the generation it replaced by its pointer, without a Query of the job’s chunks', async () => {
    await commitBatch(job, runtime(7), AnomalyModel.create(spec), [], {});
    expect(model.writeModelState).toHaveBeenCalledWith('j', 8, expect.any(Uint8Array));
    expect(model.deleteModelGeneration).toHaveBeenCalledWith('j', { generation: 7, chunks: 3, bytes: 10 });
    expect(model.deleteModelGenerationsExcept).not.toHaveBeenCalled();
  });

  it('deletes the replaced generation only once the runtime item points at the new one', async () => {
    const order: string[] = [];
    jobs.putJobRuntime.mockImplementation(async () => order.push('pointer'));
    model.deleteModelGeneration.mockImplementation(async () => order.push('delete'));
    await commitBatch(job, runtime(7), AnomalyModel.create(spec), [], {});
    expect(order).toEqual(['pointer', 'delete']);
  });

  it('sweeps every chunk but the live generation on the first generation and every MODEL_SWEEP_EVERY generations', async () => {
    await commitBatch(job, runtime(), AnomalyModel.create(spec), [], {});
    expect(model.deleteModelGenerationsExcept).toHaveBeenLastCalledWith('j', 1);
    await commitBatch(job, runtime(MODEL_SWEEP_EVERY - 1), AnomalyModel.create(spec), [], {});
    expect(model.deleteModelGenerationsExcept).toHaveBeenLastCalledWith('j', MODEL_SWEEP_EVERY);
    expect(model.deleteModelGeneration).not.toHaveBeenCalled();
  });

  it('moves no pointer when the model state write fails, even though the results were written', async () => {
    model.writeModelState.mockRejectedValue(new Error('throttled'));
    await expect(commitBatch(job, runtime(7), AnomalyModel.create(spec), [], {})).rejects.toThrow('throttled');
    expect(jobs.putJobRuntime).not.toHaveBeenCalled();
    expect(model.deleteModelGeneration).not.toHaveBeenCalled();
  });
});
