/**
 * Job defaults and fixed names (job type, memory limit, retention, results index, the
 * `mlcategory` field, the max-memory setting) and the detector-function sets and stop words
 * that the put-job checks consult.
 */
import type { DetectorFunction } from './types.ts';

/** `Job.ANOMALY_DETECTOR_JOB_TYPE`. */
export const ANOMALY_DETECTOR_JOB_TYPE = 'anomaly_detector';
/** `AnalysisLimits.DEFAULT_MODEL_MEMORY_LIMIT_MB`. */
export const DEFAULT_MODEL_MEMORY_LIMIT_MIB = 1024;
/** `AnalysisLimits.DEFAULT_CATEGORIZATION_EXAMPLES_LIMIT`. */
export const DEFAULT_CATEGORIZATION_EXAMPLES_LIMIT = 4;
/** `Job.DEFAULT_MODEL_SNAPSHOT_RETENTION_DAYS`. */
export const DEFAULT_MODEL_SNAPSHOT_RETENTION_DAYS = 10;
/** `Job.DEFAULT_DAILY_MODEL_SNAPSHOT_RETENTION_AFTER_DAYS`. */
export const DEFAULT_DAILY_MODEL_SNAPSHOT_RETENTION_AFTER_DAYS = 1;
/** `AnalysisConfig.Builder.DEFAULT_BUCKET_SPAN`. */
export const DEFAULT_BUCKET_SPAN = '5m';
/** `AnomalyDetectorsIndexFields.RESULTS_INDEX_DEFAULT`. */
export const RESULTS_INDEX_DEFAULT = 'shared';
/** `AnalysisConfig.ML_CATEGORY_FIELD`. */
export const ML_CATEGORY_FIELD = 'mlcategory';
/** The setting named in the max model memory message. */
export const MAX_MODEL_MEMORY_LIMIT_SETTING = 'xpack.ml.max_model_memory_limit';

export const COUNT_WITHOUT_FIELD_FUNCTIONS: ReadonlySet<DetectorFunction> = new Set([
  'count',
  'high_count',
  'low_count',
  'non_zero_count',
  'low_non_zero_count',
  'high_non_zero_count',
  'time_of_day',
  'time_of_week',
]);
export const FIELD_NAME_FUNCTIONS: ReadonlySet<DetectorFunction> = new Set([
  'distinct_count',
  'low_distinct_count',
  'high_distinct_count',
  'info_content',
  'low_info_content',
  'high_info_content',
  'metric',
  'mean',
  'avg',
  'high_mean',
  'high_avg',
  'low_mean',
  'low_avg',
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
  'lat_long',
]);
export const BY_FIELD_NAME_FUNCTIONS: ReadonlySet<DetectorFunction> = new Set(['rare', 'freq_rare']);
export const OVER_FIELD_NAME_FUNCTIONS: ReadonlySet<DetectorFunction> = new Set(['freq_rare']);
export const NO_OVER_FIELD_NAME_FUNCTIONS: ReadonlySet<DetectorFunction> = new Set(['non_zero_count', 'low_non_zero_count', 'high_non_zero_count']);
export const FUNCTIONS_WITHOUT_RULE_CONDITION_SUPPORT: ReadonlySet<DetectorFunction> = new Set(['lat_long', 'metric', 'rare', 'freq_rare']);

export const STOP_WORDS = [
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
  'Sunday',
  'Mon',
  'Tue',
  'Wed',
  'Thu',
  'Fri',
  'Sat',
  'Sun',
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
  'GMT',
  'UTC',
];
