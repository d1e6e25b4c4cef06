/**
 * `_search` and `_count` requests of the document store: the body (and the query parameters
 * that stand for body fields) parsed into a {@link SearchRequest}, and the hits, totals and
 * aggregations computed over the documents the store read for it, in Elasticsearch's shapes.
 */
import { locate, parseJsonBody } from '../json/plain-values.ts';
import { DocumentStoreUnsupportedError, IllegalArgumentError, QueryParsingError } from '../errors.ts';
import { coerce, fielddataDisabled, type Mappings, resolveField, valuesAt } from '../documents/mappings.ts';
import { aggregate, type Aggregation, parseAggregations } from './aggregations.ts';
import { type DocView, type EvalContext, type Locator, matches, parseQuery, type Query, scores } from './query.ts';
import { isJsonObject } from '../json/plain-values.ts';

/** One sort key: a field (asc/desc), `_doc` (the store's order) or `_score`. */
export interface SortKey {
  field: string;
  asc: boolean;
}

/** A parsed search request. */
export interface SearchRequest {
  query: Query;
  size: number;
  from: number;
  sort: SortKey[];
  searchAfter: unknown[] | undefined;
  source: { enabled: boolean; includes: string[]; excludes: string[] };
  /** true: exact; false: no total; a number: counted up to it (then `gte`). */
  trackTotalHits: boolean | number;
  aggs: Record<string, Aggregation>;
}

/** Elasticsearch's `index.max_result_window` default. */
export const MAX_RESULT_WINDOW = 10_000;

const UNSUPPORTED_KEYS = new Set([
  'highlight',
  'suggest',
  'script_fields',
  'docvalue_fields',
  'fields',
  'stored_fields',
  'collapse',
  'rescore',
  'post_filter',
  'runtime_mappings',
  'pit',
  'knn',
  'explain',
  'version',
  'seq_no_primary_term',
  'min_score',
  'terminate_after',
  'indices_boost',
  'profile',
  'stats',
  'ext',
  'slice',
  'retriever',
  'rank',
]);

function locator(text: string | undefined): Locator {
  return (path) => {
    if (text === undefined) return undefined;
    const p = locate(text, path);
    return p;
  };
}

function intValue(v: unknown, name: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n)) throw new IllegalArgumentError(`Failed to parse int parameter [${name}] with value [${String(v)}]`);
  return n;
}

function parseSource(v: unknown): SearchRequest['source'] {
  if (v === true || v === 'true' || v === undefined) return { enabled: true, includes: [], excludes: [] };
  if (v === false || v === 'false') return { enabled: false, includes: [], excludes: [] };
  if (typeof v === 'string') return { enabled: true, includes: v.split(','), excludes: [] };
  if (Array.isArray(v)) return { enabled: true, includes: v.map(String), excludes: [] };
  if (isJsonObject(v)) {
    const list = (x: unknown): string[] => (x === undefined ? [] : Array.isArray(x) ? x.map(String) : [String(x)]);
    return { enabled: true, includes: list(v.includes ?? v.include), excludes: list(v.excludes ?? v.exclude) };
  }
  throw new QueryParsingError(`[_source] Unexpected token`);
}

function parseSort(v: unknown): SortKey[] {
  const items = Array.isArray(v) ? v : [v];
  return items.map((item) => {
    if (typeof item === 'string') {
      const [field, dir] = item.split(':');
      return { field: field as string, asc: dir === undefined ? item !== '_score' : dir === 'asc' };
    }
    if (isJsonObject(item) && Object.keys(item).length === 1) {
      const [field, spec] = Object.entries(item)[0] as [string, unknown];
      if (spec === 'asc' || spec === 'desc') return { field, asc: spec === 'asc' };
      if (isJsonObject(spec)) {
        for (const k of Object.keys(spec)) if (k !== 'order' && k !== 'unmapped_type' && k !== 'format') throw new DocumentStoreUnsupportedError(`sort.${k}`, 'search option');
        return { field, asc: spec.order === undefined ? field !== '_score' : spec.order === 'asc' };
      }
    }
    throw new QueryParsingError('[sort] malformed sort, expected a field name or an object');
  });
}

/**
 * Parses a search body (optional) with the query parameters that stand in for its fields:
 * `size`, `from`, `_source` and `track_total_hits` parameters override the body (as
 * RestSearchAction applies them after parsing it); a `sort` parameter applies when the body has none.
 * @throws QueryParsingError "Unknown key for a <TOKEN> in [<key>]." for an unknown body key, and the query/aggregation errors;
 *   DocumentStoreUnsupportedError for body keys Elasticsearch has and the store does not;
 *   IllegalArgumentError "Result window is too large, from + size must be less than or equal to: [10000] but was [<n>]. …"
 */
export function parseSearchRequest(text: string | undefined, params: Record<string, string>, forCount = false): SearchRequest {
  const body = text === undefined ? {} : parseJsonBody(text);
  const loc = locator(text);
  if (!isJsonObject(body)) throw new QueryParsingError('Expected [START_OBJECT] but found [VALUE]');
  const req: SearchRequest = {
    query: { kind: 'match_all' },
    size: 10,
    from: 0,
    sort: [],
    searchAfter: undefined,
    source: { enabled: true, includes: [], excludes: [] },
    trackTotalHits: MAX_RESULT_WINDOW,
    aggs: {},
  };
  for (const [k, v] of Object.entries(body)) {
    if (k === 'query') req.query = parseQuery(v, ['query'], loc);
    else if (forCount) throw new QueryParsingError(`request does not support [${k}]`, loc([k]));
    else if (k === 'size') req.size = intValue(v, 'size');
    else if (k === 'from') req.from = intValue(v, 'from');
    else if (k === 'sort') req.sort = parseSort(v);
    else if (k === 'search_after') {
      if (!Array.isArray(v)) throw new QueryParsingError('[search_after] must be an array', loc([k]));
      req.searchAfter = v;
    } else if (k === '_source') req.source = parseSource(v);
    else if (k === 'track_total_hits') req.trackTotalHits = typeof v === 'boolean' ? v : intValue(v, 'track_total_hits');
    else if (k === 'aggs' || k === 'aggregations') req.aggs = parseAggregations(v, [k], loc);
    else if (k === 'timeout' || k === 'track_scores') continue;
    else if (UNSUPPORTED_KEYS.has(k)) throw new DocumentStoreUnsupportedError(k, 'search option');
    else {
      const token = isJsonObject(v) ? 'START_OBJECT' : Array.isArray(v) ? 'START_ARRAY' : 'VALUE_STRING';
      throw new QueryParsingError(`Unknown key for a ${token} in [${k}].`, loc([k]));
    }
  }
  if (params.size !== undefined) req.size = intValue(params.size, 'size');
  if (params.from !== undefined) req.from = intValue(params.from, 'from');
  if (params.sort !== undefined && req.sort.length === 0) req.sort = parseSort(params.sort.split(','));
  if (params._source !== undefined) req.source = parseSource(params._source);
  if (params.track_total_hits !== undefined)
    req.trackTotalHits = params.track_total_hits === 'true' ? true : params.track_total_hits === 'false' ? false : intValue(params.track_total_hits, 'track_total_hits');
  if (req.size < 0) throw new IllegalArgumentError(`[size] parameter cannot be negative, found [${req.size}]`);
  if (req.from < 0) throw new IllegalArgumentError(`[from] parameter cannot be negative, found [${req.from}]`);
  if (req.from + req.size > MAX_RESULT_WINDOW) {
    throw new IllegalArgumentError(
      `Result window is too large, from + size must be less than or equal to: [${MAX_RESULT_WINDOW}] but was [${req.from + req.size}]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.`,
    );
  }
  if (req.searchAfter !== undefined) {
    if (req.sort.length === 0) throw new IllegalArgumentError('Sort must contain at least one field.');
    if (req.searchAfter.length !== req.sort.length) throw new IllegalArgumentError(`search_after has ${req.searchAfter.length} value(s) but sort has ${req.sort.length}.`);
    if (req.from > 0) throw new IllegalArgumentError('[from] parameter must be set to 0 when [search_after] is used');
  }
  return req;
}

/** A document the store read, with its index's mappings and its place in the store's order (`_doc`). */
export interface Candidate {
  doc: DocView;
  mappings: Mappings;
  order: number;
}

/** The `hits` and `aggregations` of a search response (the caller adds `took`, `timed_out`, `_shards`). */
export interface SearchOutcome {
  hits: { total?: { value: number; relation: 'eq' | 'gte' }; max_score: number | null; hits: unknown[] };
  aggregations?: Record<string, unknown>;
}

type SortValue = number | string | boolean | null;

function sortValue(c: Candidate, key: SortKey): SortValue {
  if (key.field === '_doc') return c.order;
  if (key.field === '_id') return c.doc.id;
  const f = resolveField(c.mappings, key.field);
  if (!f) return null;
  if (f.type === 'text') throw fielddataDisabled(f.name, c.doc.index);
  const vals = valuesAt(c.doc.source, f.sourcePath)
    .map((v) => coerce(v, f))
    .filter((x) => x.ok)
    .map((x) => (x as { value: number | string | boolean }).value);
  if (vals.length === 0) return null;
  const sorted = [...vals].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const v = key.asc ? sorted[0] : sorted[sorted.length - 1];
  return typeof v === 'boolean' ? (v ? 1 : 0) : (v as SortValue);
}

/** Compares sort values; missing values sort last in both directions, as Elasticsearch's `_last` default. */
function compareValues(a: SortValue, b: SortValue, asc: boolean): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const c = a < b ? -1 : a > b ? 1 : 0;
  return asc ? c : -c;
}

/**
 * Filters `_source` by `includes`/`excludes` (full paths or `*` patterns); excludes win.
 */
export function filterSource(source: Record<string, unknown>, includes: string[], excludes: string[]): Record<string, unknown> {
  const re = (p: string): RegExp =>
    new RegExp(
      `^${p
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
  const inc = includes.map(re);
  const exc = excludes.map(re);
  const walk = (obj: Record<string, unknown>, prefix: string): Record<string, unknown> | undefined => {
    const out: Record<string, unknown> = {};
    let any = false;
    for (const [k, v] of Object.entries(obj)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (exc.some((r) => r.test(path))) continue;
      const included = inc.length === 0 || inc.some((r) => r.test(path));
      if (included && !(typeof v === 'object' && v !== null && !Array.isArray(v) && exc.length > 0)) {
        out[k] = v;
        any = true;
      } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const inner = walk(v as Record<string, unknown>, path);
        if (inner) {
          out[k] = inner;
          any = true;
        }
      }
    }
    return any || prefix === '' ? out : undefined;
  };
  return walk(source, '') ?? {};
}

/**
 * Runs a parsed request over the candidates (the documents of the chosen partitions, in the
 * store's order): query, sort, search_after, from/size, `_source` filtering, totals and
 * aggregations (over every match, not just the page).
 */
export function runSearch(req: SearchRequest, candidates: readonly Candidate[], nowMs: number): SearchOutcome {
  const hitsAll = candidates.filter((c) => matches(req.query, c.doc, { mappings: c.mappings, nowMs } satisfies EvalContext));
  const scored = scores(req.query);
  const sort = req.sort;
  const byField = sort.length > 0 && !(sort.length === 1 && sort[0]?.field === '_score');
  let ordered = hitsAll.map((c) => ({ c, values: byField ? sort.map((k) => (k.field === '_score' ? (scored ? 1 : 0) : sortValue(c, k))) : [] }));
  if (byField) {
    ordered.sort((x, y) => {
      for (let i = 0; i < sort.length; i++) {
        const d = compareValues(x.values[i] as SortValue, y.values[i] as SortValue, (sort[i] as SortKey).asc);
        if (d !== 0) return d;
      }
      return x.c.order - y.c.order;
    });
    const after = req.searchAfter;
    if (after) {
      ordered = ordered.filter((x) => {
        for (let i = 0; i < sort.length; i++) {
          const d = compareValues(x.values[i] as SortValue, after[i] as SortValue, (sort[i] as SortKey).asc);
          if (d !== 0) return d > 0;
        }
        return false;
      });
    }
  }
  const page = ordered.slice(req.from, req.from + req.size);
  const score = byField ? null : scored ? 1 : 0;
  const hits = page.map(({ c, values }) => {
    const h: Record<string, unknown> = { _index: c.doc.index, _id: c.doc.id, _score: score };
    if (req.source.enabled)
      h._source = req.source.includes.length || req.source.excludes.length ? filterSource(c.doc.source, req.source.includes, req.source.excludes) : c.doc.source;
    if (byField) h.sort = values;
    return h;
  });
  const out: SearchOutcome = { hits: { max_score: hitsAll.length === 0 || byField ? null : (score as number), hits } };
  const n = hitsAll.length;
  if (req.trackTotalHits === true) out.hits.total = { value: n, relation: 'eq' };
  else if (typeof req.trackTotalHits === 'number') out.hits.total = n > req.trackTotalHits ? { value: req.trackTotalHits, relation: 'gte' } : { value: n, relation: 'eq' };
  if (Object.keys(req.aggs).length > 0)
    out.aggregations = aggregate(
      req.aggs,
      hitsAll.map((c) => ({ doc: c.doc, mappings: c.mappings })),
    );
  // Elasticsearch puts hits.total first.
  out.hits = { ...(out.hits.total ? { total: out.hits.total } : {}), max_score: out.hits.max_score, hits: out.hits.hits };
  return out;
}

/** Counts matches (`_count`). */
export function countMatches(query: Query, candidates: readonly Candidate[], nowMs: number): number {
  return candidates.filter((c) => matches(query, c.doc, { mappings: c.mappings, nowMs })).length;
}
