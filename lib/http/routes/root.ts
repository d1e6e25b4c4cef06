import { clusterInfo, mlInfo } from '../../app/ml-info.ts';
import { setUpgradeMode } from '../../app/upgrade-mode.ts';
import type { HttpRequest, RouteHandler } from '../chain.ts';
import { booleanParam, expiresInParam, refuseBody, timeParam, timeParamOr } from '../params.ts';

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

/**
 * POST _ml/set_upgrade_mode (spec A.4, C): `enabled` (default false: a call without it
 * disables), `timeout` (default 30s), `master_timeout` (accepted; there is no master to wait
 * for), and the mlplane extension `expires_in` (a time after which upgrade mode switches itself
 * off; positive and at most `36500d`, see `expiresInParam`). The REST API takes no body: one is refused as Elasticsearch's `BaseRestHandler` does.
 */
const setUpgradeModeRoute = {
  params: ['enabled', 'timeout', 'master_timeout', 'expires_in'],
  handle: async (req: HttpRequest) => {
    refuseBody(req.route.method, req.path, req.body);
    const enabled = booleanParam(req.query.enabled, false);
    const timeout = timeParamOr(req.query.timeout, 'timeout', 30_000);
    timeParam(req.query.master_timeout, 'master_timeout');
    const expiresIn = expiresInParam(req.query.expires_in);
    const q = await setUpgradeMode({ enabled, timeout, ...(expiresIn ? { expiresIn } : {}) });
    if (q.kind === 'done') return { status: 200, body: q.response };
    return { status: 202, body: { task: q.taskId } };
  },
};

/** The `root` routes (topology `fn: 'root'`), by route key; served by `functions/http/root.ts` and the command ingress. */
export const rootRoutes: Record<string, RouteHandler> = {
  'GET /': rootRoute,
  'HEAD /': rootRoute,
  'GET /_ml/info': infoRoute,
  'POST /_ml/set_upgrade_mode': setUpgradeModeRoute,
};
