/**
 * Plain values from located trees: a whole body parsed to a JS value with Elasticsearch's
 * errors, tree ↔ value conversion, and finding the position of a path in a text.
 */
import { ParseError } from '../errors.ts';
import type { JsonEntry, JsonNode } from './located-tree.ts';
import type { JsonPos } from './position.ts';
import { syntaxError } from './syntax-errors.ts';
import { readJson } from './tokenizer.ts';

/**
 * Converts a located tree to a plain value (objects keep key order). Throws the tree's syntax
 * fault, if any, when it is reached.
 */
export function nodeToValue(node: JsonNode): unknown {
  switch (node.kind) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const e of node.entries) {
        Object.defineProperty(out, e.key, { value: nodeToValue(e.value), enumerable: true, writable: true, configurable: true });
      }
      // Objects are read with nextFieldName(), arrays with nextToken().
      if (node.fault) throw syntaxError(node.fault, 'field');
      return out;
    }
    case 'array': {
      const out = node.items.map((n) => nodeToValue(n));
      if (node.fault) throw syntaxError(node.fault, 'token');
      return out;
    }
    case 'string':
      if (node.fault) throw syntaxError(node.fault, 'field');
      return node.value;
    case 'number':
      return node.value;
    case 'boolean':
      return node.value;
    case 'null':
      return null;
  }
}

/**
 * Parses a request body like Elasticsearch's JSON xcontent parser.
 *
 * @param text the raw body (UTF-16 string of the UTF-8 bytes received)
 * @returns the value (objects keep key order), or `undefined` when the body is only whitespace
 * @throws ParseError 400 `parse_exception` `request body is required` for an empty body;
 *   XContentParseLocatedError 400 `x_content_parse_exception` for malformed JSON, e.g.
 *   `[1:9] Unexpected character ('}' (code 125)): was expecting double-quote to start field name\n at [Source: …; line: 1, column: 9]`
 *   (for `{"a":1,}`); `x_content_e_o_f_exception` `Unexpected end of file` for truncated arrays;
 *   StreamConstraintsError 400 `stream_constraints_exception` for nesting deeper than 1,000 or a
 *   number of more than 1,000 digits. A bare scalar (`true`, `1`, `"x"`) is returned as is: the
 *   typed parsers refuse it with `Expected START_OBJECT but was: <TOKEN>`.
 *   Errors are raised at top level; the `[<parser>] failed to parse field [..]` wrapping that
 *   Elasticsearch adds around errors inside a typed field is produced by {@link XObjectParser}.
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new ParseError('request body is required');
  const { root, fault } = readJson(text);
  if (root === undefined) {
    if (fault) throw syntaxError(fault, 'token');
    return undefined;
  }
  const value = nodeToValue(root);
  if (fault) throw syntaxError(fault, 'field');
  return value;
}

/**
 * Builds a located tree for an already-parsed value, from its compact serialisation
 * (`JSON.stringify`): locations are then those of a one-line body. Used when the raw text
 * of a request is not available.
 */
export function valueToNode(value: unknown): JsonNode | undefined {
  if (value === undefined) return undefined;
  const text: string | undefined = JSON.stringify(value);
  if (text === undefined) return undefined;
  const { root } = readJson(text);
  return root;
}

/**
 * The location of a key (or array element) in `text`, for error prefixes.
 * `path` is a list of object keys and array indexes; the result is the key token's location
 * (its opening quote), or the element's first token for an index. Best effort: `undefined` if
 * the text does not parse up to that point or the path does not exist.
 */
export function locate(text: string, path: readonly (string | number)[]): JsonPos | undefined {
  let node: JsonNode | undefined = readJson(text).root;
  let pos: JsonPos | undefined = node?.start;
  for (const step of path) {
    if (!node) return undefined;
    if (typeof step === 'number') {
      if (node.kind !== 'array') return undefined;
      node = node.items[step];
      pos = node?.start;
    } else {
      if (node.kind !== 'object') return undefined;
      const entry: JsonEntry | undefined = node.entries.find((e) => e.key === step);
      node = entry?.value;
      pos = entry?.keyPos;
    }
  }
  return node ? pos : undefined;
}

/** Whether a plain JSON value is an object (not null, not an array): the check every reader of parsed bodies and stored items makes. */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
