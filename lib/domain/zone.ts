/**
 * Wall-clock time in a time zone: a watch schedule's `timezone` (Java `ZoneId`: an IANA region such as
 * `Europe/London`, `Z`/`UTC`/`GMT`/`UT`, or a fixed offset such as `+01:00`, `-0530`,
 * `UTC+1`, `GMT+02:00`) and a command schedule's IANA `timezone`. A *wall time* is a local date and time written as UTC epoch ms
 * (`Date.UTC(y, m, d, h, mi, s)`), so calendar arithmetic on it needs no zone.
 *
 * Region rules come from the ICU data Node carries (`Intl.DateTimeFormat`), the same tz
 * database Java's `ZoneRulesProvider` reads.
 */

const DAY_MS = 86_400_000;

/** A zone: the offset (ms, added to an instant to get its wall time) in force at an instant. */
export type Zone = (instantMs: number) => number;

const FIXED = /^(?:(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?|Z|UTC|GMT|UT)$/;

const zones = new Map<string, Zone>();

/**
 * The zone of a schedule's `timezone`; UTC when absent (Elasticsearch computes schedules
 * without a zone in UTC).
 * @throws RangeError for a zone neither a fixed offset nor known to ICU (the put-watch
 *   parser refuses those first, with Elasticsearch's message)
 */
export function zoneOf(timezone: string | undefined): Zone {
  const id = timezone ?? 'UTC';
  const known = zones.get(id);
  if (known) return known;
  const zone = fixedZone(id) ?? regionZone(id);
  zones.set(id, zone);
  return zone;
}

function fixedZone(id: string): Zone | undefined {
  const m = FIXED.exec(id);
  if (!m) return undefined;
  if (!m[1]) return () => 0;
  const offset = (Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0)) * 1000;
  const signed = m[1] === '-' ? -offset : offset;
  return () => signed;
}

function regionZone(id: string): Zone {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: id,
    hourCycle: 'h23',
    era: 'short',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  return (instantMs) => {
    const whole = Math.floor(instantMs / 1000) * 1000;
    const parts: Record<string, string> = {};
    for (const p of fmt.formatToParts(new Date(whole))) parts[p.type] = p.value;
    const year = parts.era === 'BC' ? 1 - Number(parts.year) : Number(parts.year);
    const wall = new Date(0);
    wall.setUTCFullYear(year, Number(parts.month) - 1, Number(parts.day));
    wall.setUTCHours(Number(parts.hour), Number(parts.minute), Number(parts.second), 0);
    return wall.getTime() - whole;
  };
}

/** The wall time of an instant in a zone. */
export const wallTimeOf = (zone: Zone, instantMs: number): number => instantMs + zone(instantMs);

/**
 * The instants at which a wall time happens in a zone: one normally, two in the hour a
 * daylight-saving end repeats (earlier first), none in the hour its start skips.
 * Assumes at most one offset change within a day of the wall time, as every tz rule has.
 * @returns `{instants, offsetBefore}`: `offsetBefore` is the offset in force a day earlier
 */
export function instantsOf(zone: Zone, wallMs: number): { instants: number[]; offsetBefore: number } {
  const before = zone(wallMs - DAY_MS);
  const after = zone(wallMs + DAY_MS);
  const candidates = before === after ? [wallMs - before] : [wallMs - before, wallMs - after];
  const instants = candidates.filter((t) => wallTimeOf(zone, t) === wallMs).sort((a, b) => a - b);
  return { instants: [...new Set(instants)], offsetBefore: before };
}
