/**
 * The datafeed's data extractor (Elasticsearch's `ScrollDataExtractor`, `AggregationDataExtractor`
 * and `ChunkedDataExtractor`): one time window of the datafeed's indices read through the search
 * use case, and the records it holds as the NDJSON body `_data` takes. The lookback, real-time
 * runs and `_preview` all read through {@link extractChunk}.
 */
import { flattenAggregations } from '../domain/datafeed/aggregation-records.ts';
import { histogramIntervalMs } from '../domain/datafeed/aggregations.ts';
import type { DatafeedConfig } from '../domain/datafeed/types.ts';
import type { JobConfig } from '../domain/job/types.ts';
import { jobFieldsUsed } from '../domain/job/view.ts';
import { isJsonObject } from '../domain/json/plain-values.ts';
import { IndexNotFoundError, ResourceNotFoundError, StatusError } from '../domain/errors.ts';
import { resolveField } from '../domain/documents/mappings.ts';
import type { StoredIndex } from '../store/documents.ts';
import { resolveIndices } from './documents.ts';
import { search } from './search.ts';

/** Hits one chunk search may return (`index.max_result_window`); a window holding more is halved until it fits. */
export const CHUNK_MAX_HITS = 10_000;

/** One search hit as the extractor reads it. */
export interface Hit {
  _source?: Record<string, unknown>;
  sort?: unknown[];
}

/** A value at a dotted path of a `_source`, as Elasticsearch's source extraction finds `a.b` in `{"a":{"b":1}}` or `{"a.b":1}`. */
function valueAt(source: Record<string, unknown>, path: string): unknown {
  if (path in source) return source[path];
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  const head = source[path.slice(0, dot)];
  return typeof head === 'object' && head !== null && !Array.isArray(head) ? valueAt(head as Record<string, unknown>, path.slice(dot + 1)) : undefined;
}

/**
 * One search over `[fromMs, toMs)`: the datafeed's query AND a range on the job's time field,
 * sorted by time, `_source` limited to the fields the job uses, at most {@link CHUNK_MAX_HITS}
 * hits. A window that holds more ends early, as a scroll's page does: at the time of the last
 * hit returned, keeping the hits before that instant (those at it are read by the next window,
 * so documents sharing a timestamp are never split or lost). The caller goes on from the
 * returned `toMs`, so every document is read once and the cost is linear in the data. Only
 * when more than {@link CHUNK_MAX_HITS} documents share the window's first millisecond is the
 * window cut to that millisecond and the hits past the page limit not read.
 * @returns the hits and the end of the window actually read (exclusive)
 */
export async function searchWindow(
  config: DatafeedConfig,
  timeField: string,
  fields: string[],
  fromMs: number,
  toMs: number,
): Promise<{ hits: Hit[]; toMs: number; searches: number }> {
  const body = {
    size: CHUNK_MAX_HITS,
    track_total_hits: CHUNK_MAX_HITS + 1,
    _source: fields,
    sort: [{ [timeField]: { order: 'asc' } }],
    query: { bool: { filter: [config.query, { range: { [timeField]: { gte: fromMs, lt: toMs, format: 'epoch_millis' } } }] } },
  };
  const out = (await search(config.indices.join(','), JSON.stringify(body), searchParams(config))) as { hits: { total?: { value: number }; hits: Hit[] } };
  const hits = out.hits.hits;
  const total = out.hits.total?.value ?? hits.length;
  if (total <= hits.length || hits.length === 0) return { hits, toMs, searches: 1 };
  const last = hits[hits.length - 1]?.sort?.[0];
  const lastMs = typeof last === 'number' ? last : Number(last);
  if (!Number.isFinite(lastMs) || lastMs <= fromMs) return { hits, toMs: fromMs + 1, searches: 1 };
  return { hits: hits.filter((h) => Number(h.sort?.[0]) < lastMs), toMs: lastMs, searches: 1 };
}

/**
 * The records of one chunk as the NDJSON body `_data` takes: per hit, the job's time field in
 * epoch ms (Elasticsearch's datafeeds post with time format `epoch_ms` whatever the job's
 * `time_format`, `DatafeedJobBuilder`) and the other fields the job uses, from `_source`.
 */
export function recordsBody(hits: Hit[], timeField: string, fields: string[]): string {
  const lines: string[] = [];
  for (const h of hits) {
    const source = h._source ?? {};
    const time = h.sort?.[0];
    const record: Record<string, unknown> = { [timeField]: typeof time === 'number' ? time : valueAt(source, timeField) };
    for (const f of fields) {
      if (f === timeField) continue;
      const v = valueAt(source, f);
      if (v !== undefined) record[f] = v;
    }
    lines.push(JSON.stringify(record));
  }
  return lines.join('\n');
}

/** One chunk as the job takes it: the records as NDJSON, how many, the end of the window read, the searches it took. */
export interface Chunk {
  ndjson: string;
  records: number;
  /** The end of the window actually read (epoch ms): the next chunk starts here. */
  toMs: number;
  searches: number;
}

/**
 * The datafeed's aggregations as the document store runs them: a `histogram` on the time field
 * with a numeric `interval` (epoch ms, as Elasticsearch's older datafeeds and its own REST tests
 * write them) becomes the `date_histogram` with that `fixed_interval` in ms, which buckets the
 * same documents under the same keys. Anything else is left as given (the store names what it
 * does not compute).
 */
export function storeAggregations(aggs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(aggs)) {
    if (!isJsonObject(def)) {
      out[name] = def;
      continue;
    }
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(def)) {
      if ((k === 'aggs' || k === 'aggregations') && isJsonObject(v)) copy[k] = storeAggregations(v);
      else if (
        k === 'histogram' &&
        isJsonObject(v) &&
        typeof v.field === 'string' &&
        typeof v.interval === 'number' &&
        v.interval > 0 &&
        Number.isInteger(v.interval) &&
        Object.keys(v).every((o) => o === 'field' || o === 'interval' || o === 'min_doc_count')
      ) {
        copy.date_histogram = { field: v.field, fixed_interval: `${v.interval}ms`, ...(v.min_doc_count !== undefined ? { min_doc_count: v.min_doc_count } : {}) };
      } else copy[k] = v;
    }
    out[name] = copy;
  }
  return out;
}

/** The search parameters of the datafeed's `indices_options` the store honours. */
function searchParams(config: DatafeedConfig): Record<string, string> {
  return config.indices_options.ignore_unavailable ? { ignore_unavailable: 'true' } : {};
}

/** The job's time field and the fields the datafeed extracts for it (`AnalysisConfig.analysisFields`). */
export function extractedFields(job: JobConfig): { timeField: string; fields: string[] } {
  const timeField = job.data_description.time_field ?? 'time';
  return { timeField, fields: [...new Set([timeField, ...jobFieldsUsed(job)])] };
}

/**
 * One aggregation chunk (`AggregationDataExtractor`): the window is narrowed to whole histogram
 * buckets (`Intervals.alignToCeil(from)`, `alignToFloor(to)`), searched with `size: 0` from one
 * bucket earlier (Elasticsearch reads one extra bucket back for derivative aggregations; the
 * flattening drops it), and the aggregations flattened into records (`AggregationToJsonProcessor`).
 * When the window holds a whole bucket, it ends at a bucket boundary so the next chunk starts on one.
 */
async function aggregationChunk(config: DatafeedConfig, job: JobConfig, aggs: Record<string, unknown>, fromMs: number, toMs: number): Promise<Chunk> {
  const interval = histogramIntervalMs(aggs);
  const start = Math.ceil(fromMs / interval) * interval;
  const end = Math.floor(toMs / interval) * interval;
  if (end <= start) return { ndjson: '', records: 0, toMs, searches: 0 };
  const { timeField } = extractedFields(job);
  const body = {
    size: 0,
    query: { bool: { filter: [config.query, { range: { [timeField]: { gte: Math.max(0, start - interval), lt: end, format: 'epoch_millis' } } }] } },
    aggs: storeAggregations(aggs),
  };
  const out = (await search(config.indices.join(','), JSON.stringify(body), searchParams(config))) as { aggregations?: Record<string, unknown> };
  const records = flattenAggregations(aggs, out.aggregations, {
    timeField,
    fields: new Set(jobFieldsUsed(job)),
    includeDocCount: job.analysis_config.summary_count_field_name === 'doc_count',
    startMs: start,
  });
  return { ndjson: records.map((r) => JSON.stringify(r)).join('\n'), records: records.length, toMs: end, searches: 1 };
}

/**
 * The records of the datafeed in `[fromMs, toMs)` for `job`, read by one chunk: the aggregated
 * buckets of a datafeed with `aggregations` ({@link aggregationChunk}), else the documents
 * ({@link searchWindow}, which may end the chunk early when the window holds more than
 * {@link CHUNK_MAX_HITS} documents).
 * @throws the search's EsErrors (an unknown index, an unsupported query or aggregation) and the
 *   flattening's IllegalArgumentError ("Missing max aggregation for time_field [<f>]", …)
 */
export async function extractChunk(config: DatafeedConfig, job: JobConfig, fromMs: number, toMs: number): Promise<Chunk> {
  if (config.aggregations !== undefined) return aggregationChunk(config, job, config.aggregations, fromMs, toMs);
  const { timeField, fields } = extractedFields(job);
  const window = await searchWindow(config, timeField, fields, fromMs, toMs);
  return { ndjson: recordsBody(window.hits, timeField, fields), records: window.hits.length, toMs: window.toMs, searches: window.searches };
}

/**
 * The earliest and latest time of the datafeed's documents in `[fromMs, toMs)` (Elasticsearch's
 * data summary search that `ChunkedDataExtractor` starts with), or undefined when there are none.
 */
export async function dataTimeSpan(config: DatafeedConfig, timeField: string, fromMs: number, toMs: number): Promise<{ earliestMs: number; latestMs: number } | undefined> {
  const body = {
    size: 0,
    query: { bool: { filter: [config.query, { range: { [timeField]: { gte: fromMs, lt: toMs, format: 'epoch_millis' } } }] } },
    aggs: { earliest_time: { min: { field: timeField } }, latest_time: { max: { field: timeField } } },
  };
  const out = (await search(config.indices.join(','), JSON.stringify(body), searchParams(config))) as {
    aggregations?: { earliest_time?: { value: number | null }; latest_time?: { value: number | null } };
  };
  const earliest = out.aggregations?.earliest_time?.value;
  const latest = out.aggregations?.latest_time?.value;
  return typeof earliest === 'number' && typeof latest === 'number' ? { earliestMs: earliest, latestMs: latest } : undefined;
}

/**
 * The datafeed's local indices (remote `cluster:index` ones are skipped) resolved under its
 * `indices_options`, as Elasticsearch's field capabilities request of `DataExtractorFactory.create`
 * resolves them: a missing index (unless `ignore_unavailable`), or a wildcard matching nothing
 * with `allow_no_indices: false`, is not found.
 * @throws ResourceNotFoundError 404 "datafeed [<d>] cannot retrieve data because index [<i>] does not exist"
 */
export async function resolveDatafeedIndices(datafeedId: string, config: Pick<DatafeedConfig, 'indices' | 'indices_options'>): Promise<StoredIndex[]> {
  const opts = config.indices_options;
  const out = new Map<string, StoredIndex>();
  for (const token of config.indices.filter((i) => !i.includes(':'))) {
    try {
      const found = await resolveIndices(token, token.includes('*') || opts.ignore_unavailable);
      if (found.length === 0 && token.includes('*') && !opts.allow_no_indices) throw new IndexNotFoundError(token);
      for (const i of found) out.set(i.name, i);
    } catch (err) {
      if (!(err instanceof IndexNotFoundError)) throw err;
      throw new ResourceNotFoundError(`datafeed [${datafeedId}] cannot retrieve data because index [${token}] does not exist`);
    }
  }
  return [...out.values()];
}

/**
 * The checks of Elasticsearch's `DataExtractorFactory.create`, made by `_start` and `_preview`
 * before any data is read: the indices resolve ({@link resolveDatafeedIndices}); a datafeed
 * without aggregations (`ScrollDataExtractorFactory`) needs at least one index, its job's time
 * field aggregatable (mapped, not `text`) and every other field the job uses mapped in one of
 * them (`TimeBasedExtractedFields.build`). Script fields are taken as mapped.
 * @throws ResourceNotFoundError 404 "datafeed [<d>] cannot retrieve data because index [<i>] does not exist";
 *   StatusError 400 "datafeed [<d>] cannot retrieve data because no index matches datafeed's indices [<i>, …]",
 *   "[<d>] cannot retrieve time field [<t>] because it is not aggregatable", "[<d>] cannot retrieve field [<f>] because it has no mappings"
 */
export async function checkDataExtractor(datafeedId: string, config: DatafeedConfig, job: JobConfig): Promise<void> {
  const indices = await resolveDatafeedIndices(datafeedId, config);
  if (config.aggregations !== undefined) return;
  if (config.indices.some((i) => i.includes(':'))) return;
  if (indices.length === 0) throw new StatusError(400, `datafeed [${datafeedId}] cannot retrieve data because no index matches datafeed's indices [${config.indices.join(', ')}]`);
  const scripted = new Set(Object.keys(config.script_fields ?? {}));
  const mapped = (field: string) => indices.map((i) => resolveField(i.mappings, field)).filter((f) => f !== undefined);
  const { timeField } = extractedFields(job);
  if (!scripted.has(timeField) && !mapped(timeField).some((f) => f.type !== 'text')) {
    throw new StatusError(400, `[${datafeedId}] cannot retrieve time field [${timeField}] because it is not aggregatable`);
  }
  for (const field of jobFieldsUsed(job)) {
    if (field === timeField || scripted.has(field)) continue;
    if (mapped(field).length === 0) throw new StatusError(400, `[${datafeedId}] cannot retrieve field [${field}] because it has no mappings`);
  }
}
