/**
 * The local stand-in for the EventBridge schedule rules: one croner job per topology
 * schedule (its `localCron`, in UTC) that invokes the schedule's function with the
 * event EventBridge would send. A failing run is logged and never stops the process.
 * The user command schedules (`schedules.json`, `command-schedules.ts`) run beside them
 * and are triggered, listed and stopped through the same runner.
 */
import { Cron } from 'croner';
import { schedules as topologySchedules, type ScheduleDefinition, type ScheduleFunctionName } from '../runtime/topology.ts';
import type { CommandSchedules } from './command-schedules.ts';
import { toScheduledEvent } from './events.ts';
import { createLambdaContext, type ScheduleHandler } from './lambda.ts';

/** Options of {@link startCron}. */
export interface CronOptions {
  /** Default: `topology.schedules`. */
  schedules?: readonly ScheduleDefinition[];
  region: string;
  /** Returns the handler of a schedule function (loaded once). */
  resolveHandler: (fn: ScheduleFunctionName) => Promise<ScheduleHandler>;
  /** Function timeout for the Lambda context, in ms (default 900 000, Lambda's maximum). */
  timeoutMs?: number;
  log?: (line: string) => void;
  /** The user command schedules, already started (their names must differ from the topology's). */
  commands?: CommandSchedules;
}

/** The running schedules. */
export interface CronRunner {
  /**
   * Runs a schedule now, as if its rule fired (resolves when the run ends; errors are logged,
   * not thrown). A user command schedule resolves with the ingress's result (`{task, status, body}`).
   */
  trigger(name: string): Promise<unknown>;
  /** The next fire time of each schedule, by name. */
  nextRuns(): Record<string, Date | null>;
  /** Stops all jobs and waits for runs in progress. */
  stop(): Promise<void>;
}

/**
 * Starts one croner job per schedule (`localCron`, timezone UTC, a run skipped while
 * the previous run of the same schedule is still going, as a slow Lambda would pile up
 * otherwise). Each run invokes the schedule's function with a `ScheduledEvent` whose
 * `resources` is the rule's ARN (`rule/<schedule name>`).
 */
export function startCron(opts: CronOptions): CronRunner {
  const log = opts.log ?? (() => undefined);
  const timeoutMs = opts.timeoutMs ?? 900_000;
  const running = new Set<Promise<void>>();
  const byName = new Map<string, { def: ScheduleDefinition; job: Cron }>();

  const run = async (def: ScheduleDefinition): Promise<void> => {
    try {
      const handler = await opts.resolveHandler(def.fn);
      const event = toScheduledEvent({ name: def.name, region: opts.region });
      await handler(event, createLambdaContext({ functionName: def.fn, timeoutMs, region: opts.region }));
    } catch (err) {
      log(`cron: ${def.name} (${def.fn}) failed: ${(err as Error)?.stack ?? String(err)}`);
    }
  };
  const tracked = (def: ScheduleDefinition): Promise<void> => {
    const p = run(def).finally(() => running.delete(p));
    running.add(p);
    return p;
  };

  for (const def of opts.schedules ?? topologySchedules) {
    const job = new Cron(
      def.localCron,
      {
        timezone: 'UTC',
        protect: () => log(`cron: ${def.name} skipped, its previous run is still going`),
        catch: (err: unknown) => log(`cron: ${def.name} failed: ${String(err)}`),
      },
      () => tracked(def),
    );
    byName.set(def.name, { def, job });
  }

  return {
    trigger(name) {
      const entry = byName.get(name);
      if (!entry && opts.commands?.names().includes(name)) return opts.commands.trigger(name);
      if (!entry) return Promise.reject(new Error(`no schedule named ${name}`));
      return tracked(entry.def);
    },
    nextRuns() {
      return { ...opts.commands?.nextRuns(), ...Object.fromEntries([...byName].map(([name, { job }]) => [name, job.nextRun()])) };
    },
    async stop() {
      for (const { job } of byName.values()) job.stop();
      await Promise.all([...running, opts.commands?.stop()]);
    },
  };
}
