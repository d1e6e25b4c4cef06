/**
 * Jackson source positions (1-based line, 1-based UTF-8 byte column) and their
 * `XContentLocation.toString()` rendering, shared by the reader, its tree and the errors.
 */

/** A Jackson location: 1-based line and 1-based UTF-8 byte column. */
export interface JsonPos {
  line: number;
  col: number;
}

/** `XContentLocation.toString()`: `line:col`. */
export function formatPos(pos: JsonPos): string {
  return `${pos.line}:${pos.col}`;
}
