/**
 * Date formats and date math of the document store, as Elasticsearch's `DateFormatter`
 * and `JavaDateMathParser` read them, for the formats mlplane supports:
 * `strict_date_optional_time`, `epoch_millis`, `epoch_second`, and `||`-joined lists of
 * them (the first that parses wins, as Elasticsearch's `JavaDateFormatter` tries them in
 * order). Times are epoch milliseconds, UTC unless the text carries an offset.
 */
import { IllegalArgumentError } from '../errors.ts';

/** The formats mlplane reads. */
export const SUPPORTED_DATE_FORMATS = ['strict_date_optional_time', 'epoch_millis', 'epoch_second'] as const;

/** Elasticsearch's default format of a `date` field. */
export const DEFAULT_DATE_FORMAT = 'strict_date_optional_time||epoch_millis';

// yyyy[-MM[-dd['T'HH[:mm[:ss[.S…]]][Z|±HH[:]mm]]]], as strict_date_optional_time (4-digit years).
const ISO = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$/;

/** Parses `strict_date_optional_time`; undefined when the text does not match or names an impossible date. */
export function parseIsoDate(text: string): number | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', frac = '', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  const date = new Date(Date.UTC(2000, month - 1, day, Number(h), Number(mi), Number(s), Number(frac.padEnd(3, '0').slice(0, 3))));
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  date.setUTCFullYear(year);
  const ms = date.getTime();
  // Date.UTC rolls 31 February over into March; strict parsing refuses it.
  if (new Date(ms).getUTCDate() !== day) return undefined;
  let offsetMin = 0;
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0));
  }
  return ms - offsetMin * 60_000;
}

/** Parses one named format; undefined when the value does not fit it. */
function parseOne(format: string, value: string | number): number | undefined {
  switch (format) {
    case 'strict_date_optional_time':
    case 'date_optional_time':
      return typeof value === 'string' ? parseIsoDate(value) : undefined;
    case 'epoch_millis':
    case 'epoch_second': {
      const text = String(value);
      if (!/^-?\d+(\.\d+)?$/.test(text)) return undefined;
      const n = Number(text);
      return Math.trunc(format === 'epoch_second' ? n * 1000 : n);
    }
    default:
      return undefined;
  }
}

/**
 * Checks a mapping's `format` (a `||` list): every part must be a supported format.
 * @throws IllegalArgumentError "mlplane does not support the date format [<f>] yet"
 */
export function checkDateFormat(format: string): void {
  for (const part of format.split('||')) {
    if (!(SUPPORTED_DATE_FORMATS as readonly string[]).includes(part) && part !== 'date_optional_time') {
      throw new IllegalArgumentError(`mlplane does not support the date format [${part}] yet`);
    }
  }
}

/** A date value in `format` (a `||` list), or undefined when no part parses it. */
export function parseDate(value: string | number, format: string = DEFAULT_DATE_FORMAT): number | undefined {
  for (const part of format.split('||')) {
    const t = parseOne(part, value);
    if (t !== undefined && Number.isFinite(t)) return t;
  }
  return undefined;
}

/** Renders epoch ms as Elasticsearch renders dates in `key_as_string` (`strict_date_optional_time`: `2017-01-01T00:00:00.000Z`). */
export function formatDate(ms: number, format: string = DEFAULT_DATE_FORMAT): string {
  const first = format.split('||')[0];
  if (first === 'epoch_millis') return String(ms);
  if (first === 'epoch_second') return String(Math.trunc(ms / 1000));
  return new Date(ms).toISOString();
}

const UNIT_MS: Record<string, number> = { w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, H: 3_600_000, m: 60_000, s: 1000 };

function addUnit(ms: number, n: number, unit: string): number {
  const d = new Date(ms);
  if (unit === 'y') return Date.UTC(d.getUTCFullYear() + n, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
  if (unit === 'M') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
  return ms + n * (UNIT_MS[unit] as number);
}

/** Start of the `unit` containing `ms` (UTC; weeks start on Monday, as Elasticsearch's ISO weeks). */
export function roundDown(ms: number, unit: string): number {
  const d = new Date(ms);
  switch (unit) {
    case 'y':
      return Date.UTC(d.getUTCFullYear(), 0, 1);
    case 'M':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    case 'w': {
      const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      return day - ((d.getUTCDay() + 6) % 7) * 86_400_000;
    }
    default: {
      const size = UNIT_MS[unit] as number;
      return Math.floor(ms / size) * size;
    }
  }
}

/**
 * Evaluates a date with Elasticsearch's date math: `now`, or an anchor date followed by
 * `||`, then operations `+1h`, `-1d`, `/d` (units y M w d h H m s). `roundUp` gives the
 * last millisecond of a rounded unit, as Elasticsearch does for `gt` and `lte` bounds.
 * @throws IllegalArgumentError / ElasticsearchParseException-like 400 when the text is neither
 *   a date in `format` nor valid date math:
 *   "failed to parse date field [<v>] with format [<format>]" (Elasticsearch's text)
 */
export function parseDateMath(value: string | number, format: string, nowMs: number, roundUp = false): number {
  const text = String(value);
  let anchor: number | undefined;
  let ops: string;
  if (text.startsWith('now')) {
    anchor = nowMs;
    ops = text.slice(3);
  } else {
    const sep = text.indexOf('||');
    const date = sep === -1 ? value : text.slice(0, sep);
    anchor = parseDate(typeof date === 'number' ? date : date, format);
    ops = sep === -1 ? '' : text.slice(sep + 2);
    if (anchor === undefined) throw new DateParseFailure(sep === -1 ? text : text.slice(0, sep), format);
  }
  let t = anchor;
  let i = 0;
  while (i < ops.length) {
    const op = ops[i];
    const m = /^([+-/])(\d*)([yMwdhHms])/.exec(ops.slice(i));
    if (!m || (op === '/' && m[2] !== '') || (op !== '/' && m[2] === '')) {
      throw new IllegalArgumentError(`operator not supported for date math [${ops}]`);
    }
    const unit = m[3] as string;
    if (op === '/') {
      t = roundDown(t, unit);
      if (roundUp) t = addUnit(t, 1, unit) - 1;
    } else {
      t = addUnit(t, (op === '-' ? -1 : 1) * Number(m[2]), unit);
    }
    i += m[0].length;
  }
  return t;
}

/** A value that is not a date of its format: Elasticsearch's `failed to parse date field [<v>] with format [<f>]` (400). */
export class DateParseFailure extends IllegalArgumentError {
  constructor(value: string, format: string) {
    super(`failed to parse date field [${value}] with format [${format}]`);
  }
}
