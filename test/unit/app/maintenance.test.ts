import { beforeEach, describe, expect, it, vi } from 'vitest';
import { WorkDeferred, WorkParked } from '../../../lib/domain/errors.ts';
import type { JobConfig } from '../../../lib/domain/job/types.ts';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';

// The results store, with a job holding `storedKeys` expired result items.
let storedKeys: { pk: string; sk: string }[] = [];
const deleted: number[] = [];
vi.mock('../../../lib/store/results.ts', () => ({
  newestBucketItem: async () => ({ timestamp: Date.UTC(2026, 10, 20), bucket_span: 3600 }),
  expiredResultKeys: async () => storedKeys,
  hideResultsBefore: async () => {},
  deleteResultItems: async (items: unknown[]) => {
    deleted.push(items.length);
  },
}));
const audits: string[] = [];
vi.mock('../../../lib/app/audit.ts', () => ({
  audit: async (_job: string, message: string) => {
    audits.push(message);
  },
}));

let halts = false;
const submitted: { action: string; targets: string[]; params?: Record<string, unknown> }[] = [];
vi.mock('../../../lib/app/job-lookup.ts', () => ({
  upgradeModeHalts: async () => halts,
  refuseInUpgradeMode: async () => {},
  resolveJobs: async () => [],
}));
vi.mock('../../../lib/app/commands.ts', () => ({
  submitCommand: async (input: { action: string; targets: string[]; params?: Record<string, unknown> }) => {
    submitted.push(input);
    return { command_id: '1', task_id: 'mlplane-0:1' };
  },
  awaitCommand: async () => ({ kind: 'gateway_cap' }),
  settle: () => ({ kind: 'accepted', taskId: 'mlplane-0:1' }),
}));

const { startNightlyMaintenance, HAND_OFF_MARGIN_MS, JOB_CONCURRENCY, JOB_PAGE_SIZE, maintainJob, walkMaintenance } = await import('../../../lib/app/maintenance.ts');

const jobIds = Array.from({ length: 1_000 }, (_, i) => `job-${String(i).padStart(5, '0')}`);

/**
 * An in-memory deletion over `jobIds`: the saved progress, the jobs processed (repeats kept) and
 * an invocation clock whose remaining time drops by `costMs` per job.
 */
function fakeStore() {
  const state = { cursor: undefined as string | undefined, done: new Set<string>(), processed: [] as string[] };
  const invocation = (budgetMs: number, costMs: number, fail?: (jobId: string) => boolean) => {
    let remaining = budgetMs;
    return {
      progress: async () => ({ ...(state.cursor === undefined ? {} : { cursor: state.cursor }), done: new Set(state.done) }),
      markDone: async (jobId: string) => {
        state.done.add(jobId);
      },
      saveCursor: async (jobId: string) => {
        state.cursor = jobId;
        state.done.clear();
      },
      jobsAfter: async (after: string | undefined, limit: number) =>
        jobIds
          .filter((id) => after === undefined || id > after)
          .slice(0, limit)
          .map((job_id) => ({ job_id }) as JobConfig),
      processJob: async (job: JobConfig) => {
        state.processed.push(job.job_id);
        remaining -= costMs;
        if (fail?.(job.job_id)) throw new Error('crash mid-page');
      },
      halted: async () => false,
      nowMs: () => 0,
      remainingMs: () => remaining,
    };
  };
  return { state, invocation };
}

describe('the maintenance walk over many jobs', () => {
  it('hands itself on when the invocation runs short and the continuations cover every job exactly once', async () => {
    const { state, invocation } = fakeStore();
    let handOffs = 0;
    let result: { deleted: boolean } | undefined;
    const perInvocation: number[] = [];
    // Each invocation has time for about 37 jobs before the margin: 1,000 jobs need many.
    while (result === undefined) {
      const before = state.processed.length;
      try {
        result = await walkMaintenance(invocation(HAND_OFF_MARGIN_MS + 37 * 100 - 1, 100), Infinity);
      } catch (err) {
        expect(err).toBeInstanceOf(WorkDeferred);
        handOffs++;
      }
      perInvocation.push(state.processed.length - before);
      expect(handOffs).toBeLessThan(100);
    }
    expect(result).toEqual({ deleted: true });
    // A group starts only with the margin in hand: no invocation runs more than its groups' worth.
    expect(Math.max(...perInvocation)).toBeLessThanOrEqual(5 * JOB_CONCURRENCY);
    expect(handOffs).toBeGreaterThanOrEqual(Math.ceil(1_000 / (5 * JOB_CONCURRENCY)) - 1);
    expect([...state.processed].sort()).toEqual(jobIds);
  });

  it('reads the jobs a page at a time', async () => {
    const { invocation } = fakeStore();
    const walk = invocation(Infinity, 0);
    const pages = vi.spyOn(walk, 'jobsAfter');
    await walkMaintenance(walk, Infinity);
    expect(pages).toHaveBeenCalledTimes(1_000 / JOB_PAGE_SIZE + 1);
    expect(pages.mock.calls.every(([, limit]) => limit === JOB_PAGE_SIZE)).toBe(true);
  });

  it('after a crash mid-page, the redelivery re-runs only the job that was in progress, not the finished jobs of its group', async () => {
    const { state, invocation } = fakeStore();
    let crashed = false;
    const crashOnce = (id: string) => {
      if (id !== 'job-00150' || crashed) return false;
      crashed = true;
      return true;
    };
    await expect(walkMaintenance(invocation(Infinity, 0, crashOnce), Infinity)).rejects.toThrow('crash mid-page');
    expect(state.cursor).toBe('job-00147'); // job-00150 is in the group job-00148 … job-00155
    expect(state.done.size).toBe(JOB_CONCURRENCY - 1);
    expect(await walkMaintenance(invocation(Infinity, 0), Infinity)).toEqual({ deleted: true });
    const counts = new Map<string, number>();
    for (const id of state.processed) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts].filter(([, n]) => n > 1)).toEqual([['job-00150', 2]]);
    expect(counts.size).toBe(1_000);
  });

  it('answers deleted: false when its timeout has passed before the next job', async () => {
    const { state, invocation } = fakeStore();
    let now = 0;
    const processJob = async (job: JobConfig): Promise<void> => {
      state.processed.push(job.job_id);
      now += 10;
    };
    const walk = { ...invocation(Infinity, 0), nowMs: () => now, processJob };
    // Each group of 8 moves the clock 80: the deadline 55 passes after the first group.
    expect(await walkMaintenance(walk, 55)).toEqual({ deleted: false });
    expect(state.processed).toHaveLength(JOB_CONCURRENCY);
  });

  it('parks while upgrade mode halts ML work, having done nothing', async () => {
    const { state, invocation } = fakeStore();
    await expect(walkMaintenance({ ...invocation(Infinity, 0), halted: async () => true }, Infinity)).rejects.toBeInstanceOf(WorkParked);
    expect(state.processed).toEqual([]);
  });
});

describe('results deletion throttled by requests_per_second', () => {
  const job = { job_id: 'j', results_retention_days: 1 } as JobConfig;
  beforeEach(() => {
    deleted.length = 0;
    audits.length = 0;
  });

  it('deletes in batches of 1,000 and pauses items / rps seconds between them', async () => {
    storedKeys = Array.from({ length: 2_500 }, (_, i) => ({ pk: 'results#j', sk: `bucket#${i}` }));
    const sleep = vi.fn(async (_ms: number) => {});
    const report = await maintainJob(job, { rps: 500, sleep, nowMs: () => 0 });
    expect(deleted).toEqual([1000, 1000, 500]);
    expect(sleep.mock.calls.map(([ms]) => ms)).toEqual([2000, 2000]);
    expect(report).toMatchObject({ results: 2_500, snapshots: 0, auto_closed: false });
    expect(audits).toEqual(['Deleted results prior to 2026-11-19T00:00:00Z']);
  });

  it('does not pause when unthrottled, and audits nothing when nothing expired', async () => {
    storedKeys = Array.from({ length: 2_500 }, (_, i) => ({ pk: 'results#j', sk: `bucket#${i}` }));
    const sleep = vi.fn(async (_ms: number) => {});
    await maintainJob(job, { rps: Infinity, sleep, nowMs: () => 0 });
    expect(sleep).not.toHaveBeenCalled();
    storedKeys = [];
    audits.length = 0;
    await maintainJob(job, { rps: 10, sleep, nowMs: () => 0 });
    expect(audits).toEqual([]);
  });

  it('hands on rather than sleep past the invocation’s time', async () => {
    storedKeys = Array.from({ length: 2_500 }, (_, i) => ({ pk: 'results#j', sk: `bucket#${i}` }));
    const sleep = vi.fn(async (_ms: number) => {});
    await expect(maintainJob(job, { rps: 10, sleep, nowMs: () => 0, remainingMs: () => HAND_OFF_MARGIN_MS + 5_000 })).rejects.toBeInstanceOf(WorkDeferred);
    expect(deleted).toEqual([1000]);
    expect(sleep).not.toHaveBeenCalled();
  });
});

describe('the nightly start', () => {
  beforeEach(() => {
    submitted.length = 0;
  });

  it('submits one maintenance command for every job with Elasticsearch’s nightly parameters (-1, 8h)', async () => {
    halts = false;
    const now = Date.UTC(2026, 10, 26, 0, 30);
    expect(await startNightlyMaintenance(now)).toBe('mlplane-0:1');
    expect(submitted).toEqual([
      expect.objectContaining({
        action: 'maintenance',
        targets: ['_cluster'],
        params: { requests_per_second: -1, deadline_ms: now + 8 * 3_600_000, timeout: '8h', trigger: 'nightly' },
      }),
    ]);
  });

  it('is skipped while upgrade mode is on, as Elasticsearch skips its maintenance tasks', async () => {
    halts = true;
    expect(await startNightlyMaintenance(0)).toBeUndefined();
    expect(submitted).toEqual([]);
    halts = false;
  });
});
