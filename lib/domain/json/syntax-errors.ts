/**
 * The errors a JSON syntax fault becomes, rendered the way Elasticsearch's
 * `JsonXContentParser` reports Jackson's exceptions (`[line:col]` located parse errors,
 * end-of-file and stream-constraint errors).
 */
import { EsError, XContentParseError } from '../errors.ts';
import { sourceLocation } from './jackson-messages.ts';
import type { JsonSyntaxFault } from './located-tree.ts';
import { formatPos, type JsonPos } from './position.ts';

/**
 * 400 `x_content_parse_exception` with its location kept apart from the text. The reason is
 * `[line:col] <message>` when a location is known.
 *
 * `rootCause()` follows `ElasticsearchException.guessRootCauses` for parse exceptions: it
 * descends into a cause that is another parse exception or an Elasticsearch exception, and
 * stops at itself when the cause is a plain Java exception (e.g. `"model_prune_window":"8w"`
 * has this error, not the `illegal_argument_exception`, as root cause).
 */
export class XContentParseLocatedError extends XContentParseError {
  readonly location: JsonPos | null;
  constructor(location: JsonPos | null, message: string, cause?: EsError) {
    super(location ? `[${formatPos(location)}] ${message}` : message, cause ? { cause } : {});
    this.location = location;
  }

}

/** 400 `x_content_e_o_f_exception` (`XContentEOFException`, a subclass of the parse exception). */
export class XContentEOFError extends XContentParseLocatedError {
  constructor(location: JsonPos | null, message: string, cause?: EsError) {
    super(location, message, cause);
    Object.defineProperty(this, 'type', { value: 'x_content_e_o_f_exception' });
  }
}

/**
 * 400 `stream_constraints_exception`: Jackson's `StreamConstraintsException` (nesting depth,
 * number length). It is a plain Java exception (root-cause search stops at it), and
 * `JsonXContentParser` lets it through unrelocated, so the reason has no `[line:col]`.
 * Inside a typed field Elasticsearch's `ObjectParser` wraps it in
 * `[<l:c>] [<parser>] failed to parse field [<f>]` (400); at top level Elasticsearch would
 * answer 500 (an `IOException`), which no client expects for a malformed body, so it is 400
 * here as well.
 */
export class StreamConstraintsError extends EsError {
  /** Location of the token that broke the limit (for the wrappers' `[line:col]`). */
  readonly location: JsonPos;
  constructor(location: JsonPos, message: string) {
    super('stream_constraints_exception', 400, message);
    this.location = location;
  }
}

/**
 * Renders a syntax fault the way Elasticsearch's `JsonXContentParser` does.
 * - `via: 'field'` (read through `nextFieldName()` or `text()`): every Jackson error becomes an
 *   `x_content_parse_exception` whose text is Jackson's message plus its location tail;
 * - `via: 'token'` (read through `nextToken()`, e.g. inside arrays or `map()`): end-of-input
 *   becomes `x_content_e_o_f_exception` `Unexpected end of file`, the rest as above.
 */
export function syntaxError(fault: JsonSyntaxFault, via: 'field' | 'token'): XContentParseLocatedError | StreamConstraintsError {
  if (fault.constraint) return new StreamConstraintsError(fault.at, fault.message);
  if (via === 'token' && fault.eof) return new XContentEOFError(fault.at, 'Unexpected end of file');
  return new XContentParseLocatedError(fault.at, `${fault.message.trim()}\n at ${sourceLocation(fault.at)}`);
}
