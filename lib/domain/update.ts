/**
 * Job update (`POST _ml/anomaly_detectors/<id>/_update`, spec A.2): the strict body parser
 * (`JobUpdate.EXTERNAL_PARSER`, named `job_update`) and the merge of an update into a stored
 * job with Elasticsearch's checks in Elasticsearch's order (`JobManager.updateJob`,
 * `JobManager.validate`, `JobUpdate.mergeWithJob`, `AnalysisConfig.Builder.build`,
 * `Job.Builder.build`).
 *
 * Parsing quirks reproduced (they come from `ConstructingObjectParser`, whose only constructor
 * argument here is the optional `job_id`):
 * - a value that fails to *read* (wrong token, bad number, bad nested object, bad rule) fails
 *   at once: `[l:c] [job_update] failed to parse field [<f>]`;
 * - the two fields whose *setter* parses (`background_persist_interval`,
 *   `model_prune_window`: `TimeValue.parseTimeValue` runs in the setter) are queued until
 *   `job_id` arrives, i.e. to the end of the object when the body has no `job_id`; their
 *   failure then comes wrapped once more in
 *   `[l:c] failed to build [job_update] after last required field arrived` (and queued
 *   setters run last-first). With `job_id` first in the body the setter runs at once and the
 *   top-level error is `[l:c] [job_update] failed to parse field [<f>]` itself.
 */
import { EsError, ParseError, ResourceAlreadyExistsError, StatusError, XContentParseLocatedError } from './errors.ts';
import { orderAnalysisConfig, PER_PARTITION_PARSER } from './job/parsers/analysis-config.ts';
import { analysisLimitsWithDefaults, makeAnalysisLimitsParser, type ParsedAnalysisLimits } from './job/parsers/analysis-limits.ts';
import { CUSTOM_RULES_FIELD, validateDetectorRules } from './job/parsers/detection-rule.ts';
import { MODEL_PLOT_PARSER } from './job/parsers/model-plot.ts';
import type { AnalysisConfig, DetectionRule, Detector, JobConfig, ModelPlotConfig, PerPartitionCategorization } from './job/types.ts';
import { validateJobConfig } from './job/validation.ts';
import { jobConfigView } from './job/view.ts';
import { fields, ValueType, type XField, XObjectParser } from './json/object-parser.ts';
import { syntaxError } from './json/syntax-errors.ts';
import { readJson } from './json/tokenizer.ts';
import { XParser } from './json/xcontent-parser.ts';
import type { JobState } from './state.ts';
import { BYTES_PER_MIB, humanMiB, parseTimeValue, type TimeValue } from './units.ts';
import { recordScoreThreshold } from './events.ts';

// ---------------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------------

/** One entry of `detectors` in an update body (`JobUpdate.DetectorUpdate`). */
export interface DetectorUpdate {
  /** Index of the detector to patch (not range-checked while parsing; see {@link applyJobUpdate}). */
  detector_index: number;
  /** New `detector_description`; `null`/absent means no change. */
  description?: string | null;
  /** Replaces the detector's rules (each already validated on its own while parsing); `[]` removes them. */
  custom_rules?: DetectionRule[];
}

/** `analysis_limits` of an update body. An absent key is reset to its default on apply. */
export type AnalysisLimitsUpdate = ParsedAnalysisLimits;

/**
 * A parsed update body. A key is present only when the body had it (`description: null` is
 * kept as `null`, which means "no change"). Time values keep the unit they were written in.
 */
export interface JobUpdate {
  /** Parsed and ignored: the path id wins and a mismatch is no error. */
  job_id?: string;
  groups?: string[];
  description?: string | null;
  detectors?: DetectorUpdate[];
  model_plot_config?: ModelPlotConfig;
  analysis_limits?: AnalysisLimitsUpdate;
  background_persist_interval?: TimeValue;
  renormalization_window_days?: number;
  results_retention_days?: number;
  /** Stored and shown only: mlplane has no annotations to delete. */
  system_annotations_retention_days?: number;
  model_snapshot_retention_days?: number;
  daily_model_snapshot_retention_after_days?: number;
  categorization_filters?: string[];
  per_partition_categorization?: PerPartitionCategorization;
  /** Replaces the whole map; keys in Java `HashMap` order, as `p.map()` reads them. */
  custom_settings?: Record<string, unknown>;
  allow_lazy_open?: boolean;
  model_prune_window?: TimeValue;
}

/** What {@link applyJobUpdate} needs to know besides the stored job. */
export interface UpdateContext {
  /** The job's task state (`closed` = no persistent task). */
  jobState: JobState;
  /** `model_bytes` of the job's latest `model_size_stats`, if it has any (bytes). */
  modelBytes?: number;
  /** `xpack.ml.max_model_memory_limit` in MiB; absent or ≤ 0 means no limit. */
  maxModelMemoryLimitMiB?: number;
  /** Ids of every other existing job (the updated job's own id may be included or not). */
  otherJobIds: string[];
}

/**
 * Update fields that reach an open job's running process (`JobUpdate.isAutodetectProcessUpdate`):
 * when the job is `opened` and the update has any of them, the process is updated on its
 * next data (filters referenced by new rules are fetched then), and the audit message is
 * written once that succeeded.
 *
 * Every other field is stored at once but only takes effect the next time the job is
 * opened: `allow_lazy_open`, `analysis_limits`, `background_persist_interval`,
 * `categorization_filters`, `custom_settings`, `daily_model_snapshot_retention_after_days`,
 * `description`, `model_prune_window`, `model_snapshot_retention_days`,
 * `renormalization_window_days`; `results_retention_days` is read by the nightly maintenance;
 * `system_annotations_retention_days` is only stored (mlplane has no annotations).
 */
export const LIVE_UPDATE_FIELDS = ['detectors', 'groups', 'model_plot_config', 'per_partition_categorization'] as const;

/** A field of {@link LIVE_UPDATE_FIELDS}. */
export type LiveUpdateField = (typeof LIVE_UPDATE_FIELDS)[number];

// ---------------------------------------------------------------------------------------
// Parsers
// ---------------------------------------------------------------------------------------

/** `ExceptionsHelper.badRequestException`: 400 `status_exception`. */
function badRequest(message: string): StatusError {
  return new StatusError(400, message);
}

/**
 * `JobUpdate.DetectorUpdate.PARSER` (`detector_update`): three optional constructor
 * arguments. `custom_rules` items are parsed with the strict `detection_rule` parser and
 * built (so "at least scope or a condition" fails here). A missing `detector_index` makes
 * the constructor lambda unbox `null` (`(int) a[0]`): a `NullPointerException` wrapped in
 * `Failed to build [detector_update] after last required field arrived`.
 */
const DETECTOR_UPDATE_PARSER = new XObjectParser<DetectorUpdate>(
  'detector_update',
  {
    detector_index: { types: ValueType.INT, parse: (n, p) => p.intValue(n), arg: 'optional' },
    description: {
      types: ValueType.STRING_OR_NULL,
      parse: (n, p) => (n.kind === 'null' ? null : p.text(n)),
      arg: 'optional',
    },
    custom_rules: { ...CUSTOM_RULES_FIELD, arg: 'optional' },
  },
  {
    construct: (a) => {
      if (a[0] === undefined) {
        throw new EsError('null_pointer_exception', 500, 'Cannot invoke "java.lang.Integer.intValue()" because "a[0]" is null');
      }
      const out: DetectorUpdate = { detector_index: a[0] as number };
      if (a[1] !== undefined) out.description = a[1] as string | null;
      if (a[2] !== undefined) out.custom_rules = a[2] as DetectionRule[];
      return out;
    },
  },
);

/** A field whose setter runs `TimeValue.parseTimeValue` (so it is queued until `job_id` arrives). */
function timeValueField(name: 'background_persist_interval' | 'model_prune_window'): XField<JobUpdate> {
  return fields.string<JobUpdate>((t, v) => {
    t[name] = parseTimeValue(v, name);
  });
}

function makeJobUpdateParser(warnings: string[]): XObjectParser<JobUpdate> {
  const limitsParser = makeAnalysisLimitsParser(warnings);
  return new XObjectParser<JobUpdate>(
    'job_update',
    {
      job_id: { types: ValueType.STRING, parse: (n, p) => p.text(n), arg: 'optional' },
      groups: fields.stringArray((t, v) => (t.groups = v)),
      description: fields.stringOrNull((t, v) => (t.description = v)),
      detectors: {
        types: ValueType.OBJECT_ARRAY,
        parse: (n, p) => p.objectArray(n, DETECTOR_UPDATE_PARSER),
        set: (t, v) => (t.detectors = v as DetectorUpdate[]),
      },
      model_plot_config: fields.object<JobUpdate, ModelPlotConfig>(MODEL_PLOT_PARSER, (t, v) => (t.model_plot_config = v)),
      analysis_limits: fields.object<JobUpdate, AnalysisLimitsUpdate>(limitsParser, (t, v) => (t.analysis_limits = v)),
      background_persist_interval: timeValueField('background_persist_interval'),
      renormalization_window_days: fields.long((t, v) => (t.renormalization_window_days = v)),
      results_retention_days: fields.long((t, v) => (t.results_retention_days = v)),
      system_annotations_retention_days: fields.long((t, v) => (t.system_annotations_retention_days = v)),
      model_snapshot_retention_days: fields.long((t, v) => (t.model_snapshot_retention_days = v)),
      daily_model_snapshot_retention_after_days: fields.long((t, v) => (t.daily_model_snapshot_retention_after_days = v)),
      categorization_filters: fields.stringArray((t, v) => (t.categorization_filters = v)),
      per_partition_categorization: fields.object<JobUpdate, PerPartitionCategorization>(PER_PARTITION_PARSER, (t, v) => (t.per_partition_categorization = v)),
      custom_settings: {
        types: ValueType.OBJECT,
        parse: (n, p) => p.map(n, false),
        set: (t, v) => (t.custom_settings = v as Record<string, unknown>),
      },
      allow_lazy_open: fields.boolean((t, v) => (t.allow_lazy_open = v)),
      model_prune_window: timeValueField('model_prune_window'),
    },
    { construct: (a) => (a[0] === undefined ? {} : { job_id: a[0] as string }) },
  );
}

/**
 * Parses an update body with Elasticsearch's strict `job_update` parser (spec A.2 step 1).
 *
 * Accepted keys: `job_id` (ignored later), `groups`, `description` (string or null),
 * `detectors` (`[{detector_index, description?, custom_rules?}]`), `model_plot_config`,
 * `analysis_limits`, `background_persist_interval`, `renormalization_window_days`,
 * `results_retention_days`, `system_annotations_retention_days`, `model_snapshot_retention_days`,
 * `daily_model_snapshot_retention_after_days`, `categorization_filters`,
 * `per_partition_categorization`, `custom_settings`, `allow_lazy_open`, `model_prune_window`.
 * The internal-only `model_snapshot_id`, `model_snapshot_min_version`, `job_version`,
 * `clear_job_finish_time` and `blocked` are unknown fields here, as for a REST request.
 *
 * Validated while parsing: custom rules on their own (scope or condition, force_time_shift
 * params), `model_memory_limit` ≥ 1 MiB, `categorization_examples_limit` ≥ 0,
 * `stop_on_warn` only with `enabled`, time value syntax.
 *
 * @param source the raw request body (locations in messages are 1-based line and UTF-8 byte column)
 * @param warnings receives deprecation texts (fractional byte sizes), for the `Warning` header
 * @returns the update; only the keys present in the body are set
 * @throws ParseError 400 `parse_exception` `request body is required` for an empty body;
 *   XContentParseLocatedError 400 `x_content_parse_exception`, e.g.
 *   `[1:2] [job_update] unknown field [x]` (with ` did you mean [..]?` when a field is close),
 *   `[l:c] [job_update] <f> doesn't support values of type: VALUE_NULL`,
 *   `[l:c] [job_update] failed to parse field [detectors]` → `[l:c] [detector_update] failed to parse field [custom_rules]`
 *   → `status_exception` `Invalid detector rule: at least scope or a condition is required` (root cause: the status_exception),
 *   `[l:c] [job_update] failed to parse field [analysis_limits]` → `Failed to build [analysis_limits] after last required field arrived`
 *   → `status_exception` `model_memory_limit must be at least 1 MiB. Value = 0`,
 *   `[l:c] failed to build [job_update] after last required field arrived` → `[l:c] [job_update] failed to parse field [model_prune_window]`
 *   → `illegal_argument_exception` `failed to parse setting [model_prune_window] with value [8w] as a time value: unit is missing or unrecognized`
 *   (without the first wrapper when `job_id` precedes the field; the root cause is the innermost parse exception);
 *   JSON syntax errors as `x_content_parse_exception` with Jackson's text.
 */
export function parseJobUpdate(source: string, warnings: string[] = []): JobUpdate {
  if (source.length === 0) throw new ParseError('request body is required');
  const { root, fault } = readJson(source);
  if (root === undefined) {
    if (fault) throw syntaxError(fault, 'token');
    throw new XContentParseLocatedError(null, '[job_update] Expected START_OBJECT but was: null');
  }
  return makeJobUpdateParser(warnings).parse(root, new XParser(root.start));
}

// ---------------------------------------------------------------------------------------
// Field names and audit
// ---------------------------------------------------------------------------------------

/**
 * `JobUpdate.getUpdateFields()`: the names of the fields the update sets, sorted (Java
 * `TreeSet<String>` order). `job_id` is never listed; `description: null` is not listed;
 * `detectors: []` is listed.
 */
export function updatedFieldNames(update: JobUpdate): string[] {
  const names: string[] = [];
  for (const [key, value] of Object.entries(update)) {
    if (key === 'job_id' || value === undefined || value === null) continue;
    names.push(key);
  }
  return names.sort();
}

/**
 * The audit message of a successful update, `Messages.JOB_AUDIT_UPDATED` with the field set:
 * `Job updated: [analysis_limits, groups]` (Java `AbstractCollection.toString()` form).
 */
export function jobUpdatedAuditMessage(update: JobUpdate): string {
  return `Job updated: [${updatedFieldNames(update).join(', ')}]`;
}

/** Whether the update has a field of {@link LIVE_UPDATE_FIELDS} (`JobUpdate.isAutodetectProcessUpdate`). */
export function isLiveProcessUpdate(update: JobUpdate): boolean {
  return LIVE_UPDATE_FIELDS.some((f) => update[f] !== undefined);
}

// ---------------------------------------------------------------------------------------
// Checks before the merge
// ---------------------------------------------------------------------------------------

/**
 * Spec A.2 step 4 (`JobManager.updateJob`, before the job is loaded): when the update sets a
 * non-empty `groups`, no group may be the id of an existing job (the updated job included).
 * The first such group, in update order, is reported.
 *
 * @param existingJobIds ids of all existing jobs
 * @throws ResourceAlreadyExistsError 400 `job and group names must be unique but job [<g>] and group [<g>] have the same name`
 */
export function checkGroupsAreNotJobIds(update: JobUpdate, existingJobIds: Iterable<string>): void {
  if (!update.groups || update.groups.length === 0) return;
  const ids = new Set(existingJobIds);
  const clash = update.groups.find((g) => ids.has(g));
  if (clash !== undefined) {
    throw new ResourceAlreadyExistsError(`job and group names must be unique but job [${clash}] and group [${clash}] have the same name`);
  }
}

/**
 * Spec A.2 step 6 (`JobManager.validateAnalysisLimitsUpdate`), only when the update carries
 * `analysis_limits.model_memory_limit`:
 * - a job whose state is exactly `opened` refuses it (`opening`, `closing`, `failed` do not);
 * - the new limit may not be below the current usage `floor(modelBytes / 1 MiB)`.
 *
 * @throws StatusError 400 `Cannot update analysis_limits while the job is open`, or
 *   `Invalid update value for analysis_limits: model_memory_limit cannot be decreased below current usage; current usage [<X>], update had [<Y>]`
 *   (X, Y in `ByteSizeValue` human form, e.g. `20mb`, `1.5gb`)
 */
export function checkAnalysisLimitsUpdate(update: JobUpdate, ctx: Pick<UpdateContext, 'jobState' | 'modelBytes'>): void {
  const newMml = update.analysis_limits?.model_memory_limit;
  if (newMml === undefined) return;
  if (ctx.jobState === 'opened') throw badRequest('Cannot update analysis_limits while the job is open');
  if (ctx.modelBytes === undefined) return;
  const usageMiB = Math.floor(ctx.modelBytes / BYTES_PER_MIB);
  if (newMml < usageMiB) {
    throw badRequest(
      `Invalid update value for analysis_limits: model_memory_limit cannot be decreased below current usage; current usage [${humanMiB(usageMiB)}], update had [${humanMiB(newMml)}]`,
    );
  }
}

// ---------------------------------------------------------------------------------------
// Merge
// ---------------------------------------------------------------------------------------

/** A detector with its rules replaced (`custom_rules` sits just before `detector_index`; absent when empty). */
function withRules(d: Detector, rules: readonly DetectionRule[]): Detector {
  const { custom_rules: _old, detector_index, ...rest } = d;
  return {
    ...rest,
    ...(rules.length > 0 ? { custom_rules: structuredClone([...rules]) } : {}),
    detector_index,
  } as Detector;
}

/** The parse-exact form of a time value (`-1s` stays `-1s`; the echo form would print `-1`). */
function exactTimeString(tv: TimeValue): string {
  return `${tv.duration}${tv.unit}`;
}

/**
 * Applies a parsed update to a stored job (spec A.2 steps 4, 6, 7, 8), running every check
 * Elasticsearch runs, in its order, before anything is produced:
 *
 * 4. groups vs existing job ids ({@link checkGroupsAreNotJobIds}, own id included);
 * 6. the analysis-limits gate ({@link checkAnalysisLimitsUpdate});
 * 7. `mergeWithJob`, field by field: detector updates in order (index range, then the
 *    patched detector's rules revalidated against it: scope fields, time-only functions),
 *    `model_plot_config`, `analysis_limits` (defaults and the max), the day counts,
 *    `background_persist_interval`, `categorization_filters`, `per_partition_categorization`
 *    (`enabled` may not change), `custom_settings`, `allow_lazy_open`, `model_prune_window`;
 * 8. the rebuild: `AnalysisConfig` checks (model_prune_window vs bucket_span, categorization
 *    filters, …), then `Job` input checks (`background_persist_interval`, negative day counts,
 *    retention consistency, groups) — see {@link validateJobConfig}.
 *
 * Merge semantics: `groups` replaces (empty removes the key); `description: null` is no
 * change; a detector update patches the detector *as stored* (`description` →
 * `detector_description`, `custom_rules` replaces, `[]` removes them; `detector_index` kept);
 * `model_plot_config` replaces whole; `analysis_limits` replaces whole with defaults for the
 * missing keys; `custom_settings` replaces whole; time values are stored in their echo form
 * (`"3h"`, `"60d"`); `per_partition_categorization` is shown only for categorization jobs.
 *
 * @param job the stored job (not modified)
 * @param update from {@link parseJobUpdate}; `job_id` is ignored
 * @param ctx task state, model usage (bytes), max model memory (MiB), other job ids
 * @returns a new job config, keys in Elasticsearch's order
 * @throws ResourceAlreadyExistsError 400 `job and group names must be unique but job [<g>] and group [<g>] have the same name`;
 *   StatusError 400 `Cannot update analysis_limits while the job is open`,
 *   `Invalid update value for analysis_limits: model_memory_limit cannot be decreased below current usage; current usage [..], update had [..]`,
 *   `Supplied detector_index [<i>] is >= the number of detectors [<n>]` (numbers without grouping),
 *   `Invalid detector rule: …`, `model_memory_limit [..] must be less than the value of the xpack.ml.max_model_memory_limit setting [..]`,
 *   `analysis_config.per_partition_categorization.enabled cannot be updated`,
 *   `model_prune_window [<pw>] must be a multiple of bucket_span [<bs>]`,
 *   `model_prune_window [<pw>] must be at least 2 times greater than bucket_span [<bs>]`,
 *   `categorization_filters cannot be used with categorization_analyzer - …`, `categorization_filters require setting categorization_field_name`;
 *   IllegalArgumentError 400 `background_persist_interval has to be a multiple of 1s; actual was '<tv>'`,
 *   `background_persist_interval cannot be less than 3,600. Value = 1,800`, `<field> cannot be less than 0. Value = <v>`,
 *   `The value of daily_model_snapshot_retention_after_days [<d>] cannot be greater than model_snapshot_retention_days [<r>]`,
 *   `Invalid group id '<g>'; …`; EsError 500 `index_out_of_bounds_exception` for a negative `detector_index`
 */
export function applyJobUpdate(job: JobConfig, update: JobUpdate, ctx: UpdateContext): JobConfig {
  // Step 4: JobManager.updateJob, before the job is read.
  checkGroupsAreNotJobIds(update, [job.job_id, ...ctx.otherJobIds]);
  // Step 6: JobManager.validate.
  checkAnalysisLimitsUpdate(update, ctx);

  // Step 7: JobUpdate.mergeWithJob.
  const next: JobConfig = structuredClone(job);
  const ac: AnalysisConfig = next.analysis_config;
  if (update.groups !== undefined) {
    if (update.groups.length > 0) next.groups = [...update.groups];
    else delete next.groups;
  }
  if (update.description !== undefined && update.description !== null) next.description = update.description;
  if (update.detectors !== undefined && update.detectors.length > 0) {
    const current = job.analysis_config.detectors;
    const n = current.length;
    for (const du of update.detectors) {
      const i = du.detector_index;
      if (i >= n) throw badRequest(`Supplied detector_index [${i}] is >= the number of detectors [${n}]`);
      const stored = current[i];
      if (stored === undefined) {
        throw new EsError('index_out_of_bounds_exception', 500, `Index ${i} out of bounds for length ${n}`);
      }
      let d: Detector = structuredClone(stored);
      if (du.description !== undefined && du.description !== null) d.detector_description = du.description;
      if (du.custom_rules !== undefined) d = withRules(d, du.custom_rules);
      validateDetectorRules(d, d.custom_rules ?? []);
      ac.detectors[i] = d;
    }
  }
  if (update.model_plot_config !== undefined) next.model_plot_config = { ...update.model_plot_config };
  if (update.analysis_limits !== undefined) {
    next.analysis_limits = analysisLimitsWithDefaults(update.analysis_limits, ctx.maxModelMemoryLimitMiB);
  }
  if (update.renormalization_window_days !== undefined) next.renormalization_window_days = update.renormalization_window_days;
  if (update.background_persist_interval !== undefined) next.background_persist_interval = update.background_persist_interval.rep;
  if (update.model_snapshot_retention_days !== undefined) next.model_snapshot_retention_days = update.model_snapshot_retention_days;
  if (update.daily_model_snapshot_retention_after_days !== undefined) {
    next.daily_model_snapshot_retention_after_days = update.daily_model_snapshot_retention_after_days;
  }
  if (update.results_retention_days !== undefined) next.results_retention_days = update.results_retention_days;
  if (update.system_annotations_retention_days !== undefined) {
    next.system_annotations_retention_days = update.system_annotations_retention_days;
  }
  if (update.categorization_filters !== undefined) ac.categorization_filters = [...update.categorization_filters];
  if (update.per_partition_categorization !== undefined) {
    const currentEnabled = job.analysis_config.per_partition_categorization?.enabled ?? false;
    if (update.per_partition_categorization.enabled !== currentEnabled) {
      throw badRequest('analysis_config.per_partition_categorization.enabled cannot be updated');
    }
    // Only categorization jobs show (and so keep) the setting.
    if (ac.categorization_field_name !== undefined) ac.per_partition_categorization = { ...update.per_partition_categorization };
  }
  if (update.custom_settings !== undefined) {
    // mlplane's own check (custom_settings is free-form in Elasticsearch): the anomaly events' threshold must be a score.
    recordScoreThreshold(update.custom_settings);
    next.custom_settings = structuredClone(update.custom_settings);
  }
  if (update.allow_lazy_open !== undefined) next.allow_lazy_open = update.allow_lazy_open;
  if (update.model_prune_window !== undefined) ac.model_prune_window = update.model_prune_window.rep;
  next.analysis_config = orderAnalysisConfig(ac);

  // Step 8: AnalysisConfig.Builder.build() then Job.Builder.build(), on the time values as parsed.
  const check: JobConfig = { ...next, analysis_config: { ...next.analysis_config } };
  if (update.background_persist_interval !== undefined) {
    check.background_persist_interval = exactTimeString(update.background_persist_interval);
  }
  if (update.model_prune_window !== undefined) check.analysis_config.model_prune_window = exactTimeString(update.model_prune_window);
  validateJobConfig(check);

  return jobConfigView(next) as unknown as JobConfig;
}
