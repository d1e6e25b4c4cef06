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
const commands = vi.hoisted(() => ({ submitCommand: vi.fn() }));
vi.mock('../../../lib/app/commands.ts', () => commands);

const { commitBatch, MODEL_SWEEP_EVERY } = await import('../../../lib/app/ingest.ts');
const { renormalizationWindowMs } = await import('../../../lib/app/renormalize.ts');

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

describe('a commit that moved the score normalisers', () => {
  const HOUR = 3_600_000;
  const T0 = Date.UTC(2026, 0, 1);
  const config = { job_id: 'j', create_time: 1, analysis_config: { bucket_span: '1h', detectors: [] } } as unknown as JobConfig;
  /** A model that took 200 hours of 5 records an hour and one hour of 60: its normalisers made big changes. */
  const moved = () => {
    const m = AnomalyModel.create(spec);
    const records = [];
    for (let h = 0; h < 200; h++) for (let k = 0; k < (h === 150 ? 60 : 5); k++) records.push({ timeMs: T0 + h * HOUR + k, fields: {} });
    return { m, out: m.ingest(records) };
  };
  const written = () => jobs.putJobRuntime.mock.calls.at(-1)?.[0] as JobRuntime;

  beforeEach(() => {
    vi.resetAllMocks();
    model.writeModelState.mockImplementation(async (_job: string, generation: number) => ({ generation, chunks: 1, bytes: 1 }));
  });

  it('requests a pass over the window ending at its newest final bucket, with the same runtime write, and queues a renormalize command after it', async () => {
    const { m, out } = moved();
    expect(m.normalizerGeneration()).toBeGreaterThan(0);
    const order: string[] = [];
    jobs.putJobRuntime.mockImplementation(async () => order.push('runtime'));
    commands.submitCommand.mockImplementation(async () => order.push('queued'));
    await commitBatch(config, runtime(1), m, out.buckets, { last_finalized_bucket_end: T0 + 199 * HOUR });
    const end = T0 + 199 * HOUR;
    expect(written().renormalization).toEqual({ generation: m.normalizerGeneration(), requested: 1, done: 0, start: end - 30 * 86_400_000, end });
    expect(commands.submitCommand).toHaveBeenCalledWith(expect.objectContaining({ action: 'renormalize', targets: ['j'] }));
    expect(order).toEqual(['runtime', 'queued']);
  });

  it('requests nothing when the generation did not move since the last commit', async () => {
    const { m, out } = moved();
    const rt = { ...runtime(1), renormalization: { generation: m.normalizerGeneration(), requested: 3, done: 3 } };
    await commitBatch(config, rt, m, out.buckets, { last_finalized_bucket_end: T0 + 199 * HOUR });
    expect(written().renormalization).toEqual(rt.renormalization);
    expect(commands.submitCommand).not.toHaveBeenCalled();
  });

  it('restarts a pending pass with the newer normalisers over the window extended back to its start', async () => {
    const { m, out } = moved();
    const rt = { ...runtime(1), renormalization: { generation: 0, requested: 2, done: 1, start: T0 - 40 * 86_400_000, end: T0, cursor: T0 - 86_400_000 } };
    await commitBatch(config, rt, m, out.buckets, { last_finalized_bucket_end: T0 + 199 * HOUR });
    expect(written().renormalization).toEqual({ generation: m.normalizerGeneration(), requested: 3, done: 1, start: T0 - 40 * 86_400_000, end: T0 + 199 * HOUR });
  });

  it('uses renormalization_window_days when set, and Elasticsearch’s max(30 days, 100 bucket spans) when not', () => {
    expect(renormalizationWindowMs({ ...config, renormalization_window_days: 5 })).toBe(5 * 86_400_000);
    expect(renormalizationWindowMs(config)).toBe(30 * 86_400_000);
    expect(renormalizationWindowMs({ ...config, analysis_config: { ...config.analysis_config, bucket_span: '12h' } })).toBe(50 * 86_400_000);
  });
});
