import { readClusterSettings, updateClusterSettings } from '../../app/cluster.ts';
import { requireBody } from '../body.ts';
import type { RouteHandler } from '../chain.ts';
import { booleanParam } from '../params.ts';

/** `_cluster/settings` for the ML settings mlplane honours (`xpack.ml.max_model_memory_limit`, `xpack.ml.max_open_jobs`). */
/** The `cluster` routes (topology `fn: 'cluster'`), by route key; served by `functions/http/cluster.ts` and the command ingress. */
export const clusterRoutes: Record<string, RouteHandler> = {
  'GET /_cluster/settings': {
    params: ['flat_settings', 'include_defaults', 'master_timeout', 'timeout'],
    handle: async (req) => ({ status: 200, body: await readClusterSettings(booleanParam(req.query.flat_settings, false)) }),
  },
  'PUT /_cluster/settings': {
    params: ['flat_settings', 'master_timeout', 'timeout'],
    handle: async (req) => ({ status: 200, body: await updateClusterSettings(requireBody(req), booleanParam(req.query.flat_settings, false)) }),
  },
};
