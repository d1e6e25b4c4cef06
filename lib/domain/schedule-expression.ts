/**
 * EventBridge Scheduler's schedule expressions, checked as Scheduler checks them and evaluated
 * as it evaluates them, so that a schedule refused in AWS is refused at `cdk synth` and at
 * `npm start` too, and the local runner fires when Scheduler would.
 *
 * - `cron(minutes hours day-of-month month day-of-week year)`: six fields; minutes 0-59 and
 *   hours 0-23 (`, - * /`), day-of-month 1-31 (`, - * ? / L W`), month 1-12 or JAN-DEC
 *   (`, - * /`), day-of-week 1-7 = SUN-SAT (`, - * ? L #`), year 1970-2199 (`, - * /`).
 *   Exactly one of day-of-month and day-of-week is `?`. A `#` stands alone in its field.
 * - `rate(value unit)`: a positive integer and `minute`, `hour` or `day` (singular for 1,
 *   plural otherwise: `rate(1 hour)`, `rate(5 minutes)`); a day is 24 hours, whatever the
 *   clocks do.
 * - `at(yyyy-mm-ddThh:mm:ss)`: once, at that wall-clock time in the schedule's time zone.
 *
 * Daylight saving time (Scheduler's user guide, "Daylight saving time"): a cron time that does
 * not exist on the day the clocks go forward is skipped; a time that happens twice when they go
 * back fires once, the first time.
 *
 * Why not croner here: croner's `?` means "the value at start-up" (not "any"), and it has no
 * year field and no `W`; the topology's own schedules still use it (`lib/local/cron.ts`).
 * Reversed ranges (`FRI-MON`) are refused: AWS's documentation shows none, and a refusal
 * names the field, where a guess would fire on days nobody meant.
 */
import { ScheduleConfigError } from './errors.ts';
import { instantsOf, wallTimeOf, zoneOf } from './zone.ts';

/** The wall-clock fields of a time in a time zone; `month` 1-12. */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** A parsed `cron(...)`: the sets each field allows and the day rules. */
export interface CronSchedule {
  kind: 'cron';
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  months: ReadonlySet<number>;
  years: ReadonlySet<number>;
  /** The day rule of whichever of day-of-month / day-of-week is not `?`. */
  days: DayRule;
}

/** Which days of a month match. */
export type DayRule =
  | { field: 'day-of-month'; days: ReadonlySet<number>; last: boolean; nearestWeekday: number | undefined }
  | { field: 'day-of-week'; weekdays: ReadonlySet<number>; lastOf: number | undefined; nth: { weekday: number; n: number } | undefined };

/** A parsed `rate(...)`: `everyMs` between firings. */
export interface RateSchedule {
  kind: 'rate';
  value: number;
  unit: 'minute' | 'hour' | 'day';
  everyMs: number;
}

/** A parsed `at(...)`: one wall-clock time. */
export interface AtSchedule {
  kind: 'at';
  at: LocalDateTime;
}

export type ParsedScheduleExpression = CronSchedule | RateSchedule | AtSchedule;

/** Why an expression, time zone or window is refused; {@link checkScheduleTiming} adds the schedule's name. */
export class ScheduleExpressionError extends ScheduleConfigError {}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MINUTES: FieldSpec = { name: 'minutes', min: 0, max: 59 };
const HOURS: FieldSpec = { name: 'hours', min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, names: MONTH_NAMES };
const DAY_OF_WEEK: FieldSpec = { name: 'day-of-week', min: 1, max: 7, names: DAY_NAMES };
const YEAR: FieldSpec = { name: 'year', min: 1970, max: 2199 };

function value(spec: FieldSpec, text: string): number {
  const upper = text.toUpperCase();
  const named = spec.names?.indexOf(upper) ?? -1;
  if (named >= 0) return named + 1;
  if (!/^\d+$/.test(text))
    throw new ScheduleExpressionError(`${spec.name} field: [${text}] is not a value (${spec.min}-${spec.max}${spec.names ? ` or ${spec.names[0]}-${spec.names.at(-1)}` : ''})`);
  const n = Number(text);
  if (n < spec.min || n > spec.max) throw new ScheduleExpressionError(`${spec.name} field: [${text}] is out of range ${spec.min}-${spec.max}`);
  return n;
}

/** `*`, `n`, `n-m`, `*\/s`, `n/s`, `n-m/s` and comma lists of them. */
function valueSet(spec: FieldSpec, field: string): Set<number> {
  const out = new Set<number>();
  for (const item of field.split(',')) {
    if (item === '') throw new ScheduleExpressionError(`${spec.name} field: [${field}] has an empty list item`);
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined) throw new ScheduleExpressionError(`${spec.name} field: [${item}] has more than one /`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw new ScheduleExpressionError(`${spec.name} field: the increment in [${item}] must be a positive integer`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = spec.min;
      hi = spec.max;
    } else {
      const [a, b, more] = (range ?? '').split('-');
      if (more !== undefined || a === undefined || a === '') throw new ScheduleExpressionError(`${spec.name} field: [${item}] is not a value, range or increment`);
      lo = value(spec, a);
      // `n/s` runs from n to the field's end, as in `1/10` (minutes 1, 11, 21, …).
      hi = b === undefined ? (stepText === undefined ? lo : spec.max) : value(spec, b);
      if (hi < lo) throw new ScheduleExpressionError(`${spec.name} field: the range [${range}] runs backwards`);
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

function dayOfMonthRule(field: string): DayRule {
  if (field === 'L') return { field: 'day-of-month', days: new Set(), last: true, nearestWeekday: undefined };
  const w = /^(\d+)W$/.exec(field);
  if (w) return { field: 'day-of-month', days: new Set(), last: false, nearestWeekday: value(DAY_OF_MONTH, w[1]!) };
  if (/[LW]/i.test(field))
    throw new ScheduleExpressionError(`day-of-month field: [${field}]: L stands alone (last day of the month) and W follows one day (3W: the weekday nearest the 3rd)`);
  return { field: 'day-of-month', days: valueSet(DAY_OF_MONTH, field), last: false, nearestWeekday: undefined };
}

function dayOfWeekRule(field: string): DayRule {
  const none = { field: 'day-of-week', weekdays: new Set<number>(), lastOf: undefined, nth: undefined } as const;
  if (field.includes('#')) {
    const m = /^([^#,]+)#(\d+)$/.exec(field);
    if (!m) throw new ScheduleExpressionError(`day-of-week field: [${field}]: a # expression stands alone in the field (3#2: the second Tuesday)`);
    const n = Number(m[2]);
    if (n < 1 || n > 5) throw new ScheduleExpressionError(`day-of-week field: [${field}]: the week number after # must be 1-5`);
    return { ...none, nth: { weekday: value(DAY_OF_WEEK, m[1]!), n } };
  }
  // `L` alone is the last day of the week (Saturday), `6L` the month's last Friday.
  if (field.toUpperCase() === 'L') return { ...none, weekdays: new Set([7]) };
  const last = /^(.+)L$/i.exec(field);
  if (last && !DAY_NAMES.includes(field.toUpperCase())) {
    if (last[1]!.includes(',') || last[1]!.includes('-')) throw new ScheduleExpressionError(`day-of-week field: [${field}]: L follows one day (6L: the last Friday of the month)`);
    return { ...none, lastOf: value(DAY_OF_WEEK, last[1]!) };
  }
  return { ...none, weekdays: valueSet(DAY_OF_WEEK, field) };
}

function parseCron(body: string): CronSchedule {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) throw new ScheduleExpressionError(`cron expressions have 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`);
  const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) {
    throw new ScheduleExpressionError('exactly one of the day-of-month and day-of-week fields must be ? (a value or * in one needs ? in the other)');
  }
  for (const [spec, f] of [
    [MINUTES, min],
    [HOURS, hour],
    [MONTH, month],
    [YEAR, year],
  ] as const) {
    if (f.includes('?')) throw new ScheduleExpressionError(`${spec.name} field: ? is only allowed in day-of-month and day-of-week`);
  }
  return {
    kind: 'cron',
    minutes: valueSet(MINUTES, min),
    hours: valueSet(HOURS, hour),
    months: valueSet(MONTH, month),
    years: valueSet(YEAR, year),
    days: dom === '?' ? dayOfWeekRule(dow) : dayOfMonthRule(dom),
  };
}

const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

function parseRate(body: string): RateSchedule {
  const m = /^\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*$/.exec(body);
  if (!m) throw new ScheduleExpressionError(`rate expressions are rate(value unit) with a positive integer and minute(s), hour(s) or day(s), got rate(${body})`);
  const n = Number(m[1]);
  const word = m[2]!;
  if (n < 1) throw new ScheduleExpressionError(`the rate value must be a positive integer, got ${m[1]}`);
  const plural = word.endsWith('s');
  if (n === 1 && plural) throw new ScheduleExpressionError(`rate(1 ${word}): the unit is singular for 1 (rate(1 ${word.slice(0, -1)}))`);
  if (n > 1 && !plural) throw new ScheduleExpressionError(`rate(${n} ${word}): the unit is plural for values above 1 (rate(${n} ${word}s))`);
  const unit = (plural ? word.slice(0, -1) : word) as RateSchedule['unit'];
  return { kind: 'rate', value: n, unit, everyMs: n * UNIT_MS[unit] };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function parseAt(body: string): AtSchedule {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body.trim());
  if (!m) throw new ScheduleExpressionError(`at expressions are at(yyyy-mm-ddThh:mm:ss), got at(${body})`);
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    throw new ScheduleExpressionError(`at(${body}) is not a date and time`);
  }
  return { kind: 'at', at: { year, month, day, hour, minute, second } };
}

/**
 * Parses a schedule expression (`cron(...)`, `rate(...)`, `at(...)`).
 * @throws ScheduleExpressionError saying what is wrong (the caller names the schedule).
 */
export function parseScheduleExpression(expression: string): ParsedScheduleExpression {
  const m = /^(cron|rate|at)\((.*)\)$/s.exec(expression);
  if (!m) throw new ScheduleExpressionError(`[${expression}] is not a schedule expression: use cron(...), rate(...) or at(...)`);
  const body = m[2]!;
  if (m[1] === 'cron') return parseCron(body);
  if (m[1] === 'rate') return parseRate(body);
  return parseAt(body);
}

/**
 * Checks an IANA time zone name (`Europe/Berlin`, `UTC`) with the runtime's time zone data.
 * @throws ScheduleExpressionError when the runtime does not know it.
 */
export function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new ScheduleExpressionError(`[${timeZone}] is not a time zone (an IANA name such as Europe/Berlin or UTC)`);
  }
}

const localAsUtc = (l: LocalDateTime): number => Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);

/** The wall-clock time of `instantMs` in `timeZone` (whole seconds). */
export function toLocal(instantMs: number, timeZone: string): LocalDateTime {
  const wall = new Date(wallTimeOf(zoneOf(timeZone), instantMs));
  return {
    year: wall.getUTCFullYear(),
    month: wall.getUTCMonth() + 1,
    day: wall.getUTCDate(),
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
    second: wall.getUTCSeconds(),
  };
}

/**
 * The instant (epoch ms) of a wall-clock time in `timeZone`: the first of two when the clocks
 * go back (the time happens twice), `undefined` when they go forward over it (it never happens).
 */
export function fromLocal(local: LocalDateTime, timeZone: string): number | undefined {
  return instantsOf(zoneOf(timeZone), localAsUtc(local)).instants[0];
}

function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1; // 1 = SUN … 7 = SAT, as in cron
}

function dayMatches(rule: DayRule, year: number, month: number, day: number): boolean {
  const last = daysInMonth(year, month);
  if (rule.field === 'day-of-month') {
    if (rule.last) return day === last;
    if (rule.nearestWeekday !== undefined) {
      // The weekday nearest the given day, never leaving the month (Quartz's and AWS's W).
      let target = Math.min(rule.nearestWeekday, last);
      const wd = weekday(year, month, target);
      if (wd === 7) target = target === 1 ? 3 : target - 1;
      else if (wd === 1) target = target === last ? target - 2 : target + 1;
      return day === target;
    }
    return rule.days.has(day);
  }
  const wd = weekday(year, month, day);
  if (rule.nth) return wd === rule.nth.weekday && Math.ceil(day / 7) === rule.nth.n;
  if (rule.lastOf !== undefined) return wd === rule.lastOf && day + 7 > last;
  return rule.weekdays.has(wd);
}

function sorted(s: ReadonlySet<number>): number[] {
  return [...s].sort((a, b) => a - b);
}

/** The first cron firing strictly after `afterMs`, or undefined when there is none before 2200. */
function nextCron(cron: CronSchedule, timeZone: string, afterMs: number): number | undefined {
  const start = toLocal(afterMs, timeZone);
  const hours = sorted(cron.hours);
  const minutes = sorted(cron.minutes);
  let { year, month, day } = start;
  while (year <= YEAR.max) {
    if (!cron.years.has(year)) {
      year++;
      month = 1;
      day = 1;
      continue;
    }
    if (!cron.months.has(month)) {
      month++;
      day = 1;
      if (month > 12) {
        month = 1;
        year++;
      }
      continue;
    }
    if (day <= daysInMonth(year, month) && dayMatches(cron.days, year, month, day)) {
      for (const hour of hours) {
        for (const minute of minutes) {
          const t = fromLocal({ year, month, day, hour, minute, second: 0 }, timeZone);
          if (t !== undefined && t > afterMs) return t;
        }
      }
    }
    day++;
    if (day > daysInMonth(year, month)) {
      day = 1;
      month++;
      if (month > 12) {
        month = 1;
        year++;
      }
    }
  }
  return undefined;
}

/** What {@link nextFireTime} needs of a schedule. */
export interface FireTimeInput {
  expression: ParsedScheduleExpression;
  /** IANA time zone of cron and at expressions (rate ignores it). */
  timeZone: string;
  /** The first firing of a rate schedule (Scheduler's `StartDate`; without one, when the schedule was created). */
  rateStartMs?: number;
}

/**
 * The first time, strictly after `afterMs` (epoch ms), at which Scheduler would fire the
 * schedule (before any flexible window): cron in its time zone with the DST rules of the
 * module comment; rate every `everyMs` from `rateStartMs` (required for rate); at once.
 * `undefined` when it never fires again.
 */
export function nextFireTime(input: FireTimeInput, afterMs: number): number | undefined {
  const { expression } = input;
  if (expression.kind === 'cron') return nextCron(expression, input.timeZone, afterMs);
  if (expression.kind === 'at') {
    const t = fromLocal(expression.at, input.timeZone);
    return t !== undefined && t > afterMs ? t : undefined;
  }
  if (input.rateStartMs === undefined) throw new Error('a rate schedule needs its start time');
  const start = input.rateStartMs;
  if (start > afterMs) return start;
  return start + (Math.floor((afterMs - start) / expression.everyMs) + 1) * expression.everyMs;
}

/** Scheduler's flexible time window: `OFF` or 1-1440 minutes. */
export const MAX_FLEXIBLE_WINDOW_MINUTES = 1440;

/** The name rule of a Scheduler schedule: `[0-9a-zA-Z-_.]`, 1-64 characters. */
export const SCHEDULE_NAME_PATTERN = /^[0-9a-zA-Z\-_.]{1,64}$/;

/** A schedule's timing as Scheduler takes it. */
export interface ScheduleTiming {
  name: string;
  expression: string;
  /** IANA name; default `UTC`. */
  timezone?: string;
  /** `OFF` / absent, or 1-1440 minutes. */
  flexible_window_minutes?: number | 'OFF';
}

/**
 * Checks a schedule's name, expression, time zone and flexible window as EventBridge Scheduler
 * would at `CreateSchedule`, plus an `at()` time that the clocks skip in its time zone (it
 * would never fire). Returns the parsed expression.
 * @throws ScheduleExpressionError "schedule [name]: <field> …: <what is wrong>".
 */
export function checkScheduleTiming(s: ScheduleTiming): ParsedScheduleExpression {
  const fail = (field: string, why: string): never => {
    throw new ScheduleExpressionError(`schedule [${s.name}]: ${field}: ${why}`);
  };
  if (!SCHEDULE_NAME_PATTERN.test(s.name)) fail('name', 'must be 1-64 characters of 0-9 a-z A-Z - _ . (EventBridge Scheduler names)');
  const timeZone = s.timezone ?? 'UTC';
  try {
    assertTimeZone(timeZone);
  } catch (err) {
    fail('timezone', (err as Error).message);
  }
  const w = s.flexible_window_minutes;
  if (w !== undefined && w !== 'OFF' && !(Number.isInteger(w) && w >= 1 && w <= MAX_FLEXIBLE_WINDOW_MINUTES)) {
    fail('flexible_window_minutes', `must be OFF or an integer from 1 to ${MAX_FLEXIBLE_WINDOW_MINUTES}, got ${JSON.stringify(w)}`);
  }
  let parsed: ParsedScheduleExpression;
  try {
    parsed = parseScheduleExpression(s.expression);
  } catch (err) {
    return fail(`expression [${s.expression}]`, (err as Error).message);
  }
  if (parsed.kind === 'at' && fromLocal(parsed.at, timeZone) === undefined) {
    fail(`expression [${s.expression}]`, `that time does not exist in ${timeZone} (the clocks go forward over it)`);
  }
  return parsed;
}
