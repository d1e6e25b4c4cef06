/**
 * A job as `GET _ml/anomaly_detectors` shows it (keys in Elasticsearch's order,
 * `exclude_generated`), and the fields a job reads from its input.
 */
import { ML_CATEGORY_FIELD } from './constants.ts';
import type { JobConfig } from './types.ts';

/**
 * The record fields a job reads (`AnalysisConfig.analysisFields()` minus `mlcategory`):
 * detectors' field/by/over/partition fields, influencers, `summary_count_field_name` and
 * `categorization_field_name`, sorted. The time field is not included.
 */
export function jobFieldsUsed(job: Pick<JobConfig, 'analysis_config'>): string[] {
  const c = job.analysis_config;
  const set = new Set<string>();
  for (const d of c.detectors) {
    for (const f of [d.field_name, d.by_field_name, d.over_field_name, d.partition_field_name]) if (f !== undefined) set.add(f);
  }
  for (const i of c.influencers) set.add(i);
  if (c.summary_count_field_name !== undefined) set.add(c.summary_count_field_name);
  if (c.categorization_field_name !== undefined) set.add(c.categorization_field_name);
  set.delete('');
  set.delete(ML_CATEGORY_FIELD);
  return [...set].sort();
}

/** Options of {@link jobConfigView}. */
export interface JobViewOptions {
  /** `exclude_generated=true`: drop generated fields (and `datafeed_config`, and `custom_settings.created_by`). */
  excludeGenerated?: boolean;
  /** The job's datafeed config, spliced in where Elasticsearch puts `datafeed_config`. */
  datafeedConfig?: Record<string, unknown>;
}

/**
 * A job as one entry of `GET _ml/anomaly_detectors` (`Job.doXContentBody`), keys in
 * Elasticsearch's order. With `excludeGenerated`, `job_type`, `job_version`, `create_time`,
 * `finished_time`, `model_snapshot_id`, `deleting`, `model_snapshot_min_version` and
 * `datafeed_config` are dropped and `custom_settings.created_by` is removed.
 */
export function jobConfigView(job: JobConfig, opts: JobViewOptions = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { job_id: job.job_id };
  if (!opts.excludeGenerated) {
    out.job_type = job.job_type;
    out.job_version = job.job_version;
    out.create_time = job.create_time;
    if (job.finished_time !== undefined) out.finished_time = job.finished_time;
    if (job.model_snapshot_id !== undefined) out.model_snapshot_id = job.model_snapshot_id;
    if (job.deleting) out.deleting = true;
    if (job.model_snapshot_min_version !== undefined) out.model_snapshot_min_version = job.model_snapshot_min_version;
    if (job.custom_settings !== undefined) out.custom_settings = structuredClone(job.custom_settings);
    if (opts.datafeedConfig !== undefined) out.datafeed_config = structuredClone(opts.datafeedConfig);
  } else if (job.custom_settings !== undefined) {
    const cs = structuredClone(job.custom_settings);
    delete cs.created_by;
    out.custom_settings = cs;
  }
  if (job.groups && job.groups.length > 0) out.groups = [...job.groups];
  if (job.description !== undefined) out.description = job.description;
  out.analysis_config = structuredClone(job.analysis_config);
  out.analysis_limits = { ...job.analysis_limits };
  out.data_description = { ...job.data_description };
  if (job.model_plot_config !== undefined) out.model_plot_config = { ...job.model_plot_config };
  if (job.renormalization_window_days !== undefined) out.renormalization_window_days = job.renormalization_window_days;
  if (job.background_persist_interval !== undefined) out.background_persist_interval = job.background_persist_interval;
  if (job.model_snapshot_retention_days !== undefined) out.model_snapshot_retention_days = job.model_snapshot_retention_days;
  if (job.daily_model_snapshot_retention_after_days !== undefined) {
    out.daily_model_snapshot_retention_after_days = job.daily_model_snapshot_retention_after_days;
  }
  if (job.results_retention_days !== undefined) out.results_retention_days = job.results_retention_days;
  if (job.system_annotations_retention_days !== undefined) {
    out.system_annotations_retention_days = job.system_annotations_retention_days;
  }
  out.results_index_name = job.results_index_name;
  out.allow_lazy_open = job.allow_lazy_open;
  if (job.blocked && job.blocked.reason !== 'none') out.blocked = { ...job.blocked };
  return out;
}
