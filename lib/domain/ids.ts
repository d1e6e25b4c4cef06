/**
 * Job/group id rules (`MlStrings`) and the expansion of id expressions
 * (`ExpandedIdsMatcher` + `JobConfigProvider.expandJobsIds`), spec A.0.
 */
import { IllegalArgumentError, Messages, ResourceNotFoundError } from './errors.ts';

/** `MlStrings.ID_LENGTH_LIMIT`. */
export const ID_LENGTH_LIMIT = 64;

const VALID_ID = /^[a-z0-9](?:[a-z0-9_\-.]*[a-z0-9])?$/;

/**
 * `MlStrings.isValidId`: lower-case alphanumerics, `-`, `_` and (undocumented) `.`,
 * starting and ending alphanumeric; `_all` is never valid. Length is checked separately.
 */
export function isValidId(id: string | null | undefined): boolean {
  return typeof id === 'string' && VALID_ID.test(id) && id !== '_all';
}

/** `Messages.INVALID_ID` for a named id field: `Invalid <field>; '<id>' can contain …`. */
export function invalidIdMessage(field: string, id: string | null | undefined): string {
  return `Invalid ${field}; '${id ?? 'null'}' can contain lowercase alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric`;
}

/**
 * The job id checks of `Job.Builder.validateInputFields` (pattern first, then length).
 * @throws IllegalArgumentError 400:
 *   `Invalid job_id; '<id>' can contain lowercase alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric`
 *   or `The job id cannot contain more than 64 characters.`
 */
export function validateJobId(id: string | null | undefined): void {
  if (!isValidId(id)) throw new IllegalArgumentError(invalidIdMessage('job_id', id));
  if ((id ?? '').length > ID_LENGTH_LIMIT) {
    throw new IllegalArgumentError(`The job id cannot contain more than ${ID_LENGTH_LIMIT} characters.`);
  }
}

/**
 * A group name must be a valid id (`Messages.INVALID_GROUP`; no length check).
 * @throws IllegalArgumentError 400 `Invalid group id '<g>'; must be non-empty string and may contain lowercase alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric`
 */
export function validateGroupId(group: string): void {
  if (!isValidId(group)) {
    throw new IllegalArgumentError(
      `Invalid group id '${group}'; must be non-empty string and may contain lowercase alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric`,
    );
  }
}

/** `Strings.tokenizeToStringArray(expression, ",")`: split on `,`, trim, drop empty tokens. */
export function tokenizeExpression(expression: string | null | undefined): string[] {
  if (expression === null || expression === undefined) return [];
  return expression
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/** `Regex.isSimpleMatchPattern`: the token contains `*`. */
export function isWildcard(token: string): boolean {
  return token.includes('*');
}

/** `Regex.simpleMatch(pattern, value)`: `*` matches any (possibly empty) sequence; nothing else is special. */
export function simpleMatch(pattern: string, value: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's').test(value);
}

/** A job (or any grouped resource) as seen by {@link expandIds}. */
export interface ExpandCandidate {
  id: string;
  groups?: readonly string[];
}

/** Result of {@link expandIds}. */
export interface ExpandResult {
  /** Matched ids, sorted (UTF-16 order, like Java's `TreeSet<String>`) and deduplicated. */
  ids: string[];
  /** Tokens that were required to match and did not, in expression order (`*` for `_all`/`*`/empty). */
  missing: string[];
}

/**
 * Expand an id expression against a set of resources, as `JobConfigProvider.expandJobsIds`
 * with `ExpandedIdsMatcher` does (spec A.0):
 *
 * - the expression is split on `,`, tokens trimmed, empty tokens dropped;
 * - an expression that is empty, `_all` or `*` (as its only token) means everything;
 * - a token containing `*` is a simple wildcard matched against ids **and group names**;
 *   any other token matches an id or a group name exactly; a matched group contributes all
 *   of its members;
 * - plain tokens are always required to match; wildcard tokens (and the everything case,
 *   shown as `*`) only when `allowNoMatch` is false.
 *
 * The caller decides what to do with `missing` (usually {@link unknownJobError}). Filtering
 * (e.g. jobs being deleted) is done by the caller on `candidates`.
 */
export function expandIds(expression: string, candidates: readonly ExpandCandidate[], opts: { allowNoMatch: boolean }): ExpandResult {
  const tokens = tokenizeExpression(expression);
  const all = tokens.length === 0 || (tokens.length === 1 && (tokens[0] === '_all' || tokens[0] === '*'));
  const matchers: { token: string; wildcard: boolean; required: boolean }[] = all
    ? [{ token: '*', wildcard: true, required: !opts.allowNoMatch }]
    : tokens.map((token) => {
        const wildcard = isWildcard(token);
        return { token, wildcard, required: !wildcard || !opts.allowNoMatch };
      });
  const matches = (m: { token: string; wildcard: boolean }, name: string): boolean => (m.wildcard ? simpleMatch(m.token, name) : m.token === name);

  const ids = new Set<string>();
  const seenNames = new Set<string>();
  for (const c of candidates) {
    const names = [c.id, ...(c.groups ?? [])];
    if (matchers.some((m) => names.some((n) => matches(m, n)))) {
      ids.add(c.id);
      // JobConfigProvider feeds the ids *and* the groups of every hit to the matcher.
      for (const n of names) seenNames.add(n);
    }
  }
  const missing = matchers.filter((m) => m.required && ![...seenNames].some((n) => matches(m, n))).map((m) => m.token);
  return { ids: [...ids].sort(), missing };
}

/**
 * 404 `resource_not_found_exception` `No known job with id '<tokens joined with ,>'`.
 * @param missing the unmatched tokens from {@link expandIds}
 */
export function unknownJobError(missing: readonly string[]): ResourceNotFoundError {
  return new ResourceNotFoundError(Messages.unknownJob(missing.join(',')));
}
