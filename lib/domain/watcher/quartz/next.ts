/**
 * The next fire time of a parsed Quartz cron (`Cron.getNextValidTimeAfter`), ported line for
 * line over wall-clock time. Times here are *wall times*: a local date and time written as if
 * it were UTC (epoch ms of `Date.UTC(y, m, d, h, mi, s)`), so the port runs on plain UTC
 * arithmetic and the time zone is applied around it (see `fire-time.ts`).
 */
import { MAX_YEAR, NO_SPEC, type QuartzCron } from './parse.ts';

/**
 * A lenient Gregorian calendar on UTC fields, as `java.util.GregorianCalendar` behaves for the
 * port: `set` stores a field without normalising, the next `get` normalises all fields at
 * once (day 32 of January is February 1st; minute 60 is the next hour). Setting fields one by
 * one and normalising only on read matters: Quartz sets the day before the month
 * (`day = 31; month = March` from February must give March 31st, not March 3rd).
 */
class LenientCalendar {
  private f: [number, number, number, number, number, number];
  constructor(ms: number) {
    const d = new Date(ms);
    this.f = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
  }
  private normalise(): void {
    const d = new Date(this.timeInMillis());
    this.f = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
  }
  timeInMillis(): number {
    const [y, mo, d, h, mi, s] = this.f;
    const date = new Date(0);
    // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
    date.setUTCFullYear(y, mo, d);
    date.setUTCHours(h, mi, s, 0);
    return date.getTime();
  }
  get year() {
    this.normalise();
    return this.f[0];
  }
  /** 1–12 (Quartz's month, not Calendar's 0–11). */
  get month() {
    this.normalise();
    return this.f[1] + 1;
  }
  get day() {
    this.normalise();
    return this.f[2];
  }
  get hour() {
    this.normalise();
    return this.f[3];
  }
  get minute() {
    this.normalise();
    return this.f[4];
  }
  get second() {
    this.normalise();
    return this.f[5];
  }
  /** `Calendar.DAY_OF_WEEK`: 1 = Sunday … 7 = Saturday. */
  get dayOfWeek() {
    return new Date(this.timeInMillis()).getUTCDay() + 1;
  }
  setYear(v: number) {
    this.f[0] = v;
  }
  /** 1-based month; 13 rolls into January of the next year. */
  setMonth(v: number) {
    this.f[1] = v - 1;
  }
  setDay(v: number) {
    this.f[2] = v;
  }
  setHour(v: number) {
    this.f[3] = v;
  }
  setMinute(v: number) {
    this.f[4] = v;
  }
  setSecond(v: number) {
    this.f[5] = v;
  }
  /** `add(YEAR, 1)`: normalises first and pins February 29th to the 28th. */
  addYear() {
    this.normalise();
    this.f[0] += 1;
    this.f[2] = Math.min(this.f[2], lastDayOfMonth(this.f[1] + 1, this.f[0]));
  }
}

const isLeapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Days in a 1-based month. */
export function lastDayOfMonth(month: number, year: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** `TreeSet.tailSet(x).first()`: the first value ≥ x, or undefined. */
function tail(set: number[], x: number): number | undefined {
  for (const v of set) if (v >= x) return v;
  return undefined;
}

const first = (set: number[]): number => set[0] as number;

/** Wall time of a date at a time of day (`tcal` of the `W` rules). */
const wallOf = (year: number, month: number, day: number, hr: number, min: number, sec: number): number => {
  const c = new LenientCalendar(0);
  c.setYear(year);
  c.setMonth(month);
  c.setDay(day);
  c.setHour(hr);
  c.setMinute(min);
  c.setSecond(sec);
  return c.timeInMillis();
};

/** Day of week (1 = Sunday) of a date. */
const dayOfWeekOf = (year: number, month: number, day: number): number => new Date(wallOf(year, month, day, 0, 0, 0)).getUTCDay() + 1;

/** The `W` rule: the weekday nearest `day`, never leaving the month. */
function nearestWeekdayOf(year: number, month: number, day: number): number {
  const ldom = lastDayOfMonth(month, year);
  const dow = dayOfWeekOf(year, month, day);
  if (dow === 7 && day === 1) return day + 2;
  if (dow === 7) return day - 1;
  if (dow === 1 && day === ldom) return day - 2;
  if (dow === 1) return day + 1;
  return day;
}

/**
 * The first wall time strictly after `wallMs` (at whole seconds) that the cron matches:
 * Elasticsearch's `Cron.getNextValidTimeAfter` on a calendar without a time zone.
 * @param wallMs a wall time (local date and time written as UTC epoch ms)
 * @returns a wall time, or -1 when the cron never fires again (a past year, beyond
 *   {@link MAX_YEAR}, or a day-of-month and day-of-week both specified)
 */
export function nextCronWallTime(cron: QuartzCron, wallMs: number): number {
  // Move ahead one second, since we are computing the time *after* the given time; Quartz ignores milliseconds.
  const afterTime = wallMs + 1000;
  const cl = new LenientCalendar(afterTime);
  for (;;) {
    if (cl.year > 2999) return -1;

    let sec = cl.second;
    let min = cl.minute;
    // second
    const s = tail(cron.seconds, sec);
    if (s !== undefined) {
      sec = s;
    } else {
      sec = first(cron.seconds);
      min++;
      cl.setMinute(min);
    }
    cl.setSecond(sec);

    min = cl.minute;
    let hr = cl.hour;
    let t = -1;
    // minute
    const m = tail(cron.minutes, min);
    if (m !== undefined) {
      t = min;
      min = m;
    } else {
      min = first(cron.minutes);
      hr++;
    }
    if (min !== t) {
      cl.setSecond(0);
      cl.setMinute(min);
      cl.setHour(hr);
      continue;
    }
    cl.setMinute(min);

    hr = cl.hour;
    let day = cl.day;
    t = -1;
    // hour
    const h = tail(cron.hours, hr);
    if (h !== undefined) {
      t = hr;
      hr = h;
    } else {
      hr = first(cron.hours);
      day++;
    }
    if (hr !== t) {
      cl.setSecond(0);
      cl.setMinute(0);
      cl.setDay(day);
      cl.setHour(hr);
      continue;
    }
    cl.setHour(hr);

    day = cl.day;
    let mon = cl.month;
    t = -1;
    let tmon = mon;
    // day
    const dayOfMSpec = !cron.daysOfMonth.includes(NO_SPEC);
    const dayOfWSpec = !cron.daysOfWeek.includes(NO_SPEC);
    if (dayOfMSpec && !dayOfWSpec) {
      const st = tail(cron.daysOfMonth, day);
      if (cron.lastdayOfMonth) {
        if (!cron.nearestWeekday) {
          t = day;
          day = lastDayOfMonth(mon, cl.year) - cron.lastdayOffset;
          if (t > day) {
            mon++;
            if (mon > 12) {
              mon = 1;
              tmon = 3333; // ensures the mon !== tmon test below
              cl.addYear();
            }
            day = 1;
          }
        } else {
          t = day;
          day = lastDayOfMonth(mon, cl.year) - cron.lastdayOffset;
          day = nearestWeekdayOf(cl.year, mon, day);
          if (wallOf(cl.year, mon, day, hr, min, sec) < afterTime) {
            day = 1;
            mon++;
          }
        }
      } else if (cron.nearestWeekday) {
        t = day;
        day = nearestWeekdayOf(cl.year, mon, first(cron.daysOfMonth));
        if (wallOf(cl.year, mon, day, hr, min, sec) < afterTime) {
          day = first(cron.daysOfMonth);
          mon++;
        }
      } else if (st !== undefined) {
        t = day;
        day = st;
        // do not over-run a short month such as February
        if (day > lastDayOfMonth(mon, cl.year)) {
          day = first(cron.daysOfMonth);
          mon++;
        }
      } else {
        day = first(cron.daysOfMonth);
        mon++;
      }
      if (day !== t || mon !== tmon) {
        cl.setSecond(0);
        cl.setMinute(0);
        cl.setHour(0);
        cl.setDay(day);
        cl.setMonth(mon);
        continue;
      }
    } else if (dayOfWSpec && !dayOfMSpec) {
      if (cron.lastdayOfWeek) {
        // the last <day> of the month
        const dow = first(cron.daysOfWeek);
        const cDow = cl.dayOfWeek;
        let daysToAdd = 0;
        if (cDow < dow) daysToAdd = dow - cDow;
        if (cDow > dow) daysToAdd = dow + (7 - cDow);
        const lDay = lastDayOfMonth(mon, cl.year);
        if (day + daysToAdd > lDay) {
          cl.setSecond(0);
          cl.setMinute(0);
          cl.setHour(0);
          cl.setDay(1);
          cl.setMonth(mon + 1);
          continue;
        }
        while (day + daysToAdd + 7 <= lDay) daysToAdd += 7;
        day += daysToAdd;
        if (daysToAdd > 0) {
          cl.setSecond(0);
          cl.setMinute(0);
          cl.setHour(0);
          cl.setDay(day);
          cl.setMonth(mon);
          continue;
        }
      } else if (cron.nthdayOfWeek !== 0) {
        // the nth <day> of the month
        const dow = first(cron.daysOfWeek);
        const cDow = cl.dayOfWeek;
        let daysToAdd = 0;
        if (cDow < dow) daysToAdd = dow - cDow;
        else if (cDow > dow) daysToAdd = dow + (7 - cDow);
        const dayShifted = daysToAdd > 0;
        day += daysToAdd;
        let weekOfMonth = Math.trunc(day / 7);
        if (day % 7 > 0) weekOfMonth++;
        daysToAdd = (cron.nthdayOfWeek - weekOfMonth) * 7;
        day += daysToAdd;
        if (daysToAdd < 0 || day > lastDayOfMonth(mon, cl.year)) {
          cl.setSecond(0);
          cl.setMinute(0);
          cl.setHour(0);
          cl.setDay(1);
          cl.setMonth(mon + 1);
          continue;
        }
        if (daysToAdd > 0 || dayShifted) {
          cl.setSecond(0);
          cl.setMinute(0);
          cl.setHour(0);
          cl.setDay(day);
          cl.setMonth(mon);
          continue;
        }
      } else {
        const cDow = cl.dayOfWeek;
        const dow = tail(cron.daysOfWeek, cDow) ?? first(cron.daysOfWeek);
        let daysToAdd = 0;
        if (cDow < dow) daysToAdd = dow - cDow;
        if (cDow > dow) daysToAdd = dow + (7 - cDow);
        const lDay = lastDayOfMonth(mon, cl.year);
        if (day + daysToAdd > lDay) {
          cl.setSecond(0);
          cl.setMinute(0);
          cl.setHour(0);
          cl.setDay(1);
          cl.setMonth(mon + 1);
          continue;
        }
        if (daysToAdd > 0) {
          cl.setSecond(0);
          cl.setMinute(0);
          cl.setHour(0);
          cl.setDay(day + daysToAdd);
          cl.setMonth(mon);
          continue;
        }
      }
    } else {
      // Both a day-of-month and a day-of-week: Quartz never implemented it (the parser refuses it).
      return -1;
    }
    cl.setDay(day);

    mon = cl.month;
    let year = cl.year;
    t = -1;
    // expressions that never generate a valid fire date
    if (year > MAX_YEAR) return -1;
    // month
    const mo = tail(cron.months, mon);
    if (mo !== undefined) {
      t = mon;
      mon = mo;
    } else {
      mon = first(cron.months);
      year++;
    }
    if (mon !== t) {
      cl.setSecond(0);
      cl.setMinute(0);
      cl.setHour(0);
      cl.setDay(1);
      cl.setMonth(mon);
      cl.setYear(year);
      continue;
    }
    cl.setMonth(mon);

    year = cl.year;
    t = -1;
    // year
    const y = tail(cron.years, year);
    if (y === undefined) return -1;
    t = year;
    year = y;
    if (year !== t) {
      cl.setSecond(0);
      cl.setMinute(0);
      cl.setHour(0);
      cl.setDay(1);
      cl.setMonth(1);
      cl.setYear(year);
      continue;
    }
    cl.setYear(year);
    return cl.timeInMillis();
  }
}
