/**
 * Validation of Elasticsearch's Quartz-style cron expressions (`x-pack/.../scheduler/Cron.java`,
 * a fork of Quartz's CronExpression): 6 or 7 whitespace-separated fields (seconds, minutes,
 * hours, day-of-month, month, day-of-week, optional year). Only validation lives here, with
 * Elasticsearch's messages; computing fire times is the schedule engine's job. Written here
 * rather than taken from a cron library because the error texts are part of the wire contract
 * and no library produces Elasticsearch's.
 */
import { type EsError, IllegalArgumentError, ParseError } from '../errors.ts';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const SECOND = 0;
const MINUTE = 1;
const HOUR = 2;
const DAY_OF_MONTH = 3;
const MONTH = 4;
const DAY_OF_WEEK = 5;
const YEAR = 6;

/** The range check of `Cron.addToSet`, with its message. */
function checkRange(type: number, val: number, end: number): void {
  const bad = (lo: number, hi: number) => val < lo || val > hi || end > hi;
  if ((type === SECOND || type === MINUTE) && bad(0, 59)) throw new Error('Minute and Second values must be between 0 and 59');
  if (type === HOUR && bad(0, 23)) throw new Error('Hour values must be between 0 and 23');
  if (type === DAY_OF_MONTH && bad(1, 31)) throw new Error('Day of month values must be between 1 and 31');
  if (type === MONTH && bad(1, 12)) throw new Error('Month values must be between 1 and 12');
  if (type === DAY_OF_WEEK && (val === 0 || val > 7 || end > 7)) throw new Error('Day-of-Week values must be between 1 and 7');
}

const INCREMENT_LIMITS: Record<number, [number, string]> = {
  [SECOND]: [59, '60'],
  [MINUTE]: [59, '60'],
  [HOUR]: [23, '24'],
  [DAY_OF_MONTH]: [31, '31'],
  [DAY_OF_WEEK]: [7, '7'],
  [MONTH]: [12, '12'],
};

/** One comma-separated value of a field (`storeExpressionVals`, the common paths). */
function checkValue(v: string, type: number): void {
  if (v === '*') return;
  if (v === '?') {
    if (type !== DAY_OF_WEEK && type !== DAY_OF_MONTH) throw new Error(`'?' can only be specified for Day-of-Month or Day-of-Week. at pos [1]`);
    return;
  }
  if (type === DAY_OF_MONTH && /^(L(-\d+)?W?|LW|\d{1,2}W)$/.test(v)) {
    const w = /^(\d{1,2})W$/.exec(v);
    if (w) checkRange(type, Number(w[1]), -1);
    return;
  }
  if (type === DAY_OF_WEEK && /^(L|[1-7]L|[A-Z]{3}L)$/.test(v)) {
    if (/^[A-Z]{3}L$/.test(v) && !DAYS.includes(v.slice(0, 3))) throw new Error(`invalid Day-of-Week value [${v.slice(0, 3)}] at pos [0]`);
    return;
  }
  if (type === DAY_OF_WEEK && /^(\d|[A-Z]{3})#\d+$/.test(v)) {
    const [day = '', nth = ''] = v.split('#');
    if (/^[A-Z]{3}$/.test(day) && !DAYS.includes(day)) throw new Error(`invalid Day-of-Week value [${day}] at pos [0]`);
    if (/^\d$/.test(day)) checkRange(type, Number(day), -1);
    const n = Number(nth);
    if (n < 1 || n > 5) throw new Error(`a numeric value between 1 and 5 must follow the '#' option at pos [${day.length + 1}]`);
    return;
  }
  const m = /^(\*|[0-9]+|[A-Z]{3})(?:-([0-9]+|[A-Z]{3}))?(?:\/([0-9]+))?$/.exec(v);
  if (!m) {
    const c = [...v].find((ch) => !/[0-9A-Z*\-/,?#]/.test(ch));
    if (c !== undefined) throw new Error(`Unexpected character [${c}] at pos [${v.indexOf(c)}] `);
    throw new Error(`illegal characters [${v.slice(0, 3)}] at pos [0] '`);
  }
  const [, startText = '', endText, incrText] = m;
  const named = (text: string): number => {
    if (type === MONTH) {
      const n = MONTHS.indexOf(text);
      if (n < 0) throw new Error(`invalid Month value [${text}] at pos [0]`);
      return n + 1;
    }
    if (type === DAY_OF_WEEK) {
      const n = DAYS.indexOf(text);
      if (n < 0) throw new Error(`invalid Day-of-Week value [${text}] at pos [0]`);
      return n + 1;
    }
    throw new Error(`illegal characters [${text}] at pos [0] '`);
  };
  const num = (text: string): number => (/^[0-9]+$/.test(text) ? Number(text) : named(text));
  if (incrText !== undefined) {
    const incr = Number(incrText);
    const limit = INCREMENT_LIMITS[type];
    if (limit && incr > limit[0]) throw new Error(`increment [${incr}] > ${limit[1]} at pos [${v.length}]`);
  }
  if (startText === '*') return;
  const start = num(startText);
  const end = endText === undefined ? -1 : num(endText);
  if (type === YEAR) {
    if (end !== -1 && end < start) throw new Error('Start year must be less than stop year');
    return;
  }
  checkRange(type, start, end);
}

/** The message Quartz's parser would fail with, or undefined when the expression is valid (`Cron.buildExpression`). */
function cronProblem(expression: string): string | undefined {
  const upper = expression.toUpperCase();
  const fields = upper.split(/[ \t]+/).filter((f) => f.length > 0);
  try {
    for (let type = SECOND; type < Math.min(fields.length, YEAR + 1); type++) {
      const expr = fields[type] ?? '';
      if (type === DAY_OF_MONTH && expr.includes('L') && expr.length > 1 && expr.includes(','))
        throw new Error("support for specifying 'L' and 'LW' with other days of the month is not implemented");
      if (type === DAY_OF_WEEK && expr.includes('L') && expr.length > 1 && expr.includes(','))
        throw new Error("support for specifying 'L' with other days of the week is not implemented");
      if (type === DAY_OF_WEEK && (expr.match(/#/g) ?? []).length > 1) throw new Error('support for specifying multiple "nth" days is not implemented.');
      for (const v of expr.split(',').filter((x) => x.length > 0)) checkValue(v, type);
    }
    if (fields.length <= DAY_OF_WEEK) throw new Error(`unexpected end of expression at pos [${upper.length}].`);
    const dom = fields[DAY_OF_MONTH] ?? '';
    const dow = fields[DAY_OF_WEEK] ?? '';
    // Exactly one of day-of-month and day-of-week must be '?'.
    if ((dom === '?') === (dow === '?')) throw new Error('support for specifying both a day-of-week AND a day-of-month parameter is not implemented.');
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Validates one cron expression as `new Cron(expr)` does.
 * @throws IllegalArgumentError `invalid cron expression [<expr>]`, caused by
 *   `illegal cron expression format [java.lang.IllegalArgumentException: <Quartz message>]`
 */
export function validateCron(expression: string): void {
  const problem = cronProblem(expression);
  if (problem === undefined) return;
  const inner = new IllegalArgumentError(`illegal cron expression format [java.lang.IllegalArgumentException: ${problem}]`);
  throw new IllegalArgumentError(`invalid cron expression [${expression}]`, { cause: inner });
}

/**
 * Parses the `cron` schedule's value (CronSchedule.Parser): a string or a non-empty array of
 * strings. Elasticsearch keeps each expression upper-cased (`Cron` upper-cases it) and an
 * array sorted by expression (CronnableSchedule), which is how GET shows them.
 * @returns the re-serialized value: one string, or an array when more than one
 * @throws ParseError `could not parse [cron] schedule` (caused by the invalid expression) and the shape errors
 */
export function parseCronSchedule(value: unknown, tokenOf: (v: unknown) => string): string | string[] {
  const validate = (crons: string[]): string[] => {
    try {
      for (const c of crons) validateCron(c);
    } catch (e) {
      throw new ParseError('could not parse [cron] schedule', { cause: e as EsError });
    }
    return crons.map((c) => c.toUpperCase()).sort();
  };
  if (typeof value === 'string') return validate([value])[0] as string;
  if (Array.isArray(value)) {
    const crons: string[] = [];
    for (const v of value) {
      if (typeof v !== 'string') throw new ParseError(`could not parse [cron] schedule. expected a string value in the cron array but found [${tokenOf(v)}]`);
      crons.push(v);
    }
    if (crons.length === 0) throw new ParseError('could not parse [cron] schedule. no cron expression found in cron array');
    const sorted = validate(crons);
    return sorted.length === 1 ? (sorted[0] as string) : sorted;
  }
  throw new ParseError(`could not parse [cron] schedule. expected either a cron string value or an array of cron string values, but found [${tokenOf(value)}]`);
}
