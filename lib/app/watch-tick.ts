/**
 * The watch schedule tick: the stand-in for Elasticsearch's `TickerScheduleTriggerEngine`,
 * run by the minute tick (EventBridge schedule `datafeeds-realtime`, locally the cron runner).
 * Elasticsearch checks its schedules every 500 ms; here the check runs once a minute, so a
 * watch fires at most once per tick: a sub-minute schedule (`interval` `10s`, a cron with a
 * seconds step) runs once a minute, for the earliest fire time it missed.
 */
import { dueFireTime } from '../domain/watcher/fire-time.ts';
import { submitScheduledExecution } from './execute-watch.ts';
import { claimScheduledRun, type LastScheduledRun, listWatchesWithTrigger, releaseScheduledRun, type WatchWithTrigger } from '../store/watch-triggers.ts';

/**
 * One scheduled run of a watch: Elasticsearch's `ScheduleTriggerEvent`, the
 * `{"type":"schedule","triggered_time":..,"schedule":{"scheduled_time":..}}` trigger event of
 * the watch record (epoch ms here).
 */
export interface ScheduledWatchRun {
  watch_id: string;
  /** The fire time the run is for (the earliest one missed when several were). */
  scheduled_time: number;
  /** The tick that found it due. */
  triggered_time: number;
}

/**
 * Hands one claimed run on to execution (an execute command in the watch's FIFO group, so it
 * is ordered with the watch's acks). It must not run the watch inline: the tick is one
 * function for every watch.
 */
export type SubmitWatchRun = (run: ScheduledWatchRun) => Promise<unknown>;

/** What one tick did. */
export interface WatchTickResult {
  /** The runs claimed and submitted. */
  submitted: ScheduledWatchRun[];
  /** Watches whose schedule could not be evaluated (skipped; they need a re-put). */
  unschedulable: string[];
}

/**
 * The run a tick at `nowMs` owes one watch, or undefined: none for an inactive watch
 * (Elasticsearch removes it from the trigger engine), else {@link dueFireTime} from the watch's
 * activation and its last scheduled run.
 */
export function dueRunOf(w: WatchWithTrigger, nowMs: number): ScheduledWatchRun | undefined {
  const { watch, lastRun } = w;
  if (!watch.status.state.active) return undefined;
  const schedule = watch.watch.trigger.schedule;
  const scheduled = dueFireTime(schedule, schedule.timezone, { activatedMs: watch.status.state.timestamp, lastTriggeredMs: lastRun?.triggeredMs }, nowMs);
  return scheduled === undefined ? undefined : { watch_id: watch.id, scheduled_time: scheduled, triggered_time: nowMs };
}

/**
 * The runs due at `nowMs`, without claiming or submitting anything (what a tick would run).
 * @returns one run per due active watch, by watch id (watches whose schedule cannot be evaluated are left out)
 */
export async function findDueWatchRuns(nowMs = Date.now()): Promise<ScheduledWatchRun[]> {
  return (await listWatchesWithTrigger()).flatMap((w) => {
    try {
      return dueRunOf(w, nowMs) ?? [];
    } catch {
      return [];
    }
  });
}

/**
 * Runs the schedule tick at `nowMs`: for every active watch with a fire time due since its
 * last scheduled run (or its activation), claims the run on the watch item (a conditional
 * write of the fire time and the tick, {@link claimScheduledRun}) and submits it. A tick that
 * runs twice, or two ticks at once, submit each run once: the second finds the run claimed
 * (or no longer due). If the submission fails the claim is released, so the next tick tries
 * the run again; a crash between claim and submission loses that one run (at most once, as a
 * trigger lost with an Elasticsearch node).
 *
 * A watch that fails does not keep the others from their runs; the failures are thrown
 * together afterwards (the invocation fails and EventBridge retries it; claimed runs are not
 * submitted again). A watch whose schedule cannot be evaluated (a stored cron the put should
 * have refused) is a permanent failure, not a transient one: it is reported in
 * `unschedulable` instead, so it does not fail, and retry, every tick.
 * @returns the runs submitted, and the ids of watches whose schedule could not be evaluated
 * @throws AggregateError of the failures, after every watch was tried
 */
export async function runWatchTick(nowMs: number, submit: SubmitWatchRun): Promise<WatchTickResult> {
  const submitted: ScheduledWatchRun[] = [];
  const unschedulable: string[] = [];
  const failures: unknown[] = [];
  for (const w of await listWatchesWithTrigger()) {
    let run: ScheduledWatchRun | undefined;
    try {
      run = dueRunOf(w, nowMs);
    } catch {
      unschedulable.push(w.watch.id);
      continue;
    }
    if (!run) continue;
    try {
      const claim: LastScheduledRun = { scheduledMs: run.scheduled_time, triggeredMs: run.triggered_time };
      if (!(await claimScheduledRun(run.watch_id, claim, w.lastRun))) continue;
      try {
        await submit(run);
      } catch (err) {
        await releaseScheduledRun(run.watch_id, claim, w.lastRun);
        throw err;
      }
      submitted.push(run);
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, `${failures.length} scheduled watch runs could not be submitted`);
  return { submitted, unschedulable };
}

/**
 * The minute tick's watch part: {@link runWatchTick} with the execution use case's submitter,
 * so each due run becomes one recorded scheduled execution (a `watch` command in the watch's
 * FIFO group, `lib/app/execute-watch.ts`), claimed once however often the tick runs.
 */
export function runScheduledWatches(nowMs: number): Promise<WatchTickResult> {
  return runWatchTick(nowMs, (r) => submitScheduledExecution(r.watch_id, { triggeredMs: r.triggered_time, scheduledMs: r.scheduled_time }));
}
