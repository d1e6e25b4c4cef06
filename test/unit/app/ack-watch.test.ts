import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConflictError, WatchVersionConflictError, WatchWriteConflict } from '../../../lib/domain/errors.ts';
import type { StoredWatch } from '../../../lib/store/watches.ts';

const getWatch = vi.fn<(id: string) => Promise<StoredWatch | undefined>>();
const putStatus = vi.fn();
vi.mock('../../../lib/store/watches.ts', () => ({ getWatch: (id: string) => getWatch(id), putStatus: (...a: unknown[]) => putStatus(...a), PRIMARY_TERM: 1 }));
const { ackWatch, RUNNING_MARKER_STALE_MS } = await import('../../../lib/app/ack-watch.ts');

const NOW = 1_700_000_000_000;
const watch = (state: 'ackable' | 'awaits_successful_execution', runningSinceMs?: number): StoredWatch => ({
  id: 'w',
  watch: { trigger: { schedule: { type: 'interval', value: '1m' } }, input: { type: 'none', body: {} }, condition: { type: 'always', body: {} }, actions: [] },
  status: { state: { active: true, timestamp: 0 }, actions: { a: { ack: { timestamp: 0, state } } } },
  version: 4,
  seqNo: 3,
  primaryTerm: 1,
  ...(runningSinceMs === undefined ? {} : { runningSinceMs }),
});

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
  getWatch.mockReset();
  putStatus.mockReset();
});
afterEach(() => vi.useRealTimers());

describe('ack of a watch', () => {
  it('writes only when an action changed, guarded by the seq_no read, and answers the version read before', async () => {
    getWatch.mockResolvedValue(watch('ackable'));
    const out = (await ackWatch('w', ['a'], { paths: 'current' })) as { status: { version: number; actions: { a: { ack: { state: string } } } } };
    expect(out.status.version).toBe(4);
    expect(out.status.actions.a.ack.state).toBe('acked');
    expect(putStatus).toHaveBeenCalledWith('w', expect.objectContaining({ actions: { a: { ack: { timestamp: NOW, state: 'acked' } } } }), 3);

    putStatus.mockReset();
    getWatch.mockResolvedValue(watch('awaits_successful_execution'));
    await ackWatch('w', [], { paths: 'current' });
    expect(putStatus).not.toHaveBeenCalled();
  });

  it('answers _status on the 5.x paths', async () => {
    getWatch.mockResolvedValue(watch('ackable'));
    expect(await ackWatch('w', [], { paths: 'xpack' })).toHaveProperty('_status');
  });

  it('a concurrent status write is a 409 version conflict', async () => {
    getWatch.mockResolvedValue(watch('ackable'));
    putStatus.mockRejectedValue(new WatchWriteConflict('w', { version: 5, seqNo: 4, primaryTerm: 1 }));
    await expect(ackWatch('w', [], { paths: 'current' })).rejects.toBeInstanceOf(WatchVersionConflictError);
  });

  it('the current paths answer 409 at once while an execution holds the watch', async () => {
    getWatch.mockResolvedValue(watch('ackable', NOW - 1000));
    await expect(ackWatch('w', [], { paths: 'current' })).rejects.toBeInstanceOf(ConflictError);
    expect(getWatch).toHaveBeenCalledTimes(1);
  });

  it('a running marker older than the stale limit does not block', async () => {
    getWatch.mockResolvedValue(watch('ackable', NOW - RUNNING_MARKER_STALE_MS));
    await expect(ackWatch('w', [], { paths: 'current' })).resolves.toBeDefined();
  });

  it('the 5.x paths wait for the execution to finish within master_timeout, then ack', async () => {
    getWatch.mockResolvedValueOnce(watch('ackable', NOW)).mockResolvedValueOnce(watch('ackable', NOW)).mockResolvedValue(watch('ackable'));
    const p = ackWatch('w', [], { paths: 'xpack', waitMs: 10_000 });
    await vi.advanceTimersByTimeAsync(1000);
    const out = (await p) as { _status: { actions: { a: { ack: { state: string } } } } };
    expect(out._status.actions.a.ack.state).toBe('acked');
    expect(getWatch).toHaveBeenCalledTimes(3);
  });

  it('the 5.x paths answer 409 when master_timeout runs out first', async () => {
    getWatch.mockResolvedValue(watch('ackable', NOW));
    const p = ackWatch('w', [], { paths: 'xpack', waitMs: 2_000 });
    const settled = expect(p).rejects.toThrow('watch[w] is running currently, cannot ack until finished');
    await vi.advanceTimersByTimeAsync(2_500);
    await settled;
    expect(putStatus).not.toHaveBeenCalled();
  });

  it('validates ids before reading anything', async () => {
    await expect(ackWatch('w', ['a b', 'c'], { paths: 'current' })).rejects.toThrow('Validation Failed: 1: action id [a b] contains whitespace;');
    expect(getWatch).not.toHaveBeenCalled();
  });
});
