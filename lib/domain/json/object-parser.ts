/**
 * Elasticsearch's `ObjectParser` / `ConstructingObjectParser` DSL over {@link XParser}: value
 * type sets, common field declarations and the parser that produces the same
 * `x_content_parse_exception` chains, in the same order, as the Java parsers.
 *
 * Request bodies are read with this rather than a zod schema because clients see the exact
 * errors (`[line:col] [job_details] unknown field [x] did you mean …?`, nested
 * `failed to parse field` wrappers, first error in document order); zod validates after a
 * plain `JSON.parse` and can give neither the locations nor the order.
 */
import { EsError, IllegalArgumentError, IllegalStateError, XContentParseLocatedError } from '../errors.ts';
import { unknownFieldMessage } from './levenshtein.ts';
import { type JsonNode, tokenOf, type XToken } from './located-tree.ts';
import type { XParser } from './xcontent-parser.ts';

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
      const spec = Object.hasOwn(this.fieldSpecs, entry.key) ? this.fieldSpecs[entry.key] : undefined;
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
