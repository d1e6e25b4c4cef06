/**
 * What the local runner remembers of each user schedule across restarts, so that a run
 * missed while mlplane was down fires once at the next start (EventBridge Scheduler keeps
 * this state itself in AWS).
 *
 * With a data folder it is one small JSON file, `<DATA_DIR>/schedules-state.json`, not items
 * in the table: only the local runner reads or writes it, AWS has no such items, and the
 * table's key layout (`lib/store/keys.ts`) stays what both runtimes share. Writes replace the
 * file through a rename, so a crash leaves the old or the new state, never half of one.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as z from 'zod';

/** The remembered state of one schedule. */
export const scheduleStateSchema = z.object({
  /** The expression and time zone the state belongs to: another expression starts afresh. */
  expression: z.string(),
  timezone: z.string(),
  /** Every firing due up to this time (ISO-8601) has been run (or run once for all of them, after downtime). */
  covered_until: z.string().optional(),
  /** The first firing of a rate schedule (ISO-8601): later firings keep its phase across restarts. */
  rate_start: z.string().optional(),
});
export type ScheduleState = z.infer<typeof scheduleStateSchema>;

/** Loads and saves {@link ScheduleState}s by schedule name. */
export interface ScheduleStateStore {
  load(): Promise<Record<string, ScheduleState>>;
  /** Saves one schedule's state (the others are kept). */
  save(name: string, state: ScheduleState): Promise<void>;
}

/** The file name of the state under a data folder. */
export const SCHEDULE_STATE_FILE = 'schedules-state.json';

/** State kept in memory (no data folder: nothing survives a restart anyway). */
export function memoryScheduleStateStore(initial: Record<string, ScheduleState> = {}): ScheduleStateStore {
  const states = { ...initial };
  return {
    load: async () => ({ ...states }),
    save: async (name, state) => {
      states[name] = state;
    },
  };
}

/**
 * State in `<dataDir>/schedules-state.json`. A missing file is an empty state; an unreadable
 * or malformed one is reported (the runner then starts afresh rather than refusing to start).
 * Saves are serialized, each writing the whole file through a temporary file and a rename.
 */
export function fileScheduleStateStore(dataDir: string, log: (line: string) => void = () => undefined): ScheduleStateStore {
  const path = join(dataDir, SCHEDULE_STATE_FILE);
  let states: Record<string, ScheduleState> | undefined;
  let writing: Promise<void> = Promise.resolve();

  const load = async (): Promise<Record<string, ScheduleState>> => {
    if (states) return { ...states };
    try {
      const parsed = z.record(z.string(), scheduleStateSchema).safeParse(JSON.parse(await readFile(path, 'utf8')));
      if (parsed.success) states = parsed.data;
      else {
        log(`schedules: ${path} is not a schedules state file (${parsed.error.issues[0]?.message}); starting afresh`);
        states = {};
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log(`schedules: ${path} cannot be read (${(err as Error).message}); starting afresh`);
      states = {};
    }
    return { ...states };
  };

  return {
    load,
    save: async (name, state) => {
      await load();
      states![name] = state;
      const text = `${JSON.stringify(states, null, 2)}\n`;
      writing = writing
        .catch(() => undefined)
        .then(async () => {
          await mkdir(dirname(path), { recursive: true });
          const tmp = `${path}.tmp`;
          await writeFile(tmp, text);
          await rename(tmp, path);
        });
      await writing;
    },
  };
}
