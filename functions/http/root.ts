import { clusterInfo, mlInfo } from '../../lib/app/ml-info.ts';
import { httpFunction } from '../../lib/http/chain.ts';

/** GET / and HEAD /: cluster info, the way the official clients check the product. */
const rootRoute = {
  params: [],
  handle: async () => ({ status: 200, body: await clusterInfo() }),
};

/** GET _ml/info (spec A.4): defaults, limits and `upgrade_mode`. */
const infoRoute = {
  params: [],
  handle: async () => ({ status: 200, body: await mlInfo() }),
};

export const handler = httpFunction('root', {
  'GET /': rootRoute,
  'HEAD /': rootRoute,
  'GET /_ml/info': infoRoute,
});
