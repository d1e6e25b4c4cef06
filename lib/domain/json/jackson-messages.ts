/**
 * Pieces of Jackson's error texts: the redacted `[Source: …]` location tail and
 * `_getCharDesc`'s description of an offending character.
 */
import type { JsonPos } from './position.ts';

/** Jackson's redacted source description used in its messages. */
const SOURCE = 'REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)';

export function sourceLocation(pos: JsonPos): string {
  return `[Source: ${SOURCE}; line: ${pos.line}, column: ${pos.col}]`;
}

/** Jackson's `_getCharDesc`. */
export function charDesc(cp: number): string {
  if (cp < 0) return '(end-of-input)';
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return `(CTRL-CHAR, code ${cp})`;
  const c = String.fromCodePoint(cp);
  if (cp > 255) return `'${c}' (code ${cp} / 0x${cp.toString(16)})`;
  return `'${c}' (code ${cp})`;
}
