import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobConfig } from '../../../lib/domain/job/types.ts';
import { newJobRuntime, type JobRuntime } from '../../../lib/domain/state.ts';

const renormalize = vi.hoisted(() => ({ submitRenormalization: vi.fn(), applyRenormalize: vi.fn() }));
vi.mock('../../../lib/app/renormalize.ts', async (original) => ({ ...(await original<typeof import('../../../lib/app/renormalize.ts')>()), ...renormalize }));

const { processData } = await import('../../../lib/app/post-data.ts');
const { processFlush } = await import('../../../lib/app/flush.ts');

const job = { job_id: 'j' } as unknown as JobConfig;
/** A job whose last applied command is `c1` (a redelivery of it answers from here), with a renormalization pending or not. */
const runtime = (pending: boolean, response: unknown): JobRuntime => ({
  ...newJobRuntime('j', 0),
  state: 'opened',
  last_command: { id: 'c1', response },
  renormalization: { generation: 3, requested: 2, done: pending ? 1 : 2, ...(pending ? { start: 0, end: 10 } : {}) },
});

describe('a command redelivered after its commit', () => {
  beforeEach(() => vi.resetAllMocks());

  it('a post queues the renormalization its commit requested again (a crash may have come between the commit and the queueing)', async () => {
    const counts = { processed_record_count: 5 };
    expect(await processData(job, runtime(true, counts), 'c1', '')).toBe(counts);
    expect(renormalize.submitRenormalization).toHaveBeenCalledWith('j');
    await processData(job, runtime(false, counts), 'c1', '');
    expect(renormalize.submitRenormalization).toHaveBeenCalledTimes(1);
  });

  it('a flush finishes the pending renormalization before it answers, as Elasticsearch’s flush waits for its renormalizer', async () => {
    const remainingMs = () => 60_000;
    expect(await processFlush(job, runtime(true, { flushed: true }), 'c1', {}, { remainingMs })).toEqual({ flushed: true });
    expect(renormalize.applyRenormalize).toHaveBeenCalledWith('j', { remainingMs });
    await processFlush(job, runtime(false, { flushed: true }), 'c1', {});
    expect(renormalize.applyRenormalize).toHaveBeenCalledTimes(1);
  });
});
