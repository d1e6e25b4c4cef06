/**
 * Request matching over the topology's routes, as API Gateway matches them and with the
 * answers Elasticsearch's REST layer gives when nothing matches. Pure (no server, no AWS):
 * the local API Gateway (`lib/local/http-server.ts`) and the command ingress
 * (`lib/http/command.ts`) both route with it, so a command event reaches exactly the
 * handler its HTTP request would.
 */
import FindMyWay from 'find-my-way';
import { IllegalArgumentError } from '../domain/errors.ts';
import { routeKey, type RouteDefinition } from '../runtime/topology.ts';
import { decodeComponent } from './request-text.ts';

/** Elasticsearch's `RestRequest.Method` order, used to list allowed methods as it does. */
const ES_METHOD_ORDER = ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH'] as const;

/** Why no route matched: the status, Elasticsearch's body, and headers to send with it (`allow` on a 405). */
export interface NoRoute {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

/** Result of matching a request against the routes. */
export type RouteMatchResult =
  | { kind: 'route'; route: RouteDefinition; routeKey: string; pathParameters: Record<string, string> }
  | { kind: 'options'; allow: string[] }
  | ({ kind: 'error' } & NoRoute);

/** `{"error":"no handler found for uri [<uri>] and method [<METHOD>]","status":400}`, Elasticsearch's answer to an unknown path. */
export function noHandlerFoundBody(uri: string, method: string): { error: string; status: 400 } {
  return { error: `no handler found for uri [${uri}] and method [${method}]`, status: 400 };
}

/** Elasticsearch's 405 body for a known path with a method it does not serve; `allowed` in Elasticsearch's order. */
export function methodNotAllowedBody(uri: string, method: string, allowed: readonly string[]): { error: string; status: 405 } {
  return { error: `Incorrect HTTP method for uri [${uri}] and method [${method}], allowed: [${allowed.join(', ')}]`, status: 405 };
}

interface RouteStore {
  route: RouteDefinition;
}

/** The request matcher: API Gateway's matching (static segments before `{param}`, a parameter never empty) over the topology's routes. */
export interface RouteMatcher {
  /**
   * Matches `method` and the request target `url` (path and query; the query is
   * ignored for matching but quoted in error bodies, as Elasticsearch quotes the URI).
   * A known path with another method gives Elasticsearch's 405 with `allow`; OPTIONS
   * on a known path gives the allowed methods; anything else unknown gives 400
   * "no handler found"; a malformed `%` escape in the path gives 400 `illegal_argument_exception`.
   */
  match(method: string, url: string): RouteMatchResult;
}

/**
 * Re-encodes each path segment after decoding it the way Elasticsearch does
 * (`RestUtils.decodeComponent`: malformed UTF-8 becomes U+FFFD, `+` stays `+`), so the
 * router binds the same parameter values Elasticsearch would, and a `%ff` segment reaches
 * the handler (which refuses the id) instead of being taken for an unknown path.
 * @throws IllegalArgumentError (400) for a malformed `%` escape, as Elasticsearch's path decoding
 */
function canonicalPath(path: string): string {
  if (!path.includes('%')) return path;
  return path
    .split('/')
    .map((seg) => encodeURIComponent(decodeComponent(seg)))
    .join('/');
}

/** Builds the matcher from topology routes (`{param}` segments become find-my-way's `:param`). */
export function createRouteMatcher(routes: readonly RouteDefinition[]): RouteMatcher {
  const fmw = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: false, maxParamLength: 2048 });
  const methods = new Set<string>();
  for (const route of routes) {
    const path = route.path.replace(/\{([^}]+)\}/g, ':$1');
    fmw.on(route.method, path, () => undefined, { route } satisfies RouteStore);
    methods.add(route.method);
  }

  const find = (method: string, path: string): { store: RouteStore; params: Record<string, string> } | null => {
    if (!methods.has(method)) return null;
    let found: ReturnType<typeof fmw.find>;
    try {
      found = fmw.find(method as FindMyWay.HTTPMethod, path);
    } catch {
      return null;
    }
    if (!found) return null;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(found.params)) {
      // API Gateway never binds an empty path segment to a parameter.
      if (v === undefined || v === '') return null;
      params[k] = v;
    }
    return { store: found.store as RouteStore, params };
  };

  return {
    match(method, url): RouteMatchResult {
      const q = url.indexOf('?');
      let path = q === -1 ? url : url.slice(0, q);
      try {
        path = canonicalPath(path);
      } catch (err) {
        if (err instanceof IllegalArgumentError) return { kind: 'error', status: err.status, body: err.toBody(), headers: {} };
        throw err;
      }
      const hit = path.startsWith('/') ? find(method, path) : null;
      if (hit) {
        return { kind: 'route', route: hit.store.route, routeKey: routeKey(hit.store.route), pathParameters: hit.params };
      }
      const allowed = path.startsWith('/') ? ES_METHOD_ORDER.filter((m) => m !== method && find(m, path) !== null) : [];
      if (allowed.length === 0) return { kind: 'error', status: 400, body: noHandlerFoundBody(url, method), headers: {} };
      if (method === 'OPTIONS') return { kind: 'options', allow: allowed };
      return { kind: 'error', status: 405, body: methodNotAllowedBody(url, method, allowed), headers: { allow: allowed.join(',') } };
    },
  };
}
