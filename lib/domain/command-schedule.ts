/**
 * User command schedules: "run this command event on this schedule", declared once in a
 * schedules file (`schedules.json`) or in the stack's `schedules` prop, and turned into
 * EventBridge Scheduler schedules by the CDK stack and into timers by `npm start`.
 *
 * The file is a JSON object with one key, `schedules`, an array of:
 *
 * ```json
 * {
 *   "name": "close-nightly",
 *   "expression": "cron(0 2 * * ? *)",
 *   "timezone": "Europe/Berlin",
 *   "flexible_window_minutes": 15,
 *   "description": "Close the nightly jobs",
 *   "enabled": true,
 *   "command": { "method": "POST", "path": "/_ml/anomaly_detectors/nightly-*\/_close" }
 * }
 * ```
 *
 * - `name`: `[0-9a-zA-Z-_.]`, 1-64 characters (Scheduler's rule), unique in the file.
 * - `expression`: `cron(...)`, `rate(...)` or `at(...)` (`schedule-expression.ts`).
 * - `timezone`: IANA name, default `UTC`. `flexible_window_minutes`: `"OFF"` (default) or 1-1440.
 * - `description`: at most 512 characters. `enabled`: default true.
 * - `command`: a command event (`command-event.ts`) without `origin`: the firing side fills it
 *   in (`{kind:"schedule", name, id, scheduled_time}`), so one written by hand would be
 *   replaced without a word; it is refused instead.
 *
 * An object rather than a bare array so the file can grow keys (defaults, groups) without a
 * new format. Unknown keys are refused, as a misspelt `timezone` would otherwise run in UTC.
 */
import * as z from 'zod';
import { type CommandEvent, commandEventSchema } from './command-event.ts';
import { ScheduleConfigError } from './errors.ts';
import { checkScheduleTiming, type ParsedScheduleExpression } from './schedule-expression.ts';

/** One schedule as written (the file's array items, the stack's `schedules` prop). */
export const commandScheduleSchema = z.strictObject({
  name: z.string(),
  expression: z.string(),
  timezone: z.string().optional(),
  flexible_window_minutes: z.union([z.literal('OFF'), z.number()]).optional(),
  description: z.string().max(512).optional(),
  enabled: z.boolean().optional(),
  command: commandEventSchema.refine((c) => c.origin === undefined, {
    message: 'origin is filled in when the schedule fires ({kind:"schedule", name, id, scheduled_time}); remove it',
    path: ['origin'],
  }),
});
export type CommandScheduleInput = z.input<typeof commandScheduleSchema>;

/** A checked schedule: defaults applied, the expression parsed. */
export interface CommandSchedule {
  name: string;
  expression: string;
  parsed: ParsedScheduleExpression;
  /** IANA time zone (default `UTC`). */
  timezone: string;
  /** Minutes of Scheduler's flexible window; undefined when `OFF`. */
  flexibleWindowMinutes: number | undefined;
  description: string | undefined;
  enabled: boolean;
  /** The command event, without `origin`. */
  command: CommandEvent;
}

const schedulesFileSchema = z.strictObject({ schedules: z.array(z.unknown()) });

/** `schedules[2].command.path` → `command.path`; the item index is named with the schedule. */
function fieldOf(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(the schedule)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.');
}

/**
 * Checks schedules as EventBridge Scheduler would take them (names, expressions, time zones,
 * windows) and their command events as the ingress would parse them, and that names are unique.
 * `source` names where they come from in errors (a file path, `MlplaneStack schedules`).
 * @throws ScheduleConfigError "<source>: schedule [name] (item i): <field>: <what is wrong>".
 */
export function parseCommandSchedules(items: readonly unknown[], source: string): CommandSchedule[] {
  const out: CommandSchedule[] = [];
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const label =
      item !== null && typeof item === 'object' && typeof (item as { name?: unknown }).name === 'string' ? `schedule [${(item as { name: string }).name}]` : `schedules[${i}]`;
    const result = commandScheduleSchema.safeParse(item);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      throw new ScheduleConfigError(`${source}: ${label}: ${fieldOf(issue.path)}: ${issue.message}`);
    }
    const s = result.data;
    let parsed: ParsedScheduleExpression;
    try {
      parsed = checkScheduleTiming(s);
    } catch (err) {
      throw new ScheduleConfigError(`${source}: ${(err as Error).message}`);
    }
    if (seen.has(s.name)) throw new ScheduleConfigError(`${source}: schedule [${s.name}]: name: another schedule has the same name (names are unique in a schedule group)`);
    seen.add(s.name);
    out.push({
      name: s.name,
      expression: s.expression,
      parsed,
      timezone: s.timezone ?? 'UTC',
      flexibleWindowMinutes: s.flexible_window_minutes === 'OFF' ? undefined : s.flexible_window_minutes,
      description: s.description,
      enabled: s.enabled ?? true,
      command: s.command,
    });
  });
  return out;
}

/**
 * Parses the text of a schedules file (see the module comment).
 * @throws ScheduleConfigError naming `source` (the file), and the schedule and field when one is wrong.
 */
export function parseSchedulesFile(text: string, source: string): CommandSchedule[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ScheduleConfigError(`${source}: not JSON: ${(err as Error).message}`);
  }
  const file = schedulesFileSchema.safeParse(json);
  if (!file.success)
    throw new ScheduleConfigError(`${source}: must be a JSON object {"schedules": [...]}: ${fieldOf(file.error.issues[0]!.path)}: ${file.error.issues[0]!.message}`);
  return parseCommandSchedules(file.data.schedules, source);
}
