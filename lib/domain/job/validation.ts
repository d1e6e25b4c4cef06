/**
 * The checks of `Job.Builder` after parsing (`validateInputFields`: time field, persist
 * interval, retention values, id, groups, results index; detector uniqueness) and their re-run
 * on a merged config by job update (`validateJobConfig`).
 */
import { IllegalArgumentError, ResourceAlreadyExistsError } from '../errors.ts';
import { ID_LENGTH_LIMIT, invalidIdMessage, isValidId, validateGroupId } from '../ids.ts';
import { formatJavaNumber, parseTimeValue, type TimeValue } from '../units.ts';
import { isEmpty } from './java-emulation.ts';
import { type AnalysisConfigModel, analysisFields, checkMultipleOfSecond, validateAnalysisConfig } from './parsers/analysis-config.ts';
import { validateDetectorRules } from './parsers/detection-rule.ts';
import type { JobBuilder } from './parsers/job.ts';
import type { AnalysisConfig, Detector, JobConfig } from './types.ts';

/** `Job.checkValueNotLessThan`: `<field> cannot be less than <min>. Value = <v>` (MessageFormat numbers). */
function checkValueNotLessThan(min: number | bigint, field: string, value: number | bigint | undefined): void {
  if (value !== undefined && value < min) {
    throw new IllegalArgumentError(`${field} cannot be less than ${formatJavaNumber(min)}. Value = ${formatJavaNumber(value)}`);
  }
}

/**
 * `Job.Builder.validateModelSnapshotRetentionSettings`.
 * @throws IllegalArgumentError `<field> cannot be less than 0. Value = <v>` or
 *   `The value of daily_model_snapshot_retention_after_days [<d>] cannot be greater than model_snapshot_retention_days [<r>]`
 */
export function validateModelSnapshotRetentionSettings(retentionDays: number | undefined, dailyAfterDays: number | undefined): void {
  checkValueNotLessThan(0, 'model_snapshot_retention_days', retentionDays);
  checkValueNotLessThan(0, 'daily_model_snapshot_retention_after_days', dailyAfterDays);
  if (retentionDays !== undefined && dailyAfterDays !== undefined && dailyAfterDays > retentionDays) {
    throw new IllegalArgumentError(
      `The value of daily_model_snapshot_retention_after_days [${formatJavaNumber(dailyAfterDays)}] cannot be greater than model_snapshot_retention_days [${formatJavaNumber(retentionDays)}]`,
    );
  }
}

/**
 * `Job.Builder.checkValidBackgroundPersistInterval`: a whole number of seconds, at least 1h.
 * @throws IllegalArgumentError `background_persist_interval has to be a multiple of 1s; actual was '<tv>'`
 *   or `background_persist_interval cannot be less than 3,600. Value = <secs>`
 */
export function checkBackgroundPersistInterval(tv: TimeValue): void {
  checkMultipleOfSecond(tv, 'background_persist_interval');
  checkValueNotLessThan(3600n, 'background_persist_interval', tv.seconds());
}

/** The group checks of `Job.Builder.validateGroups`. */
function validateGroups(jobId: string, groups: readonly string[]): void {
  for (const g of groups) {
    validateGroupId(g);
    if (g === jobId) {
      throw new ResourceAlreadyExistsError(`job and group names must be unique but job [${g}] and group [${g}] have the same name`);
    }
  }
}

/** `Job.Builder.validateInputFields`, in order. */
export function validateInputFields(b: JobBuilder): void {
  if (!b.analysisConfig) throw new IllegalArgumentError('An analysis_config must be set');
  if (!b.dataDescription) throw new IllegalArgumentError('A data_description must be set');
  if (analysisFields(b.analysisConfig).has(b.dataDescription.time_field)) {
    throw new IllegalArgumentError('data_description.time_field may not be used in the analysis_config');
  }
  if (b.backgroundPersistInterval !== undefined) checkBackgroundPersistInterval(b.backgroundPersistInterval);
  checkValueNotLessThan(0, 'renormalization_window_days', b.renormalizationWindowDays);
  checkValueNotLessThan(0, 'results_retention_days', b.resultsRetentionDays);
  checkValueNotLessThan(0, 'system_annotations_retention_days', b.systemAnnotationsRetentionDays);
  if (!isValidId(b.id)) throw new IllegalArgumentError(invalidIdMessage('job_id', b.id));
  if ((b.id ?? '').length > ID_LENGTH_LIMIT) {
    throw new IllegalArgumentError(`The job id cannot contain more than ${ID_LENGTH_LIMIT} characters.`);
  }
  validateModelSnapshotRetentionSettings(b.modelSnapshotRetentionDays, b.dailyModelSnapshotRetentionAfterDays);
  validateGroups(b.id ?? '', b.groups);
  if (!isEmpty(b.resultsIndexName) && !isValidId(b.resultsIndexName)) {
    throw new IllegalArgumentError(invalidIdMessage('results_index_name', b.resultsIndexName));
  }
}

/** Canonical form of a detector for `validateDetectorsAreUnique` (detector_index ignored, scope order ignored). */
export function detectorIdentity(d: Detector): string {
  const rules = (d.custom_rules ?? []).map((r) => ({
    ...r,
    scope: r.scope ? Object.fromEntries(Object.entries(r.scope).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : undefined,
  }));
  return JSON.stringify([
    d.detector_description,
    d.function,
    d.field_name,
    d.by_field_name,
    d.over_field_name,
    d.partition_field_name,
    d.use_null ?? false,
    d.exclude_frequent,
    rules,
  ]);
}

/** Parses a stored `analysis_config` back into the validation model. */
function analysisConfigModel(c: AnalysisConfig): AnalysisConfigModel {
  const m: AnalysisConfigModel = {
    detectors: c.detectors,
    bucketSpan: parseTimeValue(c.bucket_span, 'bucket_span'),
    perPartition: c.per_partition_categorization ?? { enabled: false },
    influencers: c.influencers,
  };
  if (c.latency !== undefined) m.latency = parseTimeValue(c.latency, 'latency');
  if (c.model_prune_window !== undefined) m.modelPruneWindow = parseTimeValue(c.model_prune_window, 'model_prune_window');
  if (c.categorization_field_name !== undefined) m.categorizationFieldName = c.categorization_field_name;
  if (c.categorization_filters !== undefined) m.categorizationFilters = c.categorization_filters;
  if (c.categorization_analyzer !== undefined) m.categorizationAnalyzer = c.categorization_analyzer;
  if (c.summary_count_field_name !== undefined) m.summaryCountFieldName = c.summary_count_field_name;
  if (c.multivariate_by_fields !== undefined) m.multivariateByFields = c.multivariate_by_fields;
  return m;
}

/**
 * Re-runs the checks of `Job.Builder.build()` on a (merged) job config, as job update does
 * after merging (spec A.2 step 8): the `AnalysisConfig` checks (bucket span, model prune
 * window, latency, detectors and their rules, categorization, nested field names), then
 * `validateInputFields` (time field, background_persist_interval, retention values, id,
 * retention consistency, groups, results index name).
 *
 * @throws the same errors as {@link buildJobConfig}'s post-parse checks (IllegalArgumentError,
 *   StatusError for analysis_config checks, ResourceAlreadyExistsError for a group equal to the job id)
 */
export function validateJobConfig(job: JobConfig): void {
  const ac = analysisConfigModel(job.analysis_config);
  validateAnalysisConfig(ac);
  for (const d of ac.detectors) validateDetectorRules(d, d.custom_rules ?? []);
  const b: JobBuilder = {
    id: job.job_id,
    jobType: job.job_type,
    groups: job.groups ?? [],
    analysisConfig: ac,
    dataDescription: job.data_description,
    deleting: job.deleting ?? false,
    allowLazyOpen: job.allow_lazy_open,
    blocked: job.blocked ?? { reason: 'none' },
    resultsIndexName: job.results_index_name,
  };
  if (job.renormalization_window_days !== undefined) b.renormalizationWindowDays = job.renormalization_window_days;
  if (job.results_retention_days !== undefined) b.resultsRetentionDays = job.results_retention_days;
  if (job.system_annotations_retention_days !== undefined) {
    b.systemAnnotationsRetentionDays = job.system_annotations_retention_days;
  }
  if (job.model_snapshot_retention_days !== undefined) b.modelSnapshotRetentionDays = job.model_snapshot_retention_days;
  if (job.daily_model_snapshot_retention_after_days !== undefined) {
    b.dailyModelSnapshotRetentionAfterDays = job.daily_model_snapshot_retention_after_days;
  }
  if (job.background_persist_interval !== undefined) {
    b.backgroundPersistInterval = parseTimeValue(job.background_persist_interval, 'background_persist_interval');
  }
  validateInputFields(b);
}
