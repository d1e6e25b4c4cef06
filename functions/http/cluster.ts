import { httpFunction } from '../../lib/http/chain.ts';
import { clusterRoutes } from '../../lib/http/routes/cluster.ts';

/** The `cluster` HTTP function (API Gateway routes with `fn: 'cluster'` in `lib/runtime/topology.ts`). */
export const handler = httpFunction('cluster', clusterRoutes);
