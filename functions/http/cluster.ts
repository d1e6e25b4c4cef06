import { readClusterSettings, updateClusterSettings } from '../../lib/app/cluster.ts';
import { requireBody } from '../../lib/http/body.ts';
import { httpFunction } from '../../lib/http/chain.ts';
import { booleanParam } from '../../lib/http/params.ts';

/** `_cluster/settings` for the ML settings mlplane honours (`xpack.ml.max_model_memory_limit`, `xpack.ml.max_open_jobs`). */
export const handler = httpFunction('cluster', {
  'GET /_cluster/settings': {
    params: ['flat_settings', 'include_defaults', 'master_timeout', 'timeout'],
    handle: async (req) => ({ status: 200, body: await readClusterSettings(booleanParam(req.query.flat_settings, false)) }),
  },
  'PUT /_cluster/settings': {
    params: ['flat_settings', 'master_timeout', 'timeout'],
    handle: async (req) => ({ status: 200, body: await updateClusterSettings(requireBody(req), booleanParam(req.query.flat_settings, false)) }),
  },
});
