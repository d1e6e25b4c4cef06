import { deleteMlFilter, getMlFilters, putMlFilter, updateMlFilter } from '../../app/filters.ts';
import type { HttpRequest, RouteHandler } from '../chain.ts';
import { intParam } from '../params.ts';
import { requireBody } from '../body.ts';

const getRoute = {
  params: ['from', 'size'],
  handle: async (req: HttpRequest) => ({
    status: 200,
    body: await getMlFilters(req.pathParams.filter_id, intParam(req.query.from, 'from', 0), intParam(req.query.size, 'size', 100)),
  }),
};

/** The ML filter APIs (spec A.5.10): the item lists custom rule scopes refer to. */
/** The `filters` routes (topology `fn: 'filters'`), by route key; served by `functions/http/filters.ts` and the command ingress. */
export const filtersRoutes: Record<string, RouteHandler> = {
  'GET /_ml/filters': getRoute,
  'GET /_ml/filters/{filter_id}': getRoute,
  'PUT /_ml/filters/{filter_id}': { params: [], handle: async (req) => ({ status: 200, body: await putMlFilter(req.pathParams.filter_id ?? '', requireBody(req)) }) },
  'POST /_ml/filters/{filter_id}/_update': {
    params: [],
    handle: async (req) => ({ status: 200, body: await updateMlFilter(req.pathParams.filter_id ?? '', requireBody(req)) }),
  },
  'DELETE /_ml/filters/{filter_id}': { params: [], handle: async (req) => ({ status: 200, body: await deleteMlFilter(req.pathParams.filter_id ?? '') }) },
};
