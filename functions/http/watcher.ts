import { httpFunction } from '../../lib/http/chain.ts';
import { watcherRoutes } from '../../lib/http/routes/watcher.ts';

/** The `watcher` HTTP function (API Gateway routes with `fn: 'watcher'` in `lib/runtime/topology.ts`). */
export const handler = httpFunction('watcher', watcherRoutes);
