/**
 * The located JSON tree the reader builds: node shapes with their Jackson positions, the
 * syntax fault a node may carry, and the xcontent token each node starts with.
 */
import type { JsonPos } from './position.ts';

/**
 * A syntax error found while reading: Jackson's message (without the `\n at [Source…]` tail)
 * and its location. Where it is thrown from decides its rendering (see {@link XParser.syntaxError}).
 */
export interface JsonSyntaxFault {
  message: string;
  at: JsonPos;
  /** Jackson threw a `JsonEOFException`. */
  eof: boolean;
  /**
   * Jackson threw a `StreamConstraintsException` (a limit of `StreamReadConstraints`): not a
   * `JsonParseException`, so Elasticsearch's parser does not relocate it; the message has no
   * location.
   */
  constraint?: boolean;
}

/** One `"key": value` of an object node. */
export interface JsonEntry {
  key: string;
  keyPos: JsonPos;
  value: JsonNode;
}

interface NodeBase {
  /** Location of the first token of the value. */
  start: JsonPos;
  /** Location of the last token (`}` / `]` for containers; `start` for scalars). */
  end: JsonPos;
}

/** An object node. `fault` is thrown when a reader asks for the entry after the last one. */
export interface JsonObjectNode extends NodeBase {
  kind: 'object';
  entries: JsonEntry[];
  fault?: JsonSyntaxFault;
}
/** An array node. `fault` is thrown when a reader asks for the item after the last one. */
export interface JsonArrayNode extends NodeBase {
  kind: 'array';
  items: JsonNode[];
  fault?: JsonSyntaxFault;
}
/** A string node; a `fault` is thrown when its text is read (Jackson decodes strings lazily). */
export interface JsonStringNode extends NodeBase {
  kind: 'string';
  value: string;
  fault?: JsonSyntaxFault;
}
/** A number node; `raw` is the literal text, `isInt` false when it has a fraction or exponent. */
export interface JsonNumberNode extends NodeBase {
  kind: 'number';
  value: number;
  raw: string;
  isInt: boolean;
}
/** `true` / `false`. */
export interface JsonBooleanNode extends NodeBase {
  kind: 'boolean';
  value: boolean;
}
/** `null`. */
export interface JsonNullNode extends NodeBase {
  kind: 'null';
}
/** A parsed JSON value with locations. */
export type JsonNode = JsonObjectNode | JsonArrayNode | JsonStringNode | JsonNumberNode | JsonBooleanNode | JsonNullNode;

/** The xcontent token a node starts with. */
export type XToken = 'START_OBJECT' | 'START_ARRAY' | 'VALUE_STRING' | 'VALUE_NUMBER' | 'VALUE_BOOLEAN' | 'VALUE_NULL';

/** `XContentParser.Token` of a node. */
export function tokenOf(node: JsonNode): XToken {
  switch (node.kind) {
    case 'object':
      return 'START_OBJECT';
    case 'array':
      return 'START_ARRAY';
    case 'string':
      return 'VALUE_STRING';
    case 'number':
      return 'VALUE_NUMBER';
    case 'boolean':
      return 'VALUE_BOOLEAN';
    case 'null':
      return 'VALUE_NULL';
  }
}
