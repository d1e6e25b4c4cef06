import { SimpleHttpError } from '../domain/errors.ts';
import type { HttpRequest } from './chain.ts';

/**
 * Elasticsearch's answer to a path that no REST handler serves, for `/{index}` routes reached
 * with a name starting with `_` (`GET /_ml`, `PUT /_foo`): such a name is an API, never an index.
 * `{"error":"no handler found for uri [<uri>] and method [<METHOD>]","status":400}`.
 */
export function noIndexHandler(req: Pick<HttpRequest, 'path' | 'route'>): SimpleHttpError {
  return new SimpleHttpError(400, `no handler found for uri [${req.path}] and method [${req.route.method}]`);
}
