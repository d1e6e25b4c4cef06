import { ackWatch } from '../../app/ack-watch.ts';
import { queryWatches } from '../../app/query-watches.ts';
import { activateWatch, deleteWatch, getWatch, putWatch, type WatcherPaths } from '../../app/watches.ts';
import type { HttpRequest, HttpResult, RouteHandler } from '../chain.ts';
import { booleanParam, expiresInParam, longParam, refuseBody, timeParam } from '../params.ts';
import { deprecationWarning, withWarning, xpackWatcherWarning } from '../warnings.ts';

const XPACK = '/_xpack/watcher';

/** The 2.x/5.x ack form, which 5.x still served with a deprecation warning (removed in 6.0). */
const LEGACY_ACK = '/_watcher/watch/{id}/{actions}/_ack';

/** Which family a route belongs to: the legacy ack form is a 5.x route, so it answers as the 5.x paths do (`_status`). */
const pathsOf = (req: HttpRequest): WatcherPaths => (req.route.path.startsWith(XPACK) || req.route.path === LEGACY_ACK ? 'xpack' : 'current');

/**
 * The deprecation warning of a request's route: Elasticsearch 7's on the `_xpack` routes,
 * and 5.x's on the legacy ack form, which names the `_ack/{actions}` route replacing it:
 * `[POST /_watcher/watch/{id}/{actions}/_ack] is deprecated! Use [POST /_xpack/watcher/watch/{id}/_ack/{actions}] instead.`
 */
function routeWarning(req: HttpRequest): string | undefined {
  const { method, path } = req.route;
  if (path === LEGACY_ACK) return deprecationWarning(`[${method} ${LEGACY_ACK}] is deprecated! Use [${method} ${XPACK}/watch/{id}/_ack/{actions}] instead.`);
  return xpackWatcherWarning(method, path);
}

/** Ids of `_ack/{actions}`: a comma-separated list (`paramAsStringArray`). */
const actionIdsOf = (req: HttpRequest): string[] => (req.pathParams.actions === undefined ? [] : req.pathParams.actions.split(',').filter((a) => a.length > 0));

/** Wraps a handler so that `_xpack` requests carry Elasticsearch's deprecation warning, errors included. */
const route = (params: readonly string[], handle: (req: HttpRequest) => Promise<HttpResult>): RouteHandler => ({
  params,
  handle: (req) => withWarning(routeWarning(req), () => handle(req)),
});

const put = route(['active', 'version', 'if_seq_no', 'if_primary_term'], async (req) =>
  putWatch(req.pathParams.id ?? '', req.body, {
    active: booleanParam(req.query.active, true),
    version: longParam(req.query.version, 'version'),
    ifSeqNo: longParam(req.query.if_seq_no, 'if_seq_no'),
    ifPrimaryTerm: longParam(req.query.if_primary_term, 'if_primary_term'),
  }),
);

const get = route([], async (req) => {
  refuseBody(req.route.method, req.path, req.body);
  return getWatch(req.pathParams.id ?? '', pathsOf(req));
});

const del = route([], async (req) => {
  refuseBody(req.route.method, req.path, req.body);
  return deleteWatch(req.pathParams.id ?? '');
});

/**
 * The 5.x paths take `master_timeout` (how long the ack waits for a running execution); both
 * take `expires_in`, an mlplane extension (the ack lapses after that time, at most `36500d`;
 * README "Watcher").
 */
const ack = (paths: WatcherPaths) =>
  route(paths === 'xpack' ? ['master_timeout', 'expires_in'] : ['expires_in'], async (req) => {
    refuseBody(req.route.method, req.path, req.body);
    const wait = paths === 'xpack' ? timeParam(req.query.master_timeout, 'master_timeout') : undefined;
    const expires = expiresInParam(req.query.expires_in);
    const body = await ackWatch(req.pathParams.id ?? '', actionIdsOf(req), {
      paths,
      ...(wait ? { waitMs: Math.max(0, wait.ms) } : {}),
      ...(expires ? { expiresInMs: expires.ms } : {}),
    });
    return { status: 200, body };
  });

const activate = (active: boolean, paths: WatcherPaths) =>
  route(paths === 'xpack' ? ['master_timeout'] : [], async (req) => {
    refuseBody(req.route.method, req.path, req.body);
    return { status: 200, body: await activateWatch(req.pathParams.id ?? '', active, paths) };
  });

/** `_watcher/_query/watches` (Elasticsearch 8 only: no `_xpack` form). */
const query = route([], async (req) => ({ status: 200, body: await queryWatches(req.body) }));

/** Both families' handlers, keyed by route. */
function family(prefix: '/_watcher' | typeof XPACK): Record<string, RouteHandler> {
  const paths: WatcherPaths = prefix === XPACK ? 'xpack' : 'current';
  const watch = `${prefix}/watch/{id}`;
  return {
    [`PUT ${watch}`]: put,
    [`POST ${watch}`]: put,
    [`GET ${watch}`]: get,
    [`DELETE ${watch}`]: del,
    [`PUT ${watch}/_ack`]: ack(paths),
    [`POST ${watch}/_ack`]: ack(paths),
    [`PUT ${watch}/_ack/{actions}`]: ack(paths),
    [`POST ${watch}/_ack/{actions}`]: ack(paths),
    [`PUT ${watch}/_activate`]: activate(true, paths),
    [`POST ${watch}/_activate`]: activate(true, paths),
    [`PUT ${watch}/_deactivate`]: activate(false, paths),
    [`POST ${watch}/_deactivate`]: activate(false, paths),
  };
}

/** The Watcher core APIs (spec watcher-ack.md §1, §4): put, get, delete, ack, activate/deactivate, on `_watcher` and `_xpack/watcher`. */
/** The `watcher` routes (topology `fn: 'watcher'`), by route key; served by `functions/http/watcher.ts` and the command ingress. */
export const watcherRoutes: Record<string, RouteHandler> = {
  ...family('/_watcher'),
  ...family(XPACK),
  [`PUT ${LEGACY_ACK}`]: ack('xpack'),
  [`POST ${LEGACY_ACK}`]: ack('xpack'),
  'GET /_watcher/_query/watches': query,
  'POST /_watcher/_query/watches': query,
};
