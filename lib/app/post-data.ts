import { parseDataBody } from '../detect/index.ts';
import { ConflictError, Messages } from '../domain/errors.ts';
import type { JobConfig } from '../domain/job/types.ts';
import { jobFieldsUsed } from '../domain/job/view.ts';
import { transitionJob } from '../domain/lifecycle/job.ts';
import type { DataCounts, JobRuntime } from '../domain/state.ts';
import { getCommandPayload } from '../store/commands.ts';
import { getJobRuntime } from '../store/jobs.ts';
import type { Command } from '../domain/command.ts';
import { awaitWithoutTimeout, submitCommand, type Queued } from './commands.ts';
import { renormalizationPending, submitRenormalization } from './renormalize.ts';
import { addTiming, commitBatch, ingestYielding } from './ingest.ts';
import { loadJob, refuseInUpgradeMode } from './job-lookup.ts';
import { loadModel } from './live-model.ts';
import { timed } from '../runtime/step-timing.ts';

/**
 * POST _ml/anomaly_detectors/<id>/_data (spec A.5.5): a job without an open task, even an
 * unknown one, is 409 "Cannot perform requested action because job [<id>] is not open".
 * The body is carried to the worker beside the command; the answer is the job's running
 * `data_counts`.
 */
export function postData(jobId: string, body: string, params: { reset_start?: string; reset_end?: string }, startedMs = Date.now()): Promise<Queued<unknown>> {
  return timed('http.post_data', () => submitPostData(jobId, body, params, startedMs));
}

/** {@link postData} untimed. */
async function submitPostData(jobId: string, body: string, params: { reset_start?: string; reset_end?: string }, startedMs: number): Promise<Queued<unknown>> {
  // Both reads at once (one round trip); upgrade mode's 429 still wins over "not open", as in Elasticsearch.
  const [, rt] = await timed('http.upgrade_mode_and_runtime_read', () => Promise.all([refuseInUpgradeMode('cluster:admin/xpack/ml/job/data/post'), getJobRuntime(jobId)]));
  // A job without a runtime item (unknown) has no task either: "not open", as in Elasticsearch.
  if (!rt) throw new ConflictError(Messages.jobNotOpen(jobId));
  transitionJob(rt, { type: 'require_open' });
  const cmd = await submitCommand({
    action: 'data',
    es_action: 'cluster:admin/xpack/ml/job/data/post',
    description: `post data to job [${jobId}]`,
    targets: [jobId],
    params,
    payload: body,
  });
  return timed('http.wait_for_outcome', () => awaitWithoutTimeout(cmd, startedMs, (r) => r[0]));
}

/**
 * The worker side of `_data`: the job as it is now, and the command's body read back from beside the command.
 * @param payload the body when the caller already started reading it (`getCommandPayload(cmd)`).
 */
export async function applyPostData(cmd: Command, jobId: string, payload?: Promise<string>): Promise<DataCounts> {
  // The job and the body are read at once: the payload chunks do not wait for the job's two reads.
  const [{ job, rt }, body] = await timed('worker.job_and_payload_read', () => Promise.all([loadJob(jobId, true), payload ?? getCommandPayload(cmd)]));
  return processData(job, rt, cmd.command_id, body);
}

/**
 * Processes one `_data` command on an open job: parses the body (JSON array, NDJSON or
 * concatenated objects), buckets and models the records, persists results, model state
 * and counts. Returns the running `data_counts` (the `_data` response).
 * @throws ConflictError 409 when the job is not open; DataParseError 400 for an unparseable body
 */
export async function processData(job: JobConfig, rt: JobRuntime, commandId: string, body: string, nowMs = Date.now()): Promise<DataCounts> {
  if (rt.last_command?.id === commandId) {
    // Redelivered after its commit: the renormalization it requested may never have been queued (a crash in between).
    if (renormalizationPending(rt)) await submitRenormalization(job.job_id);
    return rt.last_command.response as DataCounts;
  }
  transitionJob(rt, { type: 'require_open' });
  // A malformed body throws DataParseError, a 400 x_content_parse_exception with its position.
  const parsed = timed('worker.parse', () => parseDataBody(body, job.data_description, jobFieldsUsed(job)));
  const model = await timed('worker.model_load', () => loadModel(job, rt));
  const { out, elapsed } = await timed('worker.model', () => ingestYielding(model, parsed.records));
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
  const next: Partial<JobRuntime> = {
    data_counts: dc,
    timing_stats: addTiming(rt.timing_stats, out.buckets, elapsed, model.pendingEmptyRunBuckets()),
    last_command: { id: commandId, response: dc },
  };
  const lastEnd = model.lastFinalizedBucketEndMs();
  if (lastEnd !== undefined) next.last_finalized_bucket_end = lastEnd;
  await timed('worker.commit', () => commitBatch(job, rt, model, out.buckets, next));
  return dc;
}
