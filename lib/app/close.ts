import { DEFAULT_MODEL_SNAPSHOT_RETENTION_DAYS } from '../domain/job/constants.ts';
import type { JobConfig } from '../domain/job/types.ts';
import { CLOSE_STEPS, type CloseStep, type JobRuntime, type ModelSnapshot } from '../domain/state.ts';
import { ES_VERSION } from '../domain/version.ts';
import { ConflictError, Messages } from '../domain/errors.ts';
import { getJobConfig, getJobRuntime, putJobRuntime, putJobRuntimeAndConfig } from '../store/jobs.ts';
import { readModelState } from '../store/model.ts';
import { deleteSnapshots, listSnapshots, writeSnapshot } from '../store/snapshots.ts';
import { analysisSpec, effectiveConfig, evictModel, loadModel, modelPruneWindowMs } from './analysis.ts';
import { audit } from './audit.ts';
import { addTiming, commitBatch, withBucketCounts } from './ingest.ts';

const DAY_MS = 86_400_000;

/** Time a close step may need at most; with less left in the invocation the close stops and resumes on redelivery. */
export const STEP_MARGIN_MS = 10_000;

/** Thrown when an invocation has too little time left for the next close step (a retryable, non-Elasticsearch error). */
export class CloseDeferred extends Error {
  constructor(jobId: string) {
    super(`close of job [${jobId}] continues on the next delivery`);
    this.name = 'CloseDeferred';
  }
}

/** Test seam: called after each step is durably recorded; a throw here simulates a crash at that boundary. */
export type StepHook = (step: CloseStep, jobId: string) => void | Promise<void>;

/**
 * Graceful close of one job (spec B.3), as checkpointed steps whose progress is saved on
 * the job's runtime item in the same conditional write as the step's own state change:
 *
 * 1. `stop_datafeed` – stop the job's datafeed first (none can exist yet: datafeeds are not implemented);
 * 2. `flush_buffers` – finalize the buckets held back by `latency` up to the newest record;
 * 3. `calculate_final_results` – results for the last, partial bucket; final model_size_stats;
 * 4. `persist_snapshot` – copy the live model state into a model snapshot (chunked under 400 KB an item) and make it the job's `model_snapshot_id`;
 * 5. `prune_model_history` – drop series idle beyond `model_prune_window` (default 30d) and snapshots beyond `model_snapshot_retention_days` / thin to one a day after `daily_model_snapshot_retention_after_days`;
 * 6. `finalize` – set `finished_time` and state `closed` (config and runtime in one transaction).
 *
 * A redelivered message, or one that crashed between steps, resumes at the first unfinished
 * step; each step's writes are idempotent (deterministic keys, generation numbers), so
 * nothing is lost or done twice. A job already `closed` is a no-op (`{closed:true}`); a
 * force close that happens meanwhile wins (the next conditional write fails and the close
 * sees the job closed on retry).
 */
export async function closeJob(jobId: string, commandId: string, hook?: StepHook, nowMs = Date.now(), remainingMs?: () => number): Promise<{ closed: true }> {
  for (;;) {
    // Stop between steps rather than be killed inside one: the redelivery resumes at the next step.
    if (remainingMs && remainingMs() < STEP_MARGIN_MS) throw new CloseDeferred(jobId);
    const stored = await getJobConfig(jobId);
    let rt = await getJobRuntime(jobId);
    if (!stored || !rt || rt.state === 'closed') return { closed: true };
    // A job that failed meanwhile (e.g. an earlier close gave up on it) needs a force close, as at the API.
    if (rt.state === 'failed') throw new ConflictError(Messages.closeFailedOne(jobId));
    if (rt.state !== 'closing' || !rt.close) {
      // The snapshot id is fixed when the close starts, so a redelivered persist_snapshot rewrites the same snapshot.
      // A job that never received data has nothing to flush, calculate, persist or prune: it goes straight to finalize.
      const next = rt.model ? 0 : CLOSE_STEPS.indexOf('finalize');
      const snapshotId = rt.model ? await freeSnapshotId(jobId, nowMs) : undefined;
      rt = { ...rt, state: 'closing', close: { command_id: commandId, next, ...(snapshotId ? { snapshot_id: snapshotId } : {}) }, version: rt.version + 1 };
      await putJobRuntime(rt);
      await audit(jobId, 'Job is closing', 'info', nowMs);
    }
    const progress = rt.close as NonNullable<JobRuntime['close']>;
    const step = CLOSE_STEPS[progress.next];
    if (!step) return { closed: true };
    await runStep(step, stored.config, stored.version, rt, nowMs);
    if (hook) await hook(step, jobId);
    if (step === 'finalize') return { closed: true };
  }
}

/** Elasticsearch names snapshots by epoch seconds; a second close within the same second takes the next free second. */
async function freeSnapshotId(jobId: string, nowMs: number): Promise<string> {
  const taken = new Set((await listSnapshots(jobId)).map((s) => s.snapshot_id));
  let id = Math.floor(nowMs / 1000);
  while (taken.has(String(id))) id++;
  return String(id);
}

function advance(rt: JobRuntime, patch: Partial<JobRuntime> = {}, closePatch: Partial<NonNullable<JobRuntime['close']>> = {}): JobRuntime {
  const close = rt.close as NonNullable<JobRuntime['close']>;
  return { ...rt, ...patch, close: { ...close, ...closePatch, next: close.next + 1 }, version: rt.version + 1 };
}

async function runStep(step: CloseStep, job: JobConfig, configVersion: number, rt: JobRuntime, nowMs: number): Promise<void> {
  switch (step) {
    case 'stop_datafeed':
      // Datafeeds are not implemented yet, so no job has one to stop.
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
      await commitBatch(job, rt, model, out.buckets, next);
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
      await commitBatch(job, rt, model, buckets, next);
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
          await commitBatch(job, rt, model, [], advance(rt));
          await audit(job.job_id, `Pruned [${pruned}] model series idle longer than the model_prune_window`, 'info', nowMs);
          return;
        }
      }
      await putJobRuntime(advance(rt));
      return;
    }
    case 'finalize': {
      const next: JobRuntime = { ...rt, state: 'closed', version: rt.version + 1 };
      delete next.close;
      delete next.opened_with;
      delete next.node;
      delete next.open_time_ms;
      delete next.assignment_explanation;
      delete next.reason;
      const fresh = await getJobConfig(job.job_id);
      await putJobRuntimeAndConfig(next, { ...(fresh?.config ?? job), finished_time: nowMs }, fresh?.version ?? configVersion);
      evictModel(job.job_id);
      return;
    }
  }
}

/**
 * Writes a model snapshot of the job's live model state and makes it the job's
 * `model_snapshot_id`; `next` (when given) is the runtime item to write in the same
 * transaction (close's step progress). Re-running with the same id rewrites the same items.
 */
export async function persistSnapshot(job: JobConfig, configVersion: number, rt: JobRuntime, snapshotId: string, description: string, nowMs: number, next?: JobRuntime): Promise<void> {
  if (!rt.model) return;
  const state = await readModelState(job.job_id, rt.model);
  const meta: ModelSnapshot = {
    job_id: job.job_id,
    snapshot_id: snapshotId,
    timestamp: nowMs,
    description,
    snapshot_doc_count: Math.max(1, rt.model.chunks),
    model_size_stats: rt.model_size_stats,
    retain: false,
    min_version: ES_VERSION.minimum_index_compatibility_version,
  };
  if (rt.data_counts.latest_record_timestamp !== undefined) meta.latest_record_time_stamp = rt.data_counts.latest_record_timestamp;
  if (rt.data_counts.latest_bucket_timestamp !== undefined) meta.latest_result_time_stamp = rt.data_counts.latest_bucket_timestamp;
  await writeSnapshot(meta, state);
  await putJobRuntimeAndConfig(next ?? { ...rt, version: rt.version + 1 }, { ...job, model_snapshot_id: snapshotId }, configVersion);
}

/**
 * Snapshots to delete under the retention settings (Elasticsearch's expired-snapshot rule):
 * relative to the newest snapshot, those older than `model_snapshot_retention_days` go, and
 * between `daily_model_snapshot_retention_after_days` and that, only the first of each day
 * stays. The job's current snapshot and snapshots with `retain: true` always stay.
 */
export function expiredSnapshots(job: JobConfig, snapshots: ModelSnapshot[]): string[] {
  if (snapshots.length === 0) return [];
  const newest = Math.max(...snapshots.map((s) => s.timestamp));
  const retentionDays = job.model_snapshot_retention_days ?? DEFAULT_MODEL_SNAPSHOT_RETENTION_DAYS;
  const dailyAfter = job.daily_model_snapshot_retention_after_days;
  const cutoff = newest - retentionDays * DAY_MS;
  const dailyCutoff = dailyAfter === undefined ? -Infinity : newest - dailyAfter * DAY_MS;
  const out: string[] = [];
  const keptDays = new Set<number>();
  for (const s of [...snapshots].sort((a, b) => a.timestamp - b.timestamp)) {
    if (s.retain || s.snapshot_id === job.model_snapshot_id) continue;
    if (s.timestamp < cutoff) {
      out.push(s.snapshot_id);
      continue;
    }
    if (s.timestamp < dailyCutoff) {
      const day = Math.floor(s.timestamp / DAY_MS);
      if (keptDays.has(day)) out.push(s.snapshot_id);
      else keptDays.add(day);
    }
  }
  return out;
}
