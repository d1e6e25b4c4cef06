/**
 * The Lambda entry points of mlplane, derived from `lib/runtime/topology.ts` so that the
 * CDK stack, the bundle script and the bundle benchmark cannot disagree on which
 * functions exist.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandIngress, routes, schedules, workers } from '../lib/runtime/topology.ts';

/** Where an entry is invoked from: API Gateway, an SQS event source mapping, EventBridge (`schedules`), or a command event (`commands`). */
export type EntryKind = 'http' | 'workers' | 'schedules' | 'commands';

/** One Lambda function and the TypeScript file whose `handler` export it runs. */
export interface FunctionEntry {
  kind: EntryKind;
  /** The topology name: the route `fn`, the worker key or the schedule `fn`. */
  name: string;
  /** `<kind>-<name>`: the `dist/` folder and the benchmark's `fn`, unique across kinds. */
  id: string;
  /** CDK construct id, e.g. `HttpJobs`, `WorkersCommands`. */
  constructId: string;
  /** Path relative to the project root, e.g. `functions/http/jobs.ts`. */
  relativePath: string;
}

/** The repository root (the folder holding `package.json`). */
export const projectRoot: string = fileURLToPath(new URL('..', import.meta.url));

const pascal = (s: string): string =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

const entry = (kind: EntryKind, name: string): FunctionEntry => ({
  kind,
  name,
  id: `${kind}-${name}`,
  constructId: pascal(`${kind}-${name}`),
  relativePath: `functions/${kind}/${name}.ts`,
});

const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

/** One entry per HTTP function family of `topology.routes`, in first-route order. */
export const httpEntries: readonly FunctionEntry[] = unique(routes.map((r) => r.fn)).map((fn) => entry('http', fn));

/** One entry per worker of `topology.workers`. */
export const workerEntries: readonly FunctionEntry[] = Object.keys(workers).map((name) => entry('workers', name));

/** One entry per scheduled function of `topology.schedules` (several schedules may share one). */
export const scheduleEntries: readonly FunctionEntry[] = unique(schedules.map((s) => s.fn)).map((fn) => entry('schedules', fn));

/** The command-ingress function (`topology.commandIngress`): invoked by Scheduler, rules and `npm run command`. */
export const commandIngressEntry: FunctionEntry = entry('commands', commandIngress.name);

/** Every Lambda entry point: HTTP, then workers, then schedules, then the command ingress. */
export const allEntries: readonly FunctionEntry[] = [...httpEntries, ...workerEntries, ...scheduleEntries, commandIngressEntry];

/** The entries whose file does not exist under `root` (default: this repository). */
export function missingEntries(root: string = projectRoot): FunctionEntry[] {
  return allEntries.filter((e) => !existsSync(join(root, e.relativePath)));
}
