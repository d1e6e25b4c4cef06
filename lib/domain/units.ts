/**
 * Elasticsearch's unit grammars (spec E.1, E.2, E.3): time values (`TimeValue`), byte sizes
 * (`ByteSizeValue`), `model_memory_limit`, and the number formatting that
 * `java.text.MessageFormat` applies inside ML messages.
 *
 * Every error text here is wire-level: it is what Elasticsearch puts in `reason`.
 */
import { EsError, IllegalArgumentError, ParseError, StatusError } from './errors.ts';

// ---------------------------------------------------------------------------------------
// Java number helpers
// ---------------------------------------------------------------------------------------

const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;

/** `Long.parseLong` (radix 10): optional sign then ASCII digits, in long range; else `undefined`. */
export function javaParseLong(s: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const v = BigInt(s);
  return v > LONG_MAX || v < LONG_MIN ? undefined : v;
}

/** `Double.parseDouble` grammar (decimal forms, NaN, Infinity, `f`/`d` suffix) after trimming; else `undefined`. */
export function javaParseDouble(s: string): number | undefined {
  // Java trims ASCII control/space characters (<= ' ') before parsing.
  const t = s.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
  const m = /^([+-]?)(?:(NaN|Infinity)|((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fFdD]?)$/.exec(t);
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  if (m[2] === 'NaN') return NaN;
  if (m[2] === 'Infinity') return sign * Infinity;
  const body = m[3] ?? '0';
  return sign * Number(body);
}

/**
 * `String.valueOf(double)`: integral values keep a `.0`, values outside [1e-3, 1e7) use
 * `d.dddE<n>` notation. Used where Elasticsearch formats doubles into messages.
 */
export function javaDoubleToString(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(v);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(v);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mant = '0', exp = '0'] = v.toExponential().split('e');
  return `${mant.includes('.') ? mant : `${mant}.0`}E${Number(exp)}`;
}

/**
 * Truncating one-decimal rendering shared by `TimeValue.toString()` (`formatDecimal` with one
 * fraction piece) and `ByteSizeValue.toString()` (`Strings.format1Decimals`): `1.5` → `"1.5"`,
 * `1.99` → `"1.9"`, `2.0` / `2.04` → `"2"`.
 */
function format1Decimal(value: number): string {
  const p = javaDoubleToString(value);
  const ix = p.indexOf('.') + 1;
  const ex = p.indexOf('E');
  const fraction = p.charAt(ix);
  const exponent = ex === -1 ? '' : p.substring(ex);
  if (fraction === '0' || fraction === '' || fraction === 'E') return p.substring(0, ix - 1) + exponent;
  return p.substring(0, ix) + fraction + exponent;
}

/**
 * A number as `java.text.MessageFormat` (Locale.ROOT) prints it for `{n}` / `{n,number}`:
 * grouping commas, at most three fraction digits. `3600` → `"3,600"`, `-1024` → `"-1,024"`,
 * `1.5` → `"1.5"`.
 */
export function formatJavaNumber(n: number | bigint): string {
  if (typeof n === 'bigint' || Number.isInteger(n)) {
    const s = (typeof n === 'bigint' ? n : BigInt(n)).toString();
    const neg = s.startsWith('-');
    const digits = neg ? s.slice(1) : s;
    const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return neg ? `-${grouped}` : grouped;
  }
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '∞' : '-∞';
  const fixed = n.toFixed(3).replace(/\.?0+$/, '');
  const [int = '0', frac] = fixed.split('.');
  const neg = int.startsWith('-');
  const grouped = (neg ? int.slice(1) : int).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '-' : ''}${grouped}${frac ? `.${frac}` : ''}`;
}

// ---------------------------------------------------------------------------------------
// TimeValue
// ---------------------------------------------------------------------------------------

/** The units `TimeValue` keeps, with their `getStringRep` suffixes. */
export type TimeUnitSuffix = 'nanos' | 'micros' | 'ms' | 's' | 'm' | 'h' | 'd';

const NANOS_PER: Record<TimeUnitSuffix, bigint> = {
  nanos: 1n,
  micros: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
};

const C1 = 1_000n;
const C2 = 1_000_000n;
const C3 = 1_000_000_000n;
const C4 = 60_000_000_000n;
const C5 = 3_600_000_000_000n;
const C6 = 86_400_000_000_000n;

/**
 * An Elasticsearch `TimeValue`: a duration in the unit it was written with.
 *
 * - `ms` is the duration in milliseconds (truncated), except that any duration of −1 (`"-1"`,
 *   `"-1s"`, …) is the magic `-1` ("unset"), whatever its unit.
 * - `rep` is `getStringRep()`, the echo form: the number plus the unit as parsed (`"3600s"`,
 *   `"2h"`, `"-1"`). Upper-case input is echoed lower-cased (`"1H"` → `"1h"`).
 * - `human()` is `toString()`, the message form (`90m` → `"1.5h"`).
 */
export class TimeValue {
  constructor(
    /** The count of `unit`s; −1 is the "unset" magic value. */
    readonly duration: number,
    readonly unit: TimeUnitSuffix,
  ) {}

  /** `TimeValue.timeValueMillis(ms)`. */
  static ofMillis(ms: number): TimeValue {
    return new TimeValue(ms, 'ms');
  }

  /** Milliseconds (truncated); `-1` for the "unset" magic value. */
  get ms(): number {
    if (this.duration === -1) return -1;
    return Number(this.nanos() / C2);
  }

  /** `getStringRep()`: the echo form, e.g. `"3600s"`, `"-1"`. */
  get rep(): string {
    return this.duration < 0 ? String(this.duration) : `${this.duration}${this.unit}`;
  }

  /** `TimeUnit.toNanos(duration)`, saturating at `Long.MAX_VALUE` like Java. */
  nanos(): bigint {
    const v = BigInt(this.duration) * NANOS_PER[this.unit];
    if (v > LONG_MAX) return LONG_MAX;
    if (v < LONG_MIN) return LONG_MIN;
    return v;
  }

  /** `TimeUnit.toSeconds(duration)` (truncated toward zero). */
  seconds(): bigint {
    return (BigInt(this.duration) * NANOS_PER[this.unit]) / C3;
  }

  /**
   * `toString()` / `toHumanReadableString(1)`: the largest unit (d, h, m, s, ms, micros,
   * nanos) with a value ≥ 1, one truncated decimal, `.0` dropped; zero is `"0s"`, negative
   * durations print the bare number (`"-1"`). `90m` → `"1.5h"`, `3600s` → `"1h"`.
   */
  human(): string {
    if (this.duration < 0) return String(this.duration);
    const nanos = this.nanos();
    if (nanos === 0n) return '0s';
    const n = Number(nanos);
    let value = n;
    let suffix = 'nanos';
    if (nanos >= C6) {
      value = n / Number(C6);
      suffix = 'd';
    } else if (nanos >= C5) {
      value = n / Number(C5);
      suffix = 'h';
    } else if (nanos >= C4) {
      value = n / Number(C4);
      suffix = 'm';
    } else if (nanos >= C3) {
      value = n / Number(C3);
      suffix = 's';
    } else if (nanos >= C2) {
      value = n / Number(C2);
      suffix = 'ms';
    } else if (nanos >= C1) {
      value = n / Number(C1);
      suffix = 'micros';
    }
    return format1Decimal(value) + suffix;
  }

  /** Same as {@link human}, so template strings print the message form. */
  toString(): string {
    return this.human();
  }

  /** `TimeValue.equals`: durations compare equal across units (`60m` equals `1h`). */
  equals(other: TimeValue): boolean {
    return this.duration * Number(NANOS_PER[this.unit]) === other.duration * Number(NANOS_PER[other.unit]);
  }
}

function timeNumber(initialInput: string, normalized: string, suffix: string, settingName: string): number {
  const s = normalized.substring(0, normalized.length - suffix.length).trim();
  const value = javaParseLong(s);
  if (value === undefined) {
    if (javaParseDouble(s) !== undefined) {
      throw new IllegalArgumentError(`failed to parse [${initialInput}], fractional time values are not supported`);
    }
    throw new IllegalArgumentError(`failed to parse [${initialInput}]`);
  }
  if (value < -1n) {
    throw new IllegalArgumentError(`failed to parse setting [${settingName}] with value [${initialInput}] as a time value: negative durations are not supported`);
  }
  return Number(value);
}

/**
 * `TimeValue.parseTimeValue(value, settingName)` (spec E.1).
 *
 * The value is lower-cased and trimmed, then the suffixes `nanos`, `micros`, `ms`, `s` are
 * tried, then `m` (checked on the *original* string, so `"1M"` — months — is rejected), then
 * `h`, `d`. Without a unit only `0…0` (→ 0 ms) and `-0…01` (→ −1) are accepted.
 *
 * @param value the string as sent, e.g. `"90m"`
 * @param settingName field name used in messages, e.g. `"bucket_span"`
 * @throws IllegalArgumentError (400 `illegal_argument_exception`) with Elasticsearch's text:
 *   `failed to parse setting [<name>] with value [<v>] as a time value: unit is missing or unrecognized`,
 *   `failed to parse [<v>], fractional time values are not supported`, `failed to parse [<v>]`,
 *   `failed to parse setting [<name>] with value [<v>] as a time value: negative durations are not supported`.
 */
export function parseTimeValue(value: string, settingName: string): TimeValue {
  const normalized = value.toLowerCase().trim();
  if (normalized.endsWith('nanos')) return new TimeValue(timeNumber(value, normalized, 'nanos', settingName), 'nanos');
  if (normalized.endsWith('micros')) return new TimeValue(timeNumber(value, normalized, 'micros', settingName), 'micros');
  if (normalized.endsWith('ms')) return new TimeValue(timeNumber(value, normalized, 'ms', settingName), 'ms');
  if (normalized.endsWith('s')) return new TimeValue(timeNumber(value, normalized, 's', settingName), 's');
  // Minutes are case-sensitive: 'M' would mean months.
  if (value.endsWith('m')) return new TimeValue(timeNumber(value, normalized, 'm', settingName), 'm');
  if (normalized.endsWith('h')) return new TimeValue(timeNumber(value, normalized, 'h', settingName), 'h');
  if (normalized.endsWith('d')) return new TimeValue(timeNumber(value, normalized, 'd', settingName), 'd');
  if (/^-0*1$/.test(normalized)) return TimeValue.ofMillis(-1);
  if (/^0+$/.test(normalized)) return TimeValue.ofMillis(0);
  throw new IllegalArgumentError(`failed to parse setting [${settingName}] with value [${value}] as a time value: unit is missing or unrecognized`);
}

// ---------------------------------------------------------------------------------------
// ByteSizeValue
// ---------------------------------------------------------------------------------------

const KIB = 1024n;
const MIB = 1024n * 1024n;
const GIB = MIB * 1024n;
const TIB = GIB * 1024n;
const PIB = TIB * 1024n;

/** One mebibyte in bytes. */
export const BYTES_PER_MIB = 1024 * 1024;

/**
 * A parse_exception whose cause is a plain Java exception (NumberFormatException,
 * IllegalArgumentException): Elasticsearch's `guessRootCauses` stops at the
 * ElasticsearchException itself, so this error is its own root cause.
 */
class ParseErrorWithJavaCause extends ParseError {
  override rootCause(): EsError {
    return this;
  }
}

/** A Java `NumberFormatException` rendered as a cause (`number_format_exception`). */
function numberFormatException(input: string): EsError {
  return new EsError('number_format_exception', 400, `For input string: "${input}"`);
}

/** Result of {@link parseByteSize}: the size in bytes and the deprecation warning, if any. */
export interface ByteSize {
  /** Size in bytes; −1 for the `"-1"` magic value. */
  bytes: number;
  /** `Fractional bytes values are deprecated…` text when the number had a fraction (goes in a `Warning` header). */
  warning?: string;
}

function bytesWithUnit(initialInput: string, normalized: string, suffix: string, unit: bigint, settingName: string): ByteSize {
  const s = normalized.substring(0, normalized.length - suffix.length).trim();
  const asLong = javaParseLong(s);
  const tooBig = (detail: string): never => {
    throw new ParseErrorWithJavaCause(`failed to parse setting [${settingName}] with value [${initialInput}] as a size in bytes`, {
      cause: new IllegalArgumentError(detail),
    });
  };
  if (asLong !== undefined) {
    const unitSuffix = unit === KIB ? 'kb' : unit === MIB ? 'mb' : unit === GIB ? 'gb' : unit === TIB ? 'tb' : 'pb';
    if (asLong < -1n || asLong === -1n) return tooBig(`Values less than -1 bytes are not supported: ${asLong}${unitSuffix}`);
    if (asLong > LONG_MAX / unit) {
      return tooBig(`Values greater than ${LONG_MAX} bytes are not supported: ${asLong}${unitSuffix}`);
    }
    return { bytes: Number(asLong * unit) };
  }
  const asDouble = javaParseDouble(s);
  if (asDouble === undefined) {
    throw new ParseErrorWithJavaCause(`failed to parse setting [${settingName}] with value [${initialInput}]`, {
      cause: numberFormatException(s),
    });
  }
  const warning = `Fractional bytes values are deprecated. Use non-fractional bytes values instead: [${initialInput}] found for setting [${settingName}]`;
  // (long) cast: NaN → 0, saturating, truncation toward zero.
  const product = asDouble * Number(unit);
  let bytes: bigint;
  if (Number.isNaN(product)) bytes = 0n;
  else if (product >= 9.223372036854776e18) bytes = LONG_MAX;
  else if (product <= -9.223372036854776e18) bytes = LONG_MIN;
  else bytes = BigInt(Math.trunc(product));
  if (bytes < -1n) return tooBig(`Values less than -1 bytes are not supported: ${bytes}b`);
  return { bytes: Number(bytes), warning };
}

/**
 * `ByteSizeValue.parseBytesSizeValue(value, settingName)` (spec E.2).
 *
 * Exact `"0"`, `"0b"`, `"0B"` → 0, `"1b"`, `"1B"` → 1, `"-1"`, `"-1b"`, `"-1B"` → −1.
 * Otherwise the lower-cased, trimmed value must end in `k`, `kb`, `m`, `mb`, `g`, `gb`, `t`,
 * `tb`, `p`, `pb` or `b` (powers of 1024). A fractional number (`"1.5gb"`) is accepted and
 * yields `warning` (a deprecation text, returned rather than thrown).
 *
 * @returns bytes (a JS number: exact up to 2^53) and the optional deprecation warning
 * @throws ParseError (400 `parse_exception`): `failed to parse setting [<name>] with value [<v>] as a size in bytes: unit is missing or unrecognized`,
 *   `failed to parse setting [<name>] with value [<v>]` (not a number; caused_by `number_format_exception`),
 *   `failed to parse setting [<name>] with value [<v>] as a size in bytes` (out of range; caused_by `illegal_argument_exception`).
 */
export function parseByteSize(value: string, settingName: string): ByteSize {
  switch (value) {
    case '0':
    case '0b':
    case '0B':
      return { bytes: 0 };
    case '1b':
    case '1B':
      return { bytes: 1 };
    case '-1':
    case '-1b':
    case '-1B':
      return { bytes: -1 };
  }
  const lower = value.toLowerCase().trim();
  const units: [string, bigint][] = [
    ['k', KIB],
    ['kb', KIB],
    ['m', MIB],
    ['mb', MIB],
    ['g', GIB],
    ['gb', GIB],
    ['t', TIB],
    ['tb', TIB],
    ['p', PIB],
    ['pb', PIB],
  ];
  for (const [suffix, unit] of units) {
    if (lower.endsWith(suffix)) return bytesWithUnit(value, lower, suffix, unit, settingName);
  }
  if (lower.endsWith('b')) {
    const s = lower.substring(0, lower.length - 1).trim();
    const v = javaParseLong(s);
    if (v === undefined) {
      throw new ParseErrorWithJavaCause(`failed to parse setting [${settingName}] with value [${value}]`, {
        cause: numberFormatException(s),
      });
    }
    if (v < -1n) {
      throw new ParseErrorWithJavaCause(`failed to parse setting [${settingName}] with value [${value}] as a size in bytes`, {
        cause: new IllegalArgumentError(`Values less than -1 bytes are not supported: ${v}b`),
      });
    }
    return { bytes: Number(v) };
  }
  throw new ParseError(`failed to parse setting [${settingName}] with value [${value}] as a size in bytes: unit is missing or unrecognized`);
}

/** Bytes → whole MiB, truncated toward zero like `ByteSizeValue.getMb()`. */
export function bytesToMiB(bytes: number): number {
  return Math.trunc(bytes / BYTES_PER_MIB);
}

/**
 * `ByteSizeValue.toString()`: the largest of b, kb, mb, gb, tb, pb that the size reaches,
 * one *truncated* decimal, `.0` dropped. `1536 MiB` → `"1.5gb"`, `10240 MiB` → `"10gb"`,
 * `512 MiB` → `"512mb"`, `0` → `"0b"`.
 *
 * @param bytes size in bytes
 */
export function humanBytes(bytes: number): string {
  const b = bytes;
  let value = b;
  let suffix = 'b';
  if (b >= Number(PIB)) {
    value = b / Number(PIB);
    suffix = 'pb';
  } else if (b >= Number(TIB)) {
    value = b / Number(TIB);
    suffix = 'tb';
  } else if (b >= Number(GIB)) {
    value = b / Number(GIB);
    suffix = 'gb';
  } else if (b >= Number(MIB)) {
    value = b / Number(MIB);
    suffix = 'mb';
  } else if (b >= Number(KIB)) {
    value = b / Number(KIB);
    suffix = 'kb';
  }
  return format1Decimal(value) + suffix;
}

/** `humanBytes` of a MiB count: `1536` → `"1.5gb"`. */
export function humanMiB(mib: number): string {
  return humanBytes(mib * BYTES_PER_MIB);
}

// ---------------------------------------------------------------------------------------
// model_memory_limit
// ---------------------------------------------------------------------------------------

/** The xcontent token name of a JSON value, as Elasticsearch prints it (`VALUE_BOOLEAN`, …). */
export function tokenName(value: unknown): string {
  if (value === null || value === undefined) return 'VALUE_NULL';
  if (typeof value === 'string') return 'VALUE_STRING';
  if (typeof value === 'number' || typeof value === 'bigint') return 'VALUE_NUMBER';
  if (typeof value === 'boolean') return 'VALUE_BOOLEAN';
  if (Array.isArray(value)) return 'START_ARRAY';
  return 'START_OBJECT';
}

/**
 * The value part of `AnalysisLimits`' `model_memory_limit` parser, without the minimum check:
 * a JSON number means MiB (truncated like `longValue()`), a string is a byte size floored to
 * whole MiB (`"3000g"` → 3072000, `"1500kb"` → 1, `"500kb"` → 0).
 *
 * @param warnings receives the fractional-bytes deprecation text, if any
 * @returns MiB (may be < 1; see {@link checkModelMemoryLimitMiB})
 * @throws IllegalArgumentError `Unsupported token [<TOKEN>]` for booleans, null, objects, arrays;
 *   ParseError from {@link parseByteSize} for bad strings
 */
export function modelMemoryLimitToMiB(value: unknown, warnings?: string[]): number {
  if (typeof value === 'string') {
    const parsed = parseByteSize(value, 'model_memory_limit');
    if (parsed.warning !== undefined) warnings?.push(parsed.warning);
    return bytesToMiB(parsed.bytes);
  }
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  throw new IllegalArgumentError(`Unsupported token [${tokenName(value)}]`);
}

/**
 * The `AnalysisLimits` constructor check.
 * @throws StatusError 400 `model_memory_limit must be at least 1 MiB. Value = <n>` (MessageFormat grouping)
 */
export function checkModelMemoryLimitMiB(mib: number): void {
  if (mib < 1) {
    throw new StatusError(400, `model_memory_limit must be at least 1 MiB. Value = ${formatJavaNumber(mib)}`);
  }
}

/**
 * `model_memory_limit` as put/update accept it (spec E.2): number = MiB, string = bytes
 * floored to MiB; the result must be ≥ 1 MiB.
 *
 * @param value the JSON value of `analysis_limits.model_memory_limit`
 * @param warnings receives the fractional-bytes deprecation text, if any
 * @returns whole MiB (stored and echoed as `"<n>mb"`)
 * @throws StatusError 400 `model_memory_limit must be at least 1 MiB. Value = <n>`;
 *   IllegalArgumentError `Unsupported token [..]`; ParseError for malformed byte strings
 */
export function parseModelMemoryLimit(value: unknown, warnings?: string[]): number {
  const mib = modelMemoryLimitToMiB(value, warnings);
  checkModelMemoryLimitMiB(mib);
  return mib;
}
