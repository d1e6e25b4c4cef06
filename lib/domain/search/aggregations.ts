/**
 * The aggregations of the document store: what datafeeds and watches use (`date_histogram`,
 * `terms`, and the metrics `avg`, `sum`, `min`, `max`, `value_count`, `cardinality`),
 * nested at any depth under the bucket aggregations. `cardinality` is exact (the store's
 * windows are small enough), where Elasticsearch's HyperLogLog is approximate above its
 * `precision_threshold`.
 */
import { parseTimeValue } from '../units.ts';
import { DocumentStoreUnsupportedError, EsError, XContentParseLocatedError } from '../errors.ts';
import { formatDate } from '../documents/dates.ts';
import { coerce, fielddataDisabled, type Mappings, resolveField, type ResolvedField, valuesAt } from '../documents/mappings.ts';
import type { DocView, Locator } from './query.ts';
import type { JsonPos } from '../json/position.ts';
import { isJsonObject } from '../json/plain-values.ts';

const METRICS = ['avg', 'sum', 'min', 'max', 'value_count', 'cardinality'] as const;
type MetricKind = (typeof METRICS)[number];

/** A parsed aggregation. */
export type Aggregation =
  | { kind: 'date_histogram'; field: string; intervalMs: number; minDocCount: number; subs: Record<string, Aggregation> }
  | { kind: 'terms'; field: string; size: number; minDocCount: number; order: { by: '_count' | '_key'; asc: boolean }; subs: Record<string, Aggregation> }
  | { kind: MetricKind; field: string };

/** Aggregations Elasticsearch has that the store does not compute. */
const ES_ONLY_AGGS = new Set([
  'histogram',
  'range',
  'date_range',
  'ip_range',
  'filter',
  'filters',
  'missing',
  'nested',
  'reverse_nested',
  'global',
  'sampler',
  'diversified_sampler',
  'significant_terms',
  'significant_text',
  'rare_terms',
  'multi_terms',
  'composite',
  'adjacency_matrix',
  'auto_date_histogram',
  'variable_width_histogram',
  'geohash_grid',
  'geotile_grid',
  'geo_distance',
  'stats',
  'extended_stats',
  'percentiles',
  'percentile_ranks',
  'median_absolute_deviation',
  'top_hits',
  'top_metrics',
  'scripted_metric',
  'weighted_avg',
  'geo_bounds',
  'geo_centroid',
  'string_stats',
  'boxplot',
  't_test',
  'rate',
  'matrix_stats',
  'avg_bucket',
  'sum_bucket',
  'min_bucket',
  'max_bucket',
  'stats_bucket',
  'extended_stats_bucket',
  'percentiles_bucket',
  'derivative',
  'cumulative_sum',
  'moving_fn',
  'moving_avg',
  'serial_diff',
  'bucket_script',
  'bucket_selector',
  'bucket_sort',
  'categorize_text',
  'frequent_item_sets',
  'time_series',
  'random_sampler',
  'change_point',
  'inference',
  'normalize',
  'cumulative_cardinality',
  'moving_percentiles',
  'bucket_count_ks_test',
  'bucket_correlation',
]);

/** Calendar units of fixed length (UTC), accepted as `calendar_interval`. */
const FIXED_CALENDAR: Record<string, number> = {
  '1m': 60_000,
  minute: 60_000,
  '1h': 3_600_000,
  hour: 3_600_000,
  '1d': 86_400_000,
  day: 86_400_000,
};

/**
 * Parses an `aggs`/`aggregations` object found at `path` of the body.
 * @throws XContentParseLocatedError "[l:c] Unknown aggregation type [<x>]" (caused by
 *   `named_object_not_found_exception` "[l:c] unknown field [<x>]"), as Elasticsearch;
 *   DocumentStoreUnsupportedError "mlplane does not support the [<x>] aggregation yet" for the ones it has
 */
export function parseAggregations(raw: unknown, path: (string | number)[], locate: Locator): Record<string, Aggregation> {
  if (!isJsonObject(raw)) throw new XContentParseLocatedError(toPos(locate(path)), 'Expected [START_OBJECT] under [aggregations]');
  const out: Record<string, Aggregation> = {};
  for (const [name, def] of Object.entries(raw)) {
    const here = [...path, name];
    if (!isJsonObject(def)) throw new XContentParseLocatedError(toPos(locate(here)), `Expected [START_OBJECT] under [${name}], but got a [VALUE_STRING] in [${name}]`);
    let agg: Aggregation | undefined;
    let subs: Record<string, Aggregation> = {};
    for (const [type, body] of Object.entries(def)) {
      const at = [...here, type];
      if (type === 'aggs' || type === 'aggregations') {
        subs = parseAggregations(body, at, locate);
        continue;
      }
      if (type === 'meta') continue;
      if (agg) throw new XContentParseLocatedError(toPos(locate(at)), `Found two aggregation type definitions in [${name}]: [${agg.kind}] and [${type}]`);
      if (ES_ONLY_AGGS.has(type)) throw new DocumentStoreUnsupportedError(type, 'aggregation');
      if (type !== 'date_histogram' && type !== 'terms' && !(METRICS as readonly string[]).includes(type)) {
        const pos = toPos(locate(at));
        const cause = new EsError('named_object_not_found_exception', 400, `${pos ? `[${pos.line}:${pos.col}] ` : ''}unknown field [${type}]`);
        throw new XContentParseLocatedError(pos, `Unknown aggregation type [${type}]`, cause);
      }
      if (!isJsonObject(body)) throw new XContentParseLocatedError(toPos(locate(at)), `[${type}] Expected START_OBJECT but was: ${typeof body}`);
      agg = parseOne(type, name, body);
    }
    if (!agg) throw new XContentParseLocatedError(toPos(locate(here)), `Missing definition for aggregation [${name}]`);
    if (agg.kind === 'date_histogram' || agg.kind === 'terms') agg.subs = subs;
    else if (Object.keys(subs).length > 0) {
      throw new EsError('aggregation_initialization_exception', 400, `Aggregator [${name}] of type [${agg.kind}] cannot accept sub-aggregations`);
    }
    out[name] = agg;
  }
  return out;
}

function toPos(p: { line: number; col: number } | undefined): JsonPos | null {
  return p ?? null;
}

function parseOne(type: string, name: string, body: Record<string, unknown>): Aggregation {
  const field = body.field;
  if (typeof field !== 'string') {
    throw new EsError(
      'illegal_argument_exception',
      400,
      type === 'date_histogram' || type === 'terms'
        ? `Required one of fields [field, script], but none were specified. `
        : `Required one of fields [field, script], but none were specified. `,
    );
  }
  if (type === 'date_histogram') {
    let intervalMs: number | undefined;
    let minDocCount = 0;
    for (const [k, v] of Object.entries(body)) {
      if (k === 'field') continue;
      if (k === 'fixed_interval') intervalMs = parseTimeValue(String(v), `${name}.fixed_interval`).ms;
      else if (k === 'calendar_interval') {
        const ms = FIXED_CALENDAR[String(v)];
        if (ms === undefined) throw new DocumentStoreUnsupportedError(`calendar_interval: ${String(v)}`, 'date_histogram option');
        intervalMs = ms;
      } else if (k === 'min_doc_count') minDocCount = Number(v);
      else if (k === 'time_zone' && ['UTC', 'Z', '+00:00', 'Etc/UTC'].includes(String(v))) continue;
      else if (k === 'keyed' && v === false) continue;
      else throw new DocumentStoreUnsupportedError(`date_histogram.${k}`, 'aggregation option');
    }
    if (intervalMs === undefined || intervalMs <= 0)
      throw new EsError('illegal_argument_exception', 400, '[date_histogram] requires [fixed_interval] or [calendar_interval] to be set');
    return { kind: 'date_histogram', field, intervalMs, minDocCount, subs: {} };
  }
  if (type === 'terms') {
    let size = 10;
    let minDocCount = 1;
    let order: { by: '_count' | '_key'; asc: boolean } = { by: '_count', asc: false };
    for (const [k, v] of Object.entries(body)) {
      if (k === 'field' || k === 'shard_size' || k === 'show_term_doc_count_error' || k === 'execution_hint' || k === 'collect_mode') continue;
      if (k === 'size') size = Number(v);
      else if (k === 'min_doc_count') minDocCount = Number(v);
      else if (k === 'order' && isJsonObject(v) && Object.keys(v).length === 1) {
        const [by, dir] = Object.entries(v)[0] as [string, unknown];
        if ((by !== '_count' && by !== '_key') || (dir !== 'asc' && dir !== 'desc')) throw new DocumentStoreUnsupportedError(`terms.order: ${by}`, 'aggregation option');
        order = { by, asc: dir === 'asc' };
      } else throw new DocumentStoreUnsupportedError(`terms.${k}`, 'aggregation option');
    }
    if (!(size > 0)) throw new EsError('illegal_argument_exception', 400, `[size] must be greater than 0. Found [${size}] in [${name}]`);
    return { kind: 'terms', field, size, minDocCount, order, subs: {} };
  }
  for (const k of Object.keys(body)) {
    if (k === 'field' || (type === 'cardinality' && k === 'precision_threshold')) continue;
    throw new DocumentStoreUnsupportedError(`${type}.${k}`, 'aggregation option');
  }
  return { kind: type as MetricKind, field };
}

interface Values {
  field: ResolvedField | undefined;
  of(doc: DocView): (number | string | boolean)[];
}

function values(mappings: Mappings, name: string): Values {
  const field = resolveField(mappings, name);
  return {
    field,
    of: (doc) => {
      if (!field) return [];
      const out: (number | string | boolean)[] = [];
      for (const v of valuesAt(doc.source, field.sourcePath)) {
        const c = coerce(v, field);
        if (c.ok) out.push(c.value);
      }
      return out;
    },
  };
}

/**
 * Computes `aggs` over `docs` (each with its index's mappings), in Elasticsearch's response
 * shapes: `{buckets:[{key_as_string,key,doc_count,…}]}` for date_histogram (empty buckets
 * between the first and last filled in when `min_doc_count` is 0), `{doc_count_error_upper_bound,
 * sum_other_doc_count, buckets}` for terms, `{value}` (and `value_as_string` for dates) for metrics.
 */
export function aggregate(aggs: Record<string, Aggregation>, docs: readonly { doc: DocView; mappings: Mappings }[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, agg] of Object.entries(aggs)) out[name] = aggregateOne(agg, docs);
  return out;
}

function fieldOf(agg: { field: string }, docs: readonly { mappings: Mappings }[]): ResolvedField | undefined {
  for (const d of docs) {
    const f = resolveField(d.mappings, agg.field);
    if (f) return f;
  }
  return undefined;
}

function aggregateOne(agg: Aggregation, docs: readonly { doc: DocView; mappings: Mappings }[]): unknown {
  const field = fieldOf(agg, docs);
  if (field?.type === 'text' && agg.kind !== 'value_count') throw fielddataDisabled(field.name, docs[0]?.doc.index ?? '');
  const valuesOf = (d: { doc: DocView; mappings: Mappings }): (number | string | boolean)[] => values(d.mappings, agg.field).of(d.doc);
  if (agg.kind === 'date_histogram') {
    const groups = new Map<number, { doc: DocView; mappings: Mappings }[]>();
    for (const d of docs) {
      const keys = new Set(
        valuesOf(d)
          .filter((v): v is number => typeof v === 'number')
          .map((t) => Math.floor(t / agg.intervalMs) * agg.intervalMs),
      );
      for (const k of keys) {
        let g = groups.get(k);
        if (!g) {
          g = [];
          groups.set(k, g);
        }
        g.push(d);
      }
    }
    const keys = [...groups.keys()].sort((a, b) => a - b);
    const all: number[] = [];
    if (agg.minDocCount === 0 && keys.length > 0) for (let k = keys[0] as number; k <= (keys[keys.length - 1] as number); k += agg.intervalMs) all.push(k);
    else all.push(...keys);
    const fmt = field?.format;
    const buckets = all
      .map((key) => ({ key, members: groups.get(key) ?? [] }))
      .filter((b) => b.members.length >= agg.minDocCount)
      .map((b) => ({ key_as_string: formatDate(b.key, fmt), key: b.key, doc_count: b.members.length, ...aggregate(agg.subs, b.members) }));
    return { buckets };
  }
  if (agg.kind === 'terms') {
    const groups = new Map<string | number | boolean, { doc: DocView; mappings: Mappings }[]>();
    for (const d of docs) {
      for (const v of new Set(valuesOf(d))) {
        let g = groups.get(v);
        if (!g) {
          g = [];
          groups.set(v, g);
        }
        g.push(d);
      }
    }
    const entries = [...groups.entries()].filter(([, m]) => m.length >= agg.minDocCount);
    const cmpKey = (a: string | number | boolean, b: string | number | boolean): number => (a < b ? -1 : a > b ? 1 : 0);
    entries.sort((a, b) => {
      if (agg.order.by === '_count') {
        const c = agg.order.asc ? a[1].length - b[1].length : b[1].length - a[1].length;
        return c !== 0 ? c : cmpKey(a[0], b[0]);
      }
      return agg.order.asc ? cmpKey(a[0], b[0]) : cmpKey(b[0], a[0]);
    });
    const shown = entries.slice(0, agg.size);
    const other = entries.slice(agg.size).reduce((n, [, m]) => n + m.length, 0);
    const buckets = shown.map(([key, members]) => {
      const b: Record<string, unknown> = {};
      if (typeof key === 'boolean') Object.assign(b, { key: key ? 1 : 0, key_as_string: String(key) });
      else if (field?.type === 'date') Object.assign(b, { key, key_as_string: formatDate(key as number, field.format) });
      else b.key = key;
      return { ...b, doc_count: members.length, ...aggregate(agg.subs, members) };
    });
    return { doc_count_error_upper_bound: 0, sum_other_doc_count: other, buckets };
  }
  const all = docs.flatMap(valuesOf);
  const nums = all.filter((v): v is number => typeof v === 'number');
  const asDate = (v: number | null): Record<string, unknown> => (field?.type === 'date' && v !== null ? { value: v, value_as_string: formatDate(v, field.format) } : { value: v });
  switch (agg.kind) {
    case 'value_count':
      return { value: all.length };
    case 'cardinality':
      return { value: new Set(all).size };
    case 'sum':
      return { value: nums.reduce((a, b) => a + b, 0) };
    case 'avg':
      return { value: nums.length === 0 ? null : nums.reduce((a, b) => a + b, 0) / nums.length };
    case 'min':
      return asDate(nums.length === 0 ? null : nums.reduce((a, b) => Math.min(a, b)));
    case 'max':
      return asDate(nums.length === 0 ? null : nums.reduce((a, b) => Math.max(a, b)));
  }
}
