/**
 * The query DSL subset of the document store: parsing (Elasticsearch's errors for unknown
 * and unsupported queries) and evaluation over one document. Scores are constant: `1.0`
 * for a hit of a scoring query, `0.0` when only filter and must_not clauses decide.
 */
import { DocumentStoreUnsupportedError, IllegalArgumentError, QueryParsingError } from '../errors.ts';
import { parseDateMath } from '../documents/dates.ts';
import { ES_QUERY_NAMES, EVALUATED_QUERIES } from './query-names.ts';
import { coerce, type Mappings, resolveField, valuesAt } from '../documents/mappings.ts';
import { isJsonObject } from '../json/plain-values.ts';

/** A parsed query. */
export type Query =
  | { kind: 'match_all' }
  | { kind: 'match_none' }
  | { kind: 'term'; field: string; value: unknown }
  | { kind: 'terms'; field: string; values: unknown[] }
  | { kind: 'range'; field: string; gt?: unknown; gte?: unknown; lt?: unknown; lte?: unknown; format?: string }
  | { kind: 'exists'; field: string }
  | { kind: 'ids'; values: string[] }
  | { kind: 'bool'; filter: Query[]; must: Query[]; mustNot: Query[]; should: Query[]; minimumShouldMatch: number | undefined }
  | { kind: 'constant_score'; filter: Query };

/** Queries Elasticsearch has that the store does not evaluate: a 400 naming them, never a wrong answer. */
const isEsOnlyQuery = (name: string): boolean => ES_QUERY_NAMES.has(name) && !EVALUATED_QUERIES.has(name);

/** Where a query sits in the body, for Elasticsearch's `[line:col]` (resolved by the caller from the path). */
export type Locator = (path: readonly (string | number)[]) => { line: number; col: number } | undefined;

/**
 * Parses a query object (`{"term": {...}}`) found at `path` of the body.
 * @throws QueryParsingError `parsing_exception` "unknown query [<x>]" (with `line`/`col`), and
 *   "[<q>] query malformed, no start_object after query name" / "[<q>] malformed query, expected [END_OBJECT] but found [FIELD_NAME]";
 *   DocumentStoreUnsupportedError "mlplane does not support the [<x>] query yet"
 */
export function parseQuery(raw: unknown, path: (string | number)[], locate: Locator): Query {
  if (!isJsonObject(raw)) throw new QueryParsingError('query malformed, must start with start_object', locate(path));
  const keys = Object.keys(raw);
  if (keys.length === 0) return { kind: 'match_all' };
  const name = keys[0] as string;
  if (keys.length > 1) throw new QueryParsingError(`[${name}] malformed query, expected [END_OBJECT] but found [FIELD_NAME]`, locate([...path, keys[1] as string]));
  const body = raw[name];
  const here = [...path, name];
  if (isEsOnlyQuery(name)) throw new DocumentStoreUnsupportedError(name, 'query');
  if (!isJsonObject(body)) {
    if (EVALUATED_QUERIES.has(name)) {
      throw new QueryParsingError(`[${name}] query malformed, no start_object after query name`, locate(here));
    }
    throw new QueryParsingError(`unknown query [${name}]`, locate(here));
  }
  switch (name) {
    case 'match_all':
      return { kind: 'match_all' };
    case 'match_none':
      return { kind: 'match_none' };
    case 'term':
    case 'match': {
      const [field, spec] = single(name, body, here, locate);
      const valueKey = name === 'term' ? 'value' : 'query';
      if (isJsonObject(spec)) {
        for (const k of Object.keys(spec)) {
          if (k === valueKey || k === 'boost' || k === '_name' || (name === 'term' && k === 'case_insensitive' && spec[k] === false)) continue;
          if (name === 'match' && (k === 'operator' || k === 'lenient' || k === 'analyzer')) continue;
          throw new DocumentStoreUnsupportedError(`${name}.${k}`, 'query option');
        }
        return { kind: 'term', field, value: spec[valueKey] };
      }
      return { kind: 'term', field, value: spec };
    }
    case 'terms': {
      const entries = Object.entries(body).filter(([k]) => k !== 'boost' && k !== '_name');
      if (entries.length !== 1) throw new QueryParsingError('[terms] query does not support multiple fields', locate(here));
      const [field, values] = entries[0] as [string, unknown];
      if (!Array.isArray(values)) {
        if (isJsonObject(values)) throw new DocumentStoreUnsupportedError('terms lookup', 'query');
        throw new QueryParsingError(`[terms] query does not support [${field}]`, locate([...here, field]));
      }
      return { kind: 'terms', field, values };
    }
    case 'range': {
      const [field, spec] = single(name, body, here, locate);
      if (!isJsonObject(spec)) throw new QueryParsingError(`[range] query malformed, no start_object after query name`, locate(here));
      const q: Extract<Query, { kind: 'range' }> = { kind: 'range', field };
      for (const [k, v] of Object.entries(spec)) {
        if (k === 'gt' || k === 'gte' || k === 'lt' || k === 'lte') q[k] = v;
        else if (k === 'from' || k === 'to' || k === 'include_lower' || k === 'include_upper') throw new DocumentStoreUnsupportedError(`range.${k}`, 'query option');
        else if (k === 'format') q.format = String(v);
        else if (k === 'time_zone' && ['UTC', 'Z', '+00:00', 'Etc/UTC'].includes(String(v))) continue;
        else if (k === 'boost' || k === '_name') continue;
        else if (k === 'time_zone' || k === 'relation') throw new DocumentStoreUnsupportedError(`range.${k}`, 'query option');
        else throw new QueryParsingError(`[range] query does not support [${k}]`, locate([...here, field, k]));
      }
      return q;
    }
    case 'exists': {
      if (typeof body.field !== 'string') throw new QueryParsingError('[exists] must be provided with a [field]', locate(here));
      return { kind: 'exists', field: body.field };
    }
    case 'ids': {
      const values = body.values;
      if (!Array.isArray(values)) throw new QueryParsingError('[ids] query malformed, no values', locate(here));
      return { kind: 'ids', values: values.map(String) };
    }
    case 'constant_score': {
      if (body.filter === undefined) throw new QueryParsingError("[constant_score] requires a 'filter' element", locate(here));
      return { kind: 'constant_score', filter: parseQuery(body.filter, [...here, 'filter'], locate) };
    }
    case 'bool': {
      const q: Extract<Query, { kind: 'bool' }> = { kind: 'bool', filter: [], must: [], mustNot: [], should: [], minimumShouldMatch: undefined };
      for (const [k, v] of Object.entries(body)) {
        const list = (target: Query[]): void => {
          if (Array.isArray(v)) {
            for (const [i, item] of v.entries()) target.push(parseQuery(item, [...here, k, i], locate));
          } else target.push(parseQuery(v, [...here, k], locate));
        };
        if (k === 'filter') list(q.filter);
        else if (k === 'must') list(q.must);
        else if (k === 'must_not') list(q.mustNot);
        else if (k === 'should') list(q.should);
        else if (k === 'minimum_should_match') {
          const text = String(v);
          if (!/^\d+$/.test(text)) throw new DocumentStoreUnsupportedError(`minimum_should_match: ${text}`, 'query option');
          q.minimumShouldMatch = Number(text);
        } else if (k === 'boost' || k === '_name' || k === 'adjust_pure_negative') continue;
        else throw new QueryParsingError(`[bool] query does not support [${k}]`, locate([...here, k]));
      }
      return q;
    }
    default:
      throw new QueryParsingError(`unknown query [${name}]`, locate(here));
  }
}

function single(name: string, body: Record<string, unknown>, here: (string | number)[], locate: Locator): [string, unknown] {
  const entries = Object.entries(body);
  if (entries.length !== 1) {
    throw new QueryParsingError(`[${name}] query doesn't support multiple fields, found [${entries[0]?.[0]}] and [${entries[1]?.[0]}]`, locate(here));
  }
  return entries[0] as [string, unknown];
}

/** A document as queries see it. */
export interface DocView {
  index: string;
  id: string;
  source: Record<string, unknown>;
}

/** What evaluation needs besides the document: the index's mappings and the time `now` of date math (ms). */
export interface EvalContext {
  mappings: Mappings;
  nowMs: number;
}

/** Whether `query` matches `doc`. @throws DateParseFailure / IllegalArgumentError when a query value cannot be read as its field's type */
export function matches(query: Query, doc: DocView, ctx: EvalContext): boolean {
  switch (query.kind) {
    case 'match_all':
      return true;
    case 'match_none':
      return false;
    case 'ids':
      return query.values.includes(doc.id);
    case 'constant_score':
      return matches(query.filter, doc, ctx);
    case 'bool': {
      if (!query.filter.every((q) => matches(q, doc, ctx))) return false;
      if (!query.must.every((q) => matches(q, doc, ctx))) return false;
      if (query.mustNot.some((q) => matches(q, doc, ctx))) return false;
      const msm = query.minimumShouldMatch ?? (query.should.length > 0 && query.must.length === 0 && query.filter.length === 0 ? 1 : 0);
      if (msm === 0) return true;
      return query.should.filter((q) => matches(q, doc, ctx)).length >= msm;
    }
    case 'exists': {
      if (query.field === '_id' || query.field === '_index') return true;
      const f = resolveField(ctx.mappings, query.field);
      const path = f?.sourcePath ?? query.field;
      return valuesAt(doc.source, path).length > 0;
    }
    case 'term':
    case 'terms': {
      const wanted = query.kind === 'term' ? [query.value] : query.values;
      if (query.field === '_id') return wanted.map(String).includes(doc.id);
      if (query.field === '_index') return wanted.map(String).includes(doc.index);
      const f = resolveField(ctx.mappings, query.field);
      if (!f) return false;
      const targets = wanted.map((w) => queryValue(w, f, ctx, false));
      return valuesAt(doc.source, f.sourcePath).some((v) => {
        const c = coerce(v, f);
        return c.ok && targets.some((t) => t === c.value);
      });
    }
    case 'range': {
      const f = resolveField(ctx.mappings, query.field);
      if (!f) return false;
      const fmt = { ...f, format: query.format ?? f.format };
      const gt = query.gt === undefined || query.gt === null ? undefined : queryValue(query.gt, fmt, ctx, true);
      const gte = query.gte === undefined || query.gte === null ? undefined : queryValue(query.gte, fmt, ctx, false);
      const lt = query.lt === undefined || query.lt === null ? undefined : queryValue(query.lt, fmt, ctx, false);
      const lte = query.lte === undefined || query.lte === null ? undefined : queryValue(query.lte, fmt, ctx, true);
      return valuesAt(doc.source, f.sourcePath).some((v) => {
        const c = coerce(v, f);
        if (!c.ok) return false;
        const x = c.value;
        return (gt === undefined || x > gt) && (gte === undefined || x >= gte) && (lt === undefined || x < lt) && (lte === undefined || x <= lte);
      });
    }
  }
}

/** A query value read as the field's type; dates with date math (`roundUp` for `gt`/`lte`). */
function queryValue(v: unknown, f: { type: string; format: string }, ctx: EvalContext, roundUp: boolean): string | number | boolean {
  if (f.type === 'date') {
    if (typeof v !== 'string' && typeof v !== 'number') throw new IllegalArgumentError(`failed to parse date field [${String(v)}] with format [${f.format}]`);
    return parseDateMath(v, f.format, ctx.nowMs, roundUp);
  }
  const c = coerce(v, f as never);
  if (!c.ok) throw new IllegalArgumentError(c.error);
  return c.value;
}

/** Whether a query computes scores (hits get `_score` 1.0) or only filters (0.0). */
export function scores(query: Query): boolean {
  if (query.kind === 'constant_score') return true;
  if (query.kind !== 'bool') return true;
  return query.must.length > 0 || query.should.length > 0 || (query.filter.length === 0 && query.mustNot.length === 0);
}

/**
 * The time window `[from, to]` (ms, inclusive) a query restricts `field` to, for choosing
 * partitions: a range on the field in the query itself, a filter/must clause of a bool,
 * or a constant_score filter. Anything else leaves the window open (undefined bounds).
 */
export function timeWindow(query: Query, field: string, ctx: EvalContext, format: string): { from?: number; to?: number } {
  switch (query.kind) {
    case 'range': {
      if (query.field !== field) return {};
      const fmt = { type: 'date', format: query.format ?? format };
      const out: { from?: number; to?: number } = {};
      if (query.gte !== undefined && query.gte !== null) out.from = queryValue(query.gte, fmt, ctx, false) as number;
      if (query.gt !== undefined && query.gt !== null) out.from = (queryValue(query.gt, fmt, ctx, true) as number) + 1;
      if (query.lt !== undefined && query.lt !== null) out.to = (queryValue(query.lt, fmt, ctx, false) as number) - 1;
      if (query.lte !== undefined && query.lte !== null) out.to = queryValue(query.lte, fmt, ctx, true) as number;
      return out;
    }
    case 'constant_score':
      return timeWindow(query.filter, field, ctx, format);
    case 'bool': {
      const out: { from?: number; to?: number } = {};
      for (const q of [...query.filter, ...query.must]) {
        const w = timeWindow(q, field, ctx, format);
        if (w.from !== undefined) out.from = out.from === undefined ? w.from : Math.max(out.from, w.from);
        if (w.to !== undefined) out.to = out.to === undefined ? w.to : Math.min(out.to, w.to);
      }
      return out;
    }
    default:
      return {};
  }
}
