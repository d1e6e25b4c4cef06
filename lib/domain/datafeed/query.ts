/**
 * The check put and update datafeed make on `query` (`QueryProvider.fromXContent`): it must
 * be one query of Elasticsearch's query DSL. The query is stored as given; what mlplane's
 * document store can run is checked when a datafeed runs, not here, so a datafeed written for
 * Elasticsearch is accepted as Elasticsearch accepts it.
 */
import { QueryParsingError, StatusError } from '../errors.ts';
import { ES_QUERY_NAMES } from '../search/query-names.ts';

/**
 * @throws StatusError 400 `Datafeed query is not parsable` caused by `parsing_exception`
 *   `unknown query [<name>]` or `[<name>] query malformed, no start_object after query name`;
 *   the parser wraps it in `[l:c] [datafeed_config] failed to parse field [query]`.
 */
export function validateQuery(query: Record<string, unknown>): void {
  const names = Object.keys(query);
  const fail = (reason: string): never => {
    throw new StatusError(400, 'Datafeed query is not parsable', { cause: new QueryParsingError(reason) });
  };
  if (names.length > 1) fail(`[${names[0]}] malformed query, expected [END_OBJECT] but found [FIELD_NAME]`);
  const name = names[0];
  if (name === undefined) return;
  if (!ES_QUERY_NAMES.has(name)) fail(`unknown query [${name}]`);
  const body = query[name];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) fail(`[${name}] query malformed, no start_object after query name`);
}
