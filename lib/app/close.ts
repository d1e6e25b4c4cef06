import type { DatafeedStopReason } from '../domain/events.ts';
import type { JobConfig } from '../domain/job/types.ts';
import { CloseDeferred, ConflictError, IllegalStateError, Messages, StaleStateError, WorkParked } from '../domain/errors.ts';
import { transitionJob } from '../domain/lifecycle/job.ts';
import { CLOSE_STEPS, type CloseStep, type JobRuntime } from '../domain/state.ts';
import type { TimeValue } from '../domain/units.ts';
import { getJobConfig, getJobRuntime, getJobRuntimes, putJobRuntime, putJobRuntimeAndConfig } from '../store/jobs.ts';
import { deleteSnapshots, listSnapshots } from '../store/snapshots.ts';
import { analysisSpec, effectiveConfig, evictModel, loadModel, modelPruneWindowMs } from './live-model.ts';
import { audit } from './audit.ts';
import { promoteLazyJobs } from './capacity.ts';
import { awaitCommand, settle, submitCommand, type Queued } from './commands.ts';
import { addTiming, commitBatch, withBucketCounts } from './ingest.ts';
import { refuseInUpgradeMode, resolveJobs, upgradeModeHalts } from './job-lookup.ts';
import { expiredSnapshots, persistSnapshot } from './model-snapshots.ts';
import { isolateDatafeed, stopDatafeeds, stopJobDatafeed } from './stop-datafeed.ts';
import { getDatafeed, getJobDatafeedId } from '../store/datafeeds.ts';
import { jobStateChanged } from './events-out.ts';
import { applyRenormalize } from './renormalize.ts';

/** Close request parameters after body-over-query precedence (spec A.0/A.1). */
export interface CloseParams {
  force: boolean;
  allowNoMatch: boolean;
  timeout: TimeValue | undefined;
}

/**
 * POST _ml/anomaly_detectors/<expr>/_close (spec A.1): expands ids and groups, refuses
 * failed jobs without force (409, nothing changed), force-closes at once (the persistent
 * task is removed: state `closed`, `finished_time` set, no final results or snapshot),
 * and otherwise sends a `close` command per open or closing job and waits up to `timeout`
 * (default 30m) for all of them: 500 "Timed out when waiting for persistent tasks after
 * <timeout>" when it runs out, 202 with a task when the gateway cap comes first.
 */
export async function closeJobs(expression: string, params: CloseParams, nowMs = Date.now(), startedMs = nowMs): Promise<Queued<{ closed: true }>> {
  await refuseInUpgradeMode('cluster:admin/xpack/ml/job/close');
  const jobs = await resolveJobs(expression, params.allowNoMatch);
  const runtimes = await getJobRuntimes(jobs.map((j) => j.job_id));
  const open: string[] = [];
  const closing: string[] = [];
  const failed: string[] = [];
  for (const j of jobs) {
    const state = runtimes.get(j.job_id)?.state ?? 'closed';
    if (state === 'opening' || state === 'opened') open.push(j.job_id);
    else if (state === 'closing') closing.push(j.job_id);
    else if (state === 'failed') failed.push(j.job_id);
  }
  if (failed.length > 0 && !params.force) {
    throw new ConflictError(jobs.length === 1 ? Messages.closeFailedOne(failed[0] as string) : Messages.closeFailedMany);
  }
  await stopJobsDatafeeds(open, params);
  if (params.force) {
    for (const id of [...open, ...closing, ...failed]) await forceClose(id, nowMs);
    await promoteLazyJobs();
    return { kind: 'done', response: { closed: true } };
  }
  const targets = [...open, ...closing].sort();
  if (targets.length === 0) return { kind: 'done', response: { closed: true } };
  const cmd = await submitCommand({ action: 'close', es_action: 'cluster:admin/xpack/ml/job/close', description: `close job [${expression}]`, targets });
  const timeoutMs = params.timeout?.ms ?? 30 * 60_000;
  const outcome = await awaitCommand(cmd.command_id, timeoutMs, startedMs);
  return settle(
    cmd.task_id,
    outcome,
    () => new IllegalStateError(Messages.persistentTasksTimeout(params.timeout?.human() ?? '30m')),
    () => ({ closed: true as const }),
  );
}

/**
 * Spec A.1 step 5: the started datafeeds of the jobs being closed are stopped first, with the
 * close's `force` and `timeout` (force isolates each first, so its stop does not close the job
 * on its own: the force close does). A normal stop of a datafeed with an `end` closes its job
 * itself; the close command that follows finds the job closed or resumes that close.
 * @throws ConflictError 409 "failed to close jobs as one or more had started datafeeds that could not be stopped: started datafeeds [<ids>], error stopping them [<message>]"
 */
async function stopJobsDatafeeds(jobIds: readonly string[], params: CloseParams): Promise<void> {
  const started: string[] = [];
  for (const jobId of jobIds) {
    const datafeedId = await getJobDatafeedId(jobId);
    const d = datafeedId ? await getDatafeed(datafeedId) : undefined;
    if (d && d.runtime.state !== 'stopped') started.push(d.config.datafeed_id);
  }
  if (started.length === 0) return;
  try {
    if (params.force) for (const id of started) await isolateDatafeed(id);
    await stopDatafeeds(started.join(','), { force: params.force, allowNoMatch: true, ...(params.timeout ? { timeout: params.timeout } : {}) });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ConflictError(
      `failed to close jobs as one or more had started datafeeds that could not be stopped: started datafeeds [${started.join(',')}], error stopping them [${message}]`,
    );
  }
}

/**
 * Force close of one job: removes the "task" at once with a conditional write (so it works
 * even while the job's queue group is busy or stuck), sets `finished_time`, and leaves any
 * queued data to fail with "not open". A close in progress notices the version change and
 * stops. Retries when it loses a race with a worker.
 */
export async function forceClose(jobId: string, nowMs = Date.now()): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const stored = await getJobConfig(jobId);
    const rt = await getJobRuntime(jobId);
    if (!stored || !rt || rt.state === 'closed') return;
    const next = transitionJob(rt, { type: 'force_close' });
    try {
      await putJobRuntimeAndConfig(next, { ...stored.config, finished_time: nowMs }, stored.version);
      await audit(jobId, 'Job is closing (forced)', 'info', nowMs);
      await jobStateChanged(rt, next, 'force_close');
      return;
    } catch (err) {
      if (!(err instanceof StaleStateError)) throw err;
    }
  }
  throw new ConflictError(`Failed to force close job [${jobId}] with [1] failures, rethrowing first. All Exceptions: [concurrent updates]`);
}

/** Test seams of the close's apply side. */
export interface CloseOptions {
  /** Called after each step is durably recorded (fault injection). */
  closeStepHook?: StepHook;
  /** Milliseconds left in this invocation (Lambda's getRemainingTimeInMillis). */
  remainingMs?: () => number;
}

/** The worker side of a close: the checkpointed steps, then a slot freed for a lazily opening job. */
export async function applyClose(jobId: string, commandId: string, opts: CloseOptions = {}): Promise<{ closed: true }> {
  const out = await closeJob(jobId, commandId, opts.closeStepHook, Date.now(), opts.remainingMs);
  await promoteLazyJobs();
  return out;
}

/** Time a close step may need at most; with less left in the invocation the close stops and the runner hands it on to a continuation message. */
export const STEP_MARGIN_MS = 10_000;

/** Test seam: called after each step is durably recorded; a throw here simulates a crash at that boundary. */
export type StepHook = (step: CloseStep, jobId: string) => void | Promise<void>;

/**
 * Graceful close of one job (spec B.3), as checkpointed steps whose progress is saved on
 * the job's runtime item in the same conditional write as the step's own state change:
 *
 * 1. `stop_datafeed` – stop the job's datafeed first (`started` → `stopped`, audit "Datafeed stopped");
 * 2. `flush_buffers` – finalize the buckets held back by `latency` up to the newest record;
 * 3. `calculate_final_results` – results for the last, partial bucket; final model_size_stats;
 * 4. `renormalize` – finish the renormalization the final results (or earlier data) requested, as Elasticsearch's close waits for its renormalizer;
 * 5. `persist_snapshot` – copy the live model state into a model snapshot (chunked under 400 KB an item) and make it the job's `model_snapshot_id`;
 * 6. `prune_model_history` – drop series idle beyond `model_prune_window` (default 30d) and snapshots beyond `model_snapshot_retention_days` / thin to one a day after `daily_model_snapshot_retention_after_days`;
 * 7. `finalize` – set `finished_time` and state `closed` (config and runtime in one transaction).
 *
 * A redelivered message, or one that crashed between steps, resumes at the first unfinished
 * step; each step's writes are idempotent (deterministic keys, generation numbers), so
 * nothing is lost or done twice. A job already `closed` is a no-op (`{closed:true}`); a
 * force close that happens meanwhile wins (the next conditional write fails and the close
 * sees the job closed on retry).
 */
export async function closeJob(
  jobId: string,
  commandId: string,
  hook?: StepHook,
  nowMs = Date.now(),
  remainingMs?: () => number,
  datafeedStopReason: DatafeedStopReason = 'job_closed',
): Promise<{ closed: true }> {
  for (;;) {
    // Stop between steps rather than be killed inside one: the continuation (or a redelivery) resumes at the next step.
    if (remainingMs && remainingMs() < STEP_MARGIN_MS) throw new CloseDeferred(jobId);
    // Upgrade mode halts the close after the step it was in; disabling it resumes at the next step (spec C, without Elasticsearch's kill).
    // The three reads go at once (one round trip per step, not three): the job's two are only used when upgrade mode lets the step run.
    const [halts, stored, current] = await Promise.all([upgradeModeHalts(), getJobConfig(jobId), getJobRuntime(jobId)]);
    if (halts) throw new WorkParked(`close of job [${jobId}]`);
    let rt = current;
    if (!stored || !rt || rt.state === 'closed') return { closed: true };
    if (rt.state !== 'closing' || !rt.close) {
      // A job that failed meanwhile (e.g. an earlier close gave up on it) needs a force close, as at the API:
      // start_close refuses it with 409 "cannot close job [<id>] because it failed, use force close".
      // The snapshot id is fixed when the close starts, so a redelivered persist_snapshot rewrites the same snapshot.
      // A job that never received data has nothing to flush, calculate, persist or prune: it goes straight to finalize.
      const next = rt.model ? 0 : CLOSE_STEPS.indexOf('finalize');
      // Skipping to finalize skips stop_datafeed too, but a job without data may still have a started datafeed (spec A.1 step 5).
      if (!rt.model) await stopJobDatafeed(jobId, nowMs, datafeedStopReason);
      const snapshotId = rt.model && rt.state !== 'failed' ? await freeSnapshotId(jobId, nowMs) : undefined;
      const before = rt;
      rt = transitionJob(rt, { type: 'start_close', commandId, next, ...(snapshotId ? { snapshotId } : {}) });
      await putJobRuntime(rt);
      await audit(jobId, 'Job is closing', 'info', nowMs);
      await jobStateChanged(before, rt, closeReason(datafeedStopReason));
    }
    const progress = rt.close as NonNullable<JobRuntime['close']>;
    const step = CLOSE_STEPS[progress.next];
    if (!step) return { closed: true };
    await runStep(step, stored.config, stored.version, rt, nowMs, datafeedStopReason, remainingMs);
    if (hook) await hook(step, jobId);
    if (step === 'finalize') return { closed: true };
  }
}

/** The reason of a close's job state events: none for a close request, `datafeed_<reason>` when the job's datafeed closed it (its `end`, `max_empty_searches`, …). */
function closeReason(datafeedStopReason: DatafeedStopReason): string | undefined {
  return datafeedStopReason === 'job_closed' ? undefined : `datafeed_${datafeedStopReason}`;
}

/** Elasticsearch names snapshots by epoch seconds; a second close within the same second takes the next free second. */
async function freeSnapshotId(jobId: string, nowMs: number): Promise<string> {
  const taken = new Set((await listSnapshots(jobId)).map((s) => s.snapshot_id));
  let id = Math.floor(nowMs / 1000);
  while (taken.has(String(id))) id++;
  return String(id);
}

/** The job after one close step: its runtime changes and the step progress moved on (the lifecycle's `close_step_done`). */
function advance(rt: JobRuntime, patch: Partial<JobRuntime> = {}, closePatch: Partial<NonNullable<JobRuntime['close']>> = {}): JobRuntime {
  return transitionJob(rt, { type: 'close_step_done', patch, closePatch });
}

async function runStep(
  step: CloseStep,
  job: JobConfig,
  configVersion: number,
  rt: JobRuntime,
  nowMs: number,
  datafeedStopReason: DatafeedStopReason,
  remainingMs?: () => number,
): Promise<void> {
  switch (step) {
    case 'stop_datafeed':
      // Spec A.1 step 5: the job's running datafeed stops first (a datafeed's lookback runs in this job's
      // FIFO group, so no chunk of it is in flight while this step runs). Idempotent under redelivery.
      await stopJobDatafeed(job.job_id, nowMs, datafeedStopReason);
      await putJobRuntime(advance(rt));
      return;
    case 'flush_buffers': {
      const model = await loadModel(job, rt);
      const latest = rt.data_counts.latest_record_timestamp;
      const span = analysisSpec(job).bucketSpanMs;
      if (latest === undefined) {
        await putJobRuntime(advance(rt));
        return;
      }
      const started = performance.now();
      // Finalize every bucket that ended by the newest record, whatever the latency held back.
      const out = model.flush({ advanceTimeMs: Math.floor(latest / span) * span });
      const next = advance(rt, {
        data_counts: withBucketCounts(rt.data_counts, model),
        timing_stats: addTiming(rt.timing_stats, out.buckets, performance.now() - started, model.pendingEmptyRunBuckets()),
        ...(out.lastFinalizedBucketEndMs !== undefined ? { last_finalized_bucket_end: out.lastFinalizedBucketEndMs } : {}),
      });
      await commitBatch(job, rt, model, out.buckets, next, [], false);
      return;
    }
    case 'calculate_final_results': {
      const model = await loadModel(job, rt);
      const started = performance.now();
      const buckets = model.finalizeAll();
      const lastEnd = model.lastFinalizedBucketEndMs() ?? rt.last_finalized_bucket_end;
      const next = advance(rt, {
        data_counts: withBucketCounts(rt.data_counts, model),
        timing_stats: addTiming(rt.timing_stats, buckets, performance.now() - started, model.pendingEmptyRunBuckets()),
        ...(lastEnd !== undefined ? { last_finalized_bucket_end: lastEnd } : {}),
      });
      await commitBatch(job, rt, model, buckets, next, [], false);
      return;
    }
    case 'renormalize': {
      // Elasticsearch's close waits for its renormalizer: the pass the final results requested
      // (lib/app/renormalize.ts) is done before the snapshot, so a closed job's scores are final.
      // Out of time between two chunks it hands on (the step resumes at the saved cursor).
      await applyRenormalize(job.job_id, remainingMs ? { remainingMs } : {});
      const after = await getJobRuntime(job.job_id);
      if (!after) return;
      await putJobRuntime(advance(after));
      return;
    }
    case 'persist_snapshot': {
      if (!rt.model) {
        // A job that never saw data has no model to persist (Elasticsearch writes no snapshot either).
        await putJobRuntime(advance(rt));
        return;
      }
      const snapshotId = rt.close?.snapshot_id ?? (await freeSnapshotId(job.job_id, nowMs));
      const when = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, '+0000');
      await persistSnapshot(job, configVersion, rt, snapshotId, `State persisted due to job close at ${when}`, nowMs, advance(rt, {}, { snapshot_id: snapshotId }));
      return;
    }
    case 'prune_model_history': {
      const snapshots = await listSnapshots(job.job_id);
      await deleteSnapshots(job.job_id, expiredSnapshots(effectiveConfig(job, rt), snapshots));
      const latest = rt.data_counts.latest_record_timestamp;
      if (rt.model && latest !== undefined) {
        const model = await loadModel(job, rt);
        const pruned = model.pruneIdleSeries(latest, modelPruneWindowMs(effectiveConfig(job, rt)));
        if (pruned > 0) {
          await commitBatch(job, rt, model, [], advance(rt), [], false);
          await audit(job.job_id, `Pruned [${pruned}] model series idle longer than the model_prune_window`, 'info', nowMs);
          return;
        }
      }
      await putJobRuntime(advance(rt));
      return;
    }
    case 'finalize': {
      const next = transitionJob(rt, { type: 'finish_close' });
      const fresh = await getJobConfig(job.job_id);
      await putJobRuntimeAndConfig(next, { ...(fresh?.config ?? job), finished_time: nowMs }, fresh?.version ?? configVersion);
      evictModel(job.job_id);
      await jobStateChanged(rt, next, closeReason(datafeedStopReason));
      return;
    }
  }
}

/**
 * Moves a job to `failed` with a reason (its "process" could not be closed). From there only
 * a force close or a force delete get it out, as in Elasticsearch. Best effort: a lost race
 * is retried a few times, a vanished job is ignored.
 */
export async function markJobFailed(jobId: string, reason: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const rt = await getJobRuntime(jobId);
    if (!rt) return;
    const next = transitionJob(rt, { type: 'fail', reason });
    // Closed or already failed: nothing to do.
    if (next === rt) return;
    try {
      await putJobRuntime(next);
      await audit(jobId, `Job failed: ${reason}`, 'error');
      await jobStateChanged(rt, next);
      await promoteLazyJobs();
      return;
    } catch (err) {
      if (!(err instanceof StaleStateError)) throw err;
    }
  }
}
