import { AnomalyModel, checkModelStateVersion, MODELLED_FUNCTIONS, type AnalysisSpec } from '../detect/index.ts';
import { ModelStateError, StatusError } from '../domain/errors.ts';
import { ES_VERSION } from '../domain/version.ts';
import { DEFAULT_MODEL_MEMORY_LIMIT_MIB } from '../domain/job/constants.ts';
import type { JobConfig } from '../domain/job/types.ts';
import type { JobRuntime } from '../domain/state.ts';
import { parseByteSize, parseTimeValue } from '../domain/units.ts';
import { readModelState } from '../store/model.ts';
import { filterItems } from '../store/filters.ts';
import { filtersUsedBy } from '../domain/filter.ts';

const DAY_MS = 86_400_000;

/** Elasticsearch's default `model_prune_window` when the job sets none (AnalysisConfig.DEFAULT_MODEL_PRUNE_WINDOW). */
export const DEFAULT_MODEL_PRUNE_WINDOW_MS = 30 * DAY_MS;

/**
 * The config an open job runs with: its stored config, with the open-time settings
 * (`renormalization_window_days`, `background_persist_interval`, snapshot retention,
 * `model_prune_window`) taken from when it was opened, as Elasticsearch applies those
 * only at the next open. A closed job uses its stored config.
 */
export function effectiveConfig(job: JobConfig, rt: JobRuntime | undefined): JobConfig {
  const w = rt && rt.state !== 'closed' ? rt.opened_with : undefined;
  if (!w) return job;
  const out: JobConfig = { ...job, analysis_config: { ...job.analysis_config } };
  const set = <K extends keyof JobConfig>(k: K, v: JobConfig[K] | undefined) => {
    if (v === undefined) delete out[k];
    else out[k] = v;
  };
  set('background_persist_interval', w.background_persist_interval as JobConfig['background_persist_interval']);
  set('renormalization_window_days', w.renormalization_window_days as JobConfig['renormalization_window_days']);
  set('model_snapshot_retention_days', w.model_snapshot_retention_days as JobConfig['model_snapshot_retention_days']);
  set('daily_model_snapshot_retention_after_days', w.daily_model_snapshot_retention_after_days as JobConfig['daily_model_snapshot_retention_after_days']);
  if (w.model_prune_window === undefined) delete out.analysis_config.model_prune_window;
  else out.analysis_config.model_prune_window = w.model_prune_window as JobConfig['analysis_config']['model_prune_window'];
  return out;
}

/** What an opening job captures of its config (see effectiveConfig). */
export function openTimeSettings(job: JobConfig): NonNullable<JobRuntime['opened_with']> {
  const out: NonNullable<JobRuntime['opened_with']> = {};
  if (job.background_persist_interval !== undefined) out.background_persist_interval = String(job.background_persist_interval);
  if (job.renormalization_window_days !== undefined && job.renormalization_window_days !== null) out.renormalization_window_days = Number(job.renormalization_window_days);
  if (job.model_snapshot_retention_days !== undefined && job.model_snapshot_retention_days !== null) out.model_snapshot_retention_days = Number(job.model_snapshot_retention_days);
  if (job.daily_model_snapshot_retention_after_days !== undefined && job.daily_model_snapshot_retention_after_days !== null) {
    out.daily_model_snapshot_retention_after_days = Number(job.daily_model_snapshot_retention_after_days);
  }
  if (job.analysis_config.model_prune_window !== undefined) out.model_prune_window = String(job.analysis_config.model_prune_window);
  return out;
}

/**
 * Refuses a job the model cannot run yet, with a clear 400 instead of a job that would fail
 * on its first data: functions outside the modelled set (rare, distinct_count, median, …)
 * population analysis (`over_field_name`) and categorization (`mlcategory`). Elasticsearch accepts these; mlplane says so
 * in its README.
 * @throws StatusError 400 status_exception "mlplane does not support …"
 */
export function assertModelled(job: JobConfig): void {
  for (const d of job.analysis_config.detectors) {
    if (!(d.function in MODELLED_FUNCTIONS)) {
      throw new StatusError(400, `mlplane does not support the [${d.function}] function yet; supported functions are [${Object.keys(MODELLED_FUNCTIONS).join(', ')}]`);
    }
    if (d.over_field_name !== undefined) throw new StatusError(400, 'mlplane does not support over_field_name (population analysis) yet');
    if ([d.by_field_name, d.partition_field_name].includes('mlcategory')) throw new StatusError(400, 'mlplane does not support categorization (mlcategory) yet');
  }
}

/** The model's view of a job config: spans in ms, memory limit in bytes. */
export function analysisSpec(job: JobConfig, filters: Record<string, string[]> = {}): AnalysisSpec {
  const ac = job.analysis_config;
  return {
    filters,
    modelPlot: job.model_plot_config,
    jobId: job.job_id,
    bucketSpanMs: parseTimeValue(ac.bucket_span, 'bucket_span').ms,
    latencyMs: ac.latency ? parseTimeValue(ac.latency, 'latency').ms : 0,
    detectors: ac.detectors.map((d) => ({
      detector_index: d.detector_index,
      function: d.function as AnalysisSpec['detectors'][number]['function'],
      field_name: d.field_name,
      by_field_name: d.by_field_name,
      partition_field_name: d.partition_field_name,
      custom_rules: d.custom_rules as AnalysisSpec['detectors'][number]['custom_rules'],
    })),
    influencers: ac.influencers ?? [],
    summaryCountFieldName: ac.summary_count_field_name,
    modelMemoryLimitBytes: parseByteSize(job.analysis_limits?.model_memory_limit ?? `${DEFAULT_MODEL_MEMORY_LIMIT_MIB}mb`, 'model_memory_limit').bytes,
    renormalizationWindowMs: (job.renormalization_window_days ?? 30) * DAY_MS,
  };
}

/** The job's model prune window in ms (configured or the 30 d default). */
export function modelPruneWindowMs(job: JobConfig): number {
  const w = job.analysis_config.model_prune_window;
  return w ? parseTimeValue(w, 'model_prune_window').ms : DEFAULT_MODEL_PRUNE_WINDOW_MS;
}

/**
 * Warm cache of live models per job, valid for one model generation. A Lambda container
 * that handles consecutive batches of a job skips reading and decoding its state; any
 * other writer bumps the generation, which invalidates the entry.
 */
const cache = new Map<string, { generation: number; model: AnomalyModel; configKey: string }>();

/** The cache key of a model: its spec, and the job's incarnation (a deleted and recreated job restarts at generation 1). */
const cacheKey = (spec: AnalysisSpec, createTime: unknown): string => `${String(createTime)}|${JSON.stringify(spec)}`;

/** Loads the live model of an open job (empty model when it never saw data). */
export async function loadModel(job: JobConfig, rt: JobRuntime): Promise<AnomalyModel> {
  // Filters are read per batch, so a filter update reaches an open job on its next data.
  const spec = analysisSpec(effectiveConfig(job, rt), await filterItems(filtersUsedBy(job)));
  const configKey = cacheKey(spec, job.create_time);
  const generation = rt.model?.generation ?? 0;
  const hit = cache.get(job.job_id);
  if (hit && hit.generation === generation && hit.configKey === configKey) return hit.model;
  // A changed config (an update reached the job) or another generation: restore with the current spec.
  if (!rt.model) return AnomalyModel.create(spec);
  const state = await readModelState(job.job_id, rt.model);
  return tooOldAsEs(job, rt, () => AnomalyModel.restore(spec, state));
}

/**
 * The first version whose model snapshots this model reads: model v2 (state version 3) came
 * with this build, so a state of model v1 is "before" it.
 */
export const MIN_SUPPORTED_SNAPSHOT_VERSION = ES_VERSION.number;

/**
 * Runs `f` (a restore or a version check), turning a state of an older model version into
 * the error Elasticsearch gives when a job's model snapshot is older than its minimum
 * supported version (TransportOpenJobAction): 400 `status_exception` "[<job>] job model
 * snapshot [<id>] has min version before [<version>], please revert to a newer model
 * snapshot or reset the job". Other ModelStateErrors (a damaged state) pass unchanged.
 */
export function tooOldAsEs<T>(job: JobConfig, rt: JobRuntime, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ModelStateError && e.stateVersion !== undefined) {
      // mlplane keeps live state between snapshots; without a snapshot id the state's generation names it.
      const snapshot = job.model_snapshot_id ?? String(rt.model?.generation ?? '');
      throw new StatusError(
        400,
        `[${job.job_id}] job model snapshot [${snapshot}] has min version before [${MIN_SUPPORTED_SNAPSHOT_VERSION}], please revert to a newer model snapshot or reset the job`,
      );
    }
    throw e;
  }
}

/**
 * Refuses to open a job whose model state this model cannot read (see {@link tooOldAsEs}),
 * as Elasticsearch refuses at open rather than at the first data.
 */
export async function checkModelSnapshotVersion(job: JobConfig, rt: JobRuntime): Promise<void> {
  if (!rt.model) return;
  const state = await readModelState(job.job_id, rt.model);
  tooOldAsEs(job, rt, () => checkModelStateVersion(state));
}

/** Remembers a model as the live state of `generation`. */
export function cacheModel(job: JobConfig, generation: number, model: AnomalyModel): void {
  cache.set(job.job_id, { generation, model, configKey: cacheKey(model.spec, job.create_time) });
}

/** Forgets a job's cached model (close, delete, a failed write). */
export function evictModel(jobId: string): void {
  cache.delete(jobId);
}
