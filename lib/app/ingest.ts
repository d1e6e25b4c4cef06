import type { AnomalyModel, BucketResult, IngestOutput, InputRecord } from '../detect/index.ts';
import type { JobConfig } from '../domain/job/types.ts';
import type { DataCounts, JobRuntime, TimingStats } from '../domain/state.ts';
import { transitionJob } from '../domain/lifecycle/job.ts';
import { putJobRuntime } from '../store/jobs.ts';
import { deleteModelGeneration, deleteModelGenerationsExcept, writeModelState } from '../store/model.ts';
import { deleteResultsAt, writeResults } from '../store/results.ts';
import { anomalyRecordsWritten } from './events-out.ts';
import { afterCommit, submitRenormalization } from './renormalize.ts';
import { cacheModel, evictModel } from './live-model.ts';
import { timed } from '../runtime/step-timing.ts';

/**
 * Timing stats after `buckets` more finalized buckets (plus `emptyRunBuckets` finalised as
 * empty runs) that took `elapsedMs` in all. O(1) in the number of buckets.
 */
export function addTiming(t: TimingStats, buckets: BucketResult[], elapsedMs: number, emptyRunBuckets = 0): TimingStats {
  const n = buckets.length + emptyRunBuckets;
  if (n === 0) return t;
  const per = elapsedMs / n;
  const count = t.bucket_count + n;
  const total = t.total_bucket_processing_time_ms + elapsedMs;
  const alpha = 0.01;
  // n steps of ema ← ema·(1−α) + per·α, in closed form.
  const keep = (1 - alpha) ** n;
  const ema = (t.exponential_average_bucket_processing_time_ms ?? per) * keep + per * (1 - keep);
  return {
    job_id: t.job_id,
    bucket_count: count,
    total_bucket_processing_time_ms: total,
    minimum_bucket_processing_time_ms: Math.min(t.minimum_bucket_processing_time_ms ?? per, per),
    maximum_bucket_processing_time_ms: Math.max(t.maximum_bucket_processing_time_ms ?? per, per),
    average_bucket_processing_time_ms: total / count,
    exponential_average_bucket_processing_time_ms: ema,
    exponential_average_bucket_processing_time_per_hour_ms: elapsedMs,
  };
}

/** Data counts with the model's running bucket counts (bucket, empty and sparse counts and their latest timestamps). */
export function withBucketCounts(dc: DataCounts, model: AnomalyModel): DataCounts {
  return { ...dc, ...model.bucketCounts() };
}

/**
 * Persists what a batch changed, in the order that makes a crash harmless: results
 * (idempotent keys), then the next model generation's chunks, then one conditional write
 * of the runtime item that points at the new generation. Until that write the old
 * generation is live, so a crash anywhere before it is simply redone on redelivery.
 * Interim results of an earlier flush are deleted first and `interim` (this flush's, if
 * any) written and remembered instead.
 * `next` is what else changes on the runtime item (counts, timing, close progress: a patch,
 * or a whole item from the lifecycle), applied with the model pointer and size stats as the
 * lifecycle's `progress` event, which sets the version (the stored version + 1). Once it is
 * committed, the final records at or above the job's `custom_settings.event_record_score_threshold`
 * are published as `ML Anomaly Record` events, and when the batch moved the model's normalisers a
 * renormalization is requested with the same write and queued after it (`renormalize.ts`), unless
 * `queueRenormalization` is false: a flush or close carries it out itself before it answers.
 * @throws StaleStateError when the runtime item changed meanwhile (the model cache is dropped)
 */
export async function commitBatch(
  job: JobConfig,
  rt: JobRuntime,
  model: AnomalyModel,
  buckets: BucketResult[],
  next: Partial<JobRuntime>,
  interim: BucketResult[] = [],
  queueRenormalization = true,
): Promise<JobRuntime> {
  try {
    // Empty runs finalised by this call (ingest, flush or finalizeAll) go with its buckets.
    const runs = model.takeEmptyRuns();
    const generation = (rt.model?.generation ?? 0) + 1;
    // Results and the next generation's chunks are independent (neither is live before the
    // pointer moves), so they are written at once: one round trip less per batch.
    const [, pointer] = await timed('worker.commit.results_and_model_state_write', () =>
      Promise.all([
        (async () => {
          if (rt.interim_buckets && rt.interim_buckets.length > 0) await deleteResultsAt(job.job_id, rt.interim_buckets);
          if (buckets.length > 0 || interim.length > 0 || runs.length > 0) await writeResults(job.job_id, [...buckets, ...interim], runs);
        })(),
        writeModelState(job.job_id, generation, model.serialize()),
      ]),
    );
    const stats = model.modelSizeStats();
    // A batch that moved the normalisers requests a renormalization of the window ending at its newest final bucket (lib/app/renormalize.ts).
    const last = buckets.at(-1);
    const endMs = next.last_finalized_bucket_end ?? rt.last_finalized_bucket_end ?? (last ? last.timestamp + last.bucket_span * 1000 : undefined);
    const renormalization = afterCommit(job, rt, model, endMs);
    const committed = transitionJob(rt, {
      type: 'progress',
      patch: {
        ...next,
        ...(renormalization.state.generation > 0 || rt.renormalization ? { renormalization: renormalization.state } : {}),
        interim_buckets: interim.map((b) => b.timestamp),
        model: pointer,
        model_size_stats: { ...(next.model_size_stats ?? rt.model_size_stats), ...stats, model_bytes: pointer.bytes, log_time: Date.now() },
      },
    });
    await timed('worker.commit.runtime_write', () => putJobRuntime(committed));
    cacheModel(job, generation, model);
    await timed('worker.commit.old_model_delete_and_events', () =>
      Promise.all([
        // Superseded generations are garbage once the pointer moved: the one just replaced is
        // deleted by its pointer (no Query); every MODEL_SWEEP_EVERY generations, and when the
        // job had none, a sweep also removes what a crash or an abandoned write left behind.
        rt.model && generation % MODEL_SWEEP_EVERY !== 0 ? deleteModelGeneration(job.job_id, rt.model) : deleteModelGenerationsExcept(job.job_id, generation),
        // Records are final and written for the first time here (a renormalization never comes back through): anomaly events go now.
        anomalyRecordsWritten(job, buckets),
        // Queued once the request is durable: a crash before this is caught by the redelivery (processData, processFlush).
        renormalization.requested && queueRenormalization ? submitRenormalization(job.job_id) : undefined,
      ]),
    );
    return committed;
  } catch (err) {
    evictModel(job.job_id);
    throw err;
  }
}

/**
 * Every this many model generations a batch's commit sweeps the job's model chunks (a Query)
 * instead of deleting only the generation it replaced: garbage of a crashed or abandoned
 * write (chunks of a generation the pointer never named) lives at most this many batches.
 */
export const MODEL_SWEEP_EVERY = 64;

/** Records the model takes between two turns of the event loop. */
export const INGEST_SLICE_RECORDS = 1000;

/**
 * `model.ingest(records)` a slice of {@link INGEST_SLICE_RECORDS} at a time, yielding to the
 * event loop between slices: locally the worker shares its Node process with the HTTP
 * server, and a big body must not hold every other request up. A slice's work is bounded:
 * its records, and at most the model's learning horizon of empty buckets per gap.
 * @returns the merged output (counts summed, buckets in order) and the model's CPU time, ms.
 */
export async function ingestYielding(model: AnomalyModel, records: InputRecord[]): Promise<{ out: IngestOutput; elapsed: number }> {
  const out: IngestOutput = { processed_record_count: 0, processed_field_count: 0, out_of_order_timestamp_count: 0, buckets: [] };
  let elapsed = 0;
  for (let i = 0; i < records.length || i === 0; i += INGEST_SLICE_RECORDS) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const started = performance.now();
    const part = model.ingest(records.slice(i, i + INGEST_SLICE_RECORDS));
    elapsed += performance.now() - started;
    out.processed_record_count += part.processed_record_count;
    out.processed_field_count += part.processed_field_count;
    out.out_of_order_timestamp_count += part.out_of_order_timestamp_count;
    for (const b of part.buckets) out.buckets.push(b);
    if (part.earliest_record_timestamp !== undefined) out.earliest_record_timestamp = Math.min(out.earliest_record_timestamp ?? Infinity, part.earliest_record_timestamp);
    if (part.latest_record_timestamp !== undefined) out.latest_record_timestamp = Math.max(out.latest_record_timestamp ?? -Infinity, part.latest_record_timestamp);
  }
  return { out, elapsed };
}
