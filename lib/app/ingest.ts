import { parseDataBody, type AnomalyModel, type BucketResult, type IngestOutput, type InputRecord } from '../detect/index.ts';
import type { JobConfig } from '../domain/job/types.ts';
import { jobFieldsUsed } from '../domain/job/view.ts';
import { ConflictError, Messages } from '../domain/errors.ts';
import type { DataCounts, JobRuntime, TimingStats } from '../domain/state.ts';
import { putJobRuntime } from '../store/jobs.ts';
import { deleteModelGenerationsExcept, writeModelState } from '../store/model.ts';
import { deleteResultsAt, writeResults } from '../store/results.ts';
import { cacheModel, evictModel, loadModel } from './analysis.ts';

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
 * `next` is the runtime item to write apart from the model pointer and size stats; its
 * `version` is set here (the stored version + 1), whatever the caller put in it.
 * @throws StaleStateError when the runtime item changed meanwhile (the model cache is dropped)
 */
export async function commitBatch(
  job: JobConfig,
  rt: JobRuntime,
  model: AnomalyModel,
  buckets: BucketResult[],
  next: JobRuntime,
  interim: BucketResult[] = [],
): Promise<JobRuntime> {
  try {
    if (rt.interim_buckets && rt.interim_buckets.length > 0) await deleteResultsAt(job.job_id, rt.interim_buckets);
    // Empty runs finalised by this call (ingest, flush or finalizeAll) go with its buckets.
    const runs = model.takeEmptyRuns();
    if (buckets.length > 0 || interim.length > 0 || runs.length > 0) await writeResults(job.job_id, [...buckets, ...interim], runs);
    const generation = (rt.model?.generation ?? 0) + 1;
    const pointer = await writeModelState(job.job_id, generation, model.serialize());
    const stats = model.modelSizeStats();
    const committed: JobRuntime = {
      ...next,
      interim_buckets: interim.map((b) => b.timestamp),
      model: pointer,
      model_size_stats: { ...next.model_size_stats, ...stats, model_bytes: pointer.bytes, log_time: Date.now() },
      version: rt.version + 1,
    };
    await putJobRuntime(committed);
    cacheModel(job, generation, model);
    // Superseded generations are garbage once the pointer moved; a crash here only leaves garbage that the next batch removes.
    await deleteModelGenerationsExcept(job.job_id, generation);
    return committed;
  } catch (err) {
    evictModel(job.job_id);
    throw err;
  }
}

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

/**
 * Processes one `_data` command on an open job: parses the body (JSON array, NDJSON or
 * concatenated objects), buckets and models the records, persists results, model state
 * and counts. Returns the running `data_counts` (the `_data` response).
 * @throws ConflictError 409 when the job is not open; DataParseError 400 for an unparseable body
 */
export async function processData(job: JobConfig, rt: JobRuntime, commandId: string, body: string, nowMs = Date.now()): Promise<DataCounts> {
  if (rt.last_command?.id === commandId) return rt.last_command.response as DataCounts;
  if (rt.state !== 'opened') throw new ConflictError(Messages.jobNotOpen(job.job_id));
  // A malformed body throws DataParseError, a 400 x_content_parse_exception with its position.
  const parsed = parseDataBody(body, job.data_description, jobFieldsUsed(job));
  const model = await loadModel(job, rt);
  const { out, elapsed } = await ingestYielding(model, parsed.records);
  const c = parsed.counts;
  const prev = rt.data_counts;
  const processed = out.processed_record_count;
  const dc: DataCounts = {
    ...prev,
    ...model.bucketCounts(),
    processed_record_count: prev.processed_record_count + processed,
    input_bytes: prev.input_bytes + c.input_bytes,
    input_record_count: prev.input_record_count + c.input_record_count,
    input_field_count: prev.input_field_count + c.input_field_count,
    missing_field_count: prev.missing_field_count + c.missing_field_count,
    invalid_date_count: prev.invalid_date_count + c.invalid_date_count,
    out_of_order_timestamp_count: prev.out_of_order_timestamp_count + out.out_of_order_timestamp_count,
    last_data_time: nowMs,
    log_time: nowMs,
  };
  dc.processed_field_count = prev.processed_field_count + out.processed_field_count;
  if (out.earliest_record_timestamp !== undefined) dc.earliest_record_timestamp = Math.min(prev.earliest_record_timestamp ?? Infinity, out.earliest_record_timestamp);
  if (out.latest_record_timestamp !== undefined) dc.latest_record_timestamp = Math.max(prev.latest_record_timestamp ?? 0, out.latest_record_timestamp);
  const next: JobRuntime = { ...rt, data_counts: dc, timing_stats: addTiming(rt.timing_stats, out.buckets, elapsed, model.pendingEmptyRunBuckets()), last_command: { id: commandId, response: dc } };
  const lastEnd = model.lastFinalizedBucketEndMs();
  if (lastEnd !== undefined) next.last_finalized_bucket_end = lastEnd;
  await commitBatch(job, rt, model, out.buckets, next);
  return dc;
}

/**
 * Processes one `_flush` command: finalizes buckets up to `advance_time`, skips to
 * `skip_time`, and (with `calc_interim`) writes interim results for the open bucket.
 * Answers `{flushed: true, last_finalized_bucket_end?}` (spec A.5.6).
 */
export async function processFlush(
  job: JobConfig,
  rt: JobRuntime,
  commandId: string,
  params: { calc_interim?: boolean; advance_time?: number; skip_time?: number },
): Promise<{ flushed: true; last_finalized_bucket_end?: number }> {
  if (rt.last_command?.id === commandId) return rt.last_command.response as { flushed: true };
  if (rt.state !== 'opened') throw new ConflictError(Messages.jobNotOpen(job.job_id));
  const model = await loadModel(job, rt);
  const started = performance.now();
  const out = model.flush({ calcInterim: params.calc_interim, advanceTimeMs: params.advance_time, skipTimeMs: params.skip_time });
  const elapsed = performance.now() - started;
  const response: { flushed: true; last_finalized_bucket_end?: number } = { flushed: true };
  if (!rt.model && out.buckets.length === 0 && out.interim.length === 0) {
    // Nothing was ever posted: no model state to write (and none to snapshot at close).
    await putJobRuntime({ ...rt, last_command: { id: commandId, response }, version: rt.version + 1 });
    evictModel(job.job_id);
    return response;
  }
  const lastEnd = out.lastFinalizedBucketEndMs ?? rt.last_finalized_bucket_end;
  if (lastEnd !== undefined) response.last_finalized_bucket_end = lastEnd;
  const next: JobRuntime = {
    ...rt,
    data_counts: withBucketCounts(rt.data_counts, model),
    timing_stats: addTiming(rt.timing_stats, out.buckets, elapsed, model.pendingEmptyRunBuckets()),
    last_command: { id: commandId, response },
  };
  if (lastEnd !== undefined) next.last_finalized_bucket_end = lastEnd;
  await commitBatch(job, rt, model, out.buckets, next, out.interim);
  return response;
}
