/**
 * The `schedule` trigger of a watch (spec `watcher-ack.md` §4.1 "Trigger"): parsing every
 * schedule type with Elasticsearch's errors (`ScheduleRegistry`, `*Schedule.Parser`,
 * `DayTimes`) and re-serializing it the way GET shows it.
 */
import { EsError, IllegalArgumentError, ParseError } from '../errors.ts';
import { isJsonObject } from '../json/plain-values.ts';
import { parseCronSchedule } from './cron.ts';
import type { ScheduleTrigger, ScheduleType } from './types.ts';

/** The Jackson token name of a plain JSON value, as Elasticsearch's messages print it. */
export function tokenOf(v: unknown): string {
  if (v === null) return 'VALUE_NULL';
  if (Array.isArray(v)) return 'START_ARRAY';
  if (typeof v === 'object') return 'START_OBJECT';
  if (typeof v === 'string') return 'VALUE_STRING';
  if (typeof v === 'number') return 'VALUE_NUMBER';
  if (typeof v === 'boolean') return 'VALUE_BOOLEAN';
  return 'VALUE_EMBEDDED_OBJECT';
}

const CRONNABLE: ReadonlySet<ScheduleType> = new Set(['hourly', 'daily', 'weekly', 'monthly', 'yearly', 'cron']);

/** Java's `Integer.parseInt` on a JSON number or numeric string; undefined when it is not one. */
function intOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^[+-]?\d+$/.test(v)) return Number(v);
  return undefined;
}

/** `DayTimes.parseMinuteValue` / `parseHourValue`. */
function timeValue(v: unknown, what: 'minute' | 'hour'): number {
  const max = what === 'minute' ? 59 : 23;
  if (typeof v !== 'number' && typeof v !== 'string') {
    throw new ParseError(
      what === 'minute'
        ? `invalid time minute value. expected string/number value, but found [${tokenOf(v)}]`
        : `invalid hour value. expected string/number value, but found [${tokenOf(v)}]`,
    );
  }
  const n = typeof v === 'number' ? Math.trunc(v) : intOf(v);
  if (n === undefined) throw new ParseError(`invalid time ${what} value [${String(v)}]`);
  if (n < 0 || n > max) throw new ParseError(`invalid time ${what} value [${n}] (possible values may be between 0 and ${max} incl.)`);
  return n;
}

/** `DayTimes` re-serialized: the given string (`"noon"`, `"midnight"`, `"HH:mm"`) or `{hour:[..], minute:[..]}`. */
type DayTime = string | { hour: number[]; minute: number[] };

/** `DayTimes.parse(String)`. */
function parseTimeString(time: string): DayTime {
  if (time === 'noon' || time === 'midnight') return time;
  const bad = () => new ParseError(`could not parse time [${time}]. time format must be in the form of hh:mm`);
  const i = time.indexOf(':');
  if (i < 0 || i === time.length - 1 || time.indexOf(':', i + 1) >= 0) throw bad();
  const hr = time.slice(0, i);
  const min = time.slice(i + 1);
  if ((hr.length !== 1 && hr.length !== 2) || min.length !== 2) throw bad();
  const h = intOf(hr);
  if (h === undefined) throw new ParseError(`could not parse time [${time}]. time hour [${hr}] is not a number`);
  const m = intOf(min);
  if (m === undefined) throw new ParseError(`could not parse time [${time}]. time minute [${min}] is not a number`);
  if (h < 0 || h > 23 || m < 0 || m > 59) {
    const detail =
      h < 0 || h > 23
        ? `invalid time hour value [${h}]. time hours must be between 0 and 23 incl.`
        : `invalid time minute value [${m}]. time minutes must be between 0 and 59 incl.`;
    throw new ParseError(`could not parse time [${time}]`, { cause: new EsError('illegal_argument_exception', 400, `invalid time [${time}]. ${detail}`) });
  }
  return time;
}

/** `DayTimes.parse(parser, token)`: a time string or `{hour, minute}` (each a value or an array; default 0). */
function parseDayTime(v: unknown): DayTime {
  if (typeof v === 'string') return parseTimeString(v);
  if (!isJsonObject(v)) throw new ParseError(`could not parse time. expected string/number value or an object, but found [${tokenOf(v)}]`);
  const hour: number[] = [];
  const minute: number[] = [];
  for (const [key, val] of Object.entries(v)) {
    if (key !== 'hour' && key !== 'minute') continue;
    const into = key === 'hour' ? hour : minute;
    if (Array.isArray(val)) for (const x of val) into.push(timeValue(x, key));
    else if (isJsonObject(val)) throw new ParseError(`invalid time ${key} value. expected string/number value or an array of string/number values, but found [START_OBJECT]`);
    else into.push(timeValue(val, key));
  }
  return { hour: hour.length > 0 ? hour : [0], minute: minute.length > 0 ? minute : [0] };
}

function parseHourly(value: unknown): unknown {
  if (!isJsonObject(value)) throw new ParseError(`could not parse [hourly] schedule. unexpected token [${tokenOf(value)}]`);
  const minutes: number[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (key !== 'minute') throw new ParseError(`could not parse [hourly] schedule. unexpected field [${key}]`);
    if (isJsonObject(v))
      throw new ParseError(
        `could not parse [hourly] schedule. invalid value for [minute]. expected either string/value or an array of string/number values, but found [START_OBJECT]`,
      );
    try {
      for (const x of Array.isArray(v) ? v : [v]) minutes.push(timeValue(x, 'minute'));
    } catch (e) {
      throw new ParseError('could not parse [hourly] schedule. invalid value for [minute]', { cause: e as EsError });
    }
  }
  return { minute: minutes.length > 0 ? minutes : [0] };
}

/** `DailySchedule.Parser`: `at` is one time or an array of times (default midnight); nothing else. */
function parseDaily(value: unknown): unknown {
  if (!isJsonObject(value)) throw new ParseError(`could not parse [daily] schedule. expected an object but found [${tokenOf(value)}]`);
  const at: DayTime[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (key !== 'at') throw new ParseError(`could not parse [daily] schedule. unexpected field [${key}]`);
    for (const x of Array.isArray(v) ? v : [v]) {
      try {
        at.push(parseDayTime(x));
      } catch (e) {
        throw new ParseError(`could not parse [daily] schedule. invalid time value for field [at] - [${tokenOf(x)}]`, { cause: e as EsError });
      }
    }
  }
  return { at: at.length > 0 ? at : ['midnight'] };
}

/** Day-of-week cron keys in Java's `DayOfWeek` enum order (an EnumSet renders in this order). */
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
/** Month cron keys in Java's `Month` enum order. */
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** `WeekTimes.parseDayValue` + `DayOfWeek.resolve`: `1`–`7` (1 = Sunday), `sun`, `sunday`… → index. */
function dayOfWeek(v: unknown): number {
  if (typeof v === 'number') {
    const n = Math.trunc(v);
    if (n < 1 || n > 7) throw new ParseError(`unknown day of week number [${n}]`);
    return n - 1;
  }
  if (typeof v !== 'string') throw new ParseError(`invalid weekly day value. expected a string or a number value, but found [${tokenOf(v)}]`);
  const s = v.toLowerCase();
  const i = DAYS.findIndex((d, n) => s === String(n + 1) || s === d.toLowerCase() || s === DAY_NAMES[n]);
  if (i < 0) throw new ParseError(`unknown day of week [${v}]`);
  return i;
}

/** `Month.resolve`: `1`–`12`, `jan`, `january`, and Elasticsearch's `first`/`last` → index. */
function monthOf(v: unknown): number {
  if (typeof v === 'number') {
    const n = Math.trunc(v);
    if (n < 1 || n > 12) throw new ParseError(`unknown month number [${n}]`);
    return n - 1;
  }
  if (typeof v !== 'string') throw new ParseError(`invalid year month value. expected a string or a number value, but found [${tokenOf(v)}]`);
  const s = v.toLowerCase();
  if (s === 'first') return 0;
  if (s === 'last') return 11;
  const i = MONTHS.findIndex((m, n) => s === String(n + 1) || s === m.toLowerCase() || s === MONTH_NAMES[n]);
  if (i < 0) throw new ParseError(`unknown month [${v}]`);
  return i;
}

/** `MonthTimes.parseDayValue`: a day 1–31, `first_day` (1) or `last_day` (32, shown as 32). */
function dayOfMonth(v: unknown): number {
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (s === 'last_day') return 32;
    if (s === 'first_day') return 1;
    const n = intOf(s);
    if (n === undefined) throw new ParseError(`invalid month day value. string value [${s}] cannot be`);
    return n;
  }
  if (typeof v === 'number') return Math.trunc(v);
  throw new ParseError(`invalid month day value. expected a string or a number value, but found [${tokenOf(v)}]`);
}

/** The values of a days/months field: one value or an array of values (an object is refused with `what`'s message). */
function valuesOf<T>(key: string, v: unknown, what: string, one: (x: unknown) => T): T[] {
  if (Array.isArray(v)) return v.map(one);
  if (isJsonObject(v)) throw new ParseError(`invalid ${what} value for [${key}] field. expected string/number value or an array of string/number values, but found [START_OBJECT]`);
  return [one(v)];
}

/** The times of an entry (`at`/`time`), deduplicated as Elasticsearch's set of DayTimes (equal hours and minutes). */
function entryTimes(key: string, v: unknown, into: DayTime[]): void {
  for (const x of Array.isArray(v) ? v : [v]) {
    let t: DayTime;
    try {
      t = parseDayTime(x);
    } catch (e) {
      throw new ParseError(`invalid time value for field [${key}] - [${tokenOf(x)}]`, { cause: e as EsError });
    }
    if (!into.some((o) => sameTime(o, t))) into.push(t);
  }
}

/** `DayTimes.equals`: the hours and minutes, whatever the spelling (`"noon"` = `"12:00"`). */
function sameTime(a: DayTime, b: DayTime): boolean {
  const norm = (t: DayTime) => {
    if (typeof t !== 'string') return JSON.stringify(t);
    if (t === 'noon') return JSON.stringify({ hour: [12], minute: [0] });
    if (t === 'midnight') return JSON.stringify({ hour: [0], minute: [0] });
    const [h = '0', m = '0'] = t.split(':');
    return JSON.stringify({ hour: [Number(h)], minute: [Number(m)] });
  };
  return norm(a) === norm(b);
}

type CalendarType = 'weekly' | 'monthly' | 'yearly';
const CALENDAR_WHAT: Record<CalendarType, string> = { weekly: 'week', monthly: 'month', yearly: 'year' };

/**
 * One `{on|day, at|time[, in|month]}` entry (`WeekTimes`, `MonthTimes`, `YearTimes`.parse), as
 * Elasticsearch renders it: days and months as sets in enum order (weekly `["MON"]`, yearly
 * `["JAN"]`), month days sorted numbers (32 = last day), times as given, deduplicated.
 * Unknown fields are skipped, as Elasticsearch's parsers do.
 */
function calendarEntry(type: CalendarType, entry: unknown): Record<string, unknown> {
  if (!isJsonObject(entry)) throw new ParseError(`could not parse ${CALENDAR_WHAT[type]} times. expected an object, but found [${tokenOf(entry)}]`);
  const days = new Set<number>();
  const months = new Set<number>();
  const times: DayTime[] = [];
  for (const [key, v] of Object.entries(entry)) {
    if (key === 'on' || key === 'day') {
      if (type === 'weekly') for (const d of valuesOf(key, v, 'week day', dayOfWeek)) days.add(d);
      else for (const d of valuesOf(key, v, type === 'monthly' ? 'month day' : 'year day', dayOfMonth)) days.add(d);
    } else if (key === 'at' || key === 'time') {
      entryTimes(key, v, times);
    } else if (type === 'yearly' && (key === 'in' || key === 'month')) {
      for (const m of valuesOf(key, v, 'year month', monthOf)) months.add(m);
    }
  }
  const at = times.length > 0 ? times : ['midnight'];
  if (type === 'weekly') return { on: days.size > 0 ? [...days].sort((a, b) => a - b).map((d) => DAYS[d]) : ['MON'], at };
  // MonthTimes/YearTimes validate their days in the constructor: an IllegalArgumentException
  // that the schedule parser does not wrap.
  for (const d of days) if (d < 1 || d > 32) throw new IllegalArgumentError(`invalid month day [${d}]`);
  const on = days.size > 0 ? [...days].sort((a, b) => a - b) : [1];
  if (type === 'monthly') return { on, at };
  return { in: months.size > 0 ? [...months].sort((a, b) => a - b).map((m) => MONTHS[m]) : ['JAN'], on, at };
}

/** The weekly, monthly and yearly schedules: one entry object or an array of them (an empty array = the defaults). */
function parseCalendar(type: CalendarType, value: unknown): unknown[] {
  const entry = (e: unknown) => {
    try {
      return calendarEntry(type, e);
    } catch (err) {
      if (err instanceof IllegalArgumentError) throw err;
      throw new ParseError(`could not parse [${type}] schedule. invalid ${type} times`, { cause: err as EsError });
    }
  };
  if (isJsonObject(value)) return [entry(value)];
  if (Array.isArray(value)) return value.length === 0 ? [calendarEntry(type, {})] : value.map(entry);
  throw new ParseError(`could not parse [${type}] schedule. expected either an object or an array of objects representing ${type} times, but found [${tokenOf(value)}] instead`);
}

function parseInterval(value: unknown): string {
  if (typeof value === 'number' && Number.isInteger(value)) return checkInterval(`${value}s`, value * 1000);
  if (typeof value === 'string') {
    const unit = (['s', 'm', 'h', 'd', 'w'] as const).find((u) => value.endsWith(u));
    if (!unit)
      throw new ParseError(`could not parse schedule: could not parse [interval] schedule. unrecognized interval format [${value}]`, {
        cause: new EsError('illegal_argument_exception', 400, `could not parse [interval] schedule. unrecognized interval format [${value}]`),
      });
    const num = value.slice(0, value.indexOf(unit));
    if (!/^[+-]?\d+$/.test(num)) {
      const names = { s: 'seconds', m: 'minutes', h: 'hours', d: 'days', w: 'week' } as const;
      const inner = new ParseError(`could not parse [interval] schedule. could not parse [${num}] as a [${names[unit]}] duration`);
      throw new ParseError(`could not parse schedule: ${inner.message}`, { cause: inner });
    }
    const ms = Number(num) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[unit];
    return checkInterval(`${Number(num)}${unit}`, ms);
  }
  throw new ParseError(
    `could not parse [interval] schedule. expected either a numeric value (millis) or a string value representing time value (e.g. '5s'), but found [${tokenOf(value)}]`,
  );
}

function checkInterval(text: string, ms: number): string {
  if (ms < 1000) {
    const reason = `interval can't be lower than 1000 ms, but [${text}] was specified`;
    throw new ParseError(`could not parse schedule: ${reason}`, { cause: new EsError('illegal_argument_exception', 400, reason) });
  }
  return text;
}

/** Whether Java's `ZoneId.of` would know the zone (the IANA database, `UTC`, `Z`, fixed offsets). */
function knownZone(zone: string): boolean {
  if (/^(Z|UTC|GMT|UT)$/.test(zone) || /^(UTC|GMT|UT)?[+-]\d{1,2}(:?\d{2}(:?\d{2})?)?$/.test(zone)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses a watch's `trigger` (`{"schedule": {<type>: <value>, "timezone"?: <zone>}}`).
 * @param watchId context of Elasticsearch's messages
 * @returns the schedule, re-serialized for GET
 * @throws ParseError 400 `parse_exception` with Elasticsearch's texts (unknown trigger or schedule type,
 *   every schedule's value errors, `could not parse schedule. invalid timezone [x]` caused by
 *   `zone_rules_exception` `Unknown time-zone ID: x`, timezone on an interval schedule)
 */
export function parseTrigger(watchId: string, trigger: unknown): ScheduleTrigger {
  if (!isJsonObject(trigger)) throw new ParseError(`could not parse trigger for [${watchId}]. expected trigger type string field, but found [${tokenOf(trigger)}]`);
  const entries = Object.entries(trigger);
  if (entries.length === 0) throw new ParseError(`could not parse trigger for [${watchId}]. expected trigger type string field, but found [END_OBJECT]`);
  const [type, schedule] = entries[0] as [string, unknown];
  if (type !== 'schedule') throw new ParseError(`could not parse trigger [${type}] for [${watchId}]. unknown trigger type [${type}]`);
  if (entries.length > 1) throw new ParseError(`could not parse trigger [${type}] for [${watchId}]. expected end of trigger definition, but found [FIELD_NAME]`);
  return parseSchedule(watchId, schedule);
}

/** The `schedule` object (ScheduleRegistry.parse, with the timezone of 8.x). */
export function parseSchedule(watchId: string, schedule: unknown): ScheduleTrigger {
  if (!isJsonObject(schedule)) throw new ParseError(`could not parse schedule. expected a schedule type field, but found [${tokenOf(schedule)}] instead`);
  let timezone: string | undefined;
  let parsed: { type: ScheduleType; value: unknown } | undefined;
  for (const [key, value] of Object.entries(schedule)) {
    if (key === 'timezone') {
      if (typeof value !== 'string') throw new ParseError(`could not parse schedule. expected a string value for timezone, but found [${tokenOf(value)}]`);
      if (!knownZone(value))
        throw new ParseError(`could not parse schedule. invalid timezone [${value}]`, { cause: new EsError('zone_rules_exception', 400, `Unknown time-zone ID: ${value}`) });
      timezone = value;
      continue;
    }
    parsed = { type: key as ScheduleType, value: parseScheduleValue(watchId, key, value) };
  }
  if (!parsed) throw new ParseError('could not parse schedule. expected a schedule type field, but no fields were found');
  if (timezone !== undefined && !CRONNABLE.has(parsed.type)) throw new ParseError(`could not parse schedule. Timezone is not supported for schedule type [${parsed.type}]`);
  return timezone === undefined ? parsed : { ...parsed, timezone };
}

function parseScheduleValue(watchId: string, type: string, value: unknown): unknown {
  switch (type) {
    case 'hourly':
      return parseHourly(value);
    case 'daily':
      return parseDaily(value);
    case 'weekly':
      return parseCalendar('weekly', value);
    case 'monthly':
      return parseCalendar('monthly', value);
    case 'yearly':
      return parseCalendar('yearly', value);
    case 'interval':
      return parseInterval(value);
    case 'cron':
      return parseCronSchedule(value, tokenOf);
    default:
      throw new ParseError(`could not parse schedule for [${watchId}]. unknown schedule type [${type}]`);
  }
}
