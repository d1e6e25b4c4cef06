import { Messages } from '../domain/errors.ts';
import { ES_VERSION } from '../domain/version.ts';
import { errorResult, type HttpResult } from './chain.ts';

/**
 * A deprecation `Warning` header value as Elasticsearch writes it (RFC 7234 warn-code 299,
 * the agent `Elasticsearch-<version>-<build hash>`, the quoted text), e.g.
 * `299 Elasticsearch-9.4.3-… "Deprecated field [allow_no_jobs] used, expected [allow_no_match] instead"`.
 */
export function deprecationWarning(text: string): string {
  return `299 Elasticsearch-${ES_VERSION.number}-${ES_VERSION.build_hash} "${text}"`;
}

/**
 * Elasticsearch 7's warning on a deprecated 5.x `_xpack/watcher` route, or undefined for
 * any other route: `[POST /_xpack/watcher/watch/{id}/_ack] is deprecated! Use
 * [POST /_watcher/watch/{id}/_ack] instead.` (the route templates, not the request path).
 */
export function xpackWatcherWarning(method: string, routePath: string): string | undefined {
  if (!routePath.startsWith('/_xpack/watcher')) return undefined;
  return deprecationWarning(`[${method} ${routePath}] is deprecated! Use [${method} ${routePath.replace('/_xpack/watcher', '/_watcher')}] instead.`);
}

/** The warning every `_data` answer carries, errors included (spec A.5.5). */
export const POST_DATA_WARNING = deprecationWarning(Messages.postDataDeprecation);

/**
 * Runs a route's handler and puts a deprecation `Warning` header on whatever it answers, an
 * error included: Elasticsearch's DeprecationLogger adds the header to the request's context
 * while the request is parsed, so a 404 or 409 carries it as a 200 does (post_data.yml and
 * jobs_crud.yml expect the warning together with `catch`). Without a warning the handler's
 * result and errors pass through untouched.
 *
 * @param warning a `deprecationWarning(…)` value, or undefined when the request used nothing deprecated.
 */
export async function withWarning(warning: string | undefined, handle: () => Promise<HttpResult>): Promise<HttpResult> {
  if (warning === undefined) return handle();
  let result: HttpResult;
  try {
    result = await handle();
  } catch (err) {
    result = errorResult(err);
  }
  return { ...result, headers: { ...result.headers, warning } };
}
