/**
 * The check put and update datafeed make on `query` (`QueryProvider.fromXContent`): it must
 * be one query of Elasticsearch's query DSL. The query is stored as given; what mlplane's
 * document store can run is checked when a datafeed runs, not here, so a datafeed written for
 * Elasticsearch is accepted as Elasticsearch accepts it.
 */
import { EsError, StatusError } from '../errors.ts';

/** Query names of Elasticsearch's DSL (the named query parsers a default node registers). */
const QUERY_NAMES = new Set([
  'match_all',
  'match_none',
  'term',
  'terms',
  'terms_set',
  'range',
  'exists',
  'ids',
  'bool',
  'match',
  'match_phrase',
  'match_phrase_prefix',
  'match_bool_prefix',
  'multi_match',
  'query_string',
  'simple_query_string',
  'prefix',
  'wildcard',
  'regexp',
  'fuzzy',
  'nested',
  'has_child',
  'has_parent',
  'parent_id',
  'constant_score',
  'dis_max',
  'function_score',
  'boosting',
  'script',
  'script_score',
  'geo_bounding_box',
  'geo_distance',
  'geo_polygon',
  'geo_shape',
  'shape',
  'more_like_this',
  'span_term',
  'span_first',
  'span_near',
  'span_or',
  'span_not',
  'span_containing',
  'span_within',
  'span_multi',
  'field_masking_span',
  'distance_feature',
  'pinned',
  'rank_feature',
  'wrapper',
  'combined_fields',
  'intervals',
  'percolate',
  'knn',
  'sparse_vector',
  'text_expansion',
  'semantic',
  'rule',
]);

/** `ParsingException` (400 `parsing_exception`). */
class ParsingError extends EsError {
  constructor(reason: string) {
    super('parsing_exception', 400, reason);
  }
}

/**
 * @throws StatusError 400 `Datafeed query is not parsable` caused by `parsing_exception`
 *   `unknown query [<name>]` or `[<name>] query malformed, no start_object after query name`;
 *   the parser wraps it in `[l:c] [datafeed_config] failed to parse field [query]`.
 */
export function validateQuery(query: Record<string, unknown>): void {
  const names = Object.keys(query);
  const fail = (reason: string): never => {
    throw new StatusError(400, 'Datafeed query is not parsable', { cause: new ParsingError(reason) });
  };
  if (names.length > 1) fail(`[${names[0]}] malformed query, expected [END_OBJECT] but found [FIELD_NAME]`);
  const name = names[0];
  if (name === undefined) return;
  if (!QUERY_NAMES.has(name)) fail(`unknown query [${name}]`);
  const body = query[name];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) fail(`[${name}] query malformed, no start_object after query name`);
}
