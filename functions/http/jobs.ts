import { httpFunction } from '../../lib/http/chain.ts';
import { jobsRoutes } from '../../lib/http/routes/jobs.ts';

/** The `jobs` HTTP function (API Gateway routes with `fn: 'jobs'` in `lib/runtime/topology.ts`). */
export const handler = httpFunction('jobs', jobsRoutes);
