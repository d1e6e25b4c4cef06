/**
 * `XContentParser` over a located tree: the current-token cursor used in `[line:col]`
 * prefixes and the value readers with Elasticsearch's coercion rules, Java number ranges
 * (int/long) and error texts.
 */
import { EsError, IllegalArgumentError, IllegalStateError, XContentParseLocatedError } from '../errors.ts';
import { sourceLocation } from './jackson-messages.ts';
import { javaHashMapOrder } from './java-hash-order.ts';
import { type JsonNode, type JsonSyntaxFault, tokenOf } from './located-tree.ts';
import { formatPos, type JsonPos } from './position.ts';
import { syntaxError } from './syntax-errors.ts';

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
        throw new XContentParseLocatedError(node.start, `Numeric value (${node.raw}) out of range of ${kind} (${min} - ${max})\n at ${sourceLocation(node.start)}`);
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
