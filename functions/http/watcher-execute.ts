import { httpFunction } from '../../lib/http/chain.ts';
import { watcherExecuteRoutes } from '../../lib/http/routes/watcher-execute.ts';

/** The `watcher-execute` HTTP function (API Gateway routes with `fn: 'watcher-execute'` in `lib/runtime/topology.ts`). */
export const handler = httpFunction('watcher-execute', watcherExecuteRoutes);
