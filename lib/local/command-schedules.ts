/**
 * The local stand-in for EventBridge Scheduler: fires each user command schedule
 * (`schedules.json`) into the command-ingress handler, with Scheduler's semantics:
 *
 * - cron and at in the schedule's time zone, with Scheduler's daylight saving rules (a time the
 *   clocks skip does not fire, a time they repeat fires once): `lib/domain/schedule-expression.ts`;
 * - rate every n minutes/hours/days from the schedule's first start (Scheduler, without a
 *   `StartDate`, starts at creation and fires at once), the phase kept across restarts;
 * - at once. An `at` already past when the schedule is first started is not fired (logged):
 *   EventBridge Scheduler refuses to create a one-time schedule whose time has passed (as its
 *   users report; the documentation does not say), so it would never fire in AWS either. One
 *   that fell due while mlplane was down after it had been started fires once, as any missed run;
 * - disabled schedules never fire (`trigger(name)` still runs one by hand);
 * - a flexible window fires at its start: Scheduler may fire anywhere in the window, and its
 *   start is one valid choice;
 * - firings missed while mlplane was down (the state is in the data folder,
 *   `schedule-state.ts`) run once at the next start, not once per missed firing.
 *
 * Each firing invokes the handler with the command event plus
 * `origin: {kind:"schedule", name, id:<uuid>, scheduled_time}` (Scheduler's execution id and
 * scheduled time, ISO-8601 to the second). A failed invocation is logged and not retried
 * (Scheduler would retry it and then use the DLQ; the ingress records its outcome as a task).
 * Firings of one schedule do not wait for each other, as Scheduler's do not.
 */
import { randomUUID } from 'node:crypto';
import type { CommandEvent } from '../domain/command-event.ts';
import type { CommandSchedule } from '../domain/command-schedule.ts';
import { fromLocal, nextFireTime } from '../domain/schedule-expression.ts';
import type { ScheduleState, ScheduleStateStore } from './schedule-state.ts';

/** A command event as a schedule sends it. */
export type ScheduledCommandEvent = CommandEvent & { origin: { kind: 'schedule'; name: string; id: string; scheduled_time: string } };

/** Options of {@link startCommandSchedules}. */
export interface CommandSchedulesOptions {
  schedules: readonly CommandSchedule[];
  /** Runs one firing (the ingress handler); its result is what `trigger` resolves to. */
  invoke: (event: ScheduledCommandEvent) => Promise<unknown>;
  state: ScheduleStateStore;
  log?: (line: string) => void;
}

/** The running user schedules. */
export interface CommandSchedules {
  /** The schedule names. */
  names(): string[];
  /** Fires a schedule now (enabled or not), resolving with the invocation's result (undefined when it failed, which is logged). */
  trigger(name: string): Promise<unknown>;
  /** The next firing of each schedule (null: disabled or never again). */
  nextRuns(): Record<string, Date | null>;
  /** Cancels the timers and waits for firings in progress. */
  stop(): Promise<void>;
}

/** setTimeout's limit is about 24.8 days; longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Scheduler's `<aws.scheduler.scheduled-time>` form: ISO-8601 to the second. */
const schedulerTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Loads the schedules' state, fires once each schedule whose firing fell due while mlplane was
 * down, and each rate schedule at its first start, then arms one timer per enabled schedule.
 * See the module comment for the semantics. Resolves once the timers are armed (the firings at
 * start run on; `stop()` waits for them).
 */
export async function startCommandSchedules(opts: CommandSchedulesOptions): Promise<CommandSchedules> {
  const log = opts.log ?? (() => undefined);
  const states = await opts.state.load();
  const running = new Set<Promise<unknown>>();
  const timers = new Map<string, NodeJS.Timeout>();
  const next = new Map<string, number | undefined>();
  const byName = new Map(opts.schedules.map((s) => [s.name, s]));
  let stopped = false;

  // The coverage only moves forward (ISO-8601 texts of one form sort as times), so a slow
  // earlier firing that ends after a later one never moves it back.
  const persist = async (s: CommandSchedule, update: Partial<ScheduleState>): Promise<void> => {
    const prev = states[s.name];
    const covered = [prev?.covered_until, update.covered_until].filter((t): t is string => t !== undefined).sort();
    const state: ScheduleState = {
      expression: s.expression,
      timezone: s.timezone,
      ...(covered.length > 0 ? { covered_until: covered.at(-1)! } : {}),
      ...((update.rate_start ?? prev?.rate_start) ? { rate_start: update.rate_start ?? prev?.rate_start } : {}),
    };
    states[s.name] = state;
    try {
      await opts.state.save(s.name, state);
    } catch (err) {
      log(`schedules: ${s.name}: its state could not be saved: ${(err as Error).message}`);
    }
  };

  /** Invokes one firing; `coveredUntil` (ISO) is saved after it, the firing counted as delivered whatever its outcome. */
  const fire = (s: CommandSchedule, scheduledMs: number, why: string, coveredUntil?: string): Promise<unknown> => {
    const event: ScheduledCommandEvent = {
      ...s.command,
      origin: { kind: 'schedule', name: s.name, id: randomUUID(), scheduled_time: schedulerTime(scheduledMs) },
    };
    log(`schedules: ${s.name} fires (${why}, scheduled ${event.origin.scheduled_time}): ${s.command.method} ${s.command.path}`);
    const p = opts
      .invoke(event)
      .then(
        (result) => {
          const status = (result as { status?: unknown } | undefined)?.status;
          if (status !== undefined) log(`schedules: ${s.name} answered ${String(status)}`);
          return result;
        },
        (err: unknown) => {
          log(`schedules: ${s.name} failed: ${(err as Error)?.stack ?? String(err)}`);
          return undefined;
        },
      )
      .then(async (result) => {
        if (coveredUntil !== undefined) await persist(s, { covered_until: coveredUntil });
        return result;
      })
      .finally(() => running.delete(p));
    running.add(p);
    return p;
  };

  const fireInput = (s: CommandSchedule) => ({
    expression: s.parsed,
    timeZone: s.timezone,
    rateStartMs: states[s.name]?.rate_start === undefined ? undefined : Date.parse(states[s.name]!.rate_start!),
  });

  const arm = (s: CommandSchedule, afterMs: number): void => {
    if (stopped) return;
    const due = nextFireTime(fireInput(s), afterMs);
    next.set(s.name, due);
    if (due === undefined) {
      log(`schedules: ${s.name} has no further firing`);
      return;
    }
    const wait = (): void => {
      const delay = due - Date.now();
      if (delay > 0) {
        timers.set(s.name, setTimeout(wait, Math.min(delay, MAX_TIMER_MS)));
        return;
      }
      arm(s, due);
      void fire(s, due, 'on time', new Date(due).toISOString());
    };
    wait();
  };

  for (const s of opts.schedules) {
    if (!s.enabled) {
      next.set(s.name, undefined);
      log(`schedules: ${s.name} is disabled`);
      continue;
    }
    const now = Date.now();
    const prev = states[s.name];
    const fresh = !prev || prev.expression !== s.expression || prev.timezone !== s.timezone;
    if (fresh) {
      // First start of this schedule (or of this expression): nothing before now was missed,
      // and a rate schedule starts by firing.
      delete states[s.name];
      if (s.parsed.kind === 'rate') {
        await persist(s, { rate_start: new Date(now).toISOString() });
        arm(s, now - 1);
        continue;
      }
      await persist(s, { covered_until: new Date(now).toISOString() });
      if (s.parsed.kind === 'at' && (fromLocal(s.parsed.at, s.timezone) ?? 0) <= now) {
        log(`schedules: ${s.name}: ${s.expression} (${s.timezone}) had passed before the schedule was first started; not fired (EventBridge Scheduler refuses to create it)`);
      }
      arm(s, now);
      continue;
    }
    const coveredMs = prev.covered_until === undefined ? now : Date.parse(prev.covered_until);
    const missed = nextFireTime(fireInput(s), coveredMs);
    if (missed !== undefined && missed <= now) {
      // However many firings were missed, one run covers them all (up to now).
      void fire(s, missed, 'missed while mlplane was down; run once', new Date(now).toISOString());
      arm(s, now);
    } else {
      arm(s, coveredMs);
    }
  }

  for (const s of opts.schedules) {
    const due = next.get(s.name);
    if (due !== undefined) log(`schedules: ${s.name} (${s.expression}, ${s.timezone}) next fires at ${new Date(due).toISOString()}`);
  }

  return {
    names: () => [...byName.keys()],
    trigger(name) {
      const s = byName.get(name);
      if (!s) return Promise.reject(new Error(`no schedule named ${name}`));
      return fire(s, Date.now(), 'triggered');
    },
    nextRuns() {
      return Object.fromEntries([...byName.keys()].map((name) => [name, next.get(name) === undefined ? null : new Date(next.get(name)!)]));
    },
    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
