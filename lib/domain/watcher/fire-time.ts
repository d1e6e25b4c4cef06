/**
 * When a watch's `schedule` trigger fires (Elasticsearch's `Schedule.nextScheduledTimeAfter`):
 * every schedule type of spec §4.1, in the GET form the put-watch parser stores
 * (`ScheduleTrigger.value`), with the schedule's `timezone`.
 *
 * As in Elasticsearch, `hourly`, `daily`, `weekly`, `monthly` and `yearly` are sets of
 * Quartz crons (`CronnableSchedule`, e.g. daily at noon = `0 0 12 * * ?`) and fire at the
 * earliest of them; `interval` fires every interval from the schedule's start.
 */
import { type QuartzCron, parseQuartzCron } from './quartz/parse.ts';
import { nextCronWallTime } from './quartz/next.ts';
import type { ScheduleTrigger } from './types.ts';
import { instantsOf, type Zone, wallTimeOf, zoneOf } from '../zone.ts';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** A schedule as stored: its type and its GET-form value. */
export type Schedule = Pick<ScheduleTrigger, 'type' | 'value'>;

/**
 * The interval of an `interval` schedule in ms: `"5m"` style (units `ms s m h d w`), or a
 * number of seconds (the put parser's numeric form).
 * @throws RangeError when the value is neither
 */
export function intervalMs(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value * 1000;
  const m = typeof value === 'string' ? /^\s*([+-]?\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/i.exec(value) : null;
  if (!m) throw new RangeError(`not an interval: ${JSON.stringify(value)}`);
  return Math.round(Number(m[1]) * (UNIT_MS[(m[2] as string).toLowerCase()] as number));
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const record = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** `DayTimes`: `"noon"`, `"midnight"`, `"H:mm"`, or `{hour: [..], minute: [..]}` → hours and minutes. */
function dayTime(t: unknown): { hours: number[]; minutes: number[] } {
  if (t === 'noon') return { hours: [12], minutes: [0] };
  if (t === 'midnight') return { hours: [0], minutes: [0] };
  if (typeof t === 'string') {
    const [h, m] = t.split(':');
    return { hours: [Number(h)], minutes: [Number(m)] };
  }
  const o = record(t);
  const hours = list(o.hour).map(Number);
  const minutes = list(o.minute).map(Number);
  return { hours: hours.length > 0 ? hours : [0], minutes: minutes.length > 0 ? minutes : [0] };
}

/** The `at` times of a calendar schedule entry (default midnight). */
const atTimes = (at: unknown) => (list(at).length > 0 ? list(at) : ['midnight']).map(dayTime);

/** A day of week (`MON`, `monday`, or 1–7 with 1 = Sunday) → Quartz's day name. */
function dayOfWeek(d: unknown): string {
  if (typeof d === 'number' || /^\d+$/.test(String(d))) return DAYS[Number(d) - 1] as string;
  return String(d).slice(0, 3).toUpperCase();
}

/** A month (`JAN`, `january`, or 1–12) → Quartz's month number. */
function monthOf(m: unknown): number {
  if (typeof m === 'number' || /^\d+$/.test(String(m))) return Number(m);
  return MONTHS.indexOf(String(m).slice(0, 3).toUpperCase()) + 1;
}

/** A day of month (1–31, `first_day`, `last_day`) → Quartz's day-of-month value. */
const dayOfMonth = (d: unknown): string => (d === 'last_day' || d === 32 ? 'L' : d === 'first_day' ? '1' : String(d));

/**
 * The Quartz crons a cron-able schedule stands for, as Elasticsearch builds them
 * (`HourlySchedule`, `DayTimes.cron`, `WeekTimes.crons`, `MonthTimes.crons`,
 * `YearTimes.crons`); the `cron` schedule's own expressions.
 * @returns the expressions; empty for `interval`
 */
export function scheduleCrons(schedule: Schedule): string[] {
  const v = schedule.value;
  const join = (xs: unknown[]) => xs.map(String).join(',');
  switch (schedule.type) {
    case 'cron':
      return list(v).map(String);
    case 'hourly': {
      const minutes = list(record(v).minute);
      return [`0 ${join(minutes.length > 0 ? minutes : [0])} * * * ?`];
    }
    case 'daily':
      return atTimes(record(v).at).map((t) => `0 ${join(t.minutes)} ${join(t.hours)} * * ?`);
    case 'weekly':
      return list(v).flatMap((e) => {
        const on = list(record(e).on);
        const days = join((on.length > 0 ? on : ['MON']).map(dayOfWeek));
        return atTimes(record(e).at).map((t) => `0 ${join(t.minutes)} ${join(t.hours)} ? * ${days}`);
      });
    case 'monthly':
      return list(v).flatMap((e) => {
        const on = list(record(e).on);
        const days = join((on.length > 0 ? on : [1]).map(dayOfMonth));
        return atTimes(record(e).at).map((t) => `0 ${join(t.minutes)} ${join(t.hours)} ${days} * ?`);
      });
    case 'yearly':
      return list(v).flatMap((e) => {
        const on = list(record(e).on);
        const months = list(record(e).in);
        const days = join((on.length > 0 ? on : [1]).map(dayOfMonth));
        const ms = join((months.length > 0 ? months : [1]).map(monthOf));
        return atTimes(record(e).at).map((t) => `0 ${join(t.minutes)} ${join(t.hours)} ${days} ${ms} ?`);
      });
    case 'interval':
      return [];
  }
}

/**
 * Builds the Quartz crons of a cron-able schedule as Elasticsearch's schedule constructors do
 * at put (`new MonthlySchedule(times)` → `new Cron(..)`), so a put refuses what Elasticsearch
 * refuses. Not every parsed calendar schedule is a valid cron: `monthly` (or `yearly`) on
 * `[1, "last_day"]` builds `0 0 12 1,L * ?`, which Quartz refuses, and Elasticsearch answers the
 * put with 400 `illegal_argument_exception` "invalid cron expression [0 0 12 1,L * ?]" (its
 * parsers only wrap `ElasticsearchParseException`s). The `cron` type's parser wraps the same
 * error in `could not parse [cron] schedule` itself.
 * @throws IllegalArgumentError `invalid cron expression [..]` as {@link parseQuartzCron}
 */
export function validateScheduleCrons(schedule: Schedule): void {
  for (const expression of scheduleCrons(schedule)) cronOf(expression);
}

/** Parsed crons by expression: a tick evaluates the same few schedules every minute. */
const parsed = new Map<string, QuartzCron>();
const MAX_CACHED = 10_000;

function cronOf(expression: string): QuartzCron {
  let c = parsed.get(expression);
  if (!c) {
    c = parseQuartzCron(expression);
    if (parsed.size >= MAX_CACHED) parsed.clear();
    parsed.set(expression, c);
  }
  return c;
}

/**
 * The first instant strictly after `afterMs` at which a cron fires in a zone.
 *
 * The cron is evaluated on wall-clock time, then mapped to an instant as Elasticsearch 8.x's
 * `Cron` with a time zone does (its `CronTimezoneTests`): a wall time inside a daylight-saving
 * gap fires as if the change had not happened yet (London `0 30 1 * * ?` on 2025-03-30 fires
 * at 01:30Z, i.e. 02:30 BST); a wall time the clocks repeat fires once, at its first
 * occurrence (on 2024-10-27 at 00:30Z, 01:30 BST, and not again at 01:30 GMT).
 * @returns epoch ms, or undefined when the cron never fires again
 */
export function nextCronTime(cron: QuartzCron, zone: Zone, afterMs: number): number | undefined {
  let wall = wallTimeOf(zone, afterMs);
  // Each step moves the wall time forward; only a wall time repeated by a daylight-saving end
  // (already passed at its first occurrence) makes the loop go round, at most an hour's worth.
  for (let guard = 0; guard < 100_000; guard++) {
    const next = nextCronWallTime(cron, wall);
    if (next < 0) return undefined;
    const { instants, offsetBefore } = instantsOf(zone, next);
    const at = instants.length === 0 ? next - offsetBefore : (instants[0] as number);
    if (at > afterMs) return at;
    wall = next;
  }
  return undefined;
}

/**
 * The next time a schedule fires after `afterMs` (epoch ms), strictly after it.
 *
 * - Cron-able schedules (`hourly`, `daily`, `weekly`, `monthly`, `yearly`, `cron`): the
 *   earliest next time of their crons ({@link scheduleCrons}) in `timezone` (UTC when absent),
 *   at whole seconds, as `CronnableSchedule.nextScheduledTimeAfter`.
 * - `interval`: `IntervalSchedule.nextScheduledTimeAfter(startTime, time)`: the next point of
 *   the grid `startMs + k × interval` (k ≥ 1) after `afterMs`, so an interval watch first fires
 *   one interval after its start. Elasticsearch's `TickerScheduleTriggerEngine` starts an
 *   interval schedule at the watch's activation (`status.state.timestamp`; after a node
 *   restart, at `last_checked`): pass that as `startMs`.
 * @param timezone the schedule's `timezone` (ignored for `interval`, which refuses one at put)
 * @param startMs the schedule's start (interval only); defaults to `afterMs`
 * @returns epoch ms, or undefined when the schedule never fires again (a cron whose years are past)
 * @throws IllegalArgumentError for an invalid cron (the put parser refuses those first)
 */
export function nextFireTime(schedule: Schedule, timezone: string | undefined, afterMs: number, startMs = afterMs): number | undefined {
  if (schedule.type === 'interval') {
    const every = intervalMs(schedule.value);
    const time = afterMs <= startMs ? startMs + 1 : afterMs;
    return startMs + (Math.floor((time - startMs) / every) + 1) * every;
  }
  const zone = zoneOf(timezone);
  let earliest: number | undefined;
  for (const expression of scheduleCrons(schedule)) {
    const t = nextCronTime(cronOf(expression), zone, afterMs);
    if (t !== undefined && (earliest === undefined || t < earliest)) earliest = t;
  }
  return earliest;
}

/**
 * The fire time a schedule tick at `nowMs` runs a watch for, or undefined when none is due:
 * `TickerScheduleTriggerEngine.ActiveSchedule.check` on a minute tick. The schedule starts at
 * the watch's activation (`activatedMs`, its `status.state.timestamp`); after a run, the next
 * fire time is the first one after the tick that submitted it (`lastTriggeredMs`). So every
 * fire time missed while no tick ran (downtime, or a schedule faster than the tick) collapses
 * into one run for the earliest of them, as Elasticsearch's ticker does after a pause.
 * @returns the scheduled time (epoch ms, ≤ `nowMs`), or undefined
 */
export function dueFireTime(
  schedule: Schedule,
  timezone: string | undefined,
  state: { activatedMs: number; lastTriggeredMs: number | undefined },
  nowMs: number,
): number | undefined {
  const after = state.lastTriggeredMs === undefined ? state.activatedMs : Math.max(state.lastTriggeredMs, state.activatedMs);
  const due = nextFireTime(schedule, timezone, after, state.activatedMs);
  return due !== undefined && due <= nowMs ? due : undefined;
}
