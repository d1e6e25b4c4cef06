import { evaluatePath } from './object-path.ts';
import type { Stash } from './stash.ts';

/** A failed assertion or step, with the message printed and reported. */
export class AssertionFailure extends Error {}

const show = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v));

/**
 * A `/…/` regex of a YAML test, compiled as Java's `Pattern.COMMENTS` reads it (unescaped
 * whitespace outside character classes and `#` comments ignored): JavaScript has no such flag.
 */
export function compileTestRegex(source: string): RegExp {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      out += c + (source[i + 1] ?? '');
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
    } else if (c === '#') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (!/\s/.test(c)) out += c;
  }
  return new RegExp(out);
}

/** `"/…/"` (trimmed, longer than two) is a regex in `match` and `catch`. */
export function asRegexSource(expected: unknown): string | undefined {
  if (typeof expected !== 'string') return undefined;
  const t = expected.trim();
  return t.length > 2 && t.startsWith('/') && t.endsWith('/') ? t.slice(1, -1) : undefined;
}

/** Structural equality; numbers compare by value (the YAML `42.0` equals the JSON `42`). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => deepEqual(v, b[i]));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

/** Java's `toString` of a JSON value for regex matches and truthiness: maps and lists as JSON. */
const asText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

function single(kind: string, arg: unknown): [string, unknown] {
  if (arg === null || typeof arg !== 'object' || Array.isArray(arg)) throw new AssertionFailure(`[${kind}] takes a map of one path to a value`);
  const entries = Object.entries(arg);
  if (entries.length !== 1) throw new AssertionFailure(`[${kind}] takes one path, got ${entries.length}`);
  return entries[0]!;
}

function compare(kind: string, actual: unknown, expected: unknown): boolean {
  if (typeof actual === 'number' && typeof expected === 'number') {
    if (kind === 'gt') return actual > expected;
    if (kind === 'gte') return actual >= expected;
    if (kind === 'lt') return actual < expected;
    return actual <= expected;
  }
  if (typeof actual === 'string' && typeof expected === 'string') {
    if (kind === 'gt') return actual > expected;
    if (kind === 'gte') return actual >= expected;
    if (kind === 'lt') return actual < expected;
    return actual <= expected;
  }
  throw new AssertionFailure(`[${kind}] cannot compare ${show(actual)} with ${show(expected)}`);
}

/** The assertion step names the runner knows. */
export const ASSERTIONS = new Set(['match', 'length', 'is_true', 'is_false', 'gt', 'gte', 'lt', 'lte', 'close_to']);

/**
 * Runs one assertion step against the last response body with Elasticsearch's semantics:
 * `match` (exact structural equality, or a `/regex/` found in the value's text), `length`
 * (list, map or string size), `is_true` / `is_false` (false is null, `""`, `false`, `"false"`
 * or `0`), `gt`/`gte`/`lt`/`lte` (numbers or strings), `close_to` (`{value, error}`).
 *
 * @throws AssertionFailure with the path, the expected and the actual value.
 */
export function runAssertion(kind: string, arg: unknown, body: unknown, stash: Stash): void {
  if (kind === 'is_true' || kind === 'is_false') {
    const path = String(arg ?? '');
    const actual = evaluatePath(body, path, stash);
    const falsy = actual == null || ['', 'false', '0'].includes(asText(actual).toLowerCase());
    if (kind === 'is_true' && falsy) throw new AssertionFailure(`is_true [${path}]: got ${show(actual)}`);
    if (kind === 'is_false' && !falsy) throw new AssertionFailure(`is_false [${path}]: got ${show(actual)}`);
    return;
  }
  const [path, rawExpected] = single(kind, arg);
  const expected = stash.resolve(rawExpected);
  const actual = evaluatePath(body, path, stash);
  switch (kind) {
    case 'match': {
      const regex = asRegexSource(expected);
      if (regex !== undefined) {
        if (actual == null || !compileTestRegex(regex).test(asText(actual))) throw new AssertionFailure(`match [${path}]: ${show(actual)} does not match ${expected}`);
        return;
      }
      if (!deepEqual(actual, expected)) throw new AssertionFailure(`match [${path}]: expected ${show(expected)}, got ${show(actual)}`);
      return;
    }
    case 'length': {
      let size: number | undefined;
      if (Array.isArray(actual) || typeof actual === 'string') size = actual.length;
      else if (actual !== null && typeof actual === 'object') size = Object.keys(actual).length;
      if (size !== Number(expected)) throw new AssertionFailure(`length [${path}]: expected ${show(expected)}, got ${size ?? 'no list/map/string'} (${show(actual)})`);
      return;
    }
    case 'close_to': {
      const { value, error } = (expected ?? {}) as { value?: number; error?: number };
      if (typeof actual !== 'number' || typeof value !== 'number' || typeof error !== 'number' || Math.abs(actual - value) > error) {
        throw new AssertionFailure(`close_to [${path}]: expected ${show(value)} ± ${show(error)}, got ${show(actual)}`);
      }
      return;
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (actual == null || !compare(kind, actual, expected)) throw new AssertionFailure(`${kind} [${path}]: expected ${kind} ${show(expected)}, got ${show(actual)}`);
      return;
    default:
      throw new AssertionFailure(`unknown assertion [${kind}]`);
  }
}
