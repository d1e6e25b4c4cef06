/**
 * The rules of Elasticsearch's expired-data deletion (`DELETE _ml/_delete_expired_data` and the
 * nightly maintenance), pure: which model snapshots expire, how `requests_per_second` throttles
 * deletes, when an open job counts as idle, and the audit texts. The use case that applies them
 * is `lib/app/maintenance.ts`.
 */
import { ActionRequestValidationError, IllegalArgumentError } from './errors.ts';
import type { JobConfig } from './job/types.ts';
import type { JobRuntime, ModelSnapshot } from './state.ts';
import { javaParseDouble, type TimeValue } from './units.ts';

export const DAY_MS = 86_400_000;

/** `MlDataRemover.DEFAULT_MAX_DURATION`: how long a deletion may run when the request names no `timeout` (8 h), in ms. */
export const DEFAULT_MAX_DURATION_MS = 8 * 3_600_000;

/**
 * `AbstractBulkByScrollRequest.DEFAULT_SCROLL_SIZE`: the items one delete batch removes (and
 * the unit `requests_per_second` is counted in, as delete-by-query counts documents).
 */
export const DELETE_BATCH_SIZE = 1000;

/**
 * Model snapshots to delete under the job's retention settings, as Elasticsearch's
 * `ExpiredModelSnapshotsRemover` chooses them:
 *
 * - nothing when the job has no `model_snapshot_id` (no snapshot to keep as current) or no
 *   snapshot at all;
 * - times count back from the newest snapshot (by `timestamp`, epoch ms), not from now;
 * - only snapshots older than `daily_model_snapshot_retention_after_days` (or, when that is
 *   unset, `model_snapshot_retention_days`) are considered;
 * - of those, every snapshot older than `model_snapshot_retention_days` goes; the rest are
 *   thinned to one per day: walking them oldest first, a snapshot at or after the next "keep"
 *   time is kept and the keep time moves on by whole days past it; others go. The days are
 *   24-hour windows anchored at the hard cutoff (newest − retention days), not calendar days;
 * - the job's current snapshot and snapshots with `retain: true` are never deleted, and do not
 *   use up their day's keep.
 * @returns the ids of the snapshots to delete, oldest first
 */
export function expiredSnapshotIds(
  job: Pick<JobConfig, 'model_snapshot_id' | 'model_snapshot_retention_days' | 'daily_model_snapshot_retention_after_days'>,
  snapshots: readonly ModelSnapshot[],
): string[] {
  if (!job.model_snapshot_id || snapshots.length === 0) return [];
  const retentionDays = job.model_snapshot_retention_days ?? undefined;
  const considerAfterDays = job.daily_model_snapshot_retention_after_days ?? retentionDays;
  if (considerAfterDays === undefined || considerAfterDays === null) return [];
  const latest = Math.max(...snapshots.map((s) => s.timestamp));
  const cutoff = latest - considerAfterDays * DAY_MS;
  let nextToKeep = retentionDays === undefined || retentionDays === null ? 0 : latest - retentionDays * DAY_MS;
  const candidates = snapshots
    .filter((s) => s.timestamp < cutoff)
    .sort((a, b) => a.timestamp - b.timestamp || (a.snapshot_id < b.snapshot_id ? -1 : a.snapshot_id > b.snapshot_id ? 1 : 0));
  const out: string[] = [];
  for (const s of candidates) {
    if (s.snapshot_id === job.model_snapshot_id || s.retain) continue;
    if (s.timestamp >= nextToKeep) {
      do nextToKeep += DAY_MS;
      while (s.timestamp >= nextToKeep);
      continue;
    }
    out.push(s.snapshot_id);
  }
  return out;
}

/**
 * Checks `requests_per_second` as `DeleteExpiredDataAction.Request.validate` does: absent, -1, or
 * greater than 0. NaN (which `Float.parseFloat` accepts and Elasticsearch's check lets through)
 * is refused too: it would throttle nothing and everything at once.
 * @throws ActionRequestValidationError 400 "Validation Failed: 1: [requests_per_second] must either be -1 or greater than 0;"
 */
export function validateRequestsPerSecond(rps: number | undefined): void {
  if (rps === undefined || rps === -1) return;
  if (!(rps > 0)) throw new ActionRequestValidationError(['[requests_per_second] must either be -1 or greater than 0']);
}

/**
 * Reads the `requests_per_second` query parameter as `Float.parseFloat` does (surrounding
 * blanks, `1e3`, a trailing `f`/`d`, `Infinity` accepted), rounded to a float.
 * @throws IllegalArgumentError "Failed to parse float parameter [requests_per_second] with value [<v>]"
 */
export function parseRequestsPerSecondParam(value: string): number {
  const v = javaParseDouble(value);
  if (v === undefined) throw new IllegalArgumentError(`Failed to parse float parameter [requests_per_second] with value [${value}]`);
  return Math.fround(v);
}

/**
 * The deletion rate in force, in deleted items per second: unthrottled (Infinity) when the
 * request gives none; for -1 what `TransportDeleteExpiredDataAction` picks on a cluster with
 * fewer than 5 data nodes, `DEFAULT_SCROLL_SIZE / 5 × data nodes`, with mlplane counted as one
 * data node: 200 items/s.
 */
export function effectiveRequestsPerSecond(rps: number | null | undefined): number {
  if (rps === undefined || rps === null) return Infinity;
  if (rps === -1) return DELETE_BATCH_SIZE / 5;
  return rps;
}

/**
 * How long to pause after a delete batch so the rate stays at `rps` items per second, as
 * delete-by-query's throttle does: a batch of `items` is spread over `items / rps` seconds,
 * minus the time the batch itself took (`elapsedMs`). 0 when unthrottled.
 */
export function throttleDelayMs(items: number, rps: number, elapsedMs: number): number {
  if (!Number.isFinite(rps) || items <= 0) return 0;
  return Math.max(0, Math.ceil((items / rps) * 1000 - elapsedMs));
}

/**
 * When an open job last showed activity (epoch ms): the later of its last data time and the time
 * it was opened; undefined when neither is known.
 */
export function lastActivityMs(rt: Pick<JobRuntime, 'data_counts' | 'open_time_ms'>): number | undefined {
  const times = [rt.data_counts.last_data_time, rt.open_time_ms].filter((t): t is number => typeof t === 'number');
  return times.length === 0 ? undefined : Math.max(...times);
}

/**
 * True when maintenance should close an open job automatically (`xpack.ml.idle_job_auto_close_timeout`,
 * an mlplane setting: Elasticsearch has no idle auto-close): the job is `opened`, no datafeed of
 * it is started, and it has had no data (nor been opened) for longer than `timeoutMs`.
 */
export function isIdleJob(rt: Pick<JobRuntime, 'state' | 'data_counts' | 'open_time_ms'>, datafeedStarted: boolean, nowMs: number, timeoutMs: number): boolean {
  if (rt.state !== 'opened' || datafeedStarted || timeoutMs <= 0) return false;
  const last = lastActivityMs(rt);
  return last !== undefined && nowMs - last > timeoutMs;
}

/**
 * `DateTimeFormatter.ISO_OFFSET_DATE_TIME` of an instant in UTC (the zone of a Lambda): seconds
 * always, a fraction only when not zero and without trailing zeros, `Z` for the offset.
 */
export function isoOffsetDateTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-11-26T00:30:00.000Z
  const millis = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${millis ? `.${millis}` : ''}Z`;
}

/** The audit texts of expired-data deletion (Elasticsearch's `Messages` and `TransportDeleteExpiredDataAction`, and mlplane's auto-close). */
export const RetentionMessages = {
  /** `JOB_AUDIT_OLD_RESULTS_DELETED`, written when results were deleted. */
  oldResultsDeleted: (cutoffMs: number) => `Deleted results prior to ${isoOffsetDateTime(cutoffMs)}`,
  /** `JOB_AUDIT_SNAPSHOTS_DELETED`. */
  snapshotsDeleted: (n: number) => `[${n}] expired model snapshots deleted`,
  /** The warning when the deletion ran out of `timeout` (TimeValue's `toString`). */
  timedOut: (timeout: string) =>
    `Deleting expired ML data was cancelled after the timeout period of [${timeout}] was exceeded. The setting [xpack.ml.nightly_maintenance_requests_per_second] controls the deletion rate, consider increasing the value to assist in pruning old data`,
  /** mlplane's idle-job auto-close. */
  autoClosed: (timeout: TimeValue) =>
    `Job closed automatically during maintenance: no data and no started datafeed for longer than [${timeout.human()}] (xpack.ml.idle_job_auto_close_timeout)`,
} as const;
