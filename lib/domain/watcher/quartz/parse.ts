/**
 * Elasticsearch's Quartz cron parser (`x-pack/plugin/core/.../scheduler/Cron.java`, a fork of
 * Quartz's `CronExpression`), ported line for line: 6 or 7 fields (seconds, minutes, hours,
 * day-of-month, month, day-of-week, optional year), `*` `?` `-` `,` `/` `L` `W` `LW` `L-n`
 * `#`, month and day names, overflowing ranges (`22-2`, `NOV-FEB`).
 *
 * Why a port and not croner (a dependency, used by the local cron runner): croner 9.0.0 reads
 * `?` as "the time of initialisation" instead of "no specific value", numbers days of week
 * 0–6 from Sunday (Quartz: 1–7), has no `W`, `LW`, `L-n` or `nL` (it writes `5#L`), no year
 * field, and ORs day-of-month with day-of-week; its errors are not Elasticsearch's either. The
 * error texts below are part of the wire contract (put watch answers them), and the parser's
 * quirks decide which expressions a put accepts, so they are kept as Elasticsearch has them
 * (e.g. `MON-FRI/2` ignores `/2`, `?X` is `?`, `7/6` in the month field is July only).
 */
import { IllegalArgumentError } from '../../errors.ts';

export const SECOND = 0;
export const MINUTE = 1;
export const HOUR = 2;
export const DAY_OF_MONTH = 3;
export const MONTH = 4;
export const DAY_OF_WEEK = 5;
export const YEAR = 6;
/** The `*` marker Quartz keeps in a field's set beside the values it stands for. */
export const ALL_SPEC = 99;
/** The `?` marker ("no specific value") of day-of-month and day-of-week. */
export const NO_SPEC = 98;

/**
 * The last year a cron fires in: Elasticsearch's `Cron.MAX_YEAR`, the year the class was
 * loaded + 100 (here: the year this module was loaded, UTC).
 */
export const MAX_YEAR = new Date().getUTCFullYear() + 100;

const MONTH_MAP: Record<string, number> = { JAN: 0, FEB: 1, MAR: 2, APR: 3, MAY: 4, JUN: 5, JUL: 6, AUG: 7, SEP: 8, OCT: 9, NOV: 10, DEC: 11 };
const DAY_MAP: Record<string, number> = { SUN: 1, MON: 2, TUE: 3, WED: 4, THU: 5, FRI: 6, SAT: 7 };

/** A parsed expression: each field's set of values, ascending (markers included), and its flags. */
export interface QuartzCron {
  /** The expression upper-cased, as `Cron.expression()` keeps it. */
  expression: string;
  seconds: number[];
  minutes: number[];
  hours: number[];
  daysOfMonth: number[];
  /** 1–12. */
  months: number[];
  /** 1–7, 1 = Sunday. */
  daysOfWeek: number[];
  years: number[];
  lastdayOfWeek: boolean;
  nthdayOfWeek: number;
  lastdayOfMonth: boolean;
  nearestWeekday: boolean;
  lastdayOffset: number;
}

/**
 * A Java exception thrown inside the parser. `Cron.buildExpression` catches every exception
 * and reports it with `e.toString()`, so the Java class name is part of the message.
 */
class JavaException extends Error {
  constructor(
    readonly javaClass: string,
    readonly detail: string | null,
  ) {
    super(detail ?? javaClass);
  }
  /** `Throwable.toString()`: `<class>: <message>`, or the class alone without a message. */
  override toString(): string {
    return this.detail === null ? this.javaClass : `${this.javaClass}: ${this.detail}`;
  }
}

const iae = (msg: string) => new JavaException('java.lang.IllegalArgumentException', msg);

/** `String.charAt` (JDK 21 message when out of bounds). */
function charAt(s: string, i: number): string {
  if (i < 0 || i >= s.length) throw new JavaException('java.lang.StringIndexOutOfBoundsException', `Index ${i} out of bounds for length ${s.length}`);
  return s.charAt(i);
}

/** `String.substring(begin, end)` (JDK 21 message when out of bounds). */
function substring(s: string, begin: number, end = s.length): string {
  if (begin < 0 || end > s.length || begin > end) throw new JavaException('java.lang.StringIndexOutOfBoundsException', `begin ${begin}, end ${end}, length ${s.length}`);
  return s.slice(begin, end);
}

/** `Integer.parseInt` (an optional sign, then decimal digits, within 32 bits). */
function parseInt32(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new JavaException('java.lang.NumberFormatException', `For input string: "${s}"`);
  const n = Number(s);
  if (n > 2147483647 || n < -2147483648) throw new JavaException('java.lang.NumberFormatException', `For input string: "${s}"`);
  return n;
}

const isDigit = (c: string) => c >= '0' && c <= '9';

/** The mutable state of one parse (the fields of Java's `Cron` while `buildExpression` runs). */
class Builder {
  readonly sets: Set<number>[] = [new Set(), new Set(), new Set(), new Set(), new Set(), new Set(), new Set()];
  lastdayOfWeek = false;
  nthdayOfWeek = 0;
  lastdayOfMonth = false;
  nearestWeekday = false;
  lastdayOffset = 0;

  build(expression: string): void {
    let exprOn = SECOND;
    // StringTokenizer(expression, " \t"): empty tokens are skipped; fields past the year are ignored.
    const tokens = expression.split(/[ \t]+/).filter((t) => t.length > 0);
    for (const token of tokens) {
      if (exprOn > YEAR) break;
      const expr = token.trim();
      if (exprOn === DAY_OF_MONTH && expr.includes('L') && expr.length > 1 && expr.includes(',')) {
        throw iae("support for specifying 'L' and 'LW' with other days of the month is not implemented");
      }
      if (exprOn === DAY_OF_WEEK && expr.includes('L') && expr.length > 1 && expr.includes(',')) {
        throw iae("support for specifying 'L' with other days of the week is not implemented");
      }
      if (exprOn === DAY_OF_WEEK && expr.indexOf('#') !== -1 && expr.indexOf('#', expr.indexOf('#') + 1) !== -1) {
        throw iae('support for specifying multiple "nth" days is not implemented.');
      }
      for (const v of expr.split(',').filter((x) => x.length > 0)) this.storeExpressionVals(0, v, exprOn);
      exprOn++;
    }
    if (exprOn <= DAY_OF_WEEK) throw iae(`unexpected end of expression at pos [${expression.length}].`);
    if (exprOn <= YEAR) this.storeExpressionVals(0, '*', YEAR);
    const dayOfMSpec = !this.sets[DAY_OF_MONTH]?.has(NO_SPEC);
    const dayOfWSpec = !this.sets[DAY_OF_WEEK]?.has(NO_SPEC);
    if ((!dayOfMSpec || dayOfWSpec) && (!dayOfWSpec || dayOfMSpec)) {
      throw iae('support for specifying both a day-of-week AND a day-of-month parameter is not implemented.');
    }
  }

  private set(type: number): Set<number> {
    return this.sets[type] as Set<number>;
  }

  private storeExpressionVals(pos: number, s: string, type: number): number {
    let incr = 0;
    let i = skipWhiteSpace(pos, s);
    if (i >= s.length) return i;
    let c = charAt(s, i);
    if (c >= 'A' && c <= 'Z' && s !== 'L' && s !== 'LW' && !/^L-[0-9]*[W]?$/.test(s)) {
      let sub = substring(s, i, i + 3);
      let sval = -1;
      let eval_ = -1;
      if (type === MONTH) {
        sval = monthNumber(sub) + 1;
        if (sval <= 0) throw iae(`invalid Month value [${sub}] at pos [${i}]`);
        if (s.length > i + 3) {
          c = charAt(s, i + 3);
          if (c === '-') {
            i += 4;
            sub = substring(s, i, i + 3);
            eval_ = monthNumber(sub) + 1;
            if (eval_ <= 0) throw iae(`invalid Month value [${sub}] at pos [${i}]`);
          }
        }
      } else if (type === DAY_OF_WEEK) {
        sval = dayOfWeekNumber(sub);
        if (sval < 0) throw iae(`invalid Day-of-Week value [${sub}] at pos [${i}]`);
        if (s.length > i + 3) {
          c = charAt(s, i + 3);
          if (c === '-') {
            i += 4;
            sub = substring(s, i, i + 3);
            eval_ = dayOfWeekNumber(sub);
            if (eval_ < 0) throw iae(`invalid Day-of-Week value [${sub}] at pos [${i}]`);
          } else if (c === '#') {
            i += 4;
            this.nthdayOfWeek = nthOf(s, i);
          } else if (c === 'L') {
            this.lastdayOfWeek = true;
            i++;
          }
        }
      } else {
        throw iae(`illegal characters [${sub}] at pos [${i}] '`);
      }
      if (eval_ !== -1) incr = 1;
      this.addToSet(sval, eval_, incr, type);
      return i + 3;
    }

    if (c === '?') {
      i++;
      if (i + 1 < s.length && charAt(s, i) !== ' ' && charAt(s, i + 1) !== '\t') throw iae(`illegal character [${charAt(s, i)}] after '?' at pos [${i}]`);
      if (type !== DAY_OF_WEEK && type !== DAY_OF_MONTH) throw iae(`'?' can only be specified for Day-of-Month or Day-of-Week. at pos [${i}]`);
      if (type === DAY_OF_WEEK && !this.lastdayOfMonth) {
        const dom = [...this.set(DAY_OF_MONTH)];
        if (dom.length === 0) throw new JavaException('java.util.NoSuchElementException', null);
        if (Math.max(...dom) === NO_SPEC) throw iae(`'?' can only be specified for Day-of-Month -OR- Day-of-Week. at pos [${i}]`);
      }
      this.addToSet(NO_SPEC, -1, 0, type);
      return i;
    }

    if (c === '*' || c === '/') {
      if (c === '*' && i + 1 >= s.length) {
        this.addToSet(ALL_SPEC, -1, incr, type);
        return i + 1;
      } else if (c === '/' && (i + 1 >= s.length || charAt(s, i + 1) === ' ' || charAt(s, i + 1) === '\t')) {
        throw iae(`'/' must be followed by an integer. at pos [${i}]`);
      } else if (c === '*') {
        i++;
      }
      c = charAt(s, i);
      if (c === '/') {
        i++;
        if (i >= s.length) throw iae(`Unexpected end of string. at pos [${i}]`);
        // Cron.getNumericValue: its findNextWhiteSpace never stops early, so the rest of the value is read.
        incr = parseInt32(substring(s, i));
        i++;
        if (incr > 10) i++;
        if (incr > 59 && (type === SECOND || type === MINUTE)) throw iae(`increment [${incr}] > 60 at pos [${i}]`);
        if (incr > 23 && type === HOUR) throw iae(`increment [${incr}] > 24 at pos [${i}]`);
        if (incr > 31 && type === DAY_OF_MONTH) throw iae(`increment [${incr}] > 31 at pos [${i}] `);
        if (incr > 7 && type === DAY_OF_WEEK) throw iae(`increment [${incr}] > 7 at pos [${i}] `);
        if (incr > 12 && type === MONTH) throw iae(`increment [${incr}] > 12 at pos [${i}]`);
      } else {
        incr = 1;
      }
      this.addToSet(ALL_SPEC, -1, incr, type);
      return i;
    }

    if (c === 'L') {
      i++;
      if (type === DAY_OF_MONTH) this.lastdayOfMonth = true;
      if (type === DAY_OF_WEEK) this.addToSet(7, 7, 0, type);
      if (type === DAY_OF_MONTH && s.length > i) {
        c = charAt(s, i);
        if (c === '-') {
          const vs = getValue(0, s, i + 1);
          this.lastdayOffset = vs.value;
          if (this.lastdayOffset > 30) throw iae(`offset from last day must be <= 30 at pos [${i + 1}]`);
          i = vs.pos;
        }
        if (s.length > i) {
          c = charAt(s, i);
          if (c === 'W') {
            this.nearestWeekday = true;
            i++;
          }
        }
      }
      return i;
    }

    if (isDigit(c)) {
      let val = Number(c);
      i++;
      if (i >= s.length) {
        this.addToSet(val, -1, -1, type);
      } else {
        c = charAt(s, i);
        if (isDigit(c)) {
          const vs = getValue(val, s, i);
          val = vs.value;
          i = vs.pos;
        }
        return this.checkNext(i, s, val, type);
      }
      return i;
    }

    throw iae(`Unexpected character [${c}] at pos [${i}] `);
  }

  private checkNext(pos: number, s: string, val: number, type: number): number {
    let end = -1;
    let i = pos;
    if (i >= s.length) {
      this.addToSet(val, end, -1, type);
      return i;
    }
    let c = charAt(s, pos);
    if (c === 'L') {
      if (type !== DAY_OF_WEEK) throw iae(`'L' option is not valid here. at pos [${i}]`);
      if (val < 1 || val > 7) throw iae('Day-of-Week values must be between 1 and 7');
      this.lastdayOfWeek = true;
      this.set(type).add(val);
      return i + 1;
    }
    if (c === 'W') {
      if (type !== DAY_OF_MONTH) throw iae(`'W' option is not valid here. at pos [${i}]`);
      this.nearestWeekday = true;
      if (val > 31) throw iae(`the 'W' option does not make sense with values larger than 31 (max number of days in a month) at pos [${i}]`);
      this.set(type).add(val);
      return i + 1;
    }
    if (c === '#') {
      if (type !== DAY_OF_WEEK) throw iae(`'#' option is not valid here. at pos [${i}]`);
      i++;
      this.nthdayOfWeek = nthOf(s, i);
      this.set(type).add(val);
      return i + 1;
    }
    if (c === '-') {
      i++;
      c = charAt(s, i);
      const v = parseInt32(c);
      end = v;
      i++;
      if (i >= s.length) {
        this.addToSet(val, end, 1, type);
        return i;
      }
      c = charAt(s, i);
      if (isDigit(c)) {
        const vs = getValue(v, s, i);
        end = vs.value;
        i = vs.pos;
      }
      if (i < s.length && charAt(s, i) === '/') {
        i++;
        c = charAt(s, i);
        const v2 = parseInt32(c);
        i++;
        if (i >= s.length) {
          this.addToSet(val, end, v2, type);
          return i;
        }
        c = charAt(s, i);
        if (isDigit(c)) {
          const vs = getValue(v2, s, i);
          this.addToSet(val, end, vs.value, type);
          return vs.pos;
        }
        this.addToSet(val, end, v2, type);
        return i;
      }
      this.addToSet(val, end, 1, type);
      return i;
    }
    if (c === '/') {
      i++;
      c = charAt(s, i);
      const v2 = parseInt32(c);
      i++;
      if (i >= s.length) {
        this.addToSet(val, end, v2, type);
        return i;
      }
      c = charAt(s, i);
      if (isDigit(c)) {
        const vs = getValue(v2, s, i);
        this.addToSet(val, end, vs.value, type);
        return vs.pos;
      }
      throw iae(`Unexpected character [${c}] after '/' at pos [${i}]`);
    }
    this.addToSet(val, end, 0, type);
    return i + 1;
  }

  private addToSet(val: number, end: number, incrIn: number, type: number): void {
    const set = this.set(type);
    let incr = incrIn;
    if (type === SECOND || type === MINUTE) {
      if ((val < 0 || val > 59 || end > 59) && val !== ALL_SPEC) throw iae('Minute and Second values must be between 0 and 59');
    } else if (type === HOUR) {
      if ((val < 0 || val > 23 || end > 23) && val !== ALL_SPEC) throw iae('Hour values must be between 0 and 23');
    } else if (type === DAY_OF_MONTH) {
      if ((val < 1 || val > 31 || end > 31) && val !== ALL_SPEC && val !== NO_SPEC) throw iae('Day of month values must be between 1 and 31');
    } else if (type === MONTH) {
      if ((val < 1 || val > 12 || end > 12) && val !== ALL_SPEC) throw iae('Month values must be between 1 and 12');
    } else if (type === DAY_OF_WEEK) {
      if ((val === 0 || val > 7 || end > 7) && val !== ALL_SPEC && val !== NO_SPEC) throw iae('Day-of-Week values must be between 1 and 7');
    }
    if ((incr === 0 || incr === -1) && val !== ALL_SPEC) {
      set.add(val !== -1 ? val : NO_SPEC);
      return;
    }
    let startAt = val;
    let stopAt = end;
    if (val === ALL_SPEC && incr <= 0) {
      incr = 1;
      set.add(ALL_SPEC);
    }
    const [lo, hi] = FIELD_RANGE[type] as [number, number];
    if (stopAt === -1) stopAt = hi;
    if (startAt === -1 || startAt === ALL_SPEC) startAt = lo;
    let max = -1;
    if (stopAt < startAt) {
      if (type === YEAR) throw iae('Start year must be less than stop year');
      max = OVERFLOW[type] as number;
      stopAt += max;
    }
    for (let i = startAt; i <= stopAt; i += incr) {
      if (max === -1) {
        set.add(i);
      } else {
        let i2 = i % max;
        // 1-based fields never hold 0 and do hold their maximum.
        if (i2 === 0 && (type === MONTH || type === DAY_OF_WEEK || type === DAY_OF_MONTH)) i2 = max;
        set.add(i2);
      }
    }
  }
}

/** Each field's default start and stop (`addToSet`). */
const FIELD_RANGE: Record<number, [number, number]> = {
  [SECOND]: [0, 59],
  [MINUTE]: [0, 59],
  [HOUR]: [0, 23],
  [DAY_OF_MONTH]: [1, 31],
  [MONTH]: [1, 12],
  [DAY_OF_WEEK]: [1, 7],
  [YEAR]: [1970, MAX_YEAR],
};
/** What an overflowing range (`22-2`) wraps around at. */
const OVERFLOW: Record<number, number> = { [SECOND]: 60, [MINUTE]: 60, [HOUR]: 24, [MONTH]: 12, [DAY_OF_WEEK]: 7, [DAY_OF_MONTH]: 31 };

function skipWhiteSpace(i: number, s: string): number {
  let j = i;
  while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
  return j;
}

/** `Cron.getValue`: the digits from `i` appended to `v`; `pos` is one past them (two past at the end of the string, as Quartz has it). */
function getValue(v: number, s: string, i: number): { value: number; pos: number } {
  let j = i;
  let c = charAt(s, j);
  let digits = String(v);
  while (isDigit(c)) {
    digits += c;
    j++;
    if (j >= s.length) break;
    c = charAt(s, j);
  }
  return { value: parseInt32(digits), pos: j < s.length ? j : j + 1 };
}

/** The number after `#` (1–5), with Quartz's message for anything else. */
function nthOf(s: string, i: number): number {
  try {
    const n = parseInt32(substring(s, i));
    if (n >= 1 && n <= 5) return n;
  } catch {
    // fall through to Quartz's message
  }
  throw iae(`a numeric value between 1 and 5 must follow the '#' option at pos [${i}]`);
}

const monthNumber = (s: string): number => MONTH_MAP[s] ?? -1;
const dayOfWeekNumber = (s: string): number => DAY_MAP[s] ?? -1;

const sorted = (set: Set<number> | undefined): number[] => [...(set ?? [])].sort((a, b) => a - b);

/**
 * Parses a Quartz cron expression as `new Cron(expression)` does (case-insensitive).
 * @returns the expression's value sets (ascending) and flags, for {@link nextCronWallTime}
 * @throws IllegalArgumentError `invalid cron expression [<expression as given>]`, caused by
 *   `illegal cron expression format [<Java exception>: <Quartz message>]` (e.g.
 *   `[java.lang.IllegalArgumentException: Minute and Second values must be between 0 and 59]`)
 */
export function parseQuartzCron(expression: string): QuartzCron {
  const upper = expression.toUpperCase();
  const b = new Builder();
  try {
    b.build(upper);
  } catch (e) {
    const detail = e instanceof JavaException ? e.toString() : `java.lang.RuntimeException: ${(e as Error).message}`;
    const inner = new IllegalArgumentError(`illegal cron expression format [${detail}]`);
    throw new IllegalArgumentError(`invalid cron expression [${expression}]`, { cause: inner });
  }
  return {
    expression: upper,
    seconds: sorted(b.sets[SECOND]),
    minutes: sorted(b.sets[MINUTE]),
    hours: sorted(b.sets[HOUR]),
    daysOfMonth: sorted(b.sets[DAY_OF_MONTH]),
    months: sorted(b.sets[MONTH]),
    daysOfWeek: sorted(b.sets[DAY_OF_WEEK]),
    years: sorted(b.sets[YEAR]),
    lastdayOfWeek: b.lastdayOfWeek,
    nthdayOfWeek: b.nthdayOfWeek,
    lastdayOfMonth: b.lastdayOfMonth,
    nearestWeekday: b.nearestWeekday,
    lastdayOffset: b.lastdayOffset,
  };
}

/**
 * Validates one cron expression as Elasticsearch's `Cron.validate` does, for the put-watch
 * parser: `CronSchedule.Parser` wraps the error in 400 `parse_exception` "could not parse
 * [cron] schedule" (the calendar schedules in "could not parse [<type>] schedule").
 * @throws IllegalArgumentError as {@link parseQuartzCron}
 */
export function validateCron(expression: string): void {
  parseQuartzCron(expression);
}
