/**
 * Job runtime state: what Elasticsearch keeps in the job's persistent task (state,
 * assignment) and in its results index (data counts, model size stats, timing stats),
 * held here on one DynamoDB item per job and changed only by conditional writes.
 */

/** Elasticsearch `JobState` values (spec B.1); `closed` means "no persistent task". */
export type JobState = 'closed' | 'opening' | 'opened' | 'closing' | 'failed';

/** `data_counts` of job stats and of the `_data` response (spec A.5.3), counts are record/field totals, times epoch ms. */
export interface DataCounts {
  job_id: string;
  processed_record_count: number;
  processed_field_count: number;
  input_bytes: number;
  input_field_count: number;
  invalid_date_count: number;
  missing_field_count: number;
  out_of_order_timestamp_count: number;
  empty_bucket_count: number;
  sparse_bucket_count: number;
  bucket_count: number;
  earliest_record_timestamp?: number;
  latest_record_timestamp?: number;
  last_data_time?: number;
  latest_empty_bucket_timestamp?: number;
  latest_sparse_bucket_timestamp?: number;
  latest_bucket_timestamp?: number;
  input_record_count: number;
  log_time?: number;
}

/** `model_size_stats` (result_type `model_size_stats`); `model_bytes` is the real serialized model size in bytes. */
export interface ModelSizeStats {
  job_id: string;
  result_type: 'model_size_stats';
  model_bytes: number;
  peak_model_bytes?: number;
  model_bytes_exceeded?: number;
  model_bytes_memory_limit?: number;
  total_by_field_count: number;
  total_over_field_count: number;
  total_partition_field_count: number;
  bucket_allocation_failures_count: number;
  memory_status: 'ok' | 'soft_limit' | 'hard_limit';
  categorized_doc_count: number;
  total_category_count: number;
  frequent_category_count: number;
  rare_category_count: number;
  dead_category_count: number;
  failed_category_count: number;
  categorization_status: 'ok' | 'warn';
  log_time: number;
  timestamp?: number;
}

/** `timing_stats` of job stats; times in ms. */
export interface TimingStats {
  job_id: string;
  bucket_count: number;
  total_bucket_processing_time_ms: number;
  minimum_bucket_processing_time_ms?: number;
  maximum_bucket_processing_time_ms?: number;
  average_bucket_processing_time_ms?: number;
  exponential_average_bucket_processing_time_ms?: number;
  exponential_average_bucket_processing_time_per_hour_ms?: number;
}

/** The steps of a graceful close, in order (spec B.3; DESIGN §2.4). */
export const CLOSE_STEPS = ['stop_datafeed', 'flush_buffers', 'calculate_final_results', 'renormalize', 'persist_snapshot', 'prune_model_history', 'finalize'] as const;
export type CloseStep = (typeof CLOSE_STEPS)[number];

/** Progress of a graceful close, saved on the job after every step so a redelivery resumes at `next`. */
export interface CloseProgress {
  command_id: string;
  /** Index into CLOSE_STEPS of the first step not yet done. */
  next: number;
  /** Snapshot id chosen by persist_snapshot (stable across redeliveries). */
  snapshot_id?: string;
}

/**
 * Renormalization of a job's stored scores (Elasticsearch's ScoresUpdater; `lib/app/renormalize.ts`):
 * a commit whose batch moved the model's normaliser generation requests a pass over the
 * window ending at the newest final bucket; the `renormalize` command carries it out, part
 * by part, saving `cursor` after each chunk. Passes are counted so a request made while a pass
 * runs restarts it with the newer normalisers (as Elasticsearch loops when new quantiles
 * arrive), over the window extended back to the pending one's start.
 */
export interface RenormalizationState {
  /** The model's normaliser generation at the last commit (`AnomalyModel.normalizerGeneration`). */
  generation: number;
  /** Passes requested so far. */
  requested: number;
  /** Passes finished (a pass is pending while `done < requested`). */
  done: number;
  /** Window of the pending pass, epoch ms, `[start, end)`. */
  start?: number;
  end?: number;
  /** First timestamp (ms) of the next bucket part the pending pass rescores; absent: from `start`. */
  cursor?: number;
}

/** Where the live model state is: chunks `model#<generation>#<n>` (n < chunks). */
export interface ModelPointer {
  generation: number;
  chunks: number;
  bytes: number;
}

/** Config fields that take effect when a job is next opened (spec A.2 step 10). */
export const OPEN_TIME_FIELDS = [
  'allow_lazy_open',
  'background_persist_interval',
  'renormalization_window_days',
  'model_snapshot_retention_days',
  'daily_model_snapshot_retention_after_days',
  'model_prune_window',
] as const;

export interface OpenTimeSettings {
  background_persist_interval?: string;
  renormalization_window_days?: number;
  model_snapshot_retention_days?: number;
  daily_model_snapshot_retention_after_days?: number;
  model_prune_window?: string;
}

/** One job's runtime item. `version` increments on every write (optimistic concurrency). */
export interface JobRuntime {
  job_id: string;
  state: JobState;
  reason?: string;
  node?: string;
  assignment_explanation?: string;
  open_time_ms?: number;
  data_counts: DataCounts;
  model_size_stats: ModelSizeStats;
  timing_stats: TimingStats;
  model?: ModelPointer;
  close?: CloseProgress;
  /** Bucket timestamps (epoch ms) holding interim results, removed when results are next written (as autodetect does). */
  interim_buckets?: number[];
  /** Epoch ms of the end of the last finalized bucket. */
  last_finalized_bucket_end?: number;
  /**
   * The settings Elasticsearch reads only when a job opens (its autodetect process gets them
   * at start), captured at open: an update changes them in the config at once, but an open
   * job keeps using these until it is closed and opened again.
   */
  opened_with?: OpenTimeSettings;
  /** Renormalization of stored scores: requested passes and the pending pass's progress. */
  renormalization?: RenormalizationState;
  /** Id and response of the last data/flush command applied, so a redelivery answers without reapplying. */
  last_command?: { id: string; response: unknown };
  version: number;
}

/** A fresh runtime item for a job that was just created (closed, zero counts). */
export function newJobRuntime(jobId: string, nowMs: number): JobRuntime {
  return {
    job_id: jobId,
    state: 'closed',
    data_counts: emptyDataCounts(jobId),
    model_size_stats: emptyModelSizeStats(jobId, nowMs),
    timing_stats: { job_id: jobId, bucket_count: 0, total_bucket_processing_time_ms: 0 },
    version: 0,
  };
}

export function emptyDataCounts(jobId: string): DataCounts {
  return {
    job_id: jobId,
    processed_record_count: 0,
    processed_field_count: 0,
    input_bytes: 0,
    input_field_count: 0,
    invalid_date_count: 0,
    missing_field_count: 0,
    out_of_order_timestamp_count: 0,
    empty_bucket_count: 0,
    sparse_bucket_count: 0,
    bucket_count: 0,
    input_record_count: 0,
  };
}

export function emptyModelSizeStats(jobId: string, nowMs: number): ModelSizeStats {
  return {
    job_id: jobId,
    result_type: 'model_size_stats',
    model_bytes: 0,
    peak_model_bytes: 0,
    total_by_field_count: 0,
    total_over_field_count: 0,
    total_partition_field_count: 0,
    bucket_allocation_failures_count: 0,
    memory_status: 'ok',
    categorized_doc_count: 0,
    total_category_count: 0,
    frequent_category_count: 0,
    rare_category_count: 0,
    dead_category_count: 0,
    failed_category_count: 0,
    categorization_status: 'ok',
    log_time: nowMs,
  };
}

/** A persisted model snapshot's metadata, as `GET model_snapshots` returns it (spec A.5.9). */
export interface ModelSnapshot {
  job_id: string;
  snapshot_id: string;
  timestamp: number;
  description?: string;
  snapshot_doc_count: number;
  model_size_stats?: ModelSizeStats;
  latest_record_time_stamp?: number;
  latest_result_time_stamp?: number;
  retain: boolean;
  min_version: string;
}
