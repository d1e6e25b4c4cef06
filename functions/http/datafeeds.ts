import { httpFunction } from '../../lib/http/chain.ts';
import { datafeedsRoutes } from '../../lib/http/routes/datafeeds.ts';

/** The `datafeeds` HTTP function (API Gateway routes with `fn: 'datafeeds'` in `lib/runtime/topology.ts`). */
export const handler = httpFunction('datafeeds', datafeedsRoutes);
