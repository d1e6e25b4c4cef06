/**
 * Anomaly detection job configuration: the stored/GET shape (`JobConfig`), put-job parsing
 * with Elasticsearch's defaults and validations (spec A.5.1, A.5.11, A.2 rule checks), and
 * the GET view.
 *
 * Parsing mirrors `Job.STRICT_PARSER` and its nested parsers (`analysis_config`, `detector`,
 * `detection_rule`, `rule_condition`, `filter_ref`, `params`, `data_description`,
 * `analysis_limits`, `model_plot_config`, `per_partition_categorization`, `blocked`) through
 * {@link XObjectParser}, so errors come out as the same `x_content_parse_exception` chains, in
 * the same order, as in Elasticsearch. The checks after parsing follow
 * `PutJobAction.Request` and `JobManager.putJob` in order.
 */
import { EsError, IllegalArgumentError, ParseError, ResourceAlreadyExistsError, StatusError } from './errors.ts';
import { ID_LENGTH_LIMIT, invalidIdMessage, isValidId, validateGroupId } from './ids.ts';
import { javaHashMapOrder } from './json/java-hash-order.ts';
import { type JsonNode, tokenOf } from './json/located-tree.ts';
import { fields, ValueType, type XField, XObjectParser } from './json/object-parser.ts';
import { valueToNode } from './json/plain-values.ts';
import { syntaxError, XContentParseLocatedError } from './json/syntax-errors.ts';
import { readJson } from './json/tokenizer.ts';
import { XParser } from './json/xcontent-parser.ts';
import {
  checkModelMemoryLimitMiB,
  formatJavaNumber,
  humanMiB,
  javaDoubleToString,
  modelMemoryLimitToMiB,
  parseTimeValue,
  TimeValue,
} from './units.ts';
import { ES_VERSION } from './version.ts';

// ---------------------------------------------------------------------------------------
// Public shapes (what GET _ml/anomaly_detectors returns, Elasticsearch key names and order)
// ---------------------------------------------------------------------------------------

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
  results_index_name: string;
  allow_lazy_open: boolean;
  blocked?: Blocked;
}

// ---------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------

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

const COUNT_WITHOUT_FIELD_FUNCTIONS: ReadonlySet<DetectorFunction> = new Set([
  'count',
  'high_count',
  'low_count',
  'non_zero_count',
  'low_non_zero_count',
  'high_non_zero_count',
  'time_of_day',
  'time_of_week',
]);
const FIELD_NAME_FUNCTIONS: ReadonlySet<DetectorFunction> = new Set([
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
const BY_FIELD_NAME_FUNCTIONS: ReadonlySet<DetectorFunction> = new Set(['rare', 'freq_rare']);
const OVER_FIELD_NAME_FUNCTIONS: ReadonlySet<DetectorFunction> = new Set(['freq_rare']);
const NO_OVER_FIELD_NAME_FUNCTIONS: ReadonlySet<DetectorFunction> = new Set([
  'non_zero_count',
  'low_non_zero_count',
  'high_non_zero_count',
]);
const FUNCTIONS_WITHOUT_RULE_CONDITION_SUPPORT: ReadonlySet<DetectorFunction> = new Set([
  'lat_long',
  'metric',
  'rare',
  'freq_rare',
]);

const STOP_WORDS = [
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

// ---------------------------------------------------------------------------------------
// Small Java-isms
// ---------------------------------------------------------------------------------------

const CONFIG_PACKAGE = 'org.elasticsearch.xpack.core.ml.job.config';

/** `Enum.valueOf` failure text. */
function noEnumConstant(enumClass: string, name: string): IllegalArgumentError {
  return new IllegalArgumentError(`No enum constant ${CONFIG_PACKAGE}.${enumClass}.${name}`);
}

function enumFromString<E extends string>(enumClass: string, values: readonly E[], raw: string, trim = false): E {
  const upper = (trim ? raw.trim() : raw).toUpperCase();
  const found = values.find((v) => v.toUpperCase() === upper);
  if (found === undefined) throw noEnumConstant(enumClass, upper);
  return found;
}

/** `StatusError` 400, i.e. `ExceptionsHelper.badRequestException`. */
function badRequest(message: string): StatusError {
  return new StatusError(400, message);
}

/** `MlStrings.doubleQuoteIfNotAlphaNumeric`. */
function quoteField(field: string): string {
  if (!/[^A-Za-z0-9_]/.test(field)) return field;
  return `"${field.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

const isEmpty = (s: string | null | undefined): boolean => s === null || s === undefined || s.length === 0;

/** Java `TreeSet<String>.toString()`. */
function javaSetString(values: Iterable<string>): string {
  return `[${[...new Set(values)].sort().join(', ')}]`;
}

/** Java class name of a value read by `p.map()`, for `ClassCastException` texts. */
function javaClassOf(value: unknown): string {
  if (typeof value === 'string') return 'java.lang.String';
  if (typeof value === 'boolean') return 'java.lang.Boolean';
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return 'java.lang.Double';
    return Math.abs(value) <= 2147483647 ? 'java.lang.Integer' : 'java.lang.Long';
  }
  if (Array.isArray(value)) return 'java.util.ArrayList';
  return 'java.util.HashMap';
}

function classCastToMap(value: unknown): EsError {
  const cls = javaClassOf(value);
  return new EsError(
    'class_cast_exception',
    500,
    `class ${cls} cannot be cast to class java.util.Map (${cls} and java.util.Map are in module java.base of loader 'bootstrap')`,
  );
}

// ---------------------------------------------------------------------------------------
// Custom rules
// ---------------------------------------------------------------------------------------

const RULE_CONDITION_PARSER = new XObjectParser<RuleCondition>(
  'rule_condition',
  {
    applies_to: {
      types: ValueType.STRING,
      parse: (n, p) =>
        enumFromString('RuleCondition.AppliesTo', ['actual', 'typical', 'diff_from_typical', 'time'] as const, p.text(n)),
      arg: 'required',
    },
    operator: {
      types: ValueType.STRING,
      parse: (n, p) => enumFromString('Operator', ['gt', 'gte', 'lt', 'lte'] as const, p.text(n), true),
      arg: 'required',
    },
    value: { types: ValueType.DOUBLE, parse: (n, p) => p.doubleValue(n), arg: 'required' },
  },
  {
    construct: (a) => ({
      applies_to: a[0] as RuleCondition['applies_to'],
      operator: a[1] as RuleCondition['operator'],
      value: a[2] as number,
    }),
  },
);

const FILTER_REF_PARSER = new XObjectParser<FilterRef>(
  'filter_ref',
  {
    filter_id: { types: ValueType.STRING, parse: (n, p) => p.text(n), arg: 'required' },
    filter_type: {
      types: ValueType.STRING,
      parse: (n, p) => {
        if (n.kind !== 'string') throw new IllegalArgumentError(`Unsupported token [${tokenOf(n)}]`);
        return enumFromString('FilterRef.FilterType', ['include', 'exclude'] as const, p.text(n));
      },
      arg: 'optional',
    },
  },
  {
    construct: (a) => ({
      filter_id: a[0] as string,
      filter_type: (a[1] as FilterRef['filter_type'] | undefined) ?? 'include',
    }),
  },
);

const FORCE_TIME_SHIFT_PARSER = new XObjectParser<{ time_shift_amount: number }>(
  'force_time_shift_params',
  { time_shift_amount: { types: ValueType.LONG, parse: (n, p) => p.longValue(n), arg: 'required' } },
  { construct: (a) => ({ time_shift_amount: a[0] as number }) },
  true,
);

const RULE_PARAMS_PARSER = new XObjectParser<RuleParams>(
  'params',
  {
    force_time_shift: {
      types: ValueType.OBJECT,
      parse: (n, p) => FORCE_TIME_SHIFT_PARSER.parse(n, p),
      arg: 'optional',
    },
  },
  {
    construct: (a) =>
      a[0] === undefined ? {} : { force_time_shift: a[0] as { time_shift_amount: number } },
  },
);

/**
 * `RuleScope.parser`: the scope is read as a generic map (HashMap order), and each entry is
 * re-serialised and parsed on its own with the `filter_ref` parser (so locations inside are
 * relative to that small document, as in Elasticsearch).
 */
function parseRuleScope(node: JsonNode, p: XParser): Record<string, FilterRef> {
  const unparsed = p.map(node, false);
  const parsed: [string, FilterRef][] = [];
  for (const [key, value] of Object.entries(unparsed)) {
    if (value !== null && (typeof value !== 'object' || Array.isArray(value))) throw classCastToMap(value);
    const { root } = readJson(value === null ? 'null' : JSON.stringify(value));
    if (!root) throw new IllegalArgumentError('empty filter_ref');
    parsed.push([key, FILTER_REF_PARSER.parse(root, new XParser())]);
  }
  const byKey = new Map(parsed);
  const out: Record<string, FilterRef> = {};
  for (const k of javaHashMapOrder(parsed.map(([k]) => k))) {
    const v = byKey.get(k);
    if (v) out[k] = v;
  }
  return out;
}

interface RuleBuilder {
  actions: RuleAction[];
  scope: Record<string, FilterRef>;
  conditions: RuleCondition[];
  params: RuleParams;
}

const DETECTION_RULE_PARSER = new XObjectParser<RuleBuilder>(
  'detection_rule',
  {
    actions: {
      ...fields.stringArray<RuleBuilder>((t, v) => {
        const set = new Set(v.map((a) => enumFromString('RuleAction', RULE_ACTIONS, a)));
        t.actions = RULE_ACTIONS.filter((a) => set.has(a));
      }),
    },
    scope: { types: ValueType.OBJECT, parse: parseRuleScope, set: (t, v) => (t.scope = v as Record<string, FilterRef>) },
    conditions: {
      types: ValueType.OBJECT_ARRAY,
      parse: (n, p) => p.objectArray(n, RULE_CONDITION_PARSER),
      set: (t, v) => (t.conditions = v as RuleCondition[]),
    },
    params: fields.object<RuleBuilder, RuleParams>(RULE_PARAMS_PARSER, (t, v) => (t.params = v)),
  },
  { create: () => ({ actions: ['skip_result'], scope: {}, conditions: [], params: {} }) },
);

/**
 * `DetectionRule.Builder.build()` checks.
 * @throws StatusError 400 `Invalid detector rule: at least scope or a condition is required`,
 *   `Invalid detector rule: actions contain force_time_shift, but corresponding parameters are missing`,
 *   `Invalid detector rule: actions do not contain force_time_shift, but corresponding parameters are present`
 */
function buildDetectionRule(b: RuleBuilder): DetectionRule {
  if (Object.keys(b.scope).length === 0 && b.conditions.length === 0) {
    throw badRequest('Invalid detector rule: at least scope or a condition is required');
  }
  const hasShift = b.actions.includes('force_time_shift');
  if (hasShift && b.params.force_time_shift === undefined) {
    throw badRequest('Invalid detector rule: actions contain force_time_shift, but corresponding parameters are missing');
  }
  if (!hasShift && b.params.force_time_shift !== undefined) {
    throw badRequest('Invalid detector rule: actions do not contain force_time_shift, but corresponding parameters are present');
  }
  const rule: DetectionRule = { actions: [...b.actions] };
  if (Object.keys(b.scope).length > 0) rule.scope = b.scope;
  if (b.conditions.length > 0) rule.conditions = b.conditions;
  if (b.params.force_time_shift !== undefined) rule.params = b.params;
  return rule;
}

/**
 * Parses one custom rule object (a `custom_rules` element) with the strict `detection_rule`
 * parser and validates it on its own (scope or condition required, force_time_shift params).
 * Detector-dependent checks are in {@link validateDetectorRules}. For use by update parsers.
 */
export function parseDetectionRule(node: JsonNode, p: XParser): DetectionRule {
  return buildDetectionRule(DETECTION_RULE_PARSER.parse(node, p));
}

/** Parses a `custom_rules` value (array of rule objects), as `Detector`'s parser does. */
export const CUSTOM_RULES_FIELD = {
  types: ValueType.OBJECT_ARRAY,
  parse: (n: JsonNode, p: XParser): DetectionRule[] =>
    p.objectArray(n, { name: 'detection_rule', parse: (item, q) => parseDetectionRule(item, q) }),
} as const;

/**
 * The rule checks `Detector.Builder.build()` runs for each rule (spec A.2 step 7):
 * - a rule whose **first** condition applies to actual/typical/diff_from_typical is refused
 *   for `lat_long`, `metric`, `rare`, `freq_rare`;
 * - every scope key must be one of the detector's by/over/partition fields (first offending
 *   key in HashMap order).
 *
 * @throws StatusError 400 `Invalid detector rule: function <fn> only supports conditions that apply to time`,
 *   `Invalid detector rule: scope field '<k>' is invalid; select from [<sorted fields>]`,
 *   `Invalid detector rule: scope field '<k>' is invalid; detector has no available fields for scoping`
 */
export function validateDetectorRules(
  detector: Pick<Detector, 'function' | 'by_field_name' | 'over_field_name' | 'partition_field_name'>,
  rules: readonly DetectionRule[],
): void {
  const fn = detector.function;
  for (const rule of rules) {
    const first = rule.conditions?.[0];
    if (first && first.applies_to !== 'time' && FUNCTIONS_WITHOUT_RULE_CONDITION_SUPPORT.has(fn)) {
      throw badRequest(`Invalid detector rule: function ${fn} only supports conditions that apply to time`);
    }
    const valid = [detector.by_field_name, detector.over_field_name, detector.partition_field_name].filter(
      (f): f is string => f !== undefined,
    );
    const invalid = Object.keys(rule.scope ?? {}).find((k) => !valid.includes(k));
    if (invalid !== undefined) {
      if (valid.length === 0) {
        throw badRequest(`Invalid detector rule: scope field '${invalid}' is invalid; detector has no available fields for scoping`);
      }
      throw badRequest(`Invalid detector rule: scope field '${invalid}' is invalid; select from ${javaSetString(valid)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Detector
// ---------------------------------------------------------------------------------------

interface DetectorBuilder {
  description?: string;
  fn?: DetectorFunction;
  fieldName?: string;
  by?: string;
  over?: string;
  partition?: string;
  useNull: boolean;
  excludeFrequent?: Detector['exclude_frequent'];
  rules: DetectionRule[];
  index: number;
}

/** `DetectorFunction.fromString`: full names and shortcuts (`nzc`, `dc`, …). */
export function detectorFunctionFromString(op: string): DetectorFunction {
  const full = DETECTOR_FUNCTIONS.find((f) => f === op);
  if (full) return full;
  const short = DETECTOR_FUNCTION_SHORTCUTS[op];
  if (short && Object.prototype.hasOwnProperty.call(DETECTOR_FUNCTION_SHORTCUTS, op)) return short;
  throw new IllegalArgumentError(`Unknown function '${op}'`);
}

const DETECTOR_PARSER = new XObjectParser<DetectorBuilder>(
  'detector',
  {
    detector_description: fields.string((t, v) => (t.description = v)),
    function: fields.string((t, v) => (t.fn = detectorFunctionFromString(v))),
    field_name: fields.string((t, v) => (t.fieldName = v)),
    by_field_name: fields.string((t, v) => (t.by = v)),
    over_field_name: fields.string((t, v) => (t.over = v)),
    partition_field_name: fields.string((t, v) => (t.partition = v)),
    use_null: fields.boolean((t, v) => (t.useNull = v)),
    exclude_frequent: {
      types: ValueType.STRING,
      parse: (n, p) => enumFromString('Detector.ExcludeFrequent', ['all', 'none', 'by', 'over'] as const, p.text(n)),
      set: (t, v) => (t.excludeFrequent = v as Detector['exclude_frequent']),
    },
    custom_rules: { ...CUSTOM_RULES_FIELD, set: (t, v) => (t.rules = v as DetectionRule[]) },
    detector_index: fields.int((t, v) => (t.index = v)),
  },
  { create: () => ({ useNull: false, rules: [], index: -1 }) },
);

/**
 * `Detector.Builder.verifyFieldName`.
 * @throws StatusError 400 `Invalid field name '<f>'. Field names including over, by and partition fields cannot contain any of these characters: ",\`
 *   or `… cannot be '.'`
 */
function verifyFieldName(field: string | undefined): void {
  if (field === undefined) return;
  // '"', '\\' and ISO control characters.
  if (/["\\\u0000-\u001f\u007f-\u009f]/.test(field)) {
    throw badRequest(
      `Invalid field name '${field}'. Field names including over, by and partition fields cannot contain any of these characters: ",\\`,
    );
  }
  if (field === '.') {
    throw badRequest(`Invalid field name '.'. Field names including over, by and partition fields cannot be '.'`);
  }
}

/** `DefaultDetectorDescription.of`: `mean(responsetime) by airline over x usenull=true partitionfield=p excludefrequent=all`. */
export function defaultDetectorDescription(
  d: Pick<Detector, 'function' | 'field_name' | 'by_field_name' | 'over_field_name' | 'partition_field_name' | 'use_null' | 'exclude_frequent'>,
): string {
  let sb: string = d.function;
  if (!isEmpty(d.field_name)) sb += `(${quoteField(d.field_name ?? '')})`;
  if (!isEmpty(d.by_field_name)) sb += ` by ${quoteField(d.by_field_name ?? '')}`;
  if (!isEmpty(d.over_field_name)) sb += ` over ${quoteField(d.over_field_name ?? '')}`;
  if (d.use_null) sb += ' usenull=true';
  if (!isEmpty(d.partition_field_name)) sb += ` partitionfield=${quoteField(d.partition_field_name ?? '')}`;
  if (d.exclude_frequent !== undefined) sb += ` excludefrequent=${d.exclude_frequent}`;
  return sb;
}

/**
 * `Detector.Builder.build()` with its checks in Elasticsearch's order.
 * @throws StatusError 400 with the `Messages` texts (field requirements per function, invalid
 *   field names, rule checks, duplicate by/over/partition, reserved `count`/`by`/`over` names)
 */
function buildDetector(b: DetectorBuilder): Detector {
  const fnText = b.fn ?? 'null';
  const emptyField = isEmpty(b.fieldName);
  const emptyBy = isEmpty(b.by);
  const emptyOver = isEmpty(b.over);
  const emptyPartition = isEmpty(b.partition);
  const is = (set: ReadonlySet<DetectorFunction>): boolean => b.fn !== undefined && set.has(b.fn);

  if (emptyField && emptyBy && emptyOver && !is(COUNT_WITHOUT_FIELD_FUNCTIONS)) {
    throw badRequest('Unless a count or temporal function is used one of field_name, by_field_name or over_field_name must be set');
  }
  if (emptyField && is(FIELD_NAME_FUNCTIONS)) throw badRequest(`field_name must be set when the '${fnText}' function is used`);
  if (!emptyField && !is(FIELD_NAME_FUNCTIONS)) throw badRequest(`field_name cannot be used with function '${fnText}'`);
  if (emptyBy && is(BY_FIELD_NAME_FUNCTIONS)) throw badRequest(`by_field_name must be set when the '${fnText}' function is used`);
  if (emptyOver && is(OVER_FIELD_NAME_FUNCTIONS)) {
    throw badRequest(`over_field_name must be set when the '${fnText}' function is used`);
  }
  if (!emptyOver && is(NO_OVER_FIELD_NAME_FUNCTIONS)) throw badRequest(`over_field_name cannot be used with function '${fnText}'`);
  for (const f of [b.fieldName, b.by, b.over, b.partition]) verifyFieldName(f);

  const fn: DetectorFunction = b.fn ?? 'metric';
  const shape = {
    function: fn,
    ...(b.by !== undefined ? { by_field_name: b.by } : {}),
    ...(b.over !== undefined ? { over_field_name: b.over } : {}),
    ...(b.partition !== undefined ? { partition_field_name: b.partition } : {}),
  };
  validateDetectorRules(shape, b.rules);

  if (!emptyPartition) {
    if (b.partition === b.by) throw badRequest(`partition_field_name and by_field_name cannot be the same: '${b.partition}'`);
    if (b.partition === b.over) throw badRequest(`partition_field_name and over_field_name cannot be the same: '${b.partition}'`);
  }
  if (!emptyBy && b.by === b.over) throw badRequest(`by_field_name and over_field_name cannot be the same: '${b.by}'`);
  if (b.by === 'count') throw badRequest(`'count' is not a permitted value for by_field_name`);
  if (b.over === 'count') throw badRequest(`'count' is not a permitted value for over_field_name`);
  if (b.by === 'by') throw badRequest(`'by' is not a permitted value for by_field_name`);
  if (b.over === 'by') throw badRequest(`'by' is not a permitted value for over_field_name`);
  if (b.by === 'over') throw badRequest(`'over' is not a permitted value for by_field_name`);
  if (b.over === 'over') throw badRequest(`'over' is not a permitted value for over_field_name`);

  const d: Detector = { detector_description: '', function: fn, detector_index: b.index };
  if (b.fieldName !== undefined) d.field_name = b.fieldName;
  if (b.by !== undefined) d.by_field_name = b.by;
  if (b.over !== undefined) d.over_field_name = b.over;
  if (b.partition !== undefined) d.partition_field_name = b.partition;
  if (b.useNull) d.use_null = true;
  if (b.excludeFrequent !== undefined) d.exclude_frequent = b.excludeFrequent;
  if (b.rules.length > 0) d.custom_rules = b.rules;
  d.detector_description = b.description ?? defaultDetectorDescription(d);
  return orderDetector(d);
}

/** Re-creates a detector with keys in Elasticsearch's output order. */
function orderDetector(d: Detector): Detector {
  const out: Record<string, unknown> = { detector_description: d.detector_description, function: d.function };
  if (d.field_name !== undefined) out.field_name = d.field_name;
  if (d.by_field_name !== undefined) out.by_field_name = d.by_field_name;
  if (d.over_field_name !== undefined) out.over_field_name = d.over_field_name;
  if (d.partition_field_name !== undefined) out.partition_field_name = d.partition_field_name;
  if (d.use_null) out.use_null = true;
  if (d.exclude_frequent !== undefined) out.exclude_frequent = d.exclude_frequent;
  if (d.custom_rules && d.custom_rules.length > 0) out.custom_rules = d.custom_rules;
  out.detector_index = d.detector_index;
  return out as unknown as Detector;
}

// ---------------------------------------------------------------------------------------
// Categorization analyzer
// ---------------------------------------------------------------------------------------

/**
 * How Elasticsearch echoes an analyzer part given as an object: it becomes `Settings`, so
 * values are strings (`100` → `"100"`), keys are flattened/sorted then re-nested into
 * `HashMap(2)`s (whose iteration order is reproduced here).
 */
function settingsRender(definition: Record<string, unknown>): Record<string, unknown> {
  const flat = new Map<string, unknown>();
  const flatten = (prefix: string, v: unknown): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, inner] of Object.entries(v)) flatten(prefix ? `${prefix}.${k}` : k, inner);
      return;
    }
    flat.set(prefix, Array.isArray(v) ? v.map(settingString) : settingString(v));
  };
  flatten('', definition);
  const sortedKeys = [...flat.keys()].sort();
  const nest = (keys: string[], depth: number): Record<string, unknown> => {
    const groups = new Map<string, string[]>();
    for (const key of keys) {
      const name = key.split('.')[depth] ?? '';
      const members = groups.get(name) ?? [];
      members.push(key);
      groups.set(name, members);
    }
    const out: Record<string, unknown> = {};
    for (const name of javaHashMapOrder([...groups.keys()], 2)) {
      const members = groups.get(name) ?? [];
      const leaf = members.find((k) => k.split('.').length === depth + 1);
      out[name] = leaf !== undefined && members.length === 1 ? flat.get(leaf) : nest(members.filter((k) => k !== leaf), depth + 1);
    }
    return out;
  };
  return nest(sortedKeys, 0);
}

function settingString(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : javaDoubleToString(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function analyzerPart(node: JsonNode, p: XParser): AnalyzerPart {
  return node.kind === 'string' ? p.text(node) : settingsRender(p.map(node, false));
}

/**
 * `CategorizationAnalyzerConfig.buildFromXContentFragment` (strict): a string names a global
 * analyzer; an object may hold `char_filter` (array), `tokenizer` (name or object) and
 * `filter` (array). Names of analysis components are not checked against a registry here.
 */
function parseCategorizationAnalyzer(node: JsonNode, p: XParser): CategorizationAnalyzer {
  if (node.kind === 'string') return p.text(node);
  if (node.kind !== 'object') {
    throw new IllegalArgumentError(`[categorization_analyzer] should be analyzer's name or settings [${tokenOf(node)}]`);
  }
  const charFilters: AnalyzerPart[] = [];
  const tokenFilters: AnalyzerPart[] = [];
  let tokenizer: AnalyzerPart | undefined;
  for (const e of node.entries) {
    p.cursor = e.keyPos;
    const v = e.value;
    p.at(v);
    const token = tokenOf(v);
    if ((e.key === 'char_filter' || e.key === 'filter') && v.kind === 'array') {
      const what = e.key === 'char_filter' ? 'char_filter' : 'token_filter';
      for (const item of v.items) {
        p.at(item);
        if (item.kind !== 'string' && item.kind !== 'object') {
          throw new IllegalArgumentError(
            `[${e.key}] in [categorization_analyzer] array element should contain ${what}'s name or settings [${tokenOf(item)}]`,
          );
        }
        (e.key === 'char_filter' ? charFilters : tokenFilters).push(analyzerPart(item, p));
      }
      p.done(v);
    } else if (e.key === 'tokenizer') {
      if (v.kind !== 'string' && v.kind !== 'object') {
        throw new IllegalArgumentError(`[tokenizer] in [categorization_analyzer] should be tokenizer's name or settings [${token}]`);
      }
      tokenizer = analyzerPart(v, p);
    } else {
      throw new IllegalArgumentError(`Parameter [${e.key}] in [categorization_analyzer] is unknown or of the wrong type [${token}]`);
    }
  }
  p.done(node);
  if (tokenizer === undefined) {
    throw new IllegalArgumentError('categorization_analyzer that is not a global analyzer must specify a [tokenizer] field');
  }
  const out: { char_filter?: AnalyzerPart[]; tokenizer?: AnalyzerPart; filter?: AnalyzerPart[] } = {};
  if (charFilters.length > 0) out.char_filter = charFilters;
  out.tokenizer = tokenizer;
  if (tokenFilters.length > 0) out.filter = tokenFilters;
  return out;
}

/**
 * `CategorizationAnalyzerConfig.buildStandardCategorizationAnalyzer` as in current docs:
 * `first_line_with_letters`, the categorization filters as `pattern_replace` char filters,
 * the `ml_standard` tokenizer, the date-words `stop` filter and a `limit` filter of 100 tokens.
 */
export function standardCategorizationAnalyzer(categorizationFilters: readonly string[] = []): CategorizationAnalyzer {
  return {
    char_filter: [
      'first_line_with_letters',
      ...categorizationFilters.map((pattern) => settingsRender({ type: 'pattern_replace', pattern })),
    ],
    tokenizer: 'ml_standard',
    filter: [settingsRender({ type: 'stop', stopwords: STOP_WORDS }), settingsRender({ type: 'limit', max_token_count: 100 })],
  };
}

// ---------------------------------------------------------------------------------------
// analysis_config
// ---------------------------------------------------------------------------------------

interface AnalysisConfigModel {
  detectors: Detector[];
  bucketSpan: TimeValue;
  latency?: TimeValue;
  modelPruneWindow?: TimeValue;
  categorizationFieldName?: string;
  categorizationFilters?: string[] | undefined;
  categorizationAnalyzer?: CategorizationAnalyzer;
  perPartition: PerPartitionCategorization;
  summaryCountFieldName?: string;
  influencers: string[];
  multivariateByFields?: boolean;
}

/**
 * `PerPartitionCategorizationConfig.STRICT_PARSER`, used by put-job (inside `analysis_config`)
 * and by job update: `enabled` required; `stop_on_warn` defaults to false and is kept only
 * when `enabled`.
 *
 * @throws (from the constructor, wrapped by the caller's parser) StatusError 400
 *   `stop_on_warn cannot be true in per_partition_categorization when enabled is false`
 */
export const PER_PARTITION_PARSER = new XObjectParser<PerPartitionCategorization>(
  'per_partition_categorization',
  {
    enabled: { types: ValueType.BOOLEAN, parse: (n, p) => p.booleanValue(n), arg: 'required' },
    stop_on_warn: { types: ValueType.BOOLEAN, parse: (n, p) => p.booleanValue(n), arg: 'optional' },
  },
  {
    construct: (a) => {
      const enabled = a[0] as boolean;
      const stopOnWarn = (a[1] as boolean | undefined) ?? false;
      if (!enabled && stopOnWarn) {
        throw badRequest('stop_on_warn cannot be true in per_partition_categorization when enabled is false');
      }
      return enabled ? { enabled, stop_on_warn: stopOnWarn } : { enabled };
    },
  },
);

/** Sequential detector indexes, as `AnalysisConfig.Builder.setDetectors` assigns them. */
function withSequentialIndexes(detectors: Detector[]): Detector[] {
  return detectors.map((d, i) => orderDetector({ ...d, detector_index: i }));
}

const ANALYSIS_CONFIG_PARSER = new XObjectParser<AnalysisConfigModel>(
  'analysis_config',
  {
    detectors: {
      types: ValueType.OBJECT_ARRAY,
      parse: (n, p) =>
        p.objectArray(n, { name: 'detector', parse: (item, q) => buildDetector(DETECTOR_PARSER.parse(item, q)) }),
      arg: 'required',
    },
    bucket_span: fields.string((t, v) => (t.bucketSpan = parseTimeValue(v, 'bucket_span'))),
    categorization_field_name: fields.string((t, v) => (t.categorizationFieldName = v)),
    categorization_filters: fields.stringArray((t, v) => (t.categorizationFilters = v)),
    categorization_analyzer: {
      types: ValueType.OBJECT_OR_STRING,
      parse: parseCategorizationAnalyzer,
      set: (t, v) => (t.categorizationAnalyzer = v as CategorizationAnalyzer),
    },
    per_partition_categorization: fields.object<AnalysisConfigModel, PerPartitionCategorization>(
      PER_PARTITION_PARSER,
      (t, v) => (t.perPartition = v),
    ),
    latency: fields.string((t, v) => (t.latency = parseTimeValue(v, 'latency'))),
    summary_count_field_name: fields.string((t, v) => (t.summaryCountFieldName = v)),
    influencers: fields.stringArray((t, v) => (t.influencers = v)),
    multivariate_by_fields: fields.boolean((t, v) => (t.multivariateByFields = v)),
    model_prune_window: fields.string((t, v) => (t.modelPruneWindow = parseTimeValue(v, 'model_prune_window'))),
  },
  {
    construct: (a) => ({
      detectors: withSequentialIndexes(a[0] as Detector[]),
      bucketSpan: parseTimeValue(DEFAULT_BUCKET_SPAN, 'bucket_span'),
      perPartition: { enabled: false },
      influencers: [],
    }),
  },
);

/** `TimeUtils.checkMultiple(tv, SECONDS, field)`. */
function checkMultipleOfSecond(tv: TimeValue, field: string): void {
  if (tv.nanos() % 1_000_000_000n !== 0n) {
    throw new IllegalArgumentError(`${field} has to be a multiple of 1s; actual was '${tv.human()}'`);
  }
}

/**
 * `AnalysisConfig.Builder.verifyModelPruneWindow` (whole seconds compared).
 * @throws StatusError 400 `model_prune_window [<pw>] must be a multiple of bucket_span [<bs>]`
 *   or `model_prune_window [<pw>] must be at least 2 times greater than bucket_span [<bs>]`
 *   (both values in `TimeValue.toString()` form, e.g. `1.5h`)
 */
export function verifyModelPruneWindow(modelPruneWindow: TimeValue, bucketSpan: TimeValue): void {
  const pw = modelPruneWindow.seconds();
  const bs = bucketSpan.seconds();
  if (bs === 0n) return;
  if (pw % bs !== 0n) {
    throw badRequest(`model_prune_window [${modelPruneWindow.human()}] must be a multiple of bucket_span [${bucketSpan.human()}]`);
  }
  if (pw / bs < 2n) {
    throw badRequest(
      `model_prune_window [${modelPruneWindow.human()}] must be at least 2 times greater than bucket_span [${bucketSpan.human()}]`,
    );
  }
}

/** `AnalysisConfig.termFields`: sorted by/over/partition fields and influencers, without `""`. */
function termFields(detectors: readonly Detector[], influencers: readonly string[]): string[] {
  const set = new Set<string>();
  for (const d of detectors) {
    for (const f of [d.by_field_name, d.over_field_name, d.partition_field_name]) if (f !== undefined) set.add(f);
  }
  for (const i of influencers) set.add(i);
  set.delete('');
  return [...set].sort();
}

/** `AnalysisConfig.analysisFields()`: term fields, categorization and summary count fields, detector field names. */
function analysisFields(c: AnalysisConfigModel): Set<string> {
  const set = new Set(termFields(c.detectors, c.influencers));
  if (c.categorizationFieldName !== undefined) set.add(c.categorizationFieldName);
  if (c.summaryCountFieldName !== undefined) set.add(c.summaryCountFieldName);
  for (const d of c.detectors) if (d.field_name !== undefined) set.add(d.field_name);
  set.delete('');
  return set;
}

/**
 * `AnalysisConfig.Builder.build()` checks, in order.
 * @throws IllegalArgumentError for bucket_span/latency; StatusError 400 for the rest
 */
function validateAnalysisConfig(c: AnalysisConfigModel): void {
  // bucket_span: positive multiple of 1s
  if (c.bucketSpan.nanos() <= 0n) {
    throw new IllegalArgumentError(`bucket_span cannot be less or equal than 0. Value = ${c.bucketSpan.human()}`);
  }
  checkMultipleOfSecond(c.bucketSpan, 'bucket_span');
  if (c.modelPruneWindow !== undefined) verifyModelPruneWindow(c.modelPruneWindow, c.bucketSpan);
  if (c.latency !== undefined) {
    if (c.latency.nanos() < 0n) throw new IllegalArgumentError(`latency cannot be less than 0. Value = ${c.latency.human()}`);
    checkMultipleOfSecond(c.latency, 'latency');
  }
  if (c.detectors.length === 0) throw badRequest('No detectors configured');
  verifyFieldName(c.summaryCountFieldName);
  verifyFieldName(c.categorizationFieldName);

  // mlcategory requires categorization_field_name and vice versa
  const byOverPartition = new Set<string>();
  for (const d of c.detectors) {
    for (const f of [d.by_field_name, d.over_field_name, d.partition_field_name]) if (f !== undefined) byOverPartition.add(f);
  }
  const mlCategoryUsed = byOverPartition.has(ML_CATEGORY_FIELD);
  if (mlCategoryUsed && c.categorizationFieldName === undefined) {
    throw badRequest('categorization_field_name must be set for mlcategory to be available');
  }
  if (c.categorizationFieldName !== undefined && !mlCategoryUsed) {
    throw badRequest('categorization_field_name is set but mlcategory is not used in any detector by/over/partition field');
  }
  if (c.categorizationAnalyzer !== undefined && c.categorizationFieldName === undefined) {
    throw badRequest('categorization_analyzer requires setting categorization_field_name');
  }
  const filters = c.categorizationFilters;
  if (filters && filters.length > 0) {
    if (c.categorizationAnalyzer !== undefined) {
      throw badRequest(
        'categorization_filters cannot be used with categorization_analyzer - instead specify them as pattern_replace char_filters in the analyzer',
      );
    }
    if (c.categorizationFieldName === undefined) throw badRequest('categorization_filters require setting categorization_field_name');
    if (new Set(filters).size !== filters.length) throw badRequest('categorization_filters contain duplicates');
    if (filters.some((f) => f.length === 0)) throw badRequest('categorization_filters are not allowed to contain empty strings');
    for (const f of filters) {
      try {
        new RegExp(f);
      } catch {
        throw badRequest(`categorization_filters contains invalid regular expression '${f}'`);
      }
    }
  }
  if (c.perPartition.enabled) {
    if (c.categorizationFieldName === undefined) {
      throw badRequest('categorization_field_name must be set when per-partition categorization is enabled');
    }
    let single: string | undefined;
    for (const d of c.detectors) {
      const terms = [d.by_field_name, d.over_field_name, d.partition_field_name];
      if (terms.includes(ML_CATEGORY_FIELD)) {
        if (d.partition_field_name === ML_CATEGORY_FIELD) {
          throw badRequest('mlcategory cannot be used as a partition_field_name when per-partition categorization is enabled');
        }
        if (d.partition_field_name === undefined) {
          throw badRequest('partition_field_name must be set for detectors that reference mlcategory when per-partition categorization is enabled');
        }
      }
      if (d.partition_field_name !== undefined) {
        if (single !== undefined && single !== d.partition_field_name) {
          throw badRequest(
            `partition_field_name cannot vary between detectors when per-partition categorization is enabled: [${single}] and [${d.partition_field_name}] are used`,
          );
        }
        single = d.partition_field_name;
      }
    }
  }
  if (!isEmpty(c.summaryCountFieldName) && c.detectors.some((d) => d.function === 'metric')) {
    throw badRequest(`The 'metric' function cannot be used in jobs that will take pre-summarized input`);
  }
  let prev: string | undefined;
  for (const term of termFields(c.detectors, c.influencers)) {
    if (prev !== undefined && term.startsWith(`${prev}.`)) {
      throw badRequest(`Fields [${prev}] and [${term}] cannot both be used in the same analysis_config`);
    }
    prev = term;
  }
}

/** `AnalysisConfig.toXContent` key order. */
export const ANALYSIS_CONFIG_KEYS = [
  'bucket_span',
  'categorization_field_name',
  'categorization_filters',
  'categorization_analyzer',
  'per_partition_categorization',
  'latency',
  'summary_count_field_name',
  'detectors',
  'influencers',
  'multivariate_by_fields',
  'model_prune_window',
] as const satisfies readonly (keyof AnalysisConfig)[];

/**
 * A copy of an `analysis_config` with its keys in {@link ANALYSIS_CONFIG_KEYS} order (any
 * other key after them, in its own order); keys whose value is `undefined` are dropped.
 * Values are not copied.
 */
export function orderAnalysisConfig(c: AnalysisConfig): AnalysisConfig {
  const src = c as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of ANALYSIS_CONFIG_KEYS) if (src[k] !== undefined) out[k] = src[k];
  for (const [k, v] of Object.entries(src)) if (!(k in out) && v !== undefined) out[k] = v;
  return out as unknown as AnalysisConfig;
}

function analysisConfigView(c: AnalysisConfigModel): AnalysisConfig {
  return orderAnalysisConfig({
    bucket_span: c.bucketSpan.rep,
    categorization_field_name: c.categorizationFieldName,
    categorization_filters: c.categorizationFilters,
    categorization_analyzer: c.categorizationAnalyzer,
    // Shown only for categorization jobs.
    per_partition_categorization: c.categorizationFieldName !== undefined ? c.perPartition : undefined,
    latency: c.latency?.rep,
    summary_count_field_name: c.summaryCountFieldName,
    detectors: c.detectors,
    influencers: c.influencers,
    multivariate_by_fields: c.multivariateByFields,
    model_prune_window: c.modelPruneWindow?.rep,
  });
}

// ---------------------------------------------------------------------------------------
// analysis_limits, data_description, model_plot_config, blocked
// ---------------------------------------------------------------------------------------

/**
 * `analysis_limits` as read from a request body (put-job or job update), before defaults:
 * only the keys the body had.
 */
export interface ParsedAnalysisLimits {
  /** Whole MiB (a JSON number is MiB, a string is a byte size floored to MiB); ≥ 1. */
  model_memory_limit?: number;
  /** ≥ 0. */
  categorization_examples_limit?: number;
}

/**
 * `AnalysisLimits.STRICT_PARSER`, used by put-job and by job update. `model_memory_limit` is
 * a JSON number (MiB) or a byte-size string (floored to whole MiB; fractional sizes add a
 * deprecation text to `warnings`). The constructor checks `model_memory_limit ≥ 1 MiB` and
 * `categorization_examples_limit ≥ 0`. Defaults are not applied here: see
 * {@link analysisLimitsWithDefaults}.
 *
 * @param warnings receives deprecation texts, for the `Warning` header
 * @throws (wrapped by the caller's parser) IllegalArgumentError `Unsupported token [<t>]` for a
 *   non-scalar `model_memory_limit`; StatusError 400 `model_memory_limit must be at least 1 MiB. Value = <v>`,
 *   `categorization_examples_limit cannot be less than 0. Value = <v>`
 */
export function makeAnalysisLimitsParser(warnings: string[]): XObjectParser<ParsedAnalysisLimits> {
  return new XObjectParser<ParsedAnalysisLimits>(
    'analysis_limits',
    {
      model_memory_limit: {
        types: ValueType.VALUE,
        parse: (n, p) => {
          p.at(n);
          if (n.kind === 'string') return modelMemoryLimitToMiB(p.text(n), warnings);
          if (n.kind === 'number') return p.longValue(n);
          throw new IllegalArgumentError(`Unsupported token [${tokenOf(n)}]`);
        },
        arg: 'optional',
      },
      categorization_examples_limit: { types: ValueType.LONG, parse: (n, p) => p.longValue(n), arg: 'optional' },
    },
    {
      construct: (a) => {
        const mml = a[0] as number | undefined;
        const cel = a[1] as number | undefined;
        if (mml !== undefined) checkModelMemoryLimitMiB(mml);
        if (cel !== undefined && cel < 0) {
          throw badRequest(`categorization_examples_limit cannot be less than 0. Value = ${formatJavaNumber(cel)}`);
        }
        return {
          ...(mml !== undefined ? { model_memory_limit: mml } : {}),
          ...(cel !== undefined ? { categorization_examples_limit: cel } : {}),
        };
      },
    },
  );
}

/**
 * `AnalysisLimits.validateAndSetDefaults(limits, max, 1024)`, as put-job and job update apply
 * it: a missing `model_memory_limit` becomes the default (1024 MiB, or the max when that is
 * smaller), a missing `categorization_examples_limit` becomes 4; the result may not exceed
 * the max.
 *
 * @param limits from {@link makeAnalysisLimitsParser}; `undefined` when the body had none
 * @param maxMiB `xpack.ml.max_model_memory_limit` in MiB; absent or ≤ 0 means no limit
 * @returns the stored form (`model_memory_limit` as `"<MiB>mb"`)
 * @throws StatusError 400 {@link maxModelMemoryLimitError} when the limit exceeds the max
 */
export function analysisLimitsWithDefaults(limits: ParsedAnalysisLimits | undefined, maxMiB: number | undefined): AnalysisLimits {
  const max = maxMiB !== undefined && maxMiB > 0 ? maxMiB : undefined;
  const mml = limits?.model_memory_limit ?? (max !== undefined ? Math.min(max, DEFAULT_MODEL_MEMORY_LIMIT_MIB) : DEFAULT_MODEL_MEMORY_LIMIT_MIB);
  const cel = limits?.categorization_examples_limit ?? DEFAULT_CATEGORIZATION_EXAMPLES_LIMIT;
  if (max !== undefined && mml > max) throw maxModelMemoryLimitError(mml, max);
  return { model_memory_limit: `${mml}mb`, categorization_examples_limit: cel };
}

/** Letters `DateTimeFormatter.ofPattern` accepts. */
const PATTERN_LETTERS = new Set('GuyDMLdQqYwWEecFaBhKkHmsSAnNVvzOXxZp'.split(''));

/**
 * Approximates `DateTimeFormatterTimestampConverter.ofPattern`: the pattern must use only
 * `DateTimeFormatter` letters and yield a date-time (a month and day, or a day-of-year, and an
 * hour). Invalid → StatusError 400 `Invalid Time format string '<f>'`.
 */
function validateTimeFormat(format: string): void {
  if (format === 'epoch' || format === 'epoch_ms') return;
  const letters: string[] = [];
  let inQuote = false;
  for (let i = 0; i < format.length; i++) {
    const ch = format.charAt(i);
    if (ch === "'") {
      inQuote = !inQuote;
      continue;
    }
    if (inQuote) continue;
    if (/[A-Za-z]/.test(ch)) {
      if (!PATTERN_LETTERS.has(ch)) throw badRequest(`Invalid Time format string '${format}'`);
      letters.push(ch);
    } else if ('#{}'.includes(ch)) {
      throw badRequest(`Invalid Time format string '${format}'`);
    }
  }
  const has = (s: string): boolean => [...s].some((c) => letters.includes(c));
  const date = (has('ML') && has('d')) || has('D');
  const hour = has('Hk') || (has('hK') && has('a'));
  if (inQuote || !date || !hour) throw badRequest(`Invalid Time format string '${format}'`);
}

const DATA_DESCRIPTION_PARSER = new XObjectParser<DataDescription>(
  'data_description',
  {
    format: fields.string((_t, v) => {
      const upper = v.toUpperCase();
      if (upper !== 'XCONTENT' && upper !== 'DELIMITED') throw noEnumConstant('DataDescription.DataFormat', upper);
    }),
    time_field: fields.string((t, v) => (t.time_field = v)),
    time_format: fields.string((t, v) => {
      validateTimeFormat(v);
      t.time_format = v;
    }),
  },
  { create: () => ({ time_field: 'time', time_format: 'epoch_ms' }) },
);

/**
 * `ModelPlotConfig.STRICT_PARSER`, used by put-job and by job update: `enabled` required,
 * `terms` optional, `annotations_enabled` defaulting to `enabled`.
 */
export const MODEL_PLOT_PARSER = new XObjectParser<ModelPlotConfig>(
  'model_plot_config',
  {
    enabled: { types: ValueType.BOOLEAN, parse: (n, p) => p.booleanValue(n), arg: 'required' },
    terms: { types: ValueType.STRING, parse: (n, p) => p.text(n), arg: 'optional' },
    annotations_enabled: { types: ValueType.BOOLEAN, parse: (n, p) => p.booleanValue(n), arg: 'optional' },
  },
  {
    construct: (a) => {
      const enabled = a[0] as boolean;
      const terms = a[1] as string | undefined;
      return {
        enabled,
        ...(terms !== undefined ? { terms } : {}),
        annotations_enabled: (a[2] as boolean | undefined) ?? enabled,
      };
    },
  },
);

/** `new TaskId(String)`. */
function parseTaskId(raw: string): string {
  if (raw.length === 0 || raw === 'unset') return 'unset';
  const i = raw.indexOf(':');
  const node = i < 0 ? undefined : raw.slice(0, i);
  const id = i < 0 ? undefined : raw.slice(i + 1);
  if (node === undefined || id === undefined || node.length === 0 || id.length === 0 || !/^[+-]?\d+$/.test(id)) {
    throw new IllegalArgumentError(`malformed task id ${raw}`);
  }
  return `${node}:${BigInt(id)}`;
}

const BLOCKED_PARSER = new XObjectParser<Blocked>(
  'blocked',
  {
    reason: {
      types: ValueType.STRING,
      parse: (n, p) => enumFromString('Blocked.Reason', ['none', 'delete', 'reset', 'revert'] as const, p.text(n)),
      arg: 'required',
    },
    task_id: { types: ValueType.STRING, parse: (n, p) => parseTaskId(p.text(n)), arg: 'optional' },
  },
  {
    construct: (a) => {
      const taskId = a[1] as string | undefined;
      return taskId !== undefined && taskId !== 'unset'
        ? { reason: a[0] as Blocked['reason'], task_id: taskId }
        : { reason: a[0] as Blocked['reason'] };
    },
  },
);

// ---------------------------------------------------------------------------------------
// job_details
// ---------------------------------------------------------------------------------------

interface JobBuilder {
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

function makeJobParser(warnings: string[]): XObjectParser<JobBuilder> {
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
      background_persist_interval: fields.string(
        (t, v) => (t.backgroundPersistInterval = parseTimeValue(v, 'background_persist_interval')),
      ),
      results_retention_days: fields.long((t, v) => (t.resultsRetentionDays = v)),
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
function validateInputFields(b: JobBuilder): void {
  if (!b.analysisConfig) throw new IllegalArgumentError('An analysis_config must be set');
  if (!b.dataDescription) throw new IllegalArgumentError('A data_description must be set');
  if (analysisFields(b.analysisConfig).has(b.dataDescription.time_field)) {
    throw new IllegalArgumentError('data_description.time_field may not be used in the analysis_config');
  }
  if (b.backgroundPersistInterval !== undefined) checkBackgroundPersistInterval(b.backgroundPersistInterval);
  checkValueNotLessThan(0, 'renormalization_window_days', b.renormalizationWindowDays);
  checkValueNotLessThan(0, 'results_retention_days', b.resultsRetentionDays);
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
function detectorIdentity(d: Detector): string {
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

// ---------------------------------------------------------------------------------------
// Put job
// ---------------------------------------------------------------------------------------

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
    throw new IllegalArgumentError(
      `Inconsistent job_id; '${b.id}' specified in the body differs from '${pathJobId}' specified as a URL argument`,
    );
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
  if (b.customSettings !== undefined) job.custom_settings = b.customSettings;
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
  job.results_index_name = resultsIndexName;
  job.allow_lazy_open = b.allowLazyOpen;
  if (blocked.reason !== 'none') job.blocked = blocked;

  ctx.warnings?.push(...warnings);
  return { job, ...(datafeedConfig !== undefined ? { datafeedConfig } : {}), warnings };
}

/**
 * 400 `status_exception` `model_memory_limit [<mml>] must be less than the value of the
 * xpack.ml.max_model_memory_limit setting [<max>]` (both in `ByteSizeValue` human form).
 */
export function maxModelMemoryLimitError(mmlMiB: number, maxMiB: number): StatusError {
  return badRequest(
    `model_memory_limit [${humanMiB(mmlMiB)}] must be less than the value of the ${MAX_MODEL_MEMORY_LIMIT_SETTING} setting [${humanMiB(maxMiB)}]`,
  );
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

// ---------------------------------------------------------------------------------------
// Views and helpers
// ---------------------------------------------------------------------------------------

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
  out.results_index_name = job.results_index_name;
  out.allow_lazy_open = job.allow_lazy_open;
  if (job.blocked && job.blocked.reason !== 'none') out.blocked = { ...job.blocked };
  return out;
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
  if (job.model_snapshot_retention_days !== undefined) b.modelSnapshotRetentionDays = job.model_snapshot_retention_days;
  if (job.daily_model_snapshot_retention_after_days !== undefined) {
    b.dailyModelSnapshotRetentionAfterDays = job.daily_model_snapshot_retention_after_days;
  }
  if (job.background_persist_interval !== undefined) {
    b.backgroundPersistInterval = parseTimeValue(job.background_persist_interval, 'background_persist_interval');
  }
  validateInputFields(b);
}
