/**
 * `_search` and `_count` of the document store over one or more indices (comma lists,
 * wildcards, `_all`). The query's range on an index's time field picks the day partitions
 * read (`lib/store/keys.ts`); everything else is evaluated on the documents read.
 */
import { parseSearchRequest, runSearch, type Candidate } from '../domain/search/request.ts';
import { timeWindow, type Query } from '../domain/search/query.ts';
import { leafFields } from '../domain/documents/mappings.ts';
import { queryDocs, type StoredIndex } from '../store/documents.ts';
import { resolveIndices } from './documents.ts';
import { mlResultCandidates, splitMlResults } from './ml-results-index.ts';

/** Reads the candidates of a query: per index, the day partitions its time window covers. */
async function candidates(indices: readonly StoredIndex[], query: Query, nowMs: number): Promise<Candidate[]> {
  const out: Candidate[] = [];
  let order = 0;
  for (const index of indices) {
    let window: { from?: number; to?: number } = {};
    if (index.timeField) {
      const field = leafFields(index.mappings).find((f) => f.name === index.timeField);
      window = timeWindow(query, index.timeField, { mappings: index.mappings, nowMs }, field?.format ?? 'strict_date_optional_time||epoch_millis');
    }
    if (window.from !== undefined && window.to !== undefined && window.from > window.to) continue;
    for (const d of await queryDocs(index, window.from, window.to)) {
      out.push({ doc: { index: index.name, id: d.id, source: JSON.parse(d.sourceText) as Record<string, unknown> }, mappings: index.mappings, order: order++ });
    }
  }
  return out;
}

/**
 * The indices and results an expression names, read for `query`: the document store's
 * indices, then the ML results when the expression names `.ml-anomalies-*` (see
 * ml-results-index.ts); `shards` counts each stored index and the results index as one.
 */
async function read(expression: string | undefined, query: Query, params: Record<string, string>, nowMs: number): Promise<{ all: Candidate[]; shards: number }> {
  const ignoreUnavailable = params.ignore_unavailable === 'true';
  const { ml, rest } = splitMlResults(expression);
  const indices = ml && rest === undefined ? [] : await resolveIndices(rest, ignoreUnavailable);
  const all = await candidates(indices, query, nowMs);
  if (ml) all.push(...(await mlResultCandidates(ml, query, nowMs, ignoreUnavailable, all.length)));
  return { all, shards: indices.length + (ml ? 1 : 0) };
}

function shards(n: number): { total: number; successful: number; skipped: number; failed: number } {
  return { total: n, successful: n, skipped: 0, failed: 0 };
}

/**
 * GET/POST [<index>/]_search: Elasticsearch's response (`took`, `timed_out`, `_shards`,
 * `hits`, `aggregations`).
 * @throws IndexNotFoundError for a missing concrete index (unless `ignore_unavailable`), and the parse errors of parseSearchRequest
 */
export async function search(expression: string | undefined, body: string | undefined, params: Record<string, string>): Promise<unknown> {
  const started = Date.now();
  const req = parseSearchRequest(body, params);
  const nowMs = Date.now();
  const got = await read(expression, req.query, params, nowMs);
  const outcome = runSearch(req, got.all, nowMs);
  const hits = params.rest_total_hits_as_int === 'true' && outcome.hits.total ? { ...outcome.hits, total: outcome.hits.total.value } : outcome.hits;
  return { took: Date.now() - started, timed_out: false, _shards: shards(got.shards), hits, ...(outcome.aggregations ? { aggregations: outcome.aggregations } : {}) };
}

/** GET/POST [<index>/]_count: `{count, _shards}`. */
export async function count(expression: string | undefined, body: string | undefined, params: Record<string, string>): Promise<unknown> {
  const req = parseSearchRequest(body, {}, true);
  const nowMs = Date.now();
  const { all, shards: n } = await read(expression, req.query, params, nowMs);
  const outcome = runSearch({ ...req, size: 0, trackTotalHits: true }, all, nowMs);
  return { count: outcome.hits.total?.value ?? 0, _shards: shards(n) };
}
