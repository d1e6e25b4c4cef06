/**
 * The query watches API (Elasticsearch 8 `QueryWatchesAction`): `GET|POST _watcher/_query/watches`.
 * Elasticsearch runs the request as a search of its `.watches` index; mlplane evaluates the
 * same body with the document store's query evaluation over the stored watches, each seen as
 * the `.watches` document (the watch with its `status`).
 */
import { QueryParsingError } from '../domain/errors.ts';
import type { Mappings } from '../domain/documents/mappings.ts';
import { withDynamicFields } from '../domain/documents/mappings.ts';
import { isJsonObject, locate, parseJsonBody } from '../domain/json/plain-values.ts';
import { parseQuery } from '../domain/search/query.ts';
import { type Candidate, parseSearchRequest, runSearch } from '../domain/search/request.ts';
import { expireAcks } from '../domain/watcher/status.ts';
import { renderStatus, renderWatch } from '../domain/watcher/types.ts';
import { listWatches } from '../store/watches.ts';

/**
 * The fields of `.watches` a query can see: `metadata.*` (mapped dynamically, as Elasticsearch's
 * `.watches` mapping maps `metadata`), `status.state.active` and the status timestamps. The
 * trigger, input, condition and actions are not indexed in Elasticsearch either, so a query on
 * them matches nothing there and here.
 */
const WATCHES_MAPPINGS: Mappings = {
  // Only `metadata` is ever passed to withDynamicFields, so only it grows.
  dynamic: true,
  properties: {
    metadata: { type: 'object', properties: {} },
    status: {
      type: 'object',
      properties: {
        state: { type: 'object', properties: { active: { type: 'boolean' }, timestamp: { type: 'date', format: 'strict_date_optional_time||epoch_millis' } } },
        last_checked: { type: 'date', format: 'strict_date_optional_time||epoch_millis' },
        last_met_condition: { type: 'date', format: 'strict_date_optional_time||epoch_millis' },
      },
    },
  },
};

/** The body fields the action reads (its parser ignores every other field, as `ConstructingObjectParser(…, true)`). */
const FIELDS = ['from', 'size', 'sort', 'search_after'] as const;

/**
 * `GET|POST _watcher/_query/watches`.
 * Body (optional): `from` (default 0), `size` (default 10), `query`, `sort` (an array of
 * `{"<field>": {"order": "asc|desc"}}` or `{"<field>": "asc|desc"}`; `_id` or a queryable field),
 * `search_after` (the sort values of the last watch of the previous page). Other body fields are
 * ignored, as Elasticsearch's lenient request parser ignores them. The order without `sort` is
 * the store's (by id).
 * @returns `{count, watches: [{_id, watch, status, _seq_no, _primary_term}]}`: `count` is the
 *   number of matching watches (exact, Elasticsearch tracks total hits here), `watches` the page;
 *   `watch` never holds `status`, and `status.version` is the watch's `_version`
 * @throws QueryParsingError / IllegalArgumentError with the search API's messages for a bad
 *   query, sort or page ("Result window is too large …", "[from] parameter cannot be negative …");
 *   DocumentStoreUnsupportedError 400 "mlplane does not support the [<x>] query yet" for a query
 *   Elasticsearch has and mlplane does not evaluate
 */
export async function queryWatches(bodyText: string | undefined, nowMs = Date.now()): Promise<{ count: number; watches: unknown[] }> {
  const body = bodyText === undefined || bodyText.trim() === '' ? {} : parseJsonBody(bodyText);
  if (!isJsonObject(body)) throw new QueryParsingError('[query_watches_request] Expected START_OBJECT but found VALUE');
  // The paging and sorting fields go through the search parser, for its checks and messages;
  // the query is parsed from the original text so that errors point at its line and column.
  const paging = Object.fromEntries(FIELDS.filter((k) => body[k] !== undefined && body[k] !== null).map((k) => [k, body[k]]));
  const req = parseSearchRequest(JSON.stringify(paging), {});
  if (body.query !== undefined && body.query !== null) req.query = parseQuery(body.query, ['query'], (path) => (bodyText === undefined ? undefined : locate(bodyText, path)));
  req.trackTotalHits = true;
  req.source = { enabled: true, includes: [], excludes: [] };

  // Lapsed acks (the mlplane expires_in extension) show as lapsed; the next GET or execution writes them.
  const stored = (await listWatches()).map((w) => ({ ...w, status: expireAcks(w.status, nowMs).status }));
  const byId = new Map(stored.map((w) => [w.id, w]));
  const candidates: Candidate[] = stored.map((w, order) => {
    const source: Record<string, unknown> = { ...renderWatch(w.watch), status: renderStatus(w.status, w.version) };
    const mappings = (w.watch.metadata ? withDynamicFields(WATCHES_MAPPINGS, { metadata: w.watch.metadata }) : undefined) ?? WATCHES_MAPPINGS;
    return { doc: { index: '.watches', id: w.id, source }, mappings, order };
  });
  const out = runSearch(req, candidates, nowMs);
  const watches = out.hits.hits.map((h) => {
    const w = byId.get((h as { _id: string })._id);
    if (!w) throw new Error('a hit names a watch that was not listed');
    return { _id: w.id, watch: renderWatch(w.watch), status: renderStatus(w.status, w.version), _seq_no: w.seqNo, _primary_term: w.primaryTerm };
  });
  return { count: out.hits.total?.value ?? 0, watches };
}
