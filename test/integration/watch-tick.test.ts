/**
 * The watch schedule tick over DynamoDB Local: watches put with the official client, the tick
 * driven through its use case at chosen instants (the integration system runs no cron), its
 * claims written with the real conditional expressions.
 */
import { describe, expect, it } from 'vitest';
import { esClient, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();
const MIN = 60_000;

const { runWatchTick, findDueWatchRuns } = await direct(() => import('../../lib/app/watch-tick.ts'));
const { submitScheduledExecution } = await direct(() => import('../../lib/app/execute-watch.ts'));
const { getWatch } = await direct(() => import('../../lib/store/watches.ts'));
const { listWatchesWithTrigger } = await direct(() => import('../../lib/store/watch-triggers.ts'));

const body = (schedule: Record<string, unknown>) => ({
  trigger: { schedule },
  input: { simple: { payload: { send: 'yes' } } },
  condition: { always: {} },
  actions: { log: { logging: { text: 'tick' } } },
});

/** Runs a tick at `nowMs`, keeping only the runs of the given watches (other tests' watches share the table). */
async function tick(nowMs: number, ids: string[]) {
  const runs: unknown[] = [];
  const out = await runWatchTick(nowMs, async (run) => {
    if (ids.includes(run.watch_id)) runs.push(run);
  });
  return { runs, submitted: out.submitted.filter((r) => ids.includes(r.watch_id)) };
}

const activation = async (id: string): Promise<number> => {
  const w = await getWatch(id);
  if (!w) throw new Error(`no watch ${id}`);
  return w.status.state.timestamp;
};

describe('the watch schedule tick over DynamoDB', () => {
  it('claims each due run once on the watch item, even when the same tick runs twice', async () => {
    const id = uniqueId('tick-interval');
    await es.watcher.putWatch({ id, ...body({ interval: '5m' }) } as any);
    const start = await activation(id);

    expect((await tick(start + 4 * MIN, [id])).runs).toEqual([]);
    const first = await tick(start + 5 * MIN + 10_000, [id]);
    expect(first.runs).toEqual([{ watch_id: id, scheduled_time: start + 5 * MIN, triggered_time: start + 5 * MIN + 10_000 }]);
    // The same tick again (EventBridge delivers at least once): nothing more.
    expect((await tick(start + 5 * MIN + 10_000, [id])).runs).toEqual([]);
    const [stored] = (await listWatchesWithTrigger()).filter((w) => w.watch.id === id);
    expect(stored?.lastRun).toEqual({ scheduledMs: start + 5 * MIN, triggeredMs: start + 5 * MIN + 10_000 });
    // The claim is no document change: _version is still the put's.
    expect((await es.watcher.getWatch({ id }))._version).toBe(1);

    expect((await tick(start + 10 * MIN, [id])).runs).toEqual([{ watch_id: id, scheduled_time: start + 10 * MIN, triggered_time: start + 10 * MIN }]);
  });

  it('a re-put keeps the trigger state; a deactivated watch is not due; a deleted one is gone', async () => {
    const id = uniqueId('tick-cron');
    await es.watcher.putWatch({ id, ...body({ cron: '0 * * * * ?', timezone: 'Europe/Paris' }) } as any);
    const start = await activation(id);
    const firstMinute = Math.floor(start / MIN) * MIN + MIN;
    expect((await tick(firstMinute + 5_000, [id])).runs).toEqual([{ watch_id: id, scheduled_time: firstMinute, triggered_time: firstMinute + 5_000 }]);

    // A re-put writes the config and a fresh status, and leaves the trigger state alone.
    await es.watcher.putWatch({ id, ...body({ cron: '0 * * * * ?', timezone: 'Europe/Paris' }) } as any);
    const [reput] = (await listWatchesWithTrigger()).filter((w) => w.watch.id === id);
    expect(reput?.lastRun).toEqual({ scheduledMs: firstMinute, triggeredMs: firstMinute + 5_000 });
    expect(reput?.watch.version).toBe(2);

    await es.watcher.deactivateWatch({ watch_id: id });
    expect((await findDueWatchRuns(firstMinute + 10 * MIN)).filter((r) => r.watch_id === id)).toEqual([]);

    await es.watcher.deleteWatch({ id });
    expect((await listWatchesWithTrigger()).some((w) => w.watch.id === id)).toBe(false);
    expect((await tick(firstMinute + 20 * MIN, [id])).runs).toEqual([]);
  });

  it('the minute tick runs a due watch as a recorded execution: its status moves to ackable and the record is in the history', async () => {
    const id = uniqueId('tick-run');
    await es.watcher.putWatch({ id, ...body({ interval: '1m' }) } as any);
    const start = await activation(id);
    // The tick's own submitter (runScheduledWatches), kept to this test's watch: other tests' watches share the table and must not run here.
    const out = await runWatchTick(start + MIN + 1_000, (r) =>
      r.watch_id === id ? submitScheduledExecution(r.watch_id, { triggeredMs: r.triggered_time, scheduledMs: r.scheduled_time }) : Promise.resolve(),
    );
    expect(out.submitted.filter((r) => r.watch_id === id)).toEqual([{ watch_id: id, scheduled_time: start + MIN, triggered_time: start + MIN + 1_000 }]);
    const deadline = Date.now() + 60_000;
    let status: any;
    for (;;) {
      status = (await es.watcher.getWatch({ id })).status;
      if (status?.last_checked || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status.actions.log.ack.state).toBe('ackable');
    expect(status.execution_state).toBe('executed');
    // The record is written after the status: wait for it too.
    let history: any;
    for (;;) {
      history = await es.search({ index: '.watcher-history-*', query: { term: { watch_id: id } } });
      if (history.hits.hits.length > 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(history.hits.hits).toHaveLength(1);
    expect(history.hits.hits[0]._source.trigger_event.schedule).toMatchObject({ scheduled_time: new Date(start + MIN).toISOString() });
  });
});
