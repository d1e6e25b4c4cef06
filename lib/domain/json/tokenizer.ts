/**
 * The JSON tokenizer: reads a request body into a located tree (./located-tree.ts) the way
 * Jackson's `UTF8StreamJsonParser` does (token locations, error texts, strict duplicate
 * detection).
 *
 * Why a hand-written reader instead of `JSON.parse`: Elasticsearch answers a malformed or
 * mistyped body with exact `[line:col]` errors (Jackson's locations and messages, wrapped by
 * `ObjectParser` in `x_content_parse_exception` chains), and clients and tests compare those
 * texts. `JSON.parse` gives neither locations in bytes nor Jackson's messages, and it cannot
 * stop at the point Jackson stops. The rest of this folder builds on the tree: the
 * `XContentParser` cursor (./xcontent-parser.ts) and the `ObjectParser` DSL
 * (./object-parser.ts), so that config parsers produce the same `x_content_parse_exception`
 * chains, in the same order, as the Java parsers.
 *
 * Locations are Jackson's: 1-based line, 1-based column counted in UTF-8 **bytes** of the
 * line (Elasticsearch parses request bytes). A token's location is its first byte (the opening
 * quote of a key). Syntax errors are located just after the offending character, as Jackson's
 * `getCurrentLocation()` is.
 *
 * Approximations (documented, not bugs): messages follow Jackson 2.17 for the common cases
 * (unexpected character, unrecognized token, bad escapes, control characters, numbers,
 * end-of-input, duplicate keys); the `[Source: …]` part of Jackson messages uses the redacted
 * form; content after the root value is ignored (Elasticsearch never reads it).
 *
 * Limits: Elasticsearch runs Jackson with its default `StreamReadConstraints` except for the
 * string and name lengths, which it lifts to `Integer.MAX_VALUE` (`XContentImplUtils.configure`).
 * So nesting deeper than {@link MAX_NESTING_DEPTH} and numbers longer than
 * {@link MAX_NUMBER_LENGTH} digits are refused with Jackson's `StreamConstraintsException`
 * texts; strings and names are not limited (our 100 MB body cap comes first). The depth limit
 * also keeps the recursive reader (and every walker of its tree) far from the JS stack limit.
 *
 * Comments: Elasticsearch enables `ALLOW_COMMENTS` on its JSON factory, so C (`/* … *\/`) and
 * C++ (`// …`) comments are whitespace here too.
 */
import { isIdentPart, isIdentStart, utf8Len } from './chars.ts';
import { constraintRef, MAX_ERROR_TOKEN_LENGTH, MAX_NESTING_DEPTH, MAX_NUMBER_LENGTH } from './jackson-limits.ts';
import { charDesc, sourceLocation } from './jackson-messages.ts';
import type { JsonArrayNode, JsonEntry, JsonNode, JsonNumberNode, JsonObjectNode, JsonStringNode, JsonSyntaxFault } from './located-tree.ts';
import type { JsonPos } from './position.ts';

// Fault, StringFault and ContainerFault are the reader's private control flow: they unwind the
// recursive reader to readJson(), which turns them into a JsonSyntaxFault kept in the tree.
// They never leave this file, so they are not part of the error hierarchy in ../errors.ts.
class Fault extends Error {
  constructor(readonly fault: JsonSyntaxFault) {
    super(fault.message);
  }
}

/** Reads one JSON document into a {@link JsonNode} tree, recording the first syntax fault in place. */
class Reader {
  private i = 0;
  private byte = 0;
  private line = 1;
  private lineStart = 0;
  /** Open containers around the current position (Jackson's `getNestingDepth`). */
  private depth = 0;

  constructor(private readonly text: string) {
    if (text.charCodeAt(0) === 0xfeff) this.i = 1; // BOM
  }

  private cp(): number {
    if (this.i >= this.text.length) return -1;
    return this.text.codePointAt(this.i) ?? -1;
  }

  pos(): JsonPos {
    return { line: this.line, col: this.byte - this.lineStart + 1 };
  }

  private adv(): number {
    const c = this.cp();
    if (c < 0) return c;
    this.i += c > 0xffff ? 2 : 1;
    this.byte += utf8Len(c);
    return c;
  }

  private fail(message: string, eof = false, at?: JsonPos): never {
    throw new Fault({ message, at: at ?? this.pos(), eof });
  }

  private unexpected(comment: string): never {
    const c = this.adv();
    if (c < 0) return this.fail('Unexpected end-of-input within/between Object entries', true);
    return this.fail(`Unexpected character (${charDesc(c)}): ${comment}`);
  }

  /** A `StreamConstraintsException`: Jackson's text, no location in the message. */
  private constraint(message: string, at: JsonPos): never {
    throw new Fault({ message, at, eof: false, constraint: true });
  }

  /** Jackson's `createChild…Context` + `validateNestingDepth`, at the opening bracket. */
  private enter(start: JsonPos): void {
    this.depth++;
    if (this.depth > MAX_NESTING_DEPTH) {
      this.constraint(`Document nesting depth (${this.depth}) exceeds the maximum allowed (${MAX_NESTING_DEPTH}, from ${constraintRef('getMaxNestingDepth')})`, start);
    }
  }

  /** Jackson's `_skipComment` (comments are enabled): `//` to the end of the line, `/* … *\/` anywhere. */
  private comment(): void {
    this.adv(); // '/'
    const c = this.cp();
    if (c < 0) this.fail('Unexpected end-of-input in a comment', true);
    this.adv();
    if (c === 0x2f) {
      for (;;) {
        const d = this.cp();
        if (d < 0 || d === 0x0a || d === 0x0d) return; // the line break is whitespace for ws()
        this.adv();
      }
    }
    if (c !== 0x2a) this.fail(`Unexpected character (${charDesc(c)}): was expecting either '*' or '/' for a comment`);
    for (;;) {
      const d = this.cp();
      if (d < 0) this.fail('Unexpected end-of-input in a comment', true);
      this.adv();
      if (d === 0x2a && this.cp() === 0x2f) {
        this.adv();
        return;
      }
      if (d === 0x0a || (d === 0x0d && this.cp() !== 0x0a)) {
        this.line++;
        this.lineStart = this.byte;
      }
    }
  }

  /** Skips JSON whitespace; returns the next code point (not consumed) or −1. */
  private ws(): number {
    for (;;) {
      const c = this.cp();
      if (c === 0x20 || c === 0x09) {
        this.adv();
      } else if (c === 0x0a) {
        this.adv();
        this.line++;
        this.lineStart = this.byte;
      } else if (c === 0x0d) {
        this.adv();
        if (this.cp() === 0x0a) this.adv();
        this.line++;
        this.lineStart = this.byte;
      } else if (c === 0x2f) {
        this.comment();
      } else {
        return c;
      }
    }
  }

  readRoot(): JsonNode | undefined {
    const c = this.ws();
    if (c < 0) return undefined;
    const node = this.value({ kind: 'root' });
    if (node.kind === 'number') {
      const n = this.cp();
      if (n >= 0 && n !== 0x20 && n !== 0x09 && n !== 0x0a && n !== 0x0d) {
        this.unexpected('Expected space separating root-level values');
      }
    }
    return node;
  }

  /** Reads a value whose first character is the next one (whitespace already skipped). */
  private value(ctx: { kind: 'root' | 'object' | 'array' }): JsonNode {
    const c = this.cp();
    const start = this.pos();
    if (c < 0) this.fail('Unexpected end-of-input within/between Object entries', true);
    switch (c) {
      case 0x7b:
        return this.object(start);
      case 0x5b:
        return this.array(start);
      case 0x22:
        return this.string(start);
      case 0x2d:
      case 0x30:
      case 0x31:
      case 0x32:
      case 0x33:
      case 0x34:
      case 0x35:
      case 0x36:
      case 0x37:
      case 0x38:
      case 0x39:
        return this.number(start);
      case 0x2b:
        return this.plusNumber();
      case 0x4e:
        return this.nonNumeric(start, 'NaN');
      case 0x49:
        return this.nonNumeric(start, 'Infinity');
      case 0x5d:
        if (ctx.kind === 'array') this.unexpected('expected a value');
        break;
      case 0x2c:
      case 0x7d:
        if (ctx.kind !== 'root' || c === 0x7d) this.unexpected('expected a value');
        break;
    }
    if (isIdentStart(c)) return this.literal(start);
    return this.unexpected("expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')");
  }

  private literal(start: JsonPos): JsonNode {
    let word = '';
    // Java identifier characters only; Jackson stops reading at the error cut, so do we.
    while (isIdentPart(this.cp()) && word.length < MAX_ERROR_TOKEN_LENGTH) word += String.fromCodePoint(this.adv());
    if (word === 'true' || word === 'false') return { kind: 'boolean', value: word === 'true', start, end: start };
    if (word === 'null') return { kind: 'null', start, end: start };
    return this.invalidToken(word);
  }

  /**
   * Jackson's `_reportInvalidToken` for the identifier `word` already read: the reported text
   * is cut at 256 characters with `...` (the cut character is the last consumed); otherwise the
   * character that ended the token is consumed before reporting.
   */
  private invalidToken(word: string): never {
    let shown = word;
    if ([...word].length >= MAX_ERROR_TOKEN_LENGTH) {
      shown = `${[...word].slice(0, MAX_ERROR_TOKEN_LENGTH).join('')}...`;
    } else {
      this.adv();
    }
    return this.fail(`Unrecognized token '${shown}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')`);
  }

  /** `NaN` / `Infinity` (and `-Infinity`, `+Infinity`, `±INF`): refused, `ALLOW_NON_NUMERIC_NUMBERS` is off. */
  private nonNumeric(_start: JsonPos, token: string): never {
    // Jackson matches the token letter by letter, then checks the character after it.
    let word = '';
    while (isIdentPart(this.cp()) && word.length < MAX_ERROR_TOKEN_LENGTH) word += String.fromCodePoint(this.adv());
    if (word !== token) return this.invalidToken(word);
    return this.fail(`Non-standard token '${word}': enable \`JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS\` to allow`);
  }

  /** A leading `+`: refused (`ALLOW_LEADING_PLUS_SIGN_FOR_NUMBERS` is off), `+Infinity`/`+INF` as non-numeric. */
  private plusNumber(): never {
    this.adv(); // '+'
    return this.afterSign('+');
  }

  /** Jackson's `_handleInvalidNumberStart` after a sign followed by no digit. */
  private afterSign(sign: '+' | '-'): never {
    if (this.cp() < 0) this.fail('Unexpected end-of-input in a Number value', true);
    let c = this.adv();
    if (c === 0x49) {
      if (this.cp() < 0) this.fail('Unexpected end-of-input in a Number value', true);
      const n = this.cp();
      if (n === 0x4e || n === 0x6e) {
        const token = n === 0x4e ? 'INF' : 'Infinity';
        let word = `${sign}I`;
        while (isIdentPart(this.cp()) && word.length < MAX_ERROR_TOKEN_LENGTH) word += String.fromCodePoint(this.adv());
        if (word !== sign + token) return this.invalidToken(word);
        return this.fail(`Non-standard token '${word}': enable \`JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS\` to allow`);
      }
      c = this.adv();
    }
    if (sign === '+') {
      return this.fail(
        "Unexpected character ('+' (code 43)) in numeric value: JSON spec does not allow numbers to have plus signs: enable `JsonReadFeature.ALLOW_LEADING_PLUS_SIGN_FOR_NUMBERS` to allow",
      );
    }
    return this.fail(`Unexpected character (${charDesc(c)}) in numeric value: expected digit (0-9) to follow minus sign, for valid numeric value`);
  }

  private number(start: JsonPos): JsonNumberNode {
    const from = this.i;
    const digit = (c: number): boolean => c >= 0x30 && c <= 0x39;
    if (this.cp() === 0x2d) {
      this.adv();
      if (!digit(this.cp())) this.afterSign('-');
    }
    let digits = 0;
    if (this.cp() === 0x30) {
      this.adv();
      digits++;
      if (digit(this.cp())) this.fail('Invalid numeric value: Leading zeroes not allowed');
    } else {
      while (digit(this.cp())) {
        this.adv();
        digits++;
      }
    }
    let isInt = true;
    if (this.cp() === 0x2e) {
      isInt = false;
      this.adv();
      if (!digit(this.cp())) {
        if (this.cp() < 0) this.fail('Unexpected end-of-input in a Number value', true);
        const c = this.adv();
        this.fail(`Unexpected character (${charDesc(c)}) in numeric value: Decimal point not followed by a digit`);
      }
      while (digit(this.cp())) {
        this.adv();
        digits++;
      }
    }
    if (this.cp() === 0x65 || this.cp() === 0x45) {
      isInt = false;
      this.adv();
      if (this.cp() === 0x2b || this.cp() === 0x2d) this.adv();
      if (!digit(this.cp())) {
        if (this.cp() < 0) this.fail('Unexpected end-of-input in a Number value', true);
        const c = this.adv();
        this.fail(`Unexpected character (${charDesc(c)}) in numeric value: Exponent indicator not followed by a digit`);
      }
      while (digit(this.cp())) {
        this.adv();
        digits++;
      }
    }
    // resetInt / resetFloat: validateIntegerLength(intLen) / validateFPLength(intLen + fractLen + expLen).
    if (digits > MAX_NUMBER_LENGTH) {
      this.constraint(`Number value length (${digits}) exceeds the maximum allowed (${MAX_NUMBER_LENGTH}, from ${constraintRef('getMaxNumberLength')})`, start);
    }
    const raw = this.text.slice(from, this.i);
    return { kind: 'number', value: Number(raw), raw, isInt, start, end: start };
  }

  /** Reads a string body after its opening quote position `start`; faults are kept on the node. */
  private string(start: JsonPos): JsonStringNode {
    const node: JsonStringNode = { kind: 'string', value: '', start, end: start };
    try {
      node.value = this.stringBody('string value');
    } catch (e) {
      if (e instanceof Fault) {
        node.fault = e.fault;
        // Nothing after a broken string can be read: propagate so the containers stop here too.
        throw new StringFault(node, e.fault);
      }
      throw e;
    }
    return node;
  }

  private stringBody(what: 'string value' | 'name'): string {
    this.adv(); // opening quote
    let out = '';
    for (;;) {
      const c = this.cp();
      if (c < 0) {
        this.fail(
          what === 'name' ? `Unexpected end-of-input: was expecting closing '"' for name` : 'Unexpected end-of-input: was expecting closing quote for a string value',
          true,
        );
      }
      if (c === 0x22) {
        this.adv();
        return out;
      }
      if (c === 0x5c) {
        this.adv();
        const e = this.cp();
        if (e < 0) this.fail('Unexpected end-of-input in character escape sequence', true);
        this.adv();
        switch (e) {
          case 0x22:
            out += '"';
            break;
          case 0x5c:
            out += '\\';
            break;
          case 0x2f:
            out += '/';
            break;
          case 0x62:
            out += '\b';
            break;
          case 0x66:
            out += '\f';
            break;
          case 0x6e:
            out += '\n';
            break;
          case 0x72:
            out += '\r';
            break;
          case 0x74:
            out += '\t';
            break;
          case 0x75: {
            let code = 0;
            for (let k = 0; k < 4; k++) {
              const h = this.cp();
              if (h < 0) this.fail('Unexpected end-of-input in character escape sequence', true);
              this.adv();
              const v = parseInt(String.fromCodePoint(h), 16);
              if (Number.isNaN(v) || !/[0-9a-fA-F]/.test(String.fromCodePoint(h))) {
                this.fail(`Unexpected character (${charDesc(h)}): expected a hex-digit for character escape sequence`);
              }
              code = code * 16 + v;
            }
            out += String.fromCharCode(code);
            break;
          }
          default:
            this.fail(`Unrecognized character escape ${charDesc(e)}`);
        }
        continue;
      }
      if (c < 0x20) {
        this.adv();
        this.fail(`Illegal unquoted character (${charDesc(c)}): has to be escaped using backslash to be included in ${what === 'name' ? 'name' : 'string value'}`);
      }
      out += String.fromCodePoint(this.adv());
    }
  }

  private object(start: JsonPos): JsonObjectNode {
    this.adv(); // {
    this.enter(start);
    const node: JsonObjectNode = { kind: 'object', entries: [], start, end: start };
    const keys = new Set<string>();
    const endOfInput = (): never => this.fail(`Unexpected end-of-input: expected close marker for Object (start marker at ${sourceLocation(start)})`, true);
    try {
      let c = this.ws();
      if (c === 0x7d) {
        node.end = this.pos();
        this.adv();
        this.depth--;
        return node;
      }
      for (;;) {
        if (c < 0) endOfInput();
        if (c !== 0x22) this.unexpected('was expecting double-quote to start field name');
        const keyPos = this.pos();
        const key = this.stringBody('name');
        if (keys.has(key)) this.fail(`Duplicate field '${key}'`);
        keys.add(key);
        c = this.ws();
        if (c < 0) this.fail('Unexpected end-of-input within/between Object entries', true);
        if (c !== 0x3a) this.unexpected('was expecting a colon to separate field name and value');
        this.adv();
        this.ws();
        const entry: JsonEntry = { key, keyPos, value: { kind: 'null', start: keyPos, end: keyPos } };
        try {
          entry.value = this.value({ kind: 'object' });
        } catch (e) {
          if (e instanceof StringFault) {
            entry.value = e.node;
            node.entries.push(entry);
          } else if (e instanceof ContainerFault) {
            entry.value = e.node;
            node.entries.push(entry);
          }
          throw e;
        }
        node.entries.push(entry);
        c = this.ws();
        if (c === 0x2c) {
          this.adv();
          c = this.ws();
          continue;
        }
        if (c === 0x7d) {
          node.end = this.pos();
          this.adv();
          this.depth--;
          return node;
        }
        if (c < 0) endOfInput();
        this.unexpected('was expecting comma to separate Object entries');
      }
    } catch (e) {
      if (e instanceof Fault || e instanceof StringFault || e instanceof ContainerFault) {
        const fault = e instanceof Fault ? e.fault : e.fault;
        node.fault = fault;
        node.end = fault.at;
        throw new ContainerFault(node, fault);
      }
      throw e;
    }
  }

  private array(start: JsonPos): JsonArrayNode {
    this.adv(); // [
    this.enter(start);
    const node: JsonArrayNode = { kind: 'array', items: [], start, end: start };
    const endOfInput = (): never => this.fail(`Unexpected end-of-input: expected close marker for Array (start marker at ${sourceLocation(start)})`, true);
    try {
      let c = this.ws();
      if (c === 0x5d) {
        node.end = this.pos();
        this.adv();
        this.depth--;
        return node;
      }
      for (;;) {
        if (c < 0) endOfInput();
        try {
          node.items.push(this.value({ kind: 'array' }));
        } catch (e) {
          if (e instanceof StringFault || e instanceof ContainerFault) node.items.push(e.node);
          throw e;
        }
        c = this.ws();
        if (c === 0x2c) {
          this.adv();
          c = this.ws();
          continue;
        }
        if (c === 0x5d) {
          node.end = this.pos();
          this.adv();
          this.depth--;
          return node;
        }
        if (c < 0) endOfInput();
        this.unexpected('was expecting comma to separate Array entries');
      }
    } catch (e) {
      if (e instanceof Fault || e instanceof StringFault || e instanceof ContainerFault) {
        const fault = e instanceof Fault ? e.fault : e.fault;
        node.fault = fault;
        node.end = fault.at;
        throw new ContainerFault(node, fault);
      }
      throw e;
    }
  }
}

class StringFault extends Error {
  constructor(
    readonly node: JsonStringNode,
    readonly fault: JsonSyntaxFault,
  ) {
    super(fault.message);
  }
}

class ContainerFault extends Error {
  constructor(
    readonly node: JsonObjectNode | JsonArrayNode,
    readonly fault: JsonSyntaxFault,
  ) {
    super(fault.message);
  }
}

/** Result of {@link readJson}: the (possibly partial) tree and the syntax fault, if any. */
export interface JsonReadResult {
  /** `undefined` when the text holds no value at all (empty or whitespace only). */
  root: JsonNode | undefined;
  /** The syntax error that stopped reading; the partial tree carries it where it was met. */
  fault?: JsonSyntaxFault;
}

/**
 * Reads `text` into a located tree. Never throws for bad JSON: the tree stops where Jackson
 * would have failed and the fault is attached to the node being read at that point, so a
 * reader walking the tree in document order meets the error exactly when Elasticsearch would.
 */
export function readJson(text: string): JsonReadResult {
  const reader = new Reader(text);
  try {
    return { root: reader.readRoot() };
  } catch (e) {
    if (e instanceof ContainerFault || e instanceof StringFault) return { root: e.node, fault: e.fault };
    if (e instanceof Fault) return { root: undefined, fault: e.fault };
    throw e;
  }
}
