import { httpFunction } from '../../lib/http/chain.ts';
import { filtersRoutes } from '../../lib/http/routes/filters.ts';

/** The `filters` HTTP function (API Gateway routes with `fn: 'filters'` in `lib/runtime/topology.ts`). */
export const handler = httpFunction('filters', filtersRoutes);
