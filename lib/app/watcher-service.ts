/**
 * The Watcher service APIs (spec watcher-ack §4.6): `GET _watcher/stats[/{metric}]`,
 * `POST _watcher/_start` and `POST _watcher/_stop`. mlplane is one node (`nodeName`), so
 * `stats` has one entry; the stopped flag is a cluster setting, read by scheduled
 * executions, so it holds across every function.
 */
import { config } from '../runtime/config.ts';
import { getClusterSettings, putClusterSettings } from '../store/cluster.ts';
import { expireAcks } from '../domain/watcher/status.ts';
import { isoTime, type WatchStatus } from '../domain/watcher/types.ts';
import { listWatches } from '../store/watches.ts';

/** A running marker older than this is a crashed execution, not a running one (the ack's rule). */
const RUNNING_STALE_MS = 5 * 60_000;

/**
 * `GET _watcher/stats[/{metric}]`. `current_watches` lists the watches whose execution is
 * running (their running marker), `queued_watches` is always empty (executions wait in SQS,
 * which is not inspected). `watch_count` counts active watches, as Elasticsearch's trigger
 * service does.
 * `throttled_actions` (mlplane extension, only when named) lists, per watch, the actions held
 * back now and why (see {@link throttledActions}).
 * @param metrics the `{metric}` path part or `metric` parameter, comma separated
 *   (other names are ignored, as Elasticsearch's `RestWatcherStatsAction` ignores them)
 * @param warnings receives Elasticsearch's deprecation text for `pending_watches`
 */
export async function watcherStats(metrics: string | undefined, warnings: string[] = [], nowMs = Date.now()): Promise<Record<string, unknown>> {
  const wanted = new Set((metrics ?? '').split(',').filter((m) => m !== ''));
  if (wanted.has('pending_watches')) warnings.push('The pending_watches parameter is deprecated, use queued_watches instead');
  const all = wanted.has('_all');
  const [settings, watches] = await Promise.all([getClusterSettings(), listWatches()]);
  const stopped = settings.watcher_stopped === true;
  const node: Record<string, unknown> = {
    node_id: config().nodeName,
    watcher_state: stopped ? 'stopped' : 'started',
    watch_count: stopped ? 0 : watches.filter((w) => w.status.state.active).length,
    execution_thread_pool: { queue_size: 0, max_size: 0 },
  };
  if (all || wanted.has('current_watches')) {
    node.current_watches = watches
      .filter((w) => w.runningSinceMs !== undefined && nowMs - w.runningSinceMs < RUNNING_STALE_MS)
      .map((w) => {
        const since = new Date(w.runningSinceMs as number).toISOString();
        return { watch_id: w.id, triggered_time: since, execution_time: since, execution_phase: 'started' };
      });
  }
  if (all || wanted.has('queued_watches') || wanted.has('pending_watches')) node.queued_watches = [];
  // An mlplane extension, only when named: `_all` stays Elasticsearch's answer.
  if (wanted.has('throttled_actions')) node.throttled_actions = watches.flatMap((w) => throttledActions(w.id, expireAcks(w.status, nowMs).status));
  return {
    _nodes: { total: 1, successful: 1, failed: 0 },
    cluster_name: config().clusterName,
    manually_stopped: stopped,
    stats: [node],
  };
}

/** `POST _watcher/_start` / `_stop`: sets the stopped flag; `{acknowledged: true}`. */
export async function setWatcherStopped(stopped: boolean): Promise<{ acknowledged: true }> {
  for (;;) {
    const s = await getClusterSettings();
    if ((s.watcher_stopped === true) === stopped) return { acknowledged: true };
    if (await putClusterSettings({ ...s, watcher_stopped: stopped, version: s.version + 1 })) return { acknowledged: true };
  }
}

/** Whether Watcher was stopped with `_stop` (scheduled executions are then skipped). */
export async function watcherStopped(): Promise<boolean> {
  return (await getClusterSettings()).watcher_stopped === true;
}

/** One entry of the `throttled_actions` stats extension. */
export interface ThrottledAction {
  watch_id: string;
  action_id: string;
  reason: string;
  /** When the ack or the throttle happened (ISO 8601). */
  timestamp: string;
  /** For an ack made with `expires_in`: when it lapses (ISO 8601). */
  expires?: string;
}

/**
 * The actions of a watch that are held back now: an `acked` action (the ack throttler holds it
 * until the condition is false or the ack expires; reason as Elasticsearch's AckThrottler:
 * `action [<a>] was acked at [<time>]`), else an action whose latest event is a throttle
 * (`last_throttle` newer than `last_execution`: the period throttler's reason, e.g.
 * `throttling interval is set to [5s] but time elapsed since last execution is [1s]`).
 * Expired acks must already be applied to `status`.
 */
export function throttledActions(watchId: string, status: WatchStatus): ThrottledAction[] {
  const out: ThrottledAction[] = [];
  for (const [actionId, a] of Object.entries(status.actions)) {
    if (a.ack.state === 'acked') {
      const at = isoTime(a.ack.timestamp);
      out.push({
        watch_id: watchId,
        action_id: actionId,
        reason: `action [${actionId}] was acked at [${at}]`,
        timestamp: at,
        ...(a.ack.expires === undefined ? {} : { expires: isoTime(a.ack.expires) }),
      });
    } else if (a.last_throttle && (!a.last_execution || a.last_throttle.timestamp > a.last_execution.timestamp)) {
      out.push({ watch_id: watchId, action_id: actionId, reason: a.last_throttle.reason, timestamp: isoTime(a.last_throttle.timestamp) });
    }
  }
  return out;
}
