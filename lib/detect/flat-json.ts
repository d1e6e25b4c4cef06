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
  /** Keys of the last line read (a line whose keys all match them reuses {@link build}). */
  private keys: string[] = [];
  /** Values of the line being read, by position. */
  private readonly values: unknown[] = [];
  /** Builds the object of the last line's keys from {@link values}; its `length` is their number. */
  private build: Builder = builderOf([], 0);
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
    const values = this.values;
    let sameKeys = true;
    let count = 0;
    if (line.charCodeAt(p) === 0x7d /* } */) {
      p++;
    } else {
      for (;;) {
        if (line.charCodeAt(p) !== 0x22 /* " */ || count >= MAX_FIELDS) return false;
        // The key: the previous line's key at this position when it matches, else read it.
        let key = this.keys[count];
        if (key !== undefined && sameKeys && keyAt(line, p + 1, key)) {
          p += key.length + 2;
        } else {
          const end = stringEnd(line, p + 1, n);
          if (end < 0) return false;
          key = line.slice(p + 1, end);
          if (key === '__proto__') return false;
          for (let k = 0; k < count; k++) if (this.keys[k] === key) return false;
          this.keys[count] = key;
          sameKeys = false;
          p = end + 1;
        }
        p = skipSpace(line, p, n);
        if (line.charCodeAt(p) !== 0x3a /* : */) return false;
        p = skipSpace(line, p + 1, n);
        const value = this.value(line, p, n);
        if (value === undefined) return false;
        values[count] = value;
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
    if (!sameKeys || count !== this.build.length) this.build = builderOf(this.keys, count);
    this.last.doc = this.build(values);
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
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return this.number(line, p);
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
   * No end bound is needed: the line ends in a line break or the body, neither a digit.
   */
  private number(line: string, p: number): number | undefined {
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

type Builder = (values: unknown[]) => Record<string, unknown>;

/** Builders by key list (JSON array of the keys); a feed uses one or a few. */
const builders = new Map<string, Builder>();
const MAX_BUILDERS = 256;

/**
 * A function returning an object literal with the first `count` of `keys`, in order, set to
 * `values[0…]`. Why generated code: a literal of one shape is built from a boilerplate in one
 * step, where assigning keys one by one through a variable key is a megamorphic store per
 * field. The keys are written as JSON string literals (JSON.stringify), never as code, and
 * `__proto__` (which a literal would take as the prototype) and duplicates never get here.
 */
function builderOf(keys: string[], count: number): Builder {
  const list = keys.slice(0, count);
  const id = JSON.stringify(list);
  let build = builders.get(id);
  if (build === undefined) {
    const body = `return {${list.map((k, i) => `${JSON.stringify(k)}: v[${i}]`).join(', ')}};`;
    // Function's arity is the parameter count (1); `length` below is overridden to `count`.
    build = Object.defineProperty(new Function('v', body) as Builder, 'length', { value: count });
    if (builders.size >= MAX_BUILDERS) builders.clear();
    builders.set(id, build);
  }
  return build;
}

/** Whether the string at `p` is `"key"`, key being free of quotes and escapes. */
function keyAt(line: string, p: number, key: string): boolean {
  const len = key.length;
  for (let i = 0; i < len; i++) if (line.charCodeAt(p + i) !== key.charCodeAt(i)) return false;
  return line.charCodeAt(p + len) === 0x22;
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
