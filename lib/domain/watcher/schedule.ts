/**
 * The `schedule` trigger of a watch (spec `watcher-ack.md` §4.1 "Trigger"): parsing every
 * schedule type with Elasticsearch's errors (`ScheduleRegistry`, `*Schedule.Parser`,
 * `DayTimes`) and re-serializing it the way GET shows it.
 */
import { EsError, ParseError } from '../errors.ts';
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

/** A value or an array of values, each parsed by `one`. */
function oneOrMany<T>(v: unknown, one: (x: unknown) => T): T[] {
  return Array.isArray(v) ? v.map(one) : [one(v)];
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

/** Wraps a time error as the calendar schedules do: `could not parse [<type>] schedule. invalid time value for field [at] - [<token>]`. */
function timesOf(type: string, v: unknown): DayTime[] {
  try {
    return oneOrMany(v, parseDayTime);
  } catch (e) {
    throw new ParseError(`could not parse [${type}] schedule. invalid time value for field [at] - [${tokenOf(v)}]`, { cause: e as EsError });
  }
}

function parseDaily(value: unknown): unknown {
  if (!isJsonObject(value)) throw new ParseError(`could not parse [daily] schedule. expected an object but found [${tokenOf(value)}]`);
  let at: DayTime[] = ['midnight'];
  for (const [key, v] of Object.entries(value)) {
    if (key === 'at' || key === 'time') at = timesOf('daily', v);
    else throw new ParseError(`could not parse [daily] schedule. unexpected field [${key}]`);
  }
  return { at };
}

const DAY_NAMES: Record<string, string> = {
  sun: 'SUN',
  sunday: 'SUN',
  mon: 'MON',
  monday: 'MON',
  tue: 'TUE',
  tuesday: 'TUE',
  wed: 'WED',
  wednesday: 'WED',
  thu: 'THU',
  thursday: 'THU',
  fri: 'FRI',
  friday: 'FRI',
  sat: 'SAT',
  saturday: 'SAT',
};
const DAY_NUMBERS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** `DayOfWeek.resolve`: names, abbreviations or 1–7 (1 = Sunday) → the cron key. */
function dayOfWeek(v: unknown): string {
  const n = intOf(v);
  if (n !== undefined) {
    const d = DAY_NUMBERS[n - 1];
    if (!d) throw new ParseError(`invalid weekly day [${n}]`);
    return d;
  }
  const d = typeof v === 'string' ? DAY_NAMES[v.toLowerCase()] : undefined;
  if (!d) throw new ParseError(`invalid weekly day [${String(v)}]`);
  return d;
}

/** Parses `{on|day, at|time}` entries (weekly/monthly/yearly), one object or an array of them. */
function calendarEntries(type: string, value: unknown, fields: Record<string, (v: unknown) => unknown[]>, defaults: Record<string, unknown[]>): unknown[] {
  const one = (entry: unknown): Record<string, unknown> => {
    if (!isJsonObject(entry)) throw new ParseError(`could not parse [${type}] schedule. expected an object but found [${tokenOf(entry)}]`);
    const out: Record<string, unknown> = { ...defaults };
    for (const [key, v] of Object.entries(entry)) {
      const canonical = Object.keys(fields).find((f) => f === key || LEGACY[key] === f);
      const parse = canonical ? fields[canonical] : undefined;
      if (!canonical || !parse) throw new ParseError(`could not parse [${type}] schedule. unexpected field [${key}]`);
      out[canonical] = parse(v);
    }
    return out;
  };
  if (Array.isArray(value)) {
    if (value.length === 0) return [one({})];
    return value.map(one);
  }
  return [one(value)];
}
const LEGACY: Record<string, string> = { day: 'on', time: 'at', month: 'in' };

const MONTH_NAMES = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'];

/** Day of month 1–31, `first_day` (1) or `last_day` (kept as `last_day`). */
function dayOfMonth(type: string, v: unknown): number | string {
  if (v === 'last_day') return 'last_day';
  if (v === 'first_day') return 1;
  const n = intOf(v);
  if (n === undefined || n < 1 || n > 31)
    throw new ParseError(`could not parse [${type}] schedule. invalid day of month value [${String(v)}] (possible values are between 1 and 31, or [first_day] / [last_day])`);
  return n;
}

/** Month 1–12 or its (abbreviated) English name → the upper-case name. */
function monthOf(v: unknown): string {
  const n = intOf(v);
  if (n !== undefined && n >= 1 && n <= 12) return MONTH_NAMES[n - 1] as string;
  if (typeof v === 'string') {
    const m = MONTH_NAMES.find((name) => name === v.toUpperCase() || name.slice(0, 3) === v.toUpperCase());
    if (m) return m;
  }
  throw new ParseError(`could not parse [yearly] schedule. invalid month value [${String(v)}]`);
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
      return calendarEntries('weekly', value, { on: (v) => oneOrMany(v, dayOfWeek), at: (v) => timesOf('weekly', v) }, { on: ['MON'], at: ['midnight'] });
    case 'monthly':
      return calendarEntries('monthly', value, { on: (v) => oneOrMany(v, (x) => dayOfMonth('monthly', x)), at: (v) => timesOf('monthly', v) }, { on: [1], at: ['midnight'] });
    case 'yearly':
      return calendarEntries(
        'yearly',
        value,
        { in: (v) => oneOrMany(v, monthOf), on: (v) => oneOrMany(v, (x) => dayOfMonth('yearly', x)), at: (v) => timesOf('yearly', v) },
        { in: ['JANUARY'], on: [1], at: ['midnight'] },
      );
    case 'interval':
      return parseInterval(value);
    case 'cron':
      return parseCronSchedule(value, tokenOf);
    default:
      throw new ParseError(`could not parse schedule for [${watchId}]. unknown schedule type [${type}]`);
  }
}
