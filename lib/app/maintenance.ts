import { CLUSTER_TARGET, type Command, type CommandParams } from '../domain/command.ts';
import { WorkDeferred, WorkParked } from '../domain/errors.ts';
import type { JobConfig } from '../domain/job/types.ts';
import { DEFAULT_MAX_DURATION_MS, DELETE_BATCH_SIZE, effectiveRequestsPerSecond, expiredSnapshotIds, isIdleJob, RetentionMessages, throttleDelayMs } from '../domain/retention.ts';
import { TimeValue } from '../domain/units.ts';
import { logger } from '../runtime/log.ts';
import { getClusterSettings } from '../store/cluster.ts';
import { getDatafeed, getJobDatafeedId } from '../store/datafeeds.ts';
import { getJobRuntime, listJobConfigsAfter } from '../store/jobs.ts';
import { getMaintenanceProgress, markMaintenanceJobDone, putMaintenanceProgress } from '../store/maintenance.ts';
import { deleteResultItems, expiredResultKeys, hideResultsBefore, newestBucketItem } from '../store/results.ts';
import { deleteSnapshots, listSnapshots } from '../store/snapshots.ts';
import { audit } from './audit.ts';
import { idleJobAutoCloseTimeout } from './cluster.ts';
import { awaitCommand, type Queued, settle, submitCommand } from './commands.ts';
import { refuseInUpgradeMode, resolveJobs, upgradeModeHalts } from './job-lookup.ts';

const DAY_MS = 86_400_000;

/** Elasticsearch's transport action of `DELETE _ml/_delete_expired_data` (privilege `manage_ml`). */
export const DELETE_EXPIRED_DATA_ACTION = 'cluster:admin/xpack/ml/delete_expired_data';

/** Jobs read per page of the walk (one Query of the job configs partition). */
export const JOB_PAGE_SIZE = 100;

/**
 * Time a worker keeps in hand before it starts the next job or delete batch, ms: below it the
 * deletion hands itself on to a continuation message rather than risk the function's timeout.
 */
export const HAND_OFF_MARGIN_MS = 10_000;

/** The request of `DELETE _ml/_delete_expired_data[/<job_id>]` after parsing. */
export interface DeleteExpiredDataRequest {
  /** Job id expression (ids, groups, wildcards, comma lists); absent, empty, `_all` or `*`: every job. */
  jobId?: string;
  /** Items per second, -1 for Elasticsearch's default rate; absent: unthrottled. */
  requestsPerSecond?: number;
  /** How long the deletion may run (default 8h). */
  timeout?: TimeValue;
}

const isAllJobs = (expr: string | undefined): boolean => expr === undefined || expr === '' || expr === '_all' || expr === '*';

/**
 * DELETE _ml/_delete_expired_data[/<job_id>] (Elasticsearch's `TransportDeleteExpiredDataAction`):
 * refused in upgrade mode (429); a job expression that matches nothing is 404
 * `resource_not_found_exception` "No known job with id '<expr>'" (no `allow_no_match`: it is
 * never allowed, as in Elasticsearch); `_all`, `*` or none means every job, even none. The
 * deletion runs as a `maintenance` command in the `cluster` FIFO group (see
 * {@link applyMaintenance}); the request waits for it within the gateway's cap and answers
 * `{"deleted": true}`, or `{"deleted": false}` when `timeout` ran out first, or 202 with a task
 * when the cap runs out first (the deletion carries on; `GET _tasks/<id>` reports it).
 */
export async function deleteExpiredData(req: DeleteExpiredDataRequest, nowMs = Date.now(), startedMs = nowMs): Promise<Queued<{ deleted: boolean }>> {
  await refuseInUpgradeMode(DELETE_EXPIRED_DATA_ACTION);
  if (!isAllJobs(req.jobId)) await resolveJobs(req.jobId as string, false);
  const timeoutMs = req.timeout?.ms ?? DEFAULT_MAX_DURATION_MS;
  const cmd = await submitMaintenance(
    {
      ...(isAllJobs(req.jobId) ? {} : { job_id: req.jobId as string }),
      requests_per_second: req.requestsPerSecond ?? null,
      deadline_ms: nowMs + timeoutMs,
      timeout: (req.timeout ?? TimeValue.ofMillis(DEFAULT_MAX_DURATION_MS)).human(),
      trigger: 'api',
    },
    nowMs,
  );
  const outcome = await awaitCommand(cmd.command_id, undefined, startedMs);
  return settle(
    cmd.task_id,
    outcome,
    () => new Error('unreachable: delete expired data has no request timeout on its wait'),
    (responses) => (responses[0] ?? { deleted: true }) as { deleted: boolean },
  );
}

/**
 * The nightly maintenance (Elasticsearch's `MlDailyMaintenanceService` at 00:30): skipped while
 * upgrade mode is on, as Elasticsearch does ("skipping scheduled [ML] maintenance tasks because
 * upgrade mode is enabled"); otherwise submits the expired-data deletion of every job with
 * Elasticsearch's nightly parameters (`requests_per_second` -1, `timeout` 8h). The schedule's
 * function returns at once; the worker carries the deletion out, handing itself on as often as
 * it needs.
 * @returns the command's task id, or undefined when skipped
 */
export async function startNightlyMaintenance(nowMs = Date.now()): Promise<string | undefined> {
  if (await upgradeModeHalts()) {
    logger.warn('skipping scheduled [ML] maintenance tasks because upgrade mode is enabled');
    return undefined;
  }
  const cmd = await submitMaintenance({ requests_per_second: -1, deadline_ms: nowMs + DEFAULT_MAX_DURATION_MS, timeout: '8h', trigger: 'nightly' }, nowMs);
  return cmd.task_id;
}

function submitMaintenance(params: CommandParams<'maintenance'>, nowMs: number): Promise<Command> {
  return submitCommand(
    {
      action: 'maintenance',
      es_action: DELETE_EXPIRED_DATA_ACTION,
      description: params.job_id === undefined ? 'delete expired data' : `delete expired data [${params.job_id}]`,
      targets: [CLUSTER_TARGET],
      params,
    },
    nowMs,
  );
}

/** What one job's expired-data deletion removed and did. */
export interface JobMaintenanceReport {
  job_id: string;
  results: number;
  snapshots: number;
  auto_closed: boolean;
}

/** Jobs whose expired data is deleted at once (one group), each job's deletes being sequential. */
export const JOB_CONCURRENCY = 8;

/** The seams of a maintenance walk, so the hand-off can be proved over many jobs with a fake clock. */
export interface MaintenanceWalk {
  /** Where an earlier invocation got to: the last job of the last finished group, and the jobs done since. */
  progress(): Promise<{ cursor?: string; done: ReadonlySet<string> }>;
  /** Records one job done (ahead of the cursor). */
  markDone(jobId: string): Promise<void>;
  /** Records every job up to `jobId` done (and forgets the jobs marked ahead of it). */
  saveCursor(jobId: string): Promise<void>;
  /** Up to `limit` jobs of the deletion after `after`, in job id order. */
  jobsAfter(after: string | undefined, limit: number): Promise<JobConfig[]>;
  /** Deletes one job's expired data (idempotent: a job run twice deletes nothing the second time). */
  processJob(job: JobConfig): Promise<void>;
  /** True while upgrade mode halts ML work. */
  halted(): Promise<boolean>;
  nowMs(): number;
  /** The invocation's remaining time, ms (Lambda's `getRemainingTimeInMillis`); absent: no limit. */
  remainingMs?: () => number;
}

/**
 * Walks the jobs of a deletion a page at a time from the saved cursor, {@link JOB_CONCURRENCY}
 * jobs at once; each job is marked done when it finishes and the cursor moves past a group when
 * all of it is done. Before each group it stops:
 * - with `{deleted: false}` when `deadlineMs` has passed (Elasticsearch checks its timeout
 *   before each job; here before each group of jobs);
 * - by throwing {@link WorkDeferred} when fewer than {@link HAND_OFF_MARGIN_MS} remain: the
 *   command runner hands the command on to a continuation message, which resumes after the
 *   cursor in a fresh invocation;
 * - by throwing {@link WorkParked} when upgrade mode is on (checked once a page): the message is
 *   parked and resumes when upgrade mode is disabled.
 * A crash or a redelivery resumes after the cursor and skips the jobs marked done: a finished
 * job never runs twice; a job cut off half way runs again, and its deletes are idempotent.
 * @returns `{deleted: true}` when every job is done
 */
export async function walkMaintenance(walk: MaintenanceWalk, deadlineMs: number): Promise<{ deleted: boolean }> {
  const saved = await walk.progress();
  let cursor = saved.cursor;
  const done = new Set(saved.done);
  for (;;) {
    const page = await walk.jobsAfter(cursor, JOB_PAGE_SIZE);
    if (page.length === 0) return { deleted: true };
    if (await walk.halted()) throw new WorkParked('delete expired data');
    for (let i = 0; i < page.length; i += JOB_CONCURRENCY) {
      if (walk.nowMs() > deadlineMs) return { deleted: false };
      if (walk.remainingMs && walk.remainingMs() < HAND_OFF_MARGIN_MS) throw new WorkDeferred(`delete expired data continues after job [${cursor ?? ''}]`);
      const group = page.slice(i, i + JOB_CONCURRENCY);
      // allSettled, not all: a failed job must not leave the others running past the hand-off.
      const settled = await Promise.allSettled(
        group
          .filter((job) => !done.has(job.job_id))
          .map(async (job) => {
            await walk.processJob(job);
            await walk.markDone(job.job_id);
          }),
      );
      const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw failure.reason;
      cursor = (group[group.length - 1] as JobConfig).job_id;
      await walk.saveCursor(cursor);
      done.clear();
    }
  }
}

/** Test seams of the worker side: the clock, the pause between throttled batches, and the invocation's remaining time. */
export interface MaintenanceOptions {
  remainingMs?: () => number;
  nowMs?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The worker side of a `maintenance` command: Elasticsearch's data removers applied to each job
 * of the deletion (job id order), then, when `timeout` ran out, its warning audit ("Deleting
 * expired ML data was cancelled after the timeout period of [<t>] was exceeded. …") on each job
 * named by the request, or on `_all` when it named none. Per job, as Elasticsearch's removers:
 * 1. results (buckets, records, model plot) older than `results_retention_days` before the
 *    newest bucket, in batches of 1,000 throttled to `requests_per_second`; audited "Deleted
 *    results prior to <cutoff, ISO-8601>" when any went;
 * 2. model snapshots as {@link expiredSnapshotIds} chooses (not throttled, as Elasticsearch's
 *    snapshot delete is not); audited "[<n>] expired model snapshots deleted";
 * 3. mlplane's idle-job auto-close, when `xpack.ml.idle_job_auto_close_timeout` is set: an
 *    `opened` job with no started datafeed and no data for longer than it gets a close command
 *    (the normal close, housekeeping included), audited "Job closed automatically during
 *    maintenance: …".
 * Forecasts and annotations do not exist in mlplane, so nothing removes them; notifications are
 * kept, as Elasticsearch keeps `.ml-notifications-*` (no lifecycle policy, no remover).
 */
export async function applyMaintenance(cmd: Command, params: CommandParams<'maintenance'>, opts: MaintenanceOptions = {}): Promise<{ deleted: boolean }> {
  const nowMs = opts.nowMs ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const rps = effectiveRequestsPerSecond(params.requests_per_second);
  const autoClose = idleJobAutoCloseTimeout(await getClusterSettings());
  // A named deletion expands its expression once per invocation (sorted by id, for the cursor);
  // a job deleted meanwhile is found empty and skipped by its removers.
  const named = params.job_id === undefined ? undefined : (await resolveJobs(params.job_id, true)).sort((a, b) => (a.job_id < b.job_id ? -1 : a.job_id > b.job_id ? 1 : 0));
  const ctx: JobContext = { rps, sleep, nowMs, remainingMs: opts.remainingMs, autoClose };
  const result = await walkMaintenance(
    {
      progress: () => getMaintenanceProgress(cmd.command_id),
      markDone: (jobId) => markMaintenanceJobDone(cmd.command_id, jobId, cmd.expires_at),
      saveCursor: (jobId) => putMaintenanceProgress(cmd.command_id, jobId, cmd.expires_at),
      jobsAfter: async (after, limit) => {
        if (!named) return listJobConfigsAfter(after, limit);
        return named.filter((j) => after === undefined || j.job_id > after).slice(0, limit);
      },
      processJob: (job) => maintainJob(job, ctx).then(() => undefined),
      halted: upgradeModeHalts,
      nowMs,
      remainingMs: opts.remainingMs,
    },
    params.deadline_ms,
  );
  if (!result.deleted) {
    const message = RetentionMessages.timedOut(params.timeout);
    logger.warn(message, { commandId: cmd.command_id });
    for (const jobId of named?.map((j) => j.job_id) ?? ['_all']) await audit(jobId, message, 'warning', nowMs());
  }
  return result;
}

interface JobContext {
  rps: number;
  sleep: (ms: number) => Promise<void>;
  nowMs: () => number;
  remainingMs?: () => number;
  autoClose?: TimeValue;
}

/** One job's expired-data deletion and idle check (see {@link applyMaintenance}). */
export async function maintainJob(job: JobConfig, ctx: JobContext): Promise<JobMaintenanceReport> {
  const results = await removeExpiredResults(job, ctx);
  const snapshots = await removeExpiredSnapshots(job);
  const autoClosed = ctx.autoClose ? await closeIfIdle(job, ctx.autoClose, ctx.nowMs()) : false;
  return { job_id: job.job_id, results, snapshots, auto_closed: autoClosed };
}

/** The stored document of a bucket item: a bucket, or an empty run (`end` set; times in epoch ms, `bucket_span` in s). */
export interface BucketItemDoc {
  timestamp: number;
  end?: number;
  bucket_span: number;
}

/**
 * Start (epoch ms) of the newest bucket a bucket item stands for. An empty run's item is
 * keyed by its first bucket, so its newest bucket starts one bucket_span before its end;
 * results retention counts back from there, as Elasticsearch counts from the newest bucket.
 */
export function newestBucketStart(doc: BucketItemDoc): number {
  return doc.end !== undefined ? doc.end - doc.bucket_span * 1000 : doc.timestamp;
}

async function removeExpiredResults(job: JobConfig, ctx: JobContext): Promise<number> {
  if (job.results_retention_days === undefined || job.results_retention_days === null) return 0;
  const newestDoc = await newestBucketItem(job.job_id);
  if (newestDoc === undefined) return 0;
  const cutoff = newestBucketStart(newestDoc) - job.results_retention_days * DAY_MS;
  // Hidden first, all at once: a part straddling the cutoff is never deleted whole, and the
  // deletion below may hand on to a continuation before it is through.
  const hidden = await hideResultsBefore(job.job_id, cutoff);
  const items = await expiredResultKeys(job.job_id, cutoff);
  for (let i = 0; i < items.length; i += DELETE_BATCH_SIZE) {
    // Deletes are idempotent and the cutoff counts from the same newest bucket: a continuation
    // re-runs this job and finds only what is left.
    if (i > 0 && ctx.remainingMs && ctx.remainingMs() < HAND_OFF_MARGIN_MS) throw new WorkDeferred(`expired results of job [${job.job_id}] continue`);
    const started = ctx.nowMs();
    const batch = items.slice(i, i + DELETE_BATCH_SIZE);
    await deleteResultItems(batch);
    const pause = throttleDelayMs(batch.length, ctx.rps, ctx.nowMs() - started);
    if (pause > 0 && i + DELETE_BATCH_SIZE < items.length) {
      if (ctx.remainingMs && ctx.remainingMs() - pause < HAND_OFF_MARGIN_MS) throw new WorkDeferred(`expired results of job [${job.job_id}] continue after the throttle`);
      await ctx.sleep(pause);
    }
  }
  if (items.length > 0 || hidden) await audit(job.job_id, RetentionMessages.oldResultsDeleted(cutoff), 'info', ctx.nowMs());
  return items.length;
}

async function removeExpiredSnapshots(job: JobConfig): Promise<number> {
  // Elasticsearch skips a job with no current snapshot before it reads any: so does this, which
  // keeps a walk over thousands of never-run jobs at one Query page per 100 jobs.
  if (!job.model_snapshot_id) return 0;
  const expired = expiredSnapshotIds(job, await listSnapshots(job.job_id));
  if (expired.length === 0) return 0;
  await deleteSnapshots(job.job_id, expired);
  await audit(job.job_id, RetentionMessages.snapshotsDeleted(expired.length));
  return expired.length;
}

async function closeIfIdle(job: JobConfig, timeout: TimeValue, nowMs: number): Promise<boolean> {
  const rt = await getJobRuntime(job.job_id);
  if (rt?.state !== 'opened') return false;
  const datafeedId = await getJobDatafeedId(job.job_id);
  const datafeed = datafeedId ? await getDatafeed(datafeedId) : undefined;
  const datafeedStarted = datafeed !== undefined && datafeed.runtime.state !== 'stopped';
  if (!isIdleJob(rt, datafeedStarted, nowMs, timeout.ms)) return false;
  await audit(job.job_id, RetentionMessages.autoClosed(timeout), 'info', nowMs);
  await submitCommand(
    { action: 'close', es_action: 'cluster:admin/xpack/ml/job/close', description: `close job [${job.job_id}] (idle, maintenance)`, targets: [job.job_id] },
    nowMs,
  );
  return true;
}

/**
 * One unthrottled expired-data pass over every job in this invocation, without a command (tests
 * and the benchmark measure the removers with it; the API and the nightly schedule go through
 * {@link applyMaintenance}). Does nothing while upgrade mode is on.
 * @returns what each job's deletion removed
 */
export async function runMaintenance(nowMs: () => number = Date.now): Promise<JobMaintenanceReport[]> {
  if (await upgradeModeHalts()) return [];
  const ctx: JobContext = { rps: Infinity, sleep: async () => {}, nowMs, autoClose: idleJobAutoCloseTimeout(await getClusterSettings()) };
  const report: JobMaintenanceReport[] = [];
  await walkMaintenance(
    {
      progress: async () => ({ done: new Set<string>() }),
      markDone: async () => {},
      saveCursor: async () => {},
      jobsAfter: listJobConfigsAfter,
      processJob: async (job) => {
        report.push(await maintainJob(job, ctx));
      },
      halted: async () => false,
      nowMs,
    },
    Infinity,
  );
  return report;
}
