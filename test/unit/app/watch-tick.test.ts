import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ScheduleTrigger, WatchStatus } from '../../../lib/domain/watcher/types.ts';
import type { LastScheduledRun, WatchWithTrigger } from '../../../lib/store/watch-triggers.ts';
import type { StoredWatch } from '../../../lib/store/watches.ts';

/** An in-memory watch partition with the store's conditional claim. */
const items = new Map<string, WatchWithTrigger>();
const claims = vi.fn();
const sameRun = (a: LastScheduledRun | undefined, b: LastScheduledRun | undefined) => a?.triggeredMs === b?.triggeredMs;
vi.mock('../../../lib/store/watch-triggers.ts', () => ({
  listWatchesWithTrigger: async () => [...items.values()].map((w) => structuredClone(w)),
  claimScheduledRun: async (id: string, run: LastScheduledRun, previous: LastScheduledRun | undefined) => {
    claims(id, run);
    const w = items.get(id);
    if (!w || !sameRun(w.lastRun, previous)) return false;
    w.lastRun = run;
    return true;
  },
  releaseScheduledRun: async (id: string, claimed: LastScheduledRun, previous: LastScheduledRun | undefined) => {
    const w = items.get(id);
    if (!w || !sameRun(w.lastRun, claimed)) return false;
    w.lastRun = previous;
    return true;
  },
}));

const { runWatchTick, findDueWatchRuns } = await import('../../../lib/app/watch-tick.ts');

const MIN = 60_000;
const T = Date.UTC(2026, 10, 26, 10, 0, 30); // 10:00:30Z, a tick's time

const addWatch = (id: string, schedule: ScheduleTrigger, opts: { active?: boolean; activatedMs?: number; lastRun?: LastScheduledRun } = {}) => {
  const status: WatchStatus = { state: { active: opts.active ?? true, timestamp: opts.activatedMs ?? T }, actions: {} };
  const watch = {
    id,
    watch: { trigger: { schedule }, input: { type: 'none', body: {} }, condition: { type: 'always', body: {} }, actions: [] },
    status,
    version: 1,
    seqNo: 0,
    primaryTerm: 1,
  } as StoredWatch;
  items.set(id, { watch, lastRun: opts.lastRun });
};

const submitted: unknown[] = [];
const submit = vi.fn(async (run: unknown) => {
  submitted.push(run);
});
/** Advances the clock to `ms` after T and runs the tick there. */
const tickAt = async (ms: number) => {
  vi.setSystemTime(T + ms);
  return (await runWatchTick(Date.now(), submit)).submitted;
};

describe('the watch schedule tick', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T);
    items.clear();
    submitted.length = 0;
    submit.mockClear();
    claims.mockClear();
  });
  afterEach(() => vi.useRealTimers());

  it('submits an interval watch one interval after its activation, with the tick as triggered_time', async () => {
    addWatch('every5m', { type: 'interval', value: '5m' });
    for (let m = 1; m <= 4; m++) expect(await tickAt(m * MIN)).toEqual([]);
    expect(await tickAt(5 * MIN)).toEqual([{ watch_id: 'every5m', scheduled_time: T + 5 * MIN, triggered_time: T + 5 * MIN }]);
    expect(await tickAt(6 * MIN)).toEqual([]);
    expect(await tickAt(10 * MIN + 20_000)).toEqual([{ watch_id: 'every5m', scheduled_time: T + 10 * MIN, triggered_time: T + 10 * MIN + 20_000 }]);
    expect(submit).toHaveBeenCalledTimes(2);
  });

  it('a tick that runs twice, or a second tick racing it, submits each run once', async () => {
    addWatch('hourly', { type: 'hourly', value: { minute: [0] } });
    vi.setSystemTime(Date.UTC(2026, 10, 26, 11, 0, 12));
    const now = Date.now();
    const [first, second] = await Promise.all([runWatchTick(now, submit), runWatchTick(now, submit)]);
    expect([...(first?.submitted ?? []), ...(second?.submitted ?? [])]).toEqual([{ watch_id: 'hourly', scheduled_time: Date.UTC(2026, 10, 26, 11), triggered_time: now }]);
    expect((await runWatchTick(now, submit)).submitted).toEqual([]);
    expect(submit).toHaveBeenCalledTimes(1);
  });

  it('after downtime the missed fire times run once, for the earliest of them, then the schedule goes on', async () => {
    // Last run at the 10:00 fire; no tick from 10:01 to 13:19.
    addWatch('hourly', { type: 'hourly', value: { minute: [0] } }, { activatedMs: T - 60 * MIN, lastRun: { scheduledMs: T - 30_000, triggeredMs: T } });
    expect(await tickAt(3 * 60 * MIN + 20 * MIN)).toEqual([{ watch_id: 'hourly', scheduled_time: Date.UTC(2026, 10, 26, 11), triggered_time: T + 200 * MIN }]);
    expect(await tickAt(3 * 60 * MIN + 21 * MIN)).toEqual([]);
    // 14:00 is the next fire time.
    expect(await tickAt(3 * 60 * MIN + 59 * MIN + 30_000)).toEqual([
      { watch_id: 'hourly', scheduled_time: Date.UTC(2026, 10, 26, 14), triggered_time: Date.UTC(2026, 10, 26, 14) },
    ]);
  });

  it('a sub-minute schedule fires at most once per tick, scheduled at the earliest fire time it missed', async () => {
    addWatch('every10s', { type: 'interval', value: '10s' });
    addWatch('cron20s', { type: 'cron', value: '0/20 * * * * ?' });
    expect(await tickAt(MIN)).toEqual([
      { watch_id: 'every10s', scheduled_time: T + 10_000, triggered_time: T + MIN },
      { watch_id: 'cron20s', scheduled_time: Date.UTC(2026, 10, 26, 10, 0, 40), triggered_time: T + MIN },
    ]);
    expect(await tickAt(2 * MIN)).toEqual([
      { watch_id: 'every10s', scheduled_time: T + MIN + 10_000, triggered_time: T + 2 * MIN },
      { watch_id: 'cron20s', scheduled_time: Date.UTC(2026, 10, 26, 10, 1, 40), triggered_time: T + 2 * MIN },
    ]);
  });

  it('skips inactive watches, and a re-activated watch starts from its activation', async () => {
    addWatch('off', { type: 'interval', value: '1m' }, { active: false });
    addWatch('reactivated', { type: 'interval', value: '5m' }, { activatedMs: T + 3 * MIN, lastRun: { scheduledMs: T - 5 * MIN, triggeredMs: T - 4 * MIN } });
    expect(await tickAt(7 * MIN)).toEqual([]);
    expect(await tickAt(8 * MIN)).toEqual([{ watch_id: 'reactivated', scheduled_time: T + 8 * MIN, triggered_time: T + 8 * MIN }]);
    expect(claims).not.toHaveBeenCalledWith('off', expect.anything());
  });

  it('a watch deactivated over fire times does not catch them up when activated again', async () => {
    // Last run 08:00; deactivated, then activated at 10:00:30: 09:00 and 10:00 are not owed.
    addWatch('hourly', { type: 'hourly', value: { minute: [0] } }, { activatedMs: T, lastRun: { scheduledMs: T - 2 * 60 * MIN - 30_000, triggeredMs: T - 2 * 60 * MIN } });
    expect(await tickAt(MIN)).toEqual([]);
    expect(await tickAt(59 * MIN + 30_000)).toEqual([{ watch_id: 'hourly', scheduled_time: Date.UTC(2026, 10, 26, 11), triggered_time: Date.UTC(2026, 10, 26, 11) }]);
  });

  it('uses the schedule’s timezone', async () => {
    // Daily at 11:00 in Paris (UTC+1 in November) is 10:00Z.
    addWatch('paris', { type: 'daily', value: { at: ['11:00'] }, timezone: 'Europe/Paris' }, { activatedMs: T - 60 * MIN });
    expect(await tickAt(-MIN)).toEqual([]);
    expect(await tickAt(0)).toEqual([{ watch_id: 'paris', scheduled_time: Date.UTC(2026, 10, 26, 10), triggered_time: T }]);
  });

  it('a failed submission releases the claim, so the next tick submits the same run; other watches still run', async () => {
    addWatch('a', { type: 'interval', value: '1m' });
    addWatch('b', { type: 'interval', value: '1m' });
    submit.mockImplementationOnce(async () => {
      throw new Error('queue down');
    });
    vi.setSystemTime(T + MIN);
    await expect(runWatchTick(Date.now(), submit)).rejects.toThrow(AggregateError);
    expect(submitted).toEqual([{ watch_id: 'b', scheduled_time: T + MIN, triggered_time: T + MIN }]);
    expect(items.get('a')?.lastRun).toBeUndefined();
    expect(await tickAt(MIN + 30_000)).toEqual([{ watch_id: 'a', scheduled_time: T + MIN, triggered_time: T + MIN + 30_000 }]);
  });

  it('reports a watch whose schedule cannot be evaluated without failing the tick or the other watches', async () => {
    addWatch('broken', { type: 'cron', value: '0 0 0 * * *' });
    addWatch('fine', { type: 'interval', value: '1m' });
    vi.setSystemTime(T + MIN);
    expect(await runWatchTick(Date.now(), submit)).toEqual({
      submitted: [{ watch_id: 'fine', scheduled_time: T + MIN, triggered_time: T + MIN }],
      unschedulable: ['broken'],
    });
  });

  it('lists the due runs without claiming them', async () => {
    addWatch('every5m', { type: 'interval', value: '5m' });
    vi.setSystemTime(T + 5 * MIN);
    expect(await findDueWatchRuns()).toEqual([{ watch_id: 'every5m', scheduled_time: T + 5 * MIN, triggered_time: T + 5 * MIN }]);
    expect(claims).not.toHaveBeenCalled();
    expect(await findDueWatchRuns()).toHaveLength(1);
  });
});
