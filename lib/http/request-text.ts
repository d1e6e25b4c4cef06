/**
 * Turning the bytes of a request into text the way Elasticsearch's REST layer does:
 * bodies strictly as UTF-8 (Jackson refuses a malformed byte sequence instead of
 * replacing it with U+FFFD), query strings and paths with `RestUtils.decodeComponent`.
 */
import { BadParameterError, IllegalArgumentError } from '../domain/errors.ts';
import { syntaxError } from '../domain/json/syntax-errors.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Where and why a byte sequence is not UTF-8, in Jackson's words. */
export interface Utf8Fault {
  /** Byte offset of the offending byte. */
  offset: number;
  message: string;
}

/**
 * The first malformed UTF-8 sequence of `bytes`, or undefined when it is well-formed.
 * Messages are Jackson's `UTF8StreamJsonParser` ones ("Invalid UTF-8 start byte 0xff",
 * "Invalid UTF-8 middle byte 0x28"). Stricter than Jackson on purpose: overlong forms
 * (`c0 af`), UTF-16 surrogates (`ed a0 80`) and code points above U+10FFFF are refused
 * too (as `TextDecoder({fatal:true})` does), since none of them is text.
 */
export function findUtf8Fault(bytes: Uint8Array): Utf8Fault | undefined {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return { offset: i, message: `Invalid UTF-8 start byte 0x${b.toString(16)}` };
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return { offset: i + k - 1, message: 'Unexpected end-of-input in a UTF-8 sequence' };
      const min = k === 1 ? lo : 0x80;
      const max = k === 1 ? hi : 0xbf;
      if (c < min || c > max) return { offset: i + k, message: `Invalid UTF-8 middle byte 0x${c.toString(16)}` };
    }
    i += need + 1;
  }
  return undefined;
}

/**
 * Decodes a request body strictly as UTF-8.
 * @throws x_content_parse_exception `[line:col] Invalid UTF-8 start byte 0xff\n at [Source: …; line: l, column: c]`
 *   (400), the position counted in bytes as Jackson's byte parser counts it (the column is one past
 *   the offending byte, where Jackson's input pointer stands when it reports it).
 */
export function decodeBodyUtf8(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    const fault = findUtf8Fault(bytes) ?? { offset: 0, message: 'Invalid UTF-8 start byte' };
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < fault.offset; i++) {
      if (bytes[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    throw syntaxError({ message: fault.message, at: { line, col: fault.offset - lineStart + 2 }, eof: false }, 'field');
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Decodes a string body that arrived as text (not base64). A JavaScript string can
 * only be malformed as UTF-16 (a lone surrogate, e.g. from a hand-built Lambda event);
 * it is refused like malformed UTF-8 rather than silently becoming U+FFFD.
 */
export function checkTextBody(text: string): string {
  if (!LONE_SURROGATE.test(text)) return text;
  return decodeBodyUtf8(encodeLossless(text));
}

/** WTF-8 bytes of a string (lone surrogates kept as 3-byte sequences), so the fault shows where the surrogate was. */
function encodeLossless(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    if (cp > 0xffff) i++;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return Uint8Array.from(out);
}

function hexNibble(c: string): number {
  const n = c.charCodeAt(0);
  if (n >= 0x30 && n <= 0x39) return n - 0x30;
  if (n >= 0x61 && n <= 0x66) return n - 0x61 + 10;
  if (n >= 0x41 && n <= 0x46) return n - 0x41 + 10;
  return -1;
}

/**
 * Elasticsearch's `RestUtils.decodeComponent`: `%XX` escapes become bytes decoded as UTF-8
 * (malformed sequences become U+FFFD, as Java's `new String(bytes, UTF_8)` does), `%%` is a
 * literal `%`, and `+` stays `+` (Elasticsearch does not decode it as a space).
 * @throws IllegalArgumentError "unterminated escape sequence at end of string: <s>",
 *   "partial escape sequence at end of string: <s>", "invalid escape sequence `%<xy>' at index <i> of: <s>"
 */
export function decodeComponent(s: string): string {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '%') {
      for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
      continue;
    }
    if (i === s.length - 1) throw new IllegalArgumentError(`unterminated escape sequence at end of string: ${s}`);
    const c1 = s[++i]!;
    if (c1 === '%') {
      bytes.push(0x25);
      continue;
    }
    if (i === s.length - 1) throw new IllegalArgumentError(`partial escape sequence at end of string: ${s}`);
    const c2 = s[++i]!;
    const hi = hexNibble(c1);
    const lo = hexNibble(c2);
    if (hi < 0 || lo < 0) throw new IllegalArgumentError(`invalid escape sequence \`%${c1}${c2}' at index ${i - 2} of: ${s}`);
    bytes.push(hi * 16 + lo);
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Elasticsearch's `RestUtils.decodeQueryString`: `&` and `;` separate parameters, a key
 * without `=` has the value `""`, leading `=` are skipped, anything after `#` is ignored.
 * A repeated key's values are joined with `,` (`?a=1&a=2` → `"1,2"`), as API Gateway
 * joins them in `queryStringParameters`, so local and deployed answers agree.
 * @throws BadParameterError (400 `bad_parameter_exception`, caused by the decoding's
 *   `illegal_argument_exception`) for a malformed escape, as `RestRequest.params` wraps it
 */
export function decodeQueryString(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  const end = raw.includes('#') ? raw.indexOf('#') : raw.length;
  try {
    for (const part of raw.slice(0, end).split(/[&;]/)) {
      const p = part.replace(/^=+/, '');
      if (p === '') continue;
      const eq = p.indexOf('=');
      const name = decodeComponent(eq < 0 ? p : p.slice(0, eq));
      const value = eq < 0 ? '' : decodeComponent(p.slice(eq + 1));
      out[name] = name in out ? `${out[name]},${value}` : value;
    }
  } catch (err) {
    if (err instanceof IllegalArgumentError) throw new BadParameterError(err);
    throw err;
  }
  return out;
}
