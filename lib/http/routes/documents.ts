import { bulk, clusterHealth, deleteDocument, deleteIndices, getDocument, getIndices, indexDocument, indicesExist, putIndex, refresh } from '../../app/documents.ts';
import { count, search } from '../../app/search.ts';
import { requireBody } from '../body.ts';
import type { HttpRequest, RouteHandler } from '../chain.ts';
import { noIndexHandler } from '../index-path.ts';

/** The `{index}` path parameter; a name starting with `_` is not an index but an unknown API (Elasticsearch's "no handler found"). */
const index = (req: HttpRequest, allowAll = false): string => {
  const name = req.pathParams.index ?? '';
  if (name.startsWith('_') && !(allowAll && name.split(',').every((n) => n === '_all' || !n.startsWith('_')))) throw noIndexHandler(req);
  return name;
};

const WRITE_PARAMS = ['refresh', 'timeout', 'wait_for_active_shards', 'routing', 'require_alias', 'op_type'];
const SEARCH_PARAMS = [
  'size',
  'from',
  'sort',
  '_source',
  'track_total_hits',
  'ignore_unavailable',
  'allow_no_indices',
  'expand_wildcards',
  'rest_total_hits_as_int',
  'typed_keys',
  'request_cache',
  'preference',
  'routing',
  'timeout',
  'search_type',
  'ccs_minimize_roundtrips',
  'batched_reduce_size',
  'pre_filter_shard_size',
  'max_concurrent_shard_requests',
  'track_scores',
  'allow_partial_search_results',
  'ignore_throttled',
];
const COUNT_PARAMS = ['ignore_unavailable', 'allow_no_indices', 'expand_wildcards', 'preference', 'routing', 'min_score', 'terminate_after', 'ignore_throttled'];

const indexDoc = (create: boolean, withId: boolean): RouteHandler => ({
  params: WRITE_PARAMS,
  handle: async (req) => indexDocument(index(req), withId ? req.pathParams.id : undefined, requireBody(req), create || req.query.op_type === 'create', req.query.refresh),
});
const searchRoute = (withIndex: boolean): RouteHandler => ({
  params: SEARCH_PARAMS,
  handle: async (req) => ({ status: 200, body: await search(withIndex ? index(req, true) : undefined, req.body, req.query) }),
});
const countRoute = (withIndex: boolean): RouteHandler => ({
  params: COUNT_PARAMS,
  handle: async (req) => ({ status: 200, body: await count(withIndex ? index(req, true) : undefined, req.body, req.query) }),
});
const bulkRoute = (withIndex: boolean): RouteHandler => ({
  params: [
    'refresh',
    'timeout',
    'wait_for_active_shards',
    'routing',
    'pipeline',
    'require_alias',
    'require_data_stream',
    '_source',
    '_source_includes',
    '_source_excludes',
    'list_executed_pipelines',
  ],
  handle: async (req) => ({ status: 200, body: await bulk(requireBody(req), withIndex ? index(req) : undefined) }),
});
const refreshRoute = (withIndex: boolean): RouteHandler => ({
  params: ['ignore_unavailable', 'allow_no_indices', 'expand_wildcards'],
  handle: async (req) => ({ status: 200, body: await refresh(withIndex ? index(req, true) : undefined) }),
});

/** GET _cluster/health[/<index>]: one route for both forms (the index part is absent on the first). */
const healthRoute: RouteHandler = {
  params: [
    'level',
    'local',
    'master_timeout',
    'timeout',
    'wait_for_status',
    'wait_for_nodes',
    'wait_for_no_relocating_shards',
    'wait_for_active_shards',
    'wait_for_events',
    'wait_for_no_initializing_shards',
  ],
  handle: async (req) => clusterHealth(req.pathParams.index),
};

/** The document store (DESIGN §9): indices, documents, `_bulk`, `_search`, `_count`, `_refresh`, `_cluster/health`. */
/** The `documents` routes (topology `fn: 'documents'`), by route key; served by `functions/http/documents.ts` and the command ingress. */
export const documentsRoutes: Record<string, RouteHandler> = {
  'GET /_cluster/health': healthRoute,
  'GET /_cluster/health/{index}': healthRoute,
  'PUT /{index}': { params: ['timeout', 'master_timeout', 'wait_for_active_shards'], handle: async (req) => ({ status: 200, body: await putIndex(index(req), req.body) }) },
  'GET /{index}': {
    params: ['ignore_unavailable', 'allow_no_indices', 'expand_wildcards', 'flat_settings', 'include_defaults', 'local', 'master_timeout', 'features'],
    handle: async (req) => ({ status: 200, body: await getIndices(index(req, true), req.query.ignore_unavailable === 'true') }),
  },
  'HEAD /{index}': {
    params: ['ignore_unavailable', 'allow_no_indices', 'expand_wildcards', 'flat_settings', 'include_defaults', 'local'],
    handle: async (req) => ({ status: (await indicesExist(index(req, true))) ? 200 : 404 }),
  },
  'DELETE /{index}': {
    params: ['timeout', 'master_timeout', 'ignore_unavailable', 'allow_no_indices', 'expand_wildcards'],
    handle: async (req) => ({ status: 200, body: await deleteIndices(index(req)) }),
  },
  'PUT /{index}/_doc/{id}': indexDoc(false, true),
  'POST /{index}/_doc/{id}': indexDoc(false, true),
  'POST /{index}/_doc': indexDoc(false, false),
  'PUT /{index}/_create/{id}': indexDoc(true, true),
  'POST /{index}/_create/{id}': indexDoc(true, true),
  'GET /{index}/_doc/{id}': {
    params: ['_source', 'realtime', 'refresh', 'routing', 'preference', 'stored_fields'],
    handle: async (req) => getDocument(index(req), req.pathParams.id ?? '', req.query._source !== 'false'),
  },
  'HEAD /{index}/_doc/{id}': {
    params: ['_source', 'realtime', 'refresh', 'routing', 'preference'],
    handle: async (req) => ({ status: (await getDocument(index(req), req.pathParams.id ?? '', false)).status }),
  },
  'DELETE /{index}/_doc/{id}': {
    params: ['refresh', 'timeout', 'wait_for_active_shards', 'routing'],
    handle: async (req) => deleteDocument(index(req), req.pathParams.id ?? '', req.query.refresh),
  },
  'POST /_bulk': bulkRoute(false),
  'PUT /_bulk': bulkRoute(false),
  'POST /{index}/_bulk': bulkRoute(true),
  'PUT /{index}/_bulk': bulkRoute(true),
  'GET /_search': searchRoute(false),
  'POST /_search': searchRoute(false),
  'GET /{index}/_search': searchRoute(true),
  'POST /{index}/_search': searchRoute(true),
  'GET /_count': countRoute(false),
  'POST /_count': countRoute(false),
  'GET /{index}/_count': countRoute(true),
  'POST /{index}/_count': countRoute(true),
  'GET /_refresh': refreshRoute(false),
  'POST /_refresh': refreshRoute(false),
  'GET /{index}/_refresh': refreshRoute(true),
  'POST /{index}/_refresh': refreshRoute(true),
};
