/**
 * `Job.STRICT_PARSER` (`job_details`): the top-level put-job body parser and the builder it
 * fills.
 *
 * Parsing mirrors `Job.STRICT_PARSER` and its nested parsers (`analysis_config`, `detector`,
 * `detection_rule`, `rule_condition`, `filter_ref`, `params`, `data_description`,
 * `analysis_limits`, `model_plot_config`, `per_partition_categorization`, `blocked`, one file
 * each beside this one) through {@link XObjectParser}, so errors come out as the same
 * `x_content_parse_exception` chains, in the same order, as in Elasticsearch. The checks after
 * parsing follow `PutJobAction.Request` and `JobManager.putJob` in order (../put-job.ts).
 */
import { IllegalArgumentError } from '../../errors.ts';
import { tokenOf } from '../../json/located-tree.ts';
import { fields, ValueType, type XField, XObjectParser } from '../../json/object-parser.ts';
import { parseTimeValue, type TimeValue } from '../../units.ts';
import { ANOMALY_DETECTOR_JOB_TYPE, DEFAULT_MODEL_SNAPSHOT_RETENTION_DAYS } from '../constants.ts';
import type { Blocked, DataDescription, ModelPlotConfig } from '../types.ts';
import { ANALYSIS_CONFIG_PARSER, type AnalysisConfigModel, validateAnalysisConfig } from './analysis-config.ts';
import { makeAnalysisLimitsParser, type ParsedAnalysisLimits } from './analysis-limits.ts';
import { BLOCKED_PARSER } from './blocked.ts';
import { DATA_DESCRIPTION_PARSER } from './data-description.ts';
import { MODEL_PLOT_PARSER } from './model-plot.ts';

export interface JobBuilder {
  id?: string;
  jobType: string;
  jobVersion?: string;
  groups: string[];
  description?: string | null;
  createTime?: number;
  finishedTime?: number;
  analysisConfig?: AnalysisConfigModel;
  analysisLimits?: ParsedAnalysisLimits;
  dataDescription?: DataDescription;
  modelPlotConfig?: ModelPlotConfig;
  renormalizationWindowDays?: number;
  backgroundPersistInterval?: TimeValue;
  modelSnapshotRetentionDays?: number;
  dailyModelSnapshotRetentionAfterDays?: number;
  resultsRetentionDays?: number;
  systemAnnotationsRetentionDays?: number;
  customSettings?: Record<string, unknown>;
  modelSnapshotId?: string | null;
  modelSnapshotMinVersion?: string | null;
  resultsIndexName?: string;
  deleting: boolean;
  allowLazyOpen: boolean;
  blocked: Blocked;
  datafeedConfig?: Record<string, unknown>;
}

/** `TimeUtils.parseTimeField`. */
function timeField(name: string): XField<JobBuilder>['parse'] {
  return (n, p) => {
    p.at(n);
    if (n.kind === 'number') return p.longValue(n);
    if (n.kind === 'string') {
      const s = p.text(n);
      const asNumber = Number(s);
      if (/^-?\d+$/.test(s) && Number.isFinite(asNumber)) return asNumber;
      const ms = Date.parse(s);
      return Number.isNaN(ms) ? -1 : ms;
    }
    throw new IllegalArgumentError(`unexpected token [${tokenOf(n)}] for [${name}]`);
  };
}

export function makeJobParser(warnings: string[]): XObjectParser<JobBuilder> {
  const limitsParser = makeAnalysisLimitsParser(warnings);
  return new XObjectParser<JobBuilder>(
    'job_details',
    {
      job_id: fields.string((t, v) => (t.id = v)),
      job_type: fields.string((t, v) => (t.jobType = v)),
      job_version: fields.string((t, v) => (t.jobVersion = v)),
      groups: fields.stringArray((t, v) => (t.groups = v)),
      description: fields.stringOrNull((t, v) => (t.description = v)),
      create_time: { types: ValueType.VALUE, parse: timeField('create_time'), set: (t, v) => (t.createTime = v as number) },
      finished_time: { types: ValueType.VALUE, parse: timeField('finished_time'), set: (t, v) => (t.finishedTime = v as number) },
      analysis_config: {
        types: ValueType.OBJECT,
        parse: (n, p) => ANALYSIS_CONFIG_PARSER.parse(n, p),
        // Job.Builder.setAnalysisConfig builds (and so validates) the analysis config.
        set: (t, v) => {
          validateAnalysisConfig(v as AnalysisConfigModel);
          t.analysisConfig = v as AnalysisConfigModel;
        },
      },
      analysis_limits: fields.object<JobBuilder, ParsedAnalysisLimits>(limitsParser, (t, v) => (t.analysisLimits = v)),
      data_description: fields.object<JobBuilder, DataDescription>(DATA_DESCRIPTION_PARSER, (t, v) => (t.dataDescription = v)),
      model_plot_config: fields.object<JobBuilder, ModelPlotConfig>(MODEL_PLOT_PARSER, (t, v) => (t.modelPlotConfig = v)),
      renormalization_window_days: fields.long((t, v) => (t.renormalizationWindowDays = v)),
      background_persist_interval: fields.string((t, v) => (t.backgroundPersistInterval = parseTimeValue(v, 'background_persist_interval'))),
      results_retention_days: fields.long((t, v) => (t.resultsRetentionDays = v)),
      system_annotations_retention_days: fields.long((t, v) => (t.systemAnnotationsRetentionDays = v)),
      model_snapshot_retention_days: fields.long((t, v) => (t.modelSnapshotRetentionDays = v)),
      daily_model_snapshot_retention_after_days: fields.long((t, v) => (t.dailyModelSnapshotRetentionAfterDays = v)),
      custom_settings: {
        types: ValueType.OBJECT,
        parse: (n, p) => p.map(n, true),
        set: (t, v) => (t.customSettings = v as Record<string, unknown>),
      },
      model_snapshot_id: fields.stringOrNull((t, v) => (t.modelSnapshotId = v)),
      model_snapshot_min_version: fields.stringOrNull((t, v) => (t.modelSnapshotMinVersion = v)),
      results_index_name: fields.string((t, v) => (t.resultsIndexName = v)),
      deleting: fields.boolean((t, v) => (t.deleting = v)),
      allow_lazy_open: fields.boolean((t, v) => (t.allowLazyOpen = v)),
      blocked: fields.object<JobBuilder, Blocked>(BLOCKED_PARSER, (t, v) => (t.blocked = v)),
      datafeed_config: {
        types: ValueType.OBJECT,
        parse: (n, p) => p.map(n, true),
        set: (t, v) => (t.datafeedConfig = v as Record<string, unknown>),
      },
    },
    {
      create: () => ({
        jobType: ANOMALY_DETECTOR_JOB_TYPE,
        groups: [],
        modelSnapshotRetentionDays: DEFAULT_MODEL_SNAPSHOT_RETENTION_DAYS,
        deleting: false,
        allowLazyOpen: false,
        blocked: { reason: 'none' },
      }),
    },
  );
}
