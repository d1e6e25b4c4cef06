/**
 * Put job: the request body parsed and checked in the order of `PutJobAction.Request` and
 * `JobManager.putJob` (spec A.5.1, A.5.11, A.2 rule checks), with Elasticsearch's defaults
 * applied, into the stored `JobConfig`.
 */
import { IllegalArgumentError, ParseError, XContentParseLocatedError } from '../errors.ts';
import type { JsonNode } from '../json/located-tree.ts';
import { valueToNode } from '../json/plain-values.ts';
import { syntaxError } from '../json/syntax-errors.ts';
import { readJson } from '../json/tokenizer.ts';
import { XParser } from '../json/xcontent-parser.ts';
import { ES_VERSION } from '../version.ts';
import { DEFAULT_DAILY_MODEL_SNAPSHOT_RETENTION_AFTER_DAYS, RESULTS_INDEX_DEFAULT } from './constants.ts';
import { isEmpty } from './java-emulation.ts';
import { type AnalysisConfigModel, analysisConfigView } from './parsers/analysis-config.ts';
import { analysisLimitsWithDefaults } from './parsers/analysis-limits.ts';
import { standardCategorizationAnalyzer } from './parsers/categorization-analyzer.ts';
import { makeJobParser } from './parsers/job.ts';
import type { Blocked, DataDescription, JobConfig } from './types.ts';
import { detectorIdentity, validateInputFields, validateModelSnapshotRetentionSettings } from './validation.ts';
import { recordScoreThreshold } from '../events.ts';

/** Context of a put-job request. */
export interface PutJobContext {
  /** Creation time (epoch ms), stored as `create_time`. */
  nowMs: number;
  /** `xpack.ml.max_model_memory_limit` in MiB; absent or ≤ 0 means no limit. */
  maxModelMemoryLimitMiB?: number;
  /**
   * The raw request body the value was parsed from. When given, `[line:col]` prefixes are
   * exact; otherwise they are computed on the value's compact serialisation (one line).
   */
  source?: string;
  /** Receives deprecation warning texts (fractional byte sizes). */
  warnings?: string[];
}

/** Everything put-job derives from a request. */
export interface PutJobResult {
  job: JobConfig;
  /**
   * The embedded `datafeed_config`, if the body had one, as sent (insertion order kept) plus
   * `datafeed_id` (defaults to the job id) and `job_id`. Its own fields are validated by the
   * datafeed module, not here.
   */
  datafeedConfig?: Record<string, unknown>;
  /** Deprecation warnings (also pushed to `ctx.warnings`). */
  warnings: string[];
}

/**
 * Put-job parsing, defaults and validations (spec A.5.1), returning the job and the embedded
 * datafeed config. See {@link buildJobConfig}.
 */
export function parsePutJobRequest(pathJobId: string, body: unknown, ctx: PutJobContext): PutJobResult {
  const warnings: string[] = [];
  if (body === undefined && (ctx.source === undefined || ctx.source.length === 0)) {
    throw new ParseError('request body is required');
  }
  let root: JsonNode | undefined;
  if (ctx.source !== undefined) {
    const read = readJson(ctx.source);
    root = read.root;
    // A syntax error before the first token is raised by nextToken() at the root.
    if (root === undefined && read.fault) throw syntaxError(read.fault, 'token');
  } else {
    root = valueToNode(body);
  }
  if (root === undefined) {
    throw new XContentParseLocatedError(null, '[job_details] Expected START_OBJECT but was: null');
  }

  // 1. Strict parsing (nested builders validate as they are built).
  const p = new XParser(root.start);
  const b = makeJobParser(warnings).parse(root, p);

  // 2. Path id / body id.
  if (b.id === undefined) {
    b.id = pathJobId;
  } else if (!isEmpty(pathJobId) && pathJobId !== b.id) {
    throw new IllegalArgumentError(`Inconsistent job_id; '${b.id}' specified in the body differs from '${pathJobId}' specified as a URL argument`);
  }

  // 3. PutJobAction.Request: input fields, unique detectors, creation-only fields.
  validateInputFields(b);
  const seen = new Set<string>();
  for (const d of b.analysisConfig?.detectors ?? []) {
    const key = detectorIdentity(d);
    if (seen.has(key)) throw new IllegalArgumentError(`Duplicate detectors are not allowed: [${d.detector_description}]`);
    seen.add(key);
  }
  const illegal: string[] = [];
  if (b.modelSnapshotId !== undefined && b.modelSnapshotId !== null) illegal.push('model_snapshot_id');
  if (b.finishedTime !== undefined) illegal.push('finished_time');
  if (b.createTime !== undefined) illegal.push('create_time');
  if (illegal.length > 0) {
    throw new IllegalArgumentError(`The job is configured with fields [${illegal.join(',')}] that are illegal to set at job creation`);
  }

  // 4. JobManager.putJob: analysis limits against the max, retention defaults, categorization analyzer.
  const analysisLimits = analysisLimitsWithDefaults(b.analysisLimits, ctx.maxModelMemoryLimitMiB);

  validateModelSnapshotRetentionSettings(b.modelSnapshotRetentionDays, b.dailyModelSnapshotRetentionAfterDays);
  if (
    b.dailyModelSnapshotRetentionAfterDays === undefined &&
    b.modelSnapshotRetentionDays !== undefined &&
    b.modelSnapshotRetentionDays > DEFAULT_DAILY_MODEL_SNAPSHOT_RETENTION_AFTER_DAYS
  ) {
    b.dailyModelSnapshotRetentionAfterDays = DEFAULT_DAILY_MODEL_SNAPSHOT_RETENTION_AFTER_DAYS;
  }

  const ac = b.analysisConfig as AnalysisConfigModel;
  if (ac.categorizationAnalyzer === undefined && ac.categorizationFieldName !== undefined) {
    ac.categorizationAnalyzer = standardCategorizationAnalyzer(ac.categorizationFilters ?? []);
    delete ac.categorizationFilters;
  }

  // 5. Job.Builder.build(createTime).
  let resultsIndexName = b.resultsIndexName;
  if (resultsIndexName === undefined || resultsIndexName.length === 0) resultsIndexName = RESULTS_INDEX_DEFAULT;
  else if (resultsIndexName !== RESULTS_INDEX_DEFAULT && !resultsIndexName.startsWith('custom-')) {
    resultsIndexName = `custom-${resultsIndexName}`;
  }
  const jobId = b.id;
  let datafeedConfig: Record<string, unknown> | undefined;
  if (b.datafeedConfig !== undefined) {
    const df = b.datafeedConfig;
    const dfJobId = df.job_id;
    if (dfJobId !== undefined && dfJobId !== null && dfJobId !== jobId) {
      throw new IllegalArgumentError(`datafeed job_id [${String(dfJobId)}] does not equal job id [${jobId}}`);
    }
    datafeedConfig = { ...df, datafeed_id: df.datafeed_id ?? jobId, job_id: jobId };
  }

  const deleting = b.deleting || b.blocked.reason === 'delete';
  const blocked: Blocked = b.deleting && b.blocked.reason !== 'delete' ? { reason: 'delete' } : b.blocked;
  const dd = b.dataDescription as DataDescription;

  const job: JobConfig = {
    job_id: jobId,
    job_type: b.jobType,
    job_version: ES_VERSION.number,
    create_time: ctx.nowMs,
  } as JobConfig;
  if (deleting) job.deleting = true;
  if (b.modelSnapshotMinVersion !== undefined && b.modelSnapshotMinVersion !== null) {
    job.model_snapshot_min_version = b.modelSnapshotMinVersion;
  }
  if (b.customSettings !== undefined) {
    // mlplane's own check (custom_settings is free-form in Elasticsearch): the anomaly events' threshold must be a score.
    recordScoreThreshold(b.customSettings);
    job.custom_settings = b.customSettings;
  }
  if (b.groups.length > 0) job.groups = b.groups;
  if (b.description !== undefined && b.description !== null) job.description = b.description;
  job.analysis_config = analysisConfigView(ac);
  job.analysis_limits = analysisLimits;
  job.data_description = { time_field: dd.time_field, time_format: dd.time_format };
  if (b.modelPlotConfig !== undefined) job.model_plot_config = b.modelPlotConfig;
  if (b.renormalizationWindowDays !== undefined) job.renormalization_window_days = b.renormalizationWindowDays;
  if (b.backgroundPersistInterval !== undefined) job.background_persist_interval = b.backgroundPersistInterval.rep;
  if (b.modelSnapshotRetentionDays !== undefined) job.model_snapshot_retention_days = b.modelSnapshotRetentionDays;
  if (b.dailyModelSnapshotRetentionAfterDays !== undefined) {
    job.daily_model_snapshot_retention_after_days = b.dailyModelSnapshotRetentionAfterDays;
  }
  if (b.resultsRetentionDays !== undefined) job.results_retention_days = b.resultsRetentionDays;
  if (b.systemAnnotationsRetentionDays !== undefined) {
    job.system_annotations_retention_days = b.systemAnnotationsRetentionDays;
  }
  job.results_index_name = resultsIndexName;
  job.allow_lazy_open = b.allowLazyOpen;
  if (blocked.reason !== 'none') job.blocked = blocked;

  ctx.warnings?.push(...warnings);
  return { job, ...(datafeedConfig !== undefined ? { datafeedConfig } : {}), warnings };
}

/**
 * Builds the stored job config of `PUT _ml/anomaly_detectors/<pathJobId>` (spec A.5.1),
 * reproducing Elasticsearch's parsing, defaults and validation order. Validation happens
 * before any existence check: the caller checks "already exists" / group clashes after.
 *
 * Order: strict parse of the body (`[job_details]` parser and its nested parsers, errors as
 * `x_content_parse_exception` chains in document order; `analysis_config` and detectors are
 * validated as they are built), path/body id mismatch, `validateInputFields` (analysis_config
 * and data_description required, time field not analysed, background_persist_interval,
 * renormalization/results retention ≥ 0, job id, retention settings, groups, results index
 * name), duplicate detectors, creation-only fields, the max model memory limit, retention
 * defaults, the default categorization analyzer.
 *
 * Defaults: `bucket_span` `"5m"`; `analysis_limits` `{"model_memory_limit":"1024mb",
 * "categorization_examples_limit":4}` (default capped by the max); `model_snapshot_retention_days`
 * 10; `daily_model_snapshot_retention_after_days` 1 when absent and retention > 1;
 * `results_index_name` `"shared"` (else `custom-<name>`); `job_type` `"anomaly_detector"`;
 * `job_version` {@link ES_VERSION}; `create_time` = `ctx.nowMs`; `allow_lazy_open` false;
 * detector `detector_index` sequential and default `detector_description`; rule `actions`
 * `["skip_result"]`, scope `filter_type` `"include"`.
 *
 * @param pathJobId the `{job_id}` of the URL
 * @param body the parsed JSON body (`undefined` when there is none)
 * @param ctx creation time, max model memory (MiB), optional raw source and warning sink
 * @returns the job exactly as GET returns it (without `datafeed_config`)
 * @throws XContentParseError (and subclasses) 400 for parse failures, e.g.
 *   `[1:12] [job_details] unknown field [x]`, `[l:c] [job_details] failed to parse field [analysis_config]`;
 *   IllegalArgumentError 400 (`Inconsistent job_id; …`, `Invalid job_id; …`, `Duplicate detectors are not allowed: [<desc>]`,
 *   `The job is configured with fields [<f>] that are illegal to set at job creation`, `… cannot be less than 0. Value = <v>`, …);
 *   ResourceAlreadyExistsError 400 (`job and group names must be unique but job [g] and group [g] have the same name`);
 *   StatusError 400 (`model_memory_limit [..] must be less than the value of the xpack.ml.max_model_memory_limit setting [..]`);
 *   ParseError 400 `request body is required` when there is no body.
 */
export function buildJobConfig(pathJobId: string, body: unknown, ctx: PutJobContext): JobConfig {
  return parsePutJobRequest(pathJobId, body, ctx).job;
}
