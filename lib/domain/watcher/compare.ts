/**
 * The `compare` and `array_compare` watch conditions, evaluated as Elasticsearch's
 * `CompareCondition`, `ArrayCompareCondition`, `AbstractCompareCondition` and
 * `LenientCompare` do (spec watcher-ack §4.1).
 *
 * The model is the watch's `ctx` map (`{ctx: {payload, watch_id, execution_time, …}}`);
 * dates in it are `Date` objects (Elasticsearch puts `ZonedDateTime`s there), everything
 * else is parsed JSON.
 */
import { javaDoubleToString, javaParseDouble } from '../units.ts';
import { parseDate, parseDateMath } from '../documents/dates.ts';
import { IllegalStateError } from '../errors.ts';

/** The comparison operators of both conditions; only `eq`/`not_eq` accept objects/arrays. */
export type CompareOp = 'eq' | 'not_eq' | 'lt' | 'lte' | 'gt' | 'gte';

/** `{"compare": {"<path>": {"<op>": value}}}`, parsed. */
export interface CompareCondition {
  path: string;
  op: CompareOp;
  value: unknown;
}

/** `{"array_compare": {"<array path>": {"path": "<sub path>", "<op>": {"value": v, "quantifier": q}}}}`, parsed. */
export interface ArrayCompareCondition {
  arrayPath: string;
  /** Path inside each element; `""` (the default) is the element itself. */
  path: string;
  op: CompareOp;
  value: unknown;
  quantifier: 'some' | 'all';
}

/** The condition result as it appears in a watch record's `result.condition`. */
export interface CompareResult {
  type: 'compare' | 'array_compare';
  status: 'success';
  met: boolean;
  compare?: { resolved_values: Record<string, unknown> };
  array_compare?: { resolved_values: Record<string, unknown> };
}

const DATE_MATH = /^<\{(.+)\}>$/s;
const PATH = /^\{\{(.+)\}\}$/s;

/**
 * `ObjectPath.eval`: walks a dot path through maps and lists (list steps are integer
 * indices). A missing key, a bad index or a step into a scalar gives `undefined`
 * (Java's null). The empty path is the object itself.
 */
export function evalPath(path: string, model: unknown): unknown {
  if (path === '') return model;
  let cur: unknown = model;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined) return undefined;
    if (Array.isArray(cur)) {
      if (!/^[+-]?\d+$/.test(part)) return undefined;
      const i = Number(part);
      cur = i >= 0 && i < cur.length ? cur[i] : undefined;
    } else if (typeof cur === 'object' && !(cur instanceof Date)) {
      cur = Object.hasOwn(cur, part) ? (cur as Record<string, unknown>)[part] : undefined;
    } else {
      return undefined;
    }
  }
  return cur;
}

/** `Objects.equals` over parsed JSON: deep for maps and lists, by value for numbers and dates. */
function deepEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEquals(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEquals((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

/**
 * `String.valueOf` of a model value, as the string comparison sees it: Java prints
 * maps as `{k=v, …}` and lists as `[a, b]`. A whole-valued JSON number prints without
 * `.0` because JSON's integers arrive as Java `Integer`/`Long` (mlplane cannot tell `1.0`
 * from `1` once parsed; both print `1`).
 */
export function javaString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : javaDoubleToString(v);
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return `[${v.map(javaString).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}=${javaString(x)}`)
      .join(', ')}}`;
  }
  return String(v);
}

/**
 * `LenientCompare.compare(v1, v2)`: the configured value `v2` decides the comparison.
 * - equal values (deep, `Objects.equals`) → 0, whatever their type;
 * - either side null, or NaN → undefined ("not comparable");
 * - `v2` a number: `v1` as a double (a string is parsed; unparsable → undefined);
 * - `v2` a string: `v1` stringified (`String.valueOf`), compared by UTF-16 code units;
 * - `v2` a date: `v1` a date, a date string (`strict_date_optional_time||epoch_millis`)
 *   or epoch millis; anything else → undefined;
 * - anything else (booleans, maps, lists) → undefined: Elasticsearch only orders those
 *   through the equality check above.
 * @returns negative, 0 or positive; undefined when not comparable.
 */
export function lenientCompare(v1: unknown, v2: unknown): number | undefined {
  // A missing path (undefined) is Java's null.
  if (deepEquals(v1 ?? null, v2 ?? null)) return 0;
  if (v1 === null || v1 === undefined || v2 === null || v2 === undefined) return undefined;
  if (Number.isNaN(v1) || Number.isNaN(v2)) return undefined;
  if (typeof v2 === 'number') {
    let d: number | undefined;
    if (typeof v1 === 'number') d = v1;
    else d = javaParseDouble(javaString(v1));
    if (d === undefined) return undefined;
    return d > v2 ? 1 : d < v2 ? -1 : 0;
  }
  if (typeof v2 === 'string') {
    const s = javaString(v1);
    return s < v2 ? -1 : s > v2 ? 1 : 0;
  }
  if (v2 instanceof Date) {
    let t: number | undefined;
    if (v1 instanceof Date) t = v1.getTime();
    else if (typeof v1 === 'string') t = parseDate(v1);
    else if (typeof v1 === 'number') t = Math.trunc(v1);
    if (t === undefined) return undefined;
    return Math.sign(t - v2.getTime());
  }
  return undefined;
}

/**
 * `AbstractCompareCondition.resolveConfiguredValue`: a string `"<{date math}>"` becomes a
 * date (recorded in `resolved` under the expression, formatted), and `"{{path}}"` the value
 * at that path of the model (recorded under the path). Other values pass through.
 * @throws IllegalArgumentError for date math Elasticsearch's parser refuses.
 */
function resolveConfigured(value: unknown, model: unknown, nowMs: number, resolved: Record<string, unknown>): unknown {
  if (typeof value !== 'string') return value;
  const dm = DATE_MATH.exec(value);
  if (dm) {
    const expr = dm[1] as string;
    const date = new Date(parseDateMath(expr, 'strict_date_optional_time||epoch_millis', nowMs));
    resolved[expr] = date.toISOString();
    return date;
  }
  const p = PATH.exec(value);
  if (p) {
    const path = p[1] as string;
    const v = evalPath(path, model);
    resolved[path] = v ?? null;
    return v;
  }
  return value;
}

function opHolds(op: CompareOp, c: number | undefined, nullMeansNotEqual: boolean): boolean {
  if (c === undefined) return op === 'not_eq' && nullMeansNotEqual;
  switch (op) {
    case 'eq':
      return c === 0;
    case 'not_eq':
      return c !== 0;
    case 'lt':
      return c < 0;
    case 'lte':
      return c <= 0;
    case 'gt':
      return c > 0;
    case 'gte':
      return c >= 0;
  }
}

/**
 * Evaluates a `compare` condition against the model.
 * `not_eq` holds when the values are not comparable (a missing path, a type mismatch);
 * every other operator then fails, as Elasticsearch's `CompareCondition.Op`.
 * @param nowMs the clock for `<{now…}>` date math (ms since the epoch)
 * @returns `{type:"compare",status:"success",met,compare:{resolved_values}}`
 */
export function evalCompare(cond: CompareCondition, model: unknown, nowMs: number): CompareResult {
  const resolved: Record<string, unknown> = {};
  const configured = resolveConfigured(cond.value, model, nowMs, resolved);
  const actual = evalPath(cond.path, model);
  resolved[cond.path] = actual ?? null;
  const met = opHolds(cond.op, lenientCompare(actual, configured), true);
  return { type: 'compare', status: 'success', met, compare: { resolved_values: resolved } };
}

/**
 * Evaluates an `array_compare` condition: `some` holds when one element compares true,
 * `all` when every element does (an empty or missing array: `some` false, `all` true).
 * Unlike `compare`, a not-comparable element fails every operator, `not_eq` included
 * (Elasticsearch's `ArrayCompareCondition.Quantifier`).
 * @throws IllegalStateError "array path <p> did not evaluate to array, was <v>" when the
 *   array path holds a non-list (Elasticsearch's message; the execution then fails).
 */
export function evalArrayCompare(cond: ArrayCompareCondition, model: unknown, nowMs: number): CompareResult {
  const resolved: Record<string, unknown> = {};
  const configured = resolveConfigured(cond.value, model, nowMs, resolved);
  const arr = evalPath(cond.arrayPath, model);
  if (arr !== undefined && arr !== null && !Array.isArray(arr)) {
    throw new IllegalStateError(`array path ${cond.arrayPath} did not evaluate to array, was ${javaString(arr)}`);
  }
  const list = (arr ?? []) as unknown[];
  resolved[cond.arrayPath] = list;
  const values = list.map((e) => evalPath(cond.path, e));
  const test = (v: unknown) => opHolds(cond.op, lenientCompare(v, configured), false);
  const met = cond.quantifier === 'all' ? values.every(test) : values.some(test);
  return { type: 'array_compare', status: 'success', met, array_compare: { resolved_values: resolved } };
}
