import { IllegalArgumentError } from '../domain/errors.ts';
import { parseTimeValue, TimeValue } from '../domain/units.ts';

/**
 * Parses an Elasticsearch boolean request parameter. Like `RestRequest.paramAsBoolean`,
 * an empty value (`?force`) means true and anything but `true`/`false` is a 400.
 * @throws IllegalArgumentError "Failed to parse value [<v>] as only [true] or [false] are allowed."
 */
export function booleanParam(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === '' || value === 'true') return true;
  if (value === 'false') return false;
  throw new IllegalArgumentError(`Failed to parse value [${value}] as only [true] or [false] are allowed.`);
}

/** Parses a time request parameter with TimeValue rules (spec E.1); undefined when absent. */
export function timeParam(value: string | undefined, name: string): TimeValue | undefined {
  return value === undefined ? undefined : parseTimeValue(value, name);
}

/**
 * Parses an integer request parameter (`from`, `size`).
 * @throws IllegalArgumentError "Failed to parse int parameter [<name>] with value [<v>]"
 */
export function intParam(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new IllegalArgumentError(`Failed to parse int parameter [${name}] with value [${value}]`);
  const n = Number(value);
  // Elasticsearch's PageParams: "Parameter [from] cannot be < 0", "Parameter [size] cannot be < 0".
  if ((name === 'from' || name === 'size') && n < 0) throw new IllegalArgumentError(`Parameter [${name}] cannot be < 0`);
  return n;
}

/**
 * Parses a long request parameter (`version`, `if_seq_no`, `if_primary_term`); undefined when absent.
 * @throws IllegalArgumentError "Failed to parse long parameter [<name>] with value [<v>]"
 */
export function longParam(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new IllegalArgumentError(`Failed to parse long parameter [${name}] with value [${value}]`);
  return Number(value);
}

/**
 * A wait limit as the APIs that wait take it. `-1` (TimeValue.MINUS_ONE, also `-1s`…) is
 * Elasticsearch's "no timeout": the request waits until the work ends. Here that is a request
 * timeout too long to ever run out (the largest exact ms, as TimeValue keeps nanoseconds
 * exactly), so the gateway cap ends the wait with 202 and a task, never the timeout error.
 */
export function waitLimit(tv: TimeValue | undefined): TimeValue | undefined {
  return tv !== undefined && tv.ms < 0 ? TimeValue.ofMillis(Number.MAX_SAFE_INTEGER) : tv;
}

/**
 * Checks a body `timeout` as `declareString` + `TimeValue.parseTimeValue` do, for
 * `objectBody`'s `check` hook, so its errors are wrapped by the ObjectParser.
 * @throws the TimeValue parse errors of parseTimeValue
 */
export function checkBodyTimeout(field: string, value: unknown): void {
  if (field === 'timeout') parseTimeValue(String(value), 'timeout');
}

/**
 * Refuses a body on an API that takes none, as Elasticsearch's `BaseRestHandler` does for
 * content it did not consume.
 * @throws IllegalArgumentError "request [<METHOD> <path>] does not support having a body"
 */
export function refuseBody(method: string, path: string, body: string | undefined): void {
  if (body !== undefined) throw new IllegalArgumentError(`request [${method} ${path}] does not support having a body`);
}

/** A time request parameter, or `defaultMs` when absent. */
export function timeParamOr(value: string | undefined, name: string, defaultMs: number): TimeValue {
  return timeParam(value, name) ?? TimeValue.ofMillis(defaultMs);
}

/**
 * A time request parameter that must be positive when given (mlplane extensions such as
 * `expires_in`); undefined when absent.
 * @throws IllegalArgumentError "[<name>] must be positive, got [<v>]"
 */
export function positiveTimeParam(value: string | undefined, name: string): TimeValue | undefined {
  const tv = timeParam(value, name);
  if (tv !== undefined && tv.ms <= 0) throw new IllegalArgumentError(`[${name}] must be positive, got [${value}]`);
  return tv;
}

/**
 * The longest `expires_in` mlplane takes: 36500 days (100 years), as written in messages.
 *
 * Why a refusal and not saturation: `TimeValue` here keeps nanoseconds and saturates at
 * `Long.MAX_VALUE` ns like Java's `TimeUnit.toNanos` (about 106,751 days), so `99999999d`
 * used to become an expiry in 2319 without a word, a date nobody asked for; counted in ms as
 * Elasticsearch's `getMillis` does, it would pass what a JS `Date` holds (8.64e15 ms after
 * 1970) and could not be shown. Saturating to "never" instead would turn a typo into upgrade
 * mode or an ack that never lapses. An operator who wants no expiry leaves `expires_in` out;
 * anything past a century is that or a mistake, so it is refused with the maximum named.
 * Far below the saturation point, the expiry is always the one asked for.
 */
export const MAX_EXPIRES_IN = new TimeValue(36_500, 'd');

/**
 * The mlplane extension `expires_in` (`POST _ml/set_upgrade_mode`, the watch ack APIs): a
 * positive time value of at most {@link MAX_EXPIRES_IN}; undefined when absent.
 * @throws IllegalArgumentError 400 the time value parse errors of parseTimeValue,
 *   "[expires_in] must be positive, got [<v>]",
 *   "[expires_in] must be at most [36500d], got [<v>]; leave it out for no expiry"
 */
export function expiresInParam(value: string | undefined): TimeValue | undefined {
  const tv = positiveTimeParam(value, 'expires_in');
  // Compared in exact nanoseconds: ms of a huge value is already saturated.
  if (tv !== undefined && tv.nanos() > MAX_EXPIRES_IN.nanos()) {
    throw new IllegalArgumentError(`[expires_in] must be at most [${MAX_EXPIRES_IN.rep}], got [${value}]; leave it out for no expiry`);
  }
  return tv;
}
