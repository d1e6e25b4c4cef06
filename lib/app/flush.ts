import { ConflictError, Messages } from '../domain/errors.ts';
import type { JobConfig } from '../domain/job/types.ts';
import { transitionJob } from '../domain/lifecycle/job.ts';
import type { JobRuntime } from '../domain/state.ts';
import type { Command } from '../domain/command.ts';
import { getJobRuntime, putJobRuntime } from '../store/jobs.ts';
import { awaitWithoutTimeout, submitCommand, type Queued } from './commands.ts';
import { applyRenormalize, renormalizationPending } from './renormalize.ts';
import { addTiming, commitBatch, withBucketCounts } from './ingest.ts';
import { loadJob, refuseInUpgradeMode } from './job-lookup.ts';
import { evictModel, loadModel } from './live-model.ts';

/** Parameters of a flush (epoch ms; Elasticsearch's `advance_time`, `skip_time`, `start`, `end`, `calc_interim`). */
export interface FlushParams {
  calc_interim?: boolean;
  start?: number;
  end?: number;
  advance_time?: number;
  skip_time?: number;
}

/** POST _ml/anomaly_detectors/<id>/_flush (spec A.5.6): `{flushed:true, last_finalized_bucket_end?}`; 409 when not open. */
export async function flushJob(jobId: string, validate: () => FlushParams, startedMs = Date.now()): Promise<Queued<unknown>> {
  await refuseInUpgradeMode('cluster:admin/xpack/ml/job/flush');
  const rt = await getJobRuntime(jobId);
  // A job without a runtime item (unknown) has no task either: "not open", as in Elasticsearch.
  if (!rt) throw new ConflictError(Messages.jobNotOpen(jobId));
  transitionJob(rt, { type: 'require_open' });
  // Elasticsearch checks the time range and flush parameters in the job's task, so only once the job is found open.
  const params = validate();
  const cmd = await submitCommand({ action: 'flush', es_action: 'cluster:admin/xpack/ml/job/flush', description: `flush job [${jobId}]`, targets: [jobId], params: { ...params } });
  return awaitWithoutTimeout(cmd, startedMs, (r) => r[0]);
}

/** The worker side of `_flush`: the job as it is now and the checked parameters of the request. */
export async function applyFlush(cmd: Command, jobId: string, opts: { remainingMs?: () => number } = {}): Promise<{ flushed: true; last_finalized_bucket_end?: number }> {
  const { job, rt } = await loadJob(jobId, true);
  return processFlush(job, rt, cmd.command_id, cmd.params as Parameters<typeof processFlush>[3], opts);
}

/**
 * Processes one `_flush` command: finalizes buckets up to `advance_time`, skips to
 * `skip_time`, and (with `calc_interim`) writes interim results for the open bucket; then
 * finishes any pending renormalization, as Elasticsearch's flush waits for its renormalizer.
 * Answers `{flushed: true, last_finalized_bucket_end?}` (spec A.5.6).
 */
export async function processFlush(
  job: JobConfig,
  rt: JobRuntime,
  commandId: string,
  params: { calc_interim?: boolean; advance_time?: number; skip_time?: number },
  opts: { remainingMs?: () => number } = {},
): Promise<{ flushed: true; last_finalized_bucket_end?: number }> {
  if (rt.last_command?.id === commandId) {
    // Redelivered (or handed on) after its commit: the renormalization it waits for is finished first.
    if (renormalizationPending(rt)) await applyRenormalize(job.job_id, opts);
    return rt.last_command.response as { flushed: true };
  }
  transitionJob(rt, { type: 'require_open' });
  const model = await loadModel(job, rt);
  const started = performance.now();
  const out = model.flush({ calcInterim: params.calc_interim, advanceTimeMs: params.advance_time, skipTimeMs: params.skip_time });
  const elapsed = performance.now() - started;
  const response: { flushed: true; last_finalized_bucket_end?: number } = { flushed: true };
  if (!rt.model && out.buckets.length === 0 && out.interim.length === 0) {
    // Nothing was ever posted: no model state to write (and none to snapshot at close).
    await putJobRuntime(transitionJob(rt, { type: 'progress', patch: { last_command: { id: commandId, response } } }));
    evictModel(job.job_id);
    return response;
  }
  const lastEnd = out.lastFinalizedBucketEndMs ?? rt.last_finalized_bucket_end;
  if (lastEnd !== undefined) response.last_finalized_bucket_end = lastEnd;
  const next: Partial<JobRuntime> = {
    data_counts: withBucketCounts(rt.data_counts, model),
    timing_stats: addTiming(rt.timing_stats, out.buckets, elapsed, model.pendingEmptyRunBuckets()),
    last_command: { id: commandId, response },
  };
  if (lastEnd !== undefined) next.last_finalized_bucket_end = lastEnd;
  const committed = await commitBatch(job, rt, model, out.buckets, next, out.interim, false);
  // As Elasticsearch's flush waits for its renormalizer ("so that we block clients from querying
  // results in the middle of normalization"): a pass this flush requested, or one still pending,
  // is done before it answers. Out of time, it hands on; the continuation finishes it (above).
  if (renormalizationPending(committed)) await applyRenormalize(job.job_id, opts);
  return response;
}
