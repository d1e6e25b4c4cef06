/**
 * The stored/GET shapes of an anomaly detection job (`JobConfig` and its parts), with
 * Elasticsearch's key names and order, and the detector functions and rule actions they name.
 */

/** `DetectorFunction` full names (output form). */
export const DETECTOR_FUNCTIONS = [
  'count',
  'low_count',
  'high_count',
  'non_zero_count',
  'low_non_zero_count',
  'high_non_zero_count',
  'distinct_count',
  'low_distinct_count',
  'high_distinct_count',
  'rare',
  'freq_rare',
  'info_content',
  'low_info_content',
  'high_info_content',
  'metric',
  'mean',
  'low_mean',
  'high_mean',
  'avg',
  'low_avg',
  'high_avg',
  'median',
  'low_median',
  'high_median',
  'min',
  'max',
  'sum',
  'low_sum',
  'high_sum',
  'non_null_sum',
  'low_non_null_sum',
  'high_non_null_sum',
  'varp',
  'low_varp',
  'high_varp',
  'time_of_day',
  'time_of_week',
  'lat_long',
] as const;

/** A detector function (full name). */
export type DetectorFunction = (typeof DETECTOR_FUNCTIONS)[number];

/** `DetectorFunction` shortcuts, expanded at parse time. */
export const DETECTOR_FUNCTION_SHORTCUTS: Readonly<Record<string, DetectorFunction>> = {
  nzc: 'non_zero_count',
  low_nzc: 'low_non_zero_count',
  high_nzc: 'high_non_zero_count',
  dc: 'distinct_count',
  low_dc: 'low_distinct_count',
  high_dc: 'high_distinct_count',
};

/** Rule actions in `RuleAction` ordinal order (the order `actions` is echoed in). */
export const RULE_ACTIONS = ['skip_result', 'skip_model_update', 'force_time_shift'] as const;
/** A custom rule action. */
export type RuleAction = (typeof RULE_ACTIONS)[number];

/** A scope entry of a custom rule: the series' field value must be in (include) / not in (exclude) the filter. */
export interface FilterRef {
  filter_id: string;
  filter_type: 'include' | 'exclude';
}

/**
 * A numeric condition of a custom rule, `<applies_to> <operator> <value>`. `value` is a double
 * (Elasticsearch prints `10.0`; JSON here prints `10`).
 */
export interface RuleCondition {
  /** `time` is the bucket start in epoch seconds; `diff_from_typical` is |actual − typical|. */
  applies_to: 'actual' | 'typical' | 'diff_from_typical' | 'time';
  operator: 'gt' | 'gte' | 'lt' | 'lte';
  value: number;
}

/** Custom rule parameters (newest versions): the `force_time_shift` action's shift. */
export interface RuleParams {
  force_time_shift?: { time_shift_amount: number };
}

/**
 * A custom rule (`detection_rule`), spec A.5.11, also the shape the anomaly model
 * (`lib/detect`) applies. `scope`, `conditions`, `params` appear only when non-empty.
 */
export interface DetectionRule {
  /** Elasticsearch's default (set while parsing) is `['skip_result']`. */
  actions: RuleAction[];
  scope?: Record<string, FilterRef>;
  conditions?: RuleCondition[];
  params?: RuleParams;
}

/** A detector as echoed by Elasticsearch. */
export interface Detector {
  detector_description: string;
  function: DetectorFunction;
  field_name?: string;
  by_field_name?: string;
  over_field_name?: string;
  partition_field_name?: string;
  /** Present only when true. */
  use_null?: boolean;
  exclude_frequent?: 'all' | 'none' | 'by' | 'over';
  /** Present only when non-empty. */
  custom_rules?: DetectionRule[];
  detector_index: number;
}

/** A char filter, tokenizer or token filter: a built-in name or a definition object. */
export type AnalyzerPart = string | Record<string, unknown>;

/** `categorization_analyzer`: a global analyzer name, or a custom analyzer. */
export type CategorizationAnalyzer =
  | string
  | {
      char_filter?: AnalyzerPart[];
      tokenizer?: AnalyzerPart;
      filter?: AnalyzerPart[];
    };

/** `per_partition_categorization` (`stop_on_warn` shown only when enabled). */
export interface PerPartitionCategorization {
  enabled: boolean;
  stop_on_warn?: boolean;
}

/** `analysis_config` as echoed (time values in the unit given). */
export interface AnalysisConfig {
  bucket_span: string;
  categorization_field_name?: string;
  categorization_filters?: string[];
  categorization_analyzer?: CategorizationAnalyzer;
  /** Present only when `categorization_field_name` is set. */
  per_partition_categorization?: PerPartitionCategorization;
  latency?: string;
  summary_count_field_name?: string;
  detectors: Detector[];
  influencers: string[];
  multivariate_by_fields?: boolean;
  model_prune_window?: string;
}

/** `analysis_limits` (`model_memory_limit` always `"<MiB>mb"`). */
export interface AnalysisLimits {
  model_memory_limit: string;
  categorization_examples_limit: number;
}

/** `data_description` (Elasticsearch 8+ echoes only these two keys). */
export interface DataDescription {
  time_field: string;
  time_format: string;
}

/** `model_plot_config` (`annotations_enabled` defaults to `enabled`). */
export interface ModelPlotConfig {
  enabled: boolean;
  /** Comma-separated by/partition field values: plot only series with one of these values. */
  terms?: string;
  annotations_enabled: boolean;
}

/** `blocked` (shown only when the reason is not `none`). */
export interface Blocked {
  reason: 'none' | 'delete' | 'reset' | 'revert';
  task_id?: string;
}

/**
 * A job exactly as one entry of `GET _ml/anomaly_detectors` shows it (without
 * `datafeed_config`, which {@link jobConfigView} splices in), keys in Elasticsearch's order.
 * Times are epoch ms.
 */
export interface JobConfig {
  job_id: string;
  job_type: string;
  job_version: string;
  create_time: number;
  finished_time?: number;
  model_snapshot_id?: string;
  deleting?: boolean;
  model_snapshot_min_version?: string;
  custom_settings?: Record<string, unknown>;
  /** Present only when non-empty. */
  groups?: string[];
  description?: string;
  analysis_config: AnalysisConfig;
  analysis_limits: AnalysisLimits;
  data_description: DataDescription;
  model_plot_config?: ModelPlotConfig;
  renormalization_window_days?: number;
  background_persist_interval?: string;
  model_snapshot_retention_days?: number;
  daily_model_snapshot_retention_after_days?: number;
  results_retention_days?: number;
  /**
   * Elasticsearch 7.13+: days to keep the annotations the system writes (model snapshot and
   * delayed-data annotations), counted back from the newest bucket. Stored and shown like
   * Elasticsearch (no default); mlplane writes no annotations, so nothing acts on it.
   */
  system_annotations_retention_days?: number;
  results_index_name: string;
  allow_lazy_open: boolean;
  blocked?: Blocked;
}
