/**
 * How a JSON syntax fault becomes an error, the way Elasticsearch's `JsonXContentParser`
 * reports Jackson's exceptions (`[line:col]` located parse errors, end-of-file and
 * stream-constraint errors; the classes are in ../errors.ts).
 */
import { StreamConstraintsError, XContentEOFError, XContentParseLocatedError } from '../errors.ts';
import { sourceLocation } from './jackson-messages.ts';
import type { JsonSyntaxFault } from './located-tree.ts';

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
