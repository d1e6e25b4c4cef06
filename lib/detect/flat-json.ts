/**
 * A reader for the common NDJSON line of a `_data` body: one flat object whose values are
 * numbers, strings without escapes, booleans or null (`{"time":1704067200,"value":40.8}`).
 *
 * Why not JSON.parse alone: at one record per bucket, JSON.parse of the line and the garbage
 * it leaves were half of a bucket's cost. This reader reuses the previous line's keys (feeds
 * repeat them line after line), builds numbers from their digits when that is exact, and
 * tells the caller how many fields the object has. It never decides anything JSON.parse would
 * decide differently: whatever it does not recognise (nesting, escapes, a duplicate or
 * `__proto__` key, bad syntax) it declines, and the caller parses the line with JSON.parse,
 * so values, property order, errors and counts stay exactly JSON.parse's.
 */

/** Exact powers of ten as doubles (10^0 … 10^22 are exactly representable). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
/** Fields above this decline (the duplicate-key check is quadratic). */
const MAX_FIELDS = 32;

/** What {@link FlatJsonReader.read} found: the object and its number of fields. */
export interface FlatDocument {
  doc: Record<string, unknown>;
  fields: number;
}

/** A reader that remembers the previous line's keys. One per body; not re-entrant. */
export class FlatJsonReader {
  private keys: string[] = [];
  /** The object and field count of the last successful {@link read}. */
  readonly last: FlatDocument = { doc: {}, fields: 0 };
  private pos = 0;

  /**
   * Reads `line.slice(from, n)` (no line break inside; `line` is the whole body, so that no
   * line is copied) as one flat JSON object.
   * @returns true with the object in {@link last}, or false when the line must go to JSON.parse.
   */
  read(line: string, from: number, n: number): boolean {
    let p = skipSpace(line, from, n);
    if (line.charCodeAt(p) !== 0x7b /* { */) return false;
    p = skipSpace(line, p + 1, n);
    const doc: Record<string, unknown> = {};
    let count = 0;
    if (line.charCodeAt(p) === 0x7d /* } */) {
      p++;
    } else {
      for (;;) {
        if (line.charCodeAt(p) !== 0x22 /* " */ || count >= MAX_FIELDS) return false;
        // The key: the previous line's key at this position when it matches, else read it.
        let key = this.keys[count];
        if (key !== undefined && line.startsWith(key, p + 1) && line.charCodeAt(p + 1 + key.length) === 0x22) {
          p += key.length + 2;
        } else {
          const end = stringEnd(line, p + 1, n);
          if (end < 0) return false;
          key = line.slice(p + 1, end);
          if (key === '__proto__') return false;
          this.keys[count] = key;
          p = end + 1;
        }
        for (let k = 0; k < count; k++) if (this.keys[k] === key) return false;
        p = skipSpace(line, p, n);
        if (line.charCodeAt(p) !== 0x3a /* : */) return false;
        p = skipSpace(line, p + 1, n);
        const value = this.value(line, p, n);
        if (value === undefined) return false;
        doc[key] = value;
        count++;
        p = skipSpace(line, this.pos, n);
        const c = line.charCodeAt(p);
        if (c === 0x2c /* , */) {
          p = skipSpace(line, p + 1, n);
          continue;
        }
        if (c !== 0x7d /* } */) return false;
        p++;
        break;
      }
    }
    if (skipSpace(line, p, n) !== n) return false;
    this.last.doc = doc;
    this.last.fields = count;
    return true;
  }

  /** A scalar value at `p`, its end left in `pos`; undefined to decline. */
  private value(line: string, p: number, n: number): unknown {
    const c = line.charCodeAt(p);
    if (c === 0x22 /* " */) {
      const end = stringEnd(line, p + 1, n);
      if (end < 0) return undefined;
      this.pos = end + 1;
      return line.slice(p + 1, end);
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return this.number(line, p, n);
    if (c === 0x74 /* t */ && line.startsWith('true', p)) {
      this.pos = p + 4;
      return true;
    }
    if (c === 0x66 /* f */ && line.startsWith('false', p)) {
      this.pos = p + 5;
      return false;
    }
    if (c === 0x6e /* n */ && line.startsWith('null', p)) {
      this.pos = p + 4;
      return null;
    }
    return undefined;
  }

  /**
   * A JSON number at `p` (the grammar checked strictly). Up to 15 significant digits and a
   * decimal exponent within ±22 the value is digits × or ÷ an exact power of ten, one
   * correctly rounded operation on exact operands: the correctly rounded value of the text,
   * which is what JSON.parse gives. Longer numbers go through Number(), the same conversion.
   */
  private number(line: string, p: number, n: number): number | undefined {
    const start = p;
    let negative = false;
    if (line.charCodeAt(p) === 0x2d) {
      negative = true;
      p++;
    }
    let mantissa = 0;
    let digits = 0;
    let c = line.charCodeAt(p);
    if (c === 0x30) {
      p++;
      c = line.charCodeAt(p);
      if (c >= 0x30 && c <= 0x39) return undefined; // a leading zero
    } else if (c >= 0x31 && c <= 0x39) {
      while (c >= 0x30 && c <= 0x39) {
        mantissa = mantissa * 10 + (c - 0x30);
        digits++;
        c = line.charCodeAt(++p);
      }
    } else {
      return undefined;
    }
    let scale = 0;
    if (c === 0x2e /* . */) {
      c = line.charCodeAt(++p);
      if (!(c >= 0x30 && c <= 0x39)) return undefined;
      while (c >= 0x30 && c <= 0x39) {
        mantissa = mantissa * 10 + (c - 0x30);
        if (mantissa !== 0) digits++;
        scale--;
        c = line.charCodeAt(++p);
      }
    }
    let exact = digits <= 15;
    if (c === 0x65 || c === 0x45 /* e E */) {
      c = line.charCodeAt(++p);
      let expNegative = false;
      if (c === 0x2b || c === 0x2d) {
        expNegative = c === 0x2d;
        c = line.charCodeAt(++p);
      }
      if (!(c >= 0x30 && c <= 0x39)) return undefined;
      let exp = 0;
      while (c >= 0x30 && c <= 0x39) {
        if (exp < 1000) exp = exp * 10 + (c - 0x30);
        c = line.charCodeAt(++p);
      }
      scale += expNegative ? -exp : exp;
      // Exponents always take the general conversion: rare in feeds, and digit counting above
      // does not account for them.
      exact = false;
    }
    this.pos = p;
    if (!exact || scale < -22 || scale > 22) return Number(line.slice(start, p));
    const abs = scale < 0 ? mantissa / (POW10[-scale] as number) : mantissa * (POW10[scale] as number);
    return negative ? -abs : abs;
  }
}

function skipSpace(line: string, p: number, n: number): number {
  while (p < n) {
    const c = line.charCodeAt(p);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) break;
    p++;
  }
  return p;
}

/** Index of the quote closing a string that starts at `p`; −1 for an escape, a control character or no end. */
function stringEnd(line: string, p: number, n: number): number {
  for (; p < n; p++) {
    const c = line.charCodeAt(p);
    if (c === 0x22) return p;
    if (c === 0x5c /* \ */ || c < 0x20) return -1;
  }
  return -1;
}
