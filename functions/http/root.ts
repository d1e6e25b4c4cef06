import { httpFunction } from '../../lib/http/chain.ts';
import { rootRoutes } from '../../lib/http/routes/root.ts';

/** The `root` HTTP function (API Gateway routes with `fn: 'root'` in `lib/runtime/topology.ts`). */
export const handler = httpFunction('root', rootRoutes);
