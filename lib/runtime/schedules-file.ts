/**
 * Reads a schedules file (`schedules.json`, format in `lib/domain/command-schedule.ts`) for
 * the CDK stack (`-c schedulesFile=…` or `SCHEDULES_FILE`) and `npm start` (`SCHEDULES_FILE`),
 * so both run the same schedules from the same checks.
 */
import { readFileSync } from 'node:fs';
import { type CommandSchedule, parseSchedulesFile } from '../domain/command-schedule.ts';
import { ScheduleConfigError } from '../domain/errors.ts';

/**
 * The schedules of the file at `path`.
 * @throws ScheduleConfigError naming the file (unreadable, not JSON) and, for a wrong schedule, its name and field.
 */
export function readSchedulesFile(path: string): CommandSchedule[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ScheduleConfigError(`${path}: the schedules file cannot be read: ${(err as Error).message}`);
  }
  return parseSchedulesFile(text, path);
}
