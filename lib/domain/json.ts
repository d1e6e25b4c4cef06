/**
 * JSON bodies the way Elasticsearch reads them: a position-aware JSON reader that mimics
 * Jackson's `UTF8StreamJsonParser` (token locations, error texts, strict duplicate detection)
 * and a small re-implementation of Elasticsearch's `ObjectParser` /
 * `ConstructingObjectParser` over it, so that config parsers produce the same
 * `x_content_parse_exception` chains, in the same order, as the Java parsers.
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
import { EsError, IllegalArgumentError, IllegalStateError, ParseError, XContentParseError } from './errors.ts';

// ---------------------------------------------------------------------------------------
// Tree
// ---------------------------------------------------------------------------------------

/** A Jackson location: 1-based line and 1-based UTF-8 byte column. */
export interface JsonPos {
  line: number;
  col: number;
}

/** `XContentLocation.toString()`: `line:col`. */
export function formatPos(pos: JsonPos): string {
  return `${pos.line}:${pos.col}`;
}

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

/** Jackson's redacted source description used in its messages. */
const SOURCE = 'REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)';

function sourceLocation(pos: JsonPos): string {
  return `[Source: ${SOURCE}; line: ${pos.line}, column: ${pos.col}]`;
}

/** Jackson's `_getCharDesc`. */
function charDesc(cp: number): string {
  if (cp < 0) return '(end-of-input)';
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return `(CTRL-CHAR, code ${cp})`;
  const c = String.fromCodePoint(cp);
  if (cp > 255) return `'${c}' (code ${cp} / 0x${cp.toString(16)})`;
  return `'${c}' (code ${cp})`;
}

class Fault extends Error {
  constructor(readonly fault: JsonSyntaxFault) {
    super(fault.message);
  }
}

function utf8Len(cp: number): number {
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp < 0x10000) return 3;
  return 4;
}

/** Jackson's nesting limit (`StreamReadConstraints.DEFAULT_MAX_DEPTH`): the 1001st open container fails. */
export const MAX_NESTING_DEPTH = 1000;
/** Jackson's number length limit (`StreamReadConstraints.DEFAULT_MAX_NUM_LEN`), in digits. */
export const MAX_NUMBER_LENGTH = 1000;
/** Jackson's `ErrorReportConfiguration.DEFAULT_MAX_ERROR_TOKEN_LENGTH`: longer tokens are cut and end with `...`. */
const MAX_ERROR_TOKEN_LENGTH = 256;

// Character.isJavaIdentifierStart / isJavaIdentifierPart (the latter includes the
// identifier-ignorable controls and format characters). −1 (end of input) is neither.
const isIdentStart = (cp: number): boolean => cp >= 0 && /[\p{L}\p{Nl}$_\p{Sc}\p{Pc}]/u.test(String.fromCodePoint(cp));
const isIdentPart = (cp: number): boolean =>
  cp >= 0 &&
  (/[\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}$_\p{Sc}\p{Pc}\p{Cf}]/u.test(String.fromCodePoint(cp)) ||
    (cp >= 0 && cp <= 8) ||
    (cp >= 0x0e && cp <= 0x1b) ||
    (cp >= 0x7f && cp <= 0x9f));

const constraintRef = (method: string): string => `\`StreamReadConstraints.${method}()\``;

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
      this.constraint(
        `Document nesting depth (${this.depth}) exceeds the maximum allowed (${MAX_NESTING_DEPTH}, from ${constraintRef('getMaxNestingDepth')})`,
        start,
      );
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
    return this.unexpected(
      "expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
    );
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
      shown = [...word].slice(0, MAX_ERROR_TOKEN_LENGTH).join('') + '...';
    } else {
      this.adv();
    }
    return this.fail(
      `Unrecognized token '${shown}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')`,
    );
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
    return this.fail(
      `Unexpected character (${charDesc(c)}) in numeric value: expected digit (0-9) to follow minus sign, for valid numeric value`,
    );
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
      this.constraint(
        `Number value length (${digits}) exceeds the maximum allowed (${MAX_NUMBER_LENGTH}, from ${constraintRef('getMaxNumberLength')})`,
        start,
      );
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
          what === 'name'
            ? `Unexpected end-of-input: was expecting closing '"' for name`
            : 'Unexpected end-of-input: was expecting closing quote for a string value',
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
        this.fail(
          `Illegal unquoted character (${charDesc(c)}): has to be escaped using backslash to be included in ${what === 'name' ? 'name' : 'string value'}`,
        );
      }
      out += String.fromCodePoint(this.adv());
    }
  }

  private object(start: JsonPos): JsonObjectNode {
    this.adv(); // {
    this.enter(start);
    const node: JsonObjectNode = { kind: 'object', entries: [], start, end: start };
    const keys = new Set<string>();
    const endOfInput = (): never =>
      this.fail(
        `Unexpected end-of-input: expected close marker for Object (start marker at ${sourceLocation(start)})`,
        true,
      );
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
    const endOfInput = (): never =>
      this.fail(`Unexpected end-of-input: expected close marker for Array (start marker at ${sourceLocation(start)})`, true);
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

// ---------------------------------------------------------------------------------------
// Errors with locations
// ---------------------------------------------------------------------------------------

export { isJavaException } from './errors.ts';

/**
 * 400 `x_content_parse_exception` with its location kept apart from the text. The reason is
 * `[line:col] <message>` when a location is known.
 *
 * `rootCause()` follows `ElasticsearchException.guessRootCauses` for parse exceptions: it
 * descends into a cause that is another parse exception or an Elasticsearch exception, and
 * stops at itself when the cause is a plain Java exception (e.g. `"model_prune_window":"8w"`
 * has this error, not the `illegal_argument_exception`, as root cause).
 */
export class XContentParseLocatedError extends XContentParseError {
  readonly location: JsonPos | null;
  constructor(location: JsonPos | null, message: string, cause?: EsError) {
    super(location ? `[${formatPos(location)}] ${message}` : message, cause ? { cause } : {});
    this.location = location;
  }

}

/** 400 `x_content_e_o_f_exception` (`XContentEOFException`, a subclass of the parse exception). */
export class XContentEOFError extends XContentParseLocatedError {
  constructor(location: JsonPos | null, message: string, cause?: EsError) {
    super(location, message, cause);
    Object.defineProperty(this, 'type', { value: 'x_content_e_o_f_exception' });
  }
}

/**
 * 400 `stream_constraints_exception`: Jackson's `StreamConstraintsException` (nesting depth,
 * number length). It is a plain Java exception (root-cause search stops at it), and
 * `JsonXContentParser` lets it through unrelocated, so the reason has no `[line:col]`.
 * Inside a typed field Elasticsearch's `ObjectParser` wraps it in
 * `[<l:c>] [<parser>] failed to parse field [<f>]` (400); at top level Elasticsearch would
 * answer 500 (an `IOException`), which no client expects for a malformed body, so it is 400
 * here as well.
 */
export class StreamConstraintsError extends EsError {
  /** Location of the token that broke the limit (for the wrappers' `[line:col]`). */
  readonly location: JsonPos;
  constructor(location: JsonPos, message: string) {
    super('stream_constraints_exception', 400, message);
    this.location = location;
  }
}

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

// ---------------------------------------------------------------------------------------
// Plain parsing
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Java collections ordering
// ---------------------------------------------------------------------------------------

/** `String.hashCode()`. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The iteration order of a `java.util.HashMap<String, ?>` filled by `put` in `keys` order
 * (load factor 0.75; `new HashMap<>()` has capacity 16, `new HashMap<>(2)` capacity 2): by
 * bucket index of the final table, then insertion order within a bucket. Elasticsearch echoes
 * `p.map()` results (rule scopes) and `Settings` structured maps in this order.
 */
export function javaHashMapOrder(keys: readonly string[], initialCapacity = 16): string[] {
  const unique = [...new Set(keys)];
  let capacity = 1;
  while (capacity < initialCapacity) capacity *= 2;
  while (unique.length > capacity * 0.75) capacity *= 2;
  const bucket = (k: string): number => {
    const h = javaStringHash(k);
    return (h ^ (h >>> 16)) & (capacity - 1);
  };
  return unique
    .map((k, i) => ({ k, i, b: bucket(k) }))
    .sort((a, b) => a.b - b.b || a.i - b.i)
    .map((e) => e.k);
}

/** Lucene `LevenshteinDistance.getDistance` (a similarity in [0, 1], as a Java float). */
function luceneLevenshtein(target: string, other: string): number {
  const n = target.length;
  const m = other.length;
  if (n === 0 || m === 0) return n === m ? 1 : 0;
  let p = Array.from({ length: n + 1 }, (_, i) => i);
  let d = new Array<number>(n + 1).fill(0);
  for (let j = 1; j <= m; j++) {
    const tj = other.charCodeAt(j - 1);
    d[0] = j;
    for (let i = 1; i <= n; i++) {
      const cost = target.charCodeAt(i - 1) === tj ? 0 : 1;
      d[i] = Math.min(Math.min((d[i - 1] ?? 0) + 1, (p[i] ?? 0) + 1), (p[i - 1] ?? 0) + cost);
    }
    const t = p;
    p = d;
    d = t;
  }
  return Math.fround(1 - Math.fround((p[n] ?? 0) / Math.max(m, n)));
}

/**
 * `SuggestingErrorOnUnknown.errorMessage`: `[<parser>] unknown field [<f>]` plus
 * ` did you mean [<c>]?` / ` did you mean any of [<c1>, <c2>]?` for candidates with a
 * Lucene Levenshtein similarity above 0.5 (best first, then by name).
 */
export function unknownFieldMessage(parserName: string, field: string, candidates: readonly string[]): string {
  const message = `[${parserName}] unknown field [${field}]`;
  const scored = candidates
    .map((c) => ({ c, d: luceneLevenshtein(field, c) }))
    .filter((s) => s.d > 0.5)
    .sort((a, b) => b.d - a.d || (a.c < b.c ? -1 : a.c > b.c ? 1 : 0));
  if (scored.length === 0) return message;
  const keys = scored.map((s) => s.c);
  return `${message} did you mean ${keys.length === 1 ? `[${keys[0]}]` : `any of [${keys.join(', ')}]`}?`;
}

// ---------------------------------------------------------------------------------------
// XContent reading primitives
// ---------------------------------------------------------------------------------------

const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;
const INT_MAX = 2147483647n;
const INT_MIN = -2147483648n;

/** A Java `NumberFormatException` as a cause. */
function numberFormat(message: string): EsError {
  return new EsError('number_format_exception', 400, message);
}

/**
 * A cursor over a located tree that mirrors `XContentParser`: it tracks the "current token"
 * location (`p.cursor`) that Elasticsearch's wrappers use in `[line:col]` prefixes, and
 * offers the value readers (`text()`, `longValue()`, `map()`, …) with Elasticsearch's coercion
 * rules and error texts.
 */
export class XParser {
  /** Location of the current token. */
  cursor: JsonPos;

  constructor(start: JsonPos = { line: 1, col: 1 }) {
    this.cursor = start;
  }

  /**
   * The error for a fault met while walking the tree. A limit breach moves the cursor to the
   * token that broke it: Jackson had already taken that token's location when it refused it, so
   * `ObjectParser`'s `failed to parse field` wrapper points there.
   */
  faultError(fault: JsonSyntaxFault, via: 'field' | 'token'): EsError {
    if (fault.constraint) this.cursor = fault.at;
    return syntaxError(fault, via);
  }

  /** Moves to a node's first token. */
  at(node: JsonNode): void {
    this.cursor = node.start;
  }

  /** Moves to a node's last token (after consuming it). */
  done(node: JsonNode): void {
    this.cursor = node.end;
  }

  /** `text()`: strings, numbers (their literal) and booleans; otherwise `Expected text at l:c but found X`. */
  text(node: JsonNode): string {
    this.at(node);
    switch (node.kind) {
      case 'string':
        if (node.fault) throw this.faultError(node.fault, 'field');
        return node.value;
      case 'number':
        return node.raw;
      case 'boolean':
        return String(node.value);
      default:
        throw new IllegalArgumentError(`Expected text at ${formatPos(node.start)} but found ${tokenOf(node)}`);
    }
  }

  /** `longValue()` with coercion: numbers are truncated, strings go through `Numbers.toLong`. */
  longValue(node: JsonNode): number {
    return Number(this.integral(node, LONG_MIN, LONG_MAX, 'long'));
  }

  /** `intValue()` with coercion. */
  intValue(node: JsonNode): number {
    return Number(this.integral(node, INT_MIN, INT_MAX, 'int'));
  }

  private integral(node: JsonNode, min: bigint, max: bigint, kind: 'long' | 'int'): bigint {
    this.at(node);
    if (node.kind === 'string') {
      const s = this.text(node);
      const typeName = kind === 'long' ? 'a long' : 'an integer';
      if (/^[+-]?\d+$/.test(s)) {
        const v = BigInt(s);
        if (v >= min && v <= max) return v;
      }
      const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
      if (!m || ((m[2] ?? '') === '' && (m[3] ?? '') === '')) throw new IllegalArgumentError(`For input string: "${s}"`);
      const value = Number(s);
      if (!(value < Number(max) + 1) || !(value > Number(min) - 1)) {
        throw new IllegalArgumentError(`Value [${s}] is out of range for ${typeName}`);
      }
      return BigInt(Math.trunc(value));
    }
    if (node.kind === 'number') {
      const tooBig = (): never => {
        throw new XContentParseLocatedError(
          node.start,
          `Numeric value (${node.raw}) out of range of ${kind} (${min} - ${max})\n at ${sourceLocation(node.start)}`,
        );
      };
      if (node.isInt) {
        const v = BigInt(node.raw);
        if (v > max || v < min) tooBig();
        return v;
      }
      if (node.value > Number(max) || node.value < Number(min)) tooBig();
      return BigInt(Math.trunc(node.value));
    }
    throw new IllegalArgumentError(`Expected text at ${formatPos(node.start)} but found ${tokenOf(node)}`);
  }

  /** `doubleValue()`: numbers as is, strings through `Double.parseDouble` (`number_format_exception`). */
  doubleValue(node: JsonNode): number {
    this.at(node);
    if (node.kind === 'number') return node.value;
    const s = this.text(node);
    const t = s.trim();
    const m = /^([+-]?)(?:(NaN|Infinity)|((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fFdD]?)$/.exec(t);
    if (!m) throw numberFormat(t.length === 0 ? 'empty String' : `For input string: "${s}"`);
    if (m[2] === 'NaN') return NaN;
    if (m[2] === 'Infinity') return m[1] === '-' ? -Infinity : Infinity;
    return (m[1] === '-' ? -1 : 1) * Number(m[3]);
  }

  /** `booleanValue()`: JSON booleans, or the strings `"true"` / `"false"`. */
  booleanValue(node: JsonNode): boolean {
    this.at(node);
    if (node.kind === 'boolean') return node.value;
    const s = this.text(node);
    if (s === 'true') return true;
    if (s === 'false') return false;
    throw new IllegalArgumentError(`Failed to parse value [${s}] as only [true] or [false] are allowed.`);
  }

  /**
   * `map()` (ordered = false: `HashMap` iteration order, recursively) or `mapOrdered()`
   * (insertion order). Syntax faults met inside are thrown as `nextToken()` would.
   */
  map(node: JsonNode, ordered: boolean): Record<string, unknown> {
    this.at(node);
    if (node.kind !== 'object') {
      throw new IllegalStateError(`Failed to parse object: expecting token of type [START_OBJECT] but found [${tokenOf(node)}]`);
    }
    const v = this.readValue(node, ordered);
    this.done(node);
    return v as Record<string, unknown>;
  }

  /** Reads any value as `readValue` does inside `map()`. */
  readValue(node: JsonNode, ordered: boolean): unknown {
    this.at(node);
    switch (node.kind) {
      case 'object': {
        const entries: [string, unknown][] = [];
        for (const e of node.entries) {
          this.cursor = e.keyPos;
          entries.push([e.key, this.readValue(e.value, ordered)]);
        }
        if (node.fault) throw this.faultError(node.fault, 'token');
        this.done(node);
        const keys = ordered ? entries.map(([k]) => k) : javaHashMapOrder(entries.map(([k]) => k));
        const byKey = new Map(entries);
        const out: Record<string, unknown> = {};
        for (const k of keys) {
          Object.defineProperty(out, k, { value: byKey.get(k), enumerable: true, writable: true, configurable: true });
        }
        return out;
      }
      case 'array': {
        const out = node.items.map((n) => this.readValue(n, ordered));
        if (node.fault) throw this.faultError(node.fault, 'token');
        this.done(node);
        return out;
      }
      case 'string':
        if (node.fault) throw this.faultError(node.fault, 'field');
        return node.value;
      case 'number':
        return node.value;
      case 'boolean':
        return node.value;
      case 'null':
        return null;
    }
  }

  /** Walks a value without using it (lenient parsers skipping unknown fields), surfacing faults. */
  skip(node: JsonNode): void {
    this.readValue(node, true);
  }

  /**
   * `AbstractObjectParser.parseArray`: a single value (or object, or null) is a one-element
   * list; otherwise each element is read with `item`; a nested array is an
   * `illegal_state_exception` `expected value but got [START_ARRAY]`.
   */
  array<T>(node: JsonNode, item: (n: JsonNode) => T): T[] {
    this.at(node);
    if (node.kind !== 'array') return [item(node)];
    const out: T[] = [];
    for (const n of node.items) {
      this.at(n);
      if (n.kind === 'array') throw new IllegalStateError('expected value but got [START_ARRAY]');
      out.push(item(n));
    }
    if (node.fault) throw this.faultError(node.fault, 'token');
    this.done(node);
    return out;
  }

  /**
   * `declareObjectArray` items parsed with an object parser, including Elasticsearch's quirk
   * for a non-object element: `ObjectParser.parse` advances one token, so a scalar directly
   * followed by an object parses that object, and otherwise the error names the next token
   * (`[<parser>] Expected START_OBJECT but was: END_ARRAY`).
   */
  objectArray<T>(node: JsonNode, parser: { name: string; parse(n: JsonNode, p: XParser): T }): T[] {
    this.at(node);
    if (node.kind === 'object') return [parser.parse(node, this)];
    if (node.kind !== 'array') {
      // A single scalar: the parser steps to the token after it, which belongs to the enclosing object.
      throw new XContentParseLocatedError(node.end, `[${parser.name}] Expected START_OBJECT but was: ${tokenOf(node)}`);
    }
    const out: T[] = [];
    for (let i = 0; i < node.items.length; i++) {
      const n = node.items[i];
      if (!n) break;
      this.at(n);
      if (n.kind === 'array') throw new IllegalStateError('expected value but got [START_ARRAY]');
      if (n.kind === 'object') {
        out.push(parser.parse(n, this));
        continue;
      }
      const next = node.items[i + 1];
      if (next === undefined) {
        if (node.fault) throw this.faultError(node.fault, 'token');
        throw new XContentParseLocatedError(node.end, `[${parser.name}] Expected START_OBJECT but was: END_ARRAY`);
      }
      if (next.kind !== 'object') {
        throw new XContentParseLocatedError(next.start, `[${parser.name}] Expected START_OBJECT but was: ${tokenOf(next)}`);
      }
      out.push(parser.parse(next, this));
      i++;
    }
    if (node.fault) throw this.faultError(node.fault, 'token');
    this.done(node);
    return out;
  }
}

// ---------------------------------------------------------------------------------------
// ObjectParser / ConstructingObjectParser
// ---------------------------------------------------------------------------------------

/** `ObjectParser.ValueType` token sets used by the ML parsers. */
export const ValueType = {
  STRING: ['VALUE_STRING'],
  STRING_OR_NULL: ['VALUE_STRING', 'VALUE_NULL'],
  LONG: ['VALUE_NUMBER', 'VALUE_STRING'],
  INT: ['VALUE_NUMBER', 'VALUE_STRING'],
  DOUBLE: ['VALUE_NUMBER', 'VALUE_STRING'],
  BOOLEAN: ['VALUE_BOOLEAN', 'VALUE_STRING'],
  STRING_ARRAY: ['START_ARRAY', 'VALUE_STRING'],
  OBJECT: ['START_OBJECT'],
  OBJECT_ARRAY: ['START_OBJECT', 'START_ARRAY'],
  OBJECT_OR_STRING: ['START_OBJECT', 'VALUE_STRING'],
  VALUE: ['VALUE_BOOLEAN', 'VALUE_NULL', 'VALUE_NUMBER', 'VALUE_STRING'],
} as const satisfies Record<string, readonly XToken[]>;

/** One declared field of an {@link XObjectParser}. */
export interface XField<T> {
  /** Tokens the field accepts (`ValueType`); others fail with `<field> doesn't support values of type: X`. */
  types: readonly XToken[];
  /** The value parser (`ContextParser`); its errors are wrapped in `failed to parse field`. */
  parse: (node: JsonNode, p: XParser) => unknown;
  /** The consumer for ordinary fields; for a constructing parser it is queued until the target exists. */
  set?: (target: T, value: unknown) => void;
  /** Marks a constructor argument of a constructing parser. */
  arg?: 'required' | 'optional';
}

/** Common field declarations. */
export const fields = {
  string<T>(set: (t: T, v: string) => void): XField<T> {
    return { types: ValueType.STRING, parse: (n, p) => p.text(n), set: (t, v) => set(t, v as string) };
  },
  stringOrNull<T>(set: (t: T, v: string | null) => void): XField<T> {
    return {
      types: ValueType.STRING_OR_NULL,
      parse: (n, p) => (n.kind === 'null' ? null : p.text(n)),
      set: (t, v) => set(t, v as string | null),
    };
  },
  stringArray<T>(set: (t: T, v: string[]) => void): XField<T> {
    return { types: ValueType.STRING_ARRAY, parse: (n, p) => p.array(n, (i) => p.text(i)), set: (t, v) => set(t, v as string[]) };
  },
  long<T>(set: (t: T, v: number) => void): XField<T> {
    return { types: ValueType.LONG, parse: (n, p) => p.longValue(n), set: (t, v) => set(t, v as number) };
  },
  int<T>(set: (t: T, v: number) => void): XField<T> {
    return { types: ValueType.INT, parse: (n, p) => p.intValue(n), set: (t, v) => set(t, v as number) };
  },
  boolean<T>(set: (t: T, v: boolean) => void): XField<T> {
    return { types: ValueType.BOOLEAN, parse: (n, p) => p.booleanValue(n), set: (t, v) => set(t, v as boolean) };
  },
  object<T, V>(parser: { parse(n: JsonNode, p: XParser): V }, set: (t: T, v: V) => void): XField<T> {
    return { types: ValueType.OBJECT, parse: (n, p) => parser.parse(n, p), set: (t, v) => set(t, v as V) };
  },
} as const;

/**
 * Elasticsearch's `ObjectParser` (with `create`) or `ConstructingObjectParser` (with
 * `construct`), strict unless `lenient`:
 *
 * - a non-object input fails with `[<name>] Expected START_OBJECT but was: <TOKEN>`;
 * - fields are read in document order; an unknown one fails at its key with
 *   `[<name>] unknown field [<f>]` (plus a "did you mean" suggestion);
 * - a value of an unsupported token type fails with `[<name>] <f> doesn't support values of type: <TOKEN>`;
 * - any error while reading or applying a value is wrapped in
 *   `[<line:col>] [<name>] failed to parse field [<f>]` (location = current token then);
 * - constructing parsers queue ordinary fields until all constructor arguments arrived, then
 *   replay them last-first; failures then read `failed to build [<name>] after last required
 *   field arrived` (or `Failed to build …` without location for non-parse errors); missing
 *   required arguments give `Required [<a>, <b>]`.
 */
export class XObjectParser<T> {
  private readonly argNames: string[];

  constructor(
    readonly name: string,
    private readonly fieldSpecs: Readonly<Record<string, XField<T>>>,
    private readonly make: { create: () => T } | { construct: (args: unknown[]) => T },
    private readonly lenient = false,
  ) {
    this.argNames = Object.entries(fieldSpecs)
      .filter(([, f]) => f.arg !== undefined)
      .map(([k]) => k);
  }

  /** Declared field names (the candidates of "did you mean"). */
  get fieldNames(): string[] {
    return Object.keys(this.fieldSpecs);
  }

  /** Parses an object node; see the class comment for the error behaviour. */
  parse(node: JsonNode, p: XParser): T {
    if (node.kind !== 'object') {
      throw new XContentParseLocatedError(node.start, `[${this.name}] Expected START_OBJECT but was: ${tokenOf(node)}`);
    }
    p.at(node);
    const state = new Target<T>(this.name, this.make, this.argNames, this.fieldSpecs);
    for (const entry of node.entries) {
      p.cursor = entry.keyPos;
      const spec = Object.prototype.hasOwnProperty.call(this.fieldSpecs, entry.key) ? this.fieldSpecs[entry.key] : undefined;
      if (!spec) {
        if (this.lenient) {
          p.skip(entry.value);
          continue;
        }
        throw new XContentParseLocatedError(entry.keyPos, unknownFieldMessage(this.name, entry.key, this.fieldNames));
      }
      const value = entry.value;
      p.at(value);
      const token = tokenOf(value);
      if (!spec.types.includes(token)) {
        throw new XContentParseLocatedError(value.start, `[${this.name}] ${entry.key} doesn't support values of type: ${token}`);
      }
      try {
        const v = spec.parse(value, p);
        state.accept(entry.key, spec, v, p);
      } catch (err) {
        if (err instanceof EsError) {
          throw new XContentParseLocatedError(p.cursor, `[${this.name}] failed to parse field [${entry.key}]`, err);
        }
        throw err;
      }
    }
    if (node.fault) throw p.faultError(node.fault, 'field');
    p.done(node);
    return state.finish();
  }
}

class Target<T> {
  private target: T | undefined;
  private readonly args: unknown[];
  private readonly present: boolean[];
  private collected = 0;
  private readonly queue: ((t: T) => void)[] = [];

  constructor(
    private readonly name: string,
    private readonly make: { create: () => T } | { construct: (args: unknown[]) => T },
    private readonly argNames: string[],
    private readonly specs: Readonly<Record<string, XField<T>>>,
  ) {
    if ('create' in make) this.target = make.create();
    this.args = argNames.map(() => undefined);
    this.present = argNames.map(() => false);
  }

  accept(field: string, spec: XField<T>, value: unknown, p: XParser): void {
    if (spec.arg !== undefined) {
      const i = this.argNames.indexOf(field);
      this.args[i] = value;
      if (!this.present[i]) {
        this.present[i] = true;
        this.collected++;
      }
      if (this.collected === this.argNames.length) this.build();
      return;
    }
    const set = spec.set;
    if (!set) return;
    if (this.target !== undefined) {
      set(this.target, value);
      return;
    }
    const location = p.cursor;
    this.queue.push((t) => {
      try {
        set(t, value);
      } catch (err) {
        if (err instanceof EsError) {
          throw new XContentParseLocatedError(location, `[${this.name}] failed to parse field [${field}]`, err);
        }
        throw err;
      }
    });
  }

  private build(): void {
    if (!('construct' in this.make)) return;
    try {
      const t = this.make.construct(this.args);
      this.target = t;
      while (this.queue.length > 0) {
        const q = this.queue.pop();
        q?.(t);
      }
    } catch (err) {
      if (err instanceof XContentParseLocatedError) {
        throw new XContentParseLocatedError(err.location, `failed to build [${this.name}] after last required field arrived`, err);
      }
      if (err instanceof EsError) {
        throw new XContentParseLocatedError(null, `Failed to build [${this.name}] after last required field arrived`, err);
      }
      throw err;
    }
  }

  finish(): T {
    if (this.target !== undefined) return this.target;
    const missing = this.argNames.filter((n, i) => !this.present[i] && this.specs[n]?.arg === 'required');
    if (missing.length > 0) throw new IllegalArgumentError(`Required [${missing.join(', ')}]`);
    this.build();
    if (this.target === undefined) throw new IllegalStateError(`[${this.name}] was not built`);
    return this.target;
  }
}
