import { Messages } from '../domain/errors.ts';
import { ES_VERSION } from '../domain/version.ts';

/**
 * A deprecation `Warning` header value as Elasticsearch writes it (RFC 7234 warn-code 299,
 * the agent `Elasticsearch-<version>-<build hash>`, the quoted text), e.g.
 * `299 Elasticsearch-9.4.3-… "Deprecated field [allow_no_jobs] used, expected [allow_no_match] instead"`.
 */
export function deprecationWarning(text: string): string {
  return `299 Elasticsearch-${ES_VERSION.number}-${ES_VERSION.build_hash} "${text}"`;
}

/** The warning every `_data` answer carries, errors included (spec A.5.5). */
export const POST_DATA_WARNING = deprecationWarning(Messages.postDataDeprecation);
