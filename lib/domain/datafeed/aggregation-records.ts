/**
 * Elasticsearch's `AggregationToJsonProcessor`: the aggregations of one datafeed search turned
 * into the flat records the job takes. Each histogram bucket (and each bucket of a terms
 * aggregation under it) becomes one record: the `max` of the time field (the aggregation named
 * as the job's time field), the keys of the terms aggregations named as job fields, the values
 * of the metrics named as job fields, and `doc_count` when the job's `summary_count_field_name`
 * is `doc_count`. Buckets with no documents are skipped. Pure: the search is the caller's.
 */
import { IllegalArgumentError } from '../errors.ts';
import { isJsonObject } from '../json/plain-values.ts';

/** What the flattening needs to know of the job and the window. */
export interface FlattenContext {
  /** The job's `data_description.time_field`. */
  timeField: string;
  /** The job's analysis fields (`AnalysisConfig.analysisFields`): only aggregations of these names are kept. */
  fields: ReadonlySet<string>;
  /** `summary_count_field_name` is `doc_count`: each record carries its bucket's document count. */
  includeDocCount: boolean;
  /** Histogram buckets keyed before this (epoch ms) are dropped: the search reads one bucket early, as Elasticsearch does. */
  startMs: number;
}

/** One record, keys in Elasticsearch's order (time and metrics of a level, then the bucket key, then deeper levels, then `doc_count`). */
export type AggregationRecord = Record<string, unknown>;

/** Elasticsearch's `Messages.DATAFEED_MISSING_MAX_AGGREGATION_FOR_TIME_FIELD`. */
export const missingMaxAggregation = (timeField: string): string => `Missing max aggregation for time_field [${timeField}]`;

/** One aggregation of a request, beside its result in the response. */
interface AggNode {
  name: string;
  type: string;
  subs: Record<string, unknown>;
  result: unknown;
}

const BUCKET_KEYS = new Set(['key', 'key_as_string', 'doc_count']);
const HISTOGRAMS = new Set(['date_histogram', 'histogram']);
const MULTI_BUCKET = new Set(['date_histogram', 'histogram', 'terms', 'composite']);

/** The request's aggregation definitions paired with their results (a definition with no result is left out, as Elasticsearch's response has none). */
function nodes(defs: Record<string, unknown>, results: Record<string, unknown>): AggNode[] {
  const out: AggNode[] = [];
  for (const [name, def] of Object.entries(defs)) {
    if (!isJsonObject(def) || !(name in results)) continue;
    const type = Object.keys(def).find((k) => k !== 'aggs' && k !== 'aggregations' && k !== 'meta') ?? '';
    const subs = def.aggs ?? def.aggregations;
    out.push({ name, type, subs: isJsonObject(subs) ? subs : {}, result: results[name] });
  }
  return out;
}

function bucketsOf(n: AggNode): Record<string, unknown>[] {
  const b = isJsonObject(n.result) ? n.result.buckets : undefined;
  return Array.isArray(b) ? (b.filter(isJsonObject) as Record<string, unknown>[]) : [];
}

/** The sub-aggregation results of one bucket (its keys other than `key`, `key_as_string`, `doc_count`). */
function bucketResults(bucket: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(bucket)) if (!BUCKET_KEYS.has(k)) out[k] = v;
  return out;
}

/**
 * Flattens the `aggregations` of a datafeed search (`aggs`, as the search answered) for the
 * datafeed's aggregation definitions `defs`, as Elasticsearch's `AggregationToJsonProcessor`:
 * records sorted by their time (the bucket's `max` of the time field, epoch ms), those of one
 * time in bucket order. Metrics that are not finite (`null`) are left out of their record;
 * bucket aggregations that hold no job field are not descended into.
 * @throws IllegalArgumentError 400 "Multiple top level aggregations not supported; found: [a, b]",
 *   "Multiple bucket aggregations at the same level are not supported",
 *   "Missing max aggregation for time_field [<f>]" (no aggregation named as the time field, or not a `max`),
 *   "More than one composite or date_histogram cannot be used in the aggregation. [<n>] is another instance of a composite or date_histogram aggregation"
 */
export function flattenAggregations(defs: Record<string, unknown>, aggs: Record<string, unknown> | undefined, ctx: FlattenContext): AggregationRecord[] {
  const top = nodes(defs, aggs ?? {});
  // AbstractAggregationDataExtractor.validateAggs: no aggregations is no data.
  if (top.length === 0) return [];
  if (top.length > 1) throw new IllegalArgumentError(`Multiple top level aggregations not supported; found: [${top.map((n) => n.name).join(', ')}]`);
  const byTime = new Map<number, AggregationRecord[]>();
  const kv = new Map<string, unknown>();

  const queue = (docCount: number): void => {
    if (docCount <= 0) return;
    const record: AggregationRecord = Object.fromEntries(kv);
    if (ctx.includeDocCount) record.doc_count = docCount;
    const time = record[ctx.timeField];
    if (typeof time !== 'number') throw new IllegalArgumentError(missingMaxAggregation(ctx.timeField));
    const list = byTime.get(time);
    if (list) list.push(record);
    else byTime.set(time, [record]);
  };

  const containsRequired = (n: AggNode): boolean => {
    if (ctx.fields.has(n.name)) return true;
    const first = bucketsOf(n)[0];
    if (!first) return false;
    return nodes(n.subs, bucketResults(first)).some((s) => ctx.fields.has(s.name) || (MULTI_BUCKET.has(s.type) && containsRequired(s)));
  };

  const processAggs = (docCount: number, list: AggNode[]): void => {
    if (list.length === 0) {
      queue(docCount);
      return;
    }
    const leaves = list.filter((n) => !MULTI_BUCKET.has(n.type));
    const buckets = list.filter((n) => MULTI_BUCKET.has(n.type));
    if (buckets.length > 1) throw new IllegalArgumentError('Multiple bucket aggregations at the same level are not supported');
    const added: string[] = [];
    for (const leaf of leaves) {
      if (leaf.name === ctx.timeField) {
        if (leaf.type !== 'max') throw new IllegalArgumentError(missingMaxAggregation(ctx.timeField));
        const v = isJsonObject(leaf.result) ? leaf.result.value : undefined;
        // (long) of the max, as Elasticsearch casts it; an empty bucket's max is not a number and the bucket is skipped anyway.
        if (typeof v === 'number') kv.set(ctx.timeField, Math.trunc(v));
      } else if (ctx.fields.has(leaf.name)) {
        const v = isJsonObject(leaf.result) ? leaf.result.value : undefined;
        if (typeof v === 'number' && Number.isFinite(v)) {
          kv.set(leaf.name, v);
          added.push(leaf.name);
        }
      }
    }
    let noMoreBuckets = true;
    const bucketAgg = buckets[0];
    if (bucketAgg) {
      noMoreBuckets = false;
      if (HISTOGRAMS.has(bucketAgg.type)) processHistogram(bucketAgg);
      else if (containsRequired(bucketAgg)) processBucket(bucketAgg, ctx.fields.has(bucketAgg.name));
      else noMoreBuckets = true;
    }
    if (noMoreBuckets) queue(docCount);
    for (const k of added) kv.delete(k);
  };

  const processHistogram = (n: AggNode): void => {
    if (kv.has(ctx.timeField)) {
      throw new IllegalArgumentError(
        `More than one composite or date_histogram cannot be used in the aggregation. [${n.name}] is another instance of a composite or date_histogram aggregation`,
      );
    }
    let checkTime = true;
    for (const bucket of bucketsOf(n)) {
      if (checkTime) {
        if (Number(bucket.key) < ctx.startMs) continue;
        checkTime = false;
      }
      processAggs(Number(bucket.doc_count ?? 0), nodes(n.subs, bucketResults(bucket)));
      kv.delete(ctx.timeField);
    }
  };

  const processBucket = (n: AggNode, addField: boolean): void => {
    for (const bucket of bucketsOf(n)) {
      if (addField) kv.set(n.name, bucket.key);
      processAggs(Number(bucket.doc_count ?? 0), nodes(n.subs, bucketResults(bucket)));
      if (addField) kv.delete(n.name);
    }
  };

  processAggs(0, top);
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, records]) => records);
}
