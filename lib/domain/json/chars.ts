/**
 * Character classes the reader needs: UTF-8 byte length of a code point (Jackson columns count
 * bytes) and Java's identifier start/part classes (Jackson's unrecognized-token texts).
 */

export function utf8Len(cp: number): number {
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp < 0x10000) return 3;
  return 4;
}
// Character.isJavaIdentifierStart / isJavaIdentifierPart (the latter includes the
// identifier-ignorable controls and format characters). −1 (end of input) is neither.
export const isIdentStart = (cp: number): boolean => cp >= 0 && /[\p{L}\p{Nl}$_\p{Sc}\p{Pc}]/u.test(String.fromCodePoint(cp));
export const isIdentPart = (cp: number): boolean =>
  cp >= 0 &&
  (/[\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}$_\p{Sc}\p{Pc}\p{Cf}]/u.test(String.fromCodePoint(cp)) || (cp >= 0 && cp <= 8) || (cp >= 0x0e && cp <= 0x1b) || (cp >= 0x7f && cp <= 0x9f));
