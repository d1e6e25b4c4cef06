/**
 * Shapes shared by the anomaly model: the analysis spec it is built from, the input records
 * it reads and the Elasticsearch result documents it writes. Result key names are the wire
 * names of Elasticsearch's `.ml-anomalies-*` documents, so results go out unchanged.
 *
 * The detection rule types are the job configuration's own (`lib/domain/job/types.ts`), re-exported
 * here. The model applies a rule ({@link DetectionRule}) to a series result in a bucket when
 * ALL its conditions hold and every scope field's value of the series is in (include) / not in
 * (exclude) the filter's items. Then:
 * - `skip_result`: the series writes no record and does not count towards the bucket score;
 * - `skip_model_update`: the bucket's value is not learnt (the series' statistics stay as
 *   they were before the bucket);
 * - `force_time_shift` (and its `params`) is accepted and ignored.
 * Scope fields must be the detector's by or partition field (any other field never matches);
 * a filter id absent from {@link AnalysisSpec.filters} is an empty filter. Conditions on
 * typical / diff_from_typical do not hold before the model has learnt anything; time
 * conditions need no model. With multi-feature functions (metric) rules apply per feature.
 */
import type { DetectionRule, FilterRef, ModelPlotConfig as JobModelPlotConfig, RuleAction, RuleCondition } from '../domain/job/types.ts';

export type { DetectionRule, FilterRef, RuleAction, RuleCondition };

/** Detector functions of model v1 (Elasticsearch names). */
export type DetectorFunction =
  | 'count'
  | 'high_count'
  | 'low_count'
  | 'non_zero_count'
  | 'high_non_zero_count'
  | 'low_non_zero_count'
  | 'mean'
  | 'high_mean'
  | 'low_mean'
  | 'sum'
  | 'high_sum'
  | 'low_sum'
  | 'non_null_sum'
  | 'high_non_null_sum'
  | 'low_non_null_sum'
  | 'min'
  | 'max'
  | 'metric';

/** One detector of `analysis_config.detectors`, as far as the model needs it. */
export interface DetectorSpec {
  detector_index: number;
  function: DetectorFunction;
  /** Required by the metric functions (mean, sum, min, max, metric, …); ignored by counts. */
  field_name?: string;
  by_field_name?: string;
  partition_field_name?: string;
  /**
   * Elasticsearch detection rules (`custom_rules`), applied as autodetect does: see
   * {@link DetectionRule}. They may change between `restore`s (Elasticsearch `_update`).
   */
  custom_rules?: DetectionRule[];
}

/**
 * `model_plot_config` as the model takes it: the job's shape ({@link JobModelPlotConfig}),
 * except that `annotations_enabled`, which the model ignores, may be left out.
 */
export type ModelPlotConfig = Omit<JobModelPlotConfig, 'annotations_enabled'> & Partial<Pick<JobModelPlotConfig, 'annotations_enabled'>>;

/** What the model is built from: the job's analysis config with durations in ms. */
export interface AnalysisSpec {
  jobId: string;
  /** Bucket length in ms, > 0. */
  bucketSpanMs: number;
  /** ms, >= 0: records up to this much older than the newest record may still arrive. */
  latencyMs: number;
  detectors: DetectorSpec[];
  /** Influencer field names. */
  influencers: string[];
  /** Record field holding a pre-aggregated document count (the record's weight). */
  summaryCountFieldName?: string;
  /** Hard cap on the model state size, bytes. */
  modelMemoryLimitBytes: number;
  /** How long the score normalisers remember, ms; default 30 days. */
  renormalizationWindowMs?: number;
  /** Filter items by filter_id, for the scopes of custom rules (`*` wildcards at start/end). */
  filters?: Record<string, string[]>;
  /** Model plot: when enabled, final buckets carry `model_plot`. */
  modelPlot?: ModelPlotConfig;
}

/** One input document: its time (epoch ms) and its fields as posted. */
export interface InputRecord {
  timeMs: number;
  fields: Record<string, unknown>;
}

/** Counts of one `_data` body, as Elasticsearch's data_counts fields. */
export interface InputCounts {
  /** UTF-8 bytes of the body. */
  input_bytes: number;
  /** Documents in the body, including those dropped for a bad time. */
  input_record_count: number;
  /** Σ per document of (analysis fields present + 1 for the time field). */
  input_field_count: number;
  /** Σ per document of analysis fields absent (or null). */
  missing_field_count: number;
  /** Documents whose time field is absent or cannot be parsed (they are dropped). */
  invalid_date_count: number;
}

/** `influencers` entry of a record result. */
export interface RecordInfluencer {
  influencer_field_name: string;
  influencer_field_values: string[];
}

/** A record result (`result_type: 'record'`): one unusual series in one bucket. */
export interface RecordResult {
  job_id: string;
  result_type: 'record';
  /** In [1e-308, 1]. */
  probability: number;
  /** 0–100, renormalised. */
  record_score: number;
  /** 0–100, the score when the bucket was finalised. */
  initial_record_score: number;
  /** Seconds. */
  bucket_span: number;
  detector_index: number;
  is_interim: boolean;
  /** Bucket start, epoch ms. */
  timestamp: number;
  function: DetectorFunction;
  function_description: string;
  typical: [number];
  actual: [number];
  /**
   * −5..5: how much of the anomaly the 12-bucket mean explains rather than the bucket alone
   * (Elasticsearch's formula; −5 a pure one-bucket spike, +5 a pure slow drift).
   */
  multi_bucket_impact?: number;
  field_name?: string;
  by_field_name?: string;
  by_field_value?: string;
  partition_field_name?: string;
  partition_field_value?: string;
  influencers?: RecordInfluencer[];
}

/**
 * A model plot document (`result_type: 'model_plot'`): the model's 95% prediction interval
 * and median (typical) for one series and feature in a final bucket, with the actual value.
 */
export interface ModelPlotResult {
  job_id: string;
  result_type: 'model_plot';
  /** Seconds. */
  bucket_span: number;
  detector_index: number;
  /** Bucket start, epoch ms. */
  timestamp: number;
  /** The modelled feature: 'count', 'mean', 'sum', 'min' or 'max'. */
  model_feature: string;
  model_lower: number;
  model_upper: number;
  model_median: number;
  actual: number;
  partition_field_name?: string;
  partition_field_value?: string;
  by_field_name?: string;
  by_field_value?: string;
  /** Never set by the model: model plot is written for final buckets only (as autodetect). */
  is_interim?: boolean;
}

/**
 * A bucket influencer of a bucket: `bucket_time` (the bucket itself), or one per influencer
 * field that influenced a record of the bucket (./model/influencers.ts).
 */
export interface BucketInfluencer {
  job_id: string;
  result_type: 'bucket_influencer';
  /** `bucket_time`, or an influencer field name. */
  influencer_field_name: string;
  influencer_field_value?: string;
  initial_anomaly_score: number;
  anomaly_score: number;
  /** −log10(probability) when probability < 0.05, else 0. */
  raw_anomaly_score: number;
  probability: number;
  timestamp: number;
  bucket_span: number;
  is_interim: boolean;
}

/**
 * An influencer result (`result_type: 'influencer'`): one value of one influencer field in a
 * bucket where it influenced a record (./model/influencers.ts). Besides these keys the
 * document carries `<influencer_field_name>: <influencer_field_value>` when the field name is
 * not one of Elasticsearch's reserved result field names, as Elasticsearch writes it.
 */
export interface InfluencerResult {
  job_id: string;
  result_type: 'influencer';
  influencer_field_name: string;
  influencer_field_value: string;
  /** 0–100, renormalised. */
  influencer_score: number;
  /** 0–100, the score when the bucket was scored. */
  initial_influencer_score: number;
  /** In [1e-308, 1]. */
  probability: number;
  /** Seconds. */
  bucket_span: number;
  is_interim: boolean;
  /** Bucket start, epoch ms. */
  timestamp: number;
  [field: string]: unknown;
}

/**
 * A bucket result (`result_type: 'bucket'`). `records` is carried alongside for the caller,
 * which stores the records as their own documents and strips the key from the bucket.
 */
export interface BucketResult {
  job_id: string;
  /** Bucket start, epoch ms. */
  timestamp: number;
  result_type: 'bucket';
  /** Seconds. */
  bucket_span: number;
  anomaly_score: number;
  initial_anomaly_score: number;
  /** Documents in the bucket (weighted by the summary count field when there is one). */
  event_count: number;
  is_interim: boolean;
  processing_time_ms: number;
  bucket_influencers: BucketInfluencer[];
  records: RecordResult[];
  /**
   * The bucket's influencer results, carried alongside like `records` for the caller to store
   * as their own documents; absent (or empty) when the job has no influencers or the bucket
   * no record.
   */
  influencers?: InfluencerResult[];
  /**
   * Only when `AnalysisSpec.modelPlot.enabled`, on final buckets (possibly empty): carried
   * alongside like `records`, for the caller to store as their own documents.
   */
  model_plot?: ModelPlotResult[];
}

/**
 * A run of consecutive empty final buckets past the model's learning horizon (see
 * `AnomalyModel`): not scored one by one, all alike (event_count 0, every score 0, no
 * records), so it is kept as one item instead of one BucketResult per bucket.
 * {@link emptyBucketResult} builds the bucket document of any bucket of the run.
 */
export interface EmptyRun {
  job_id: string;
  /** Start of the first bucket of the run, epoch ms. */
  timestamp: number;
  /** End of the last bucket of the run (exclusive), epoch ms. */
  end: number;
  /** Seconds. */
  bucket_span: number;
}

/** What `ingest` returns: the counts of the batch and the buckets it finalised. */
export interface IngestOutput {
  /** Records accepted into buckets. */
  processed_record_count: number;
  /** Σ over accepted records of analysis fields present (time not counted), as ES. */
  processed_field_count: number;
  /** Records dropped because their bucket was already final. */
  out_of_order_timestamp_count: number;
  /** Earliest / latest accepted record time in this batch, epoch ms. */
  earliest_record_timestamp?: number;
  latest_record_timestamp?: number;
  /** Buckets finalised by this batch, oldest first. */
  buckets: BucketResult[];
}

/** Running bucket counters of the job (data_counts fields), since the model was created. */
export interface BucketCounts {
  bucket_count: number;
  empty_bucket_count: number;
  sparse_bucket_count: number;
  /** Start of the latest finalised bucket, epoch ms. */
  latest_bucket_timestamp?: number;
  latest_empty_bucket_timestamp?: number;
  latest_sparse_bucket_timestamp?: number;
}

/** Elasticsearch's model_size_stats fields that the model owns. */
export interface ModelSizeStats {
  /** Bytes of the serialized state (`serialize().length`). */
  model_bytes: number;
  total_by_field_count: number;
  total_partition_field_count: number;
  total_over_field_count: number;
  bucket_allocation_failures_count: number;
  memory_status: 'ok' | 'soft_limit' | 'hard_limit';
  peak_model_bytes: number;
}

/** Options of `flush` (Elasticsearch `_flush` parameters, times in epoch ms). */
export interface FlushOptions {
  calcInterim?: boolean;
  advanceTimeMs?: number;
  skipTimeMs?: number;
}

/** What `flush` returns. */
export interface FlushOutput {
  /** Buckets finalised by advance_time or skip_time, oldest first. */
  buckets: BucketResult[];
  /** Interim results of buffered buckets (only with calcInterim). */
  interim: BucketResult[];
  /** End of the last finalised bucket (epoch ms); absent before any. */
  lastFinalizedBucketEndMs?: number;
}
