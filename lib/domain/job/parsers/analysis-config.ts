/**
 * The `analysis_config` parser and `AnalysisConfig.Builder.build()` checks (bucket span,
 * latency, model prune window, influencers, categorization, field names), its key order and its
 * GET view.
 */
import { IllegalArgumentError } from '../../errors.ts';
import { fields, ValueType, XObjectParser } from '../../json/object-parser.ts';
import { parseTimeValue, type TimeValue } from '../../units.ts';
import { DEFAULT_BUCKET_SPAN, ML_CATEGORY_FIELD } from '../constants.ts';
import { badRequest, isEmpty } from '../java-emulation.ts';
import type { AnalysisConfig, CategorizationAnalyzer, Detector, PerPartitionCategorization } from '../types.ts';
import { parseCategorizationAnalyzer } from './categorization-analyzer.ts';
import { buildDetector, DETECTOR_PARSER, orderDetector, verifyFieldName } from './detector.ts';

export interface AnalysisConfigModel {
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

export const ANALYSIS_CONFIG_PARSER = new XObjectParser<AnalysisConfigModel>(
  'analysis_config',
  {
    detectors: {
      types: ValueType.OBJECT_ARRAY,
      parse: (n, p) => p.objectArray(n, { name: 'detector', parse: (item, q) => buildDetector(DETECTOR_PARSER.parse(item, q)) }),
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
    per_partition_categorization: fields.object<AnalysisConfigModel, PerPartitionCategorization>(PER_PARTITION_PARSER, (t, v) => (t.perPartition = v)),
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
export function checkMultipleOfSecond(tv: TimeValue, field: string): void {
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
    throw badRequest(`model_prune_window [${modelPruneWindow.human()}] must be at least 2 times greater than bucket_span [${bucketSpan.human()}]`);
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
export function analysisFields(c: AnalysisConfigModel): Set<string> {
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
export function validateAnalysisConfig(c: AnalysisConfigModel): void {
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
      throw badRequest('categorization_filters cannot be used with categorization_analyzer - instead specify them as pattern_replace char_filters in the analyzer');
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
          throw badRequest(`partition_field_name cannot vary between detectors when per-partition categorization is enabled: [${single}] and [${d.partition_field_name}] are used`);
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

export function analysisConfigView(c: AnalysisConfigModel): AnalysisConfig {
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
