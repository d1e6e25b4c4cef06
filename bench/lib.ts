/**
 * Shared helpers of the benchmarks: the machine they ran on, the result file they write,
 * a few statistics, and an Elasticsearch client for either an in-process local system or
 * an `ES_URL` given by the caller.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, errors } from '@elastic/elasticsearch';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const projectRoot = dirname(benchDir);
export const resultsDir = join(benchDir, 'results');

/** The machine a benchmark ran on. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  /** 1, 5 and 15 minute load averages when the result was written (other work on the machine skews the figures). */
  loadAverage: number[];
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/**
 * A goal of one figure: the measured value must be ≥ `min` or ≤ `max`. (`unit` is accepted
 * for the old `targets` form only; a figure carries its unit itself.)
 */
export type Goal = { min: number; unit?: string } | { max: number; unit?: string };
/** The old name of {@link Goal}, kept while benchmarks still pass `targets`. */
export type Target = Goal;

/** Whether `value` meets `goal`; a missing or non-finite value never does. */
export function meets(value: number | null | undefined, goal: Goal): boolean {
  if (value === undefined || value === null || !Number.isFinite(value)) return false;
  return 'max' in goal ? value <= goal.max : value >= goal.min;
}

/** One figure as a benchmark reports it: what was measured, in which unit, and its goal (none: informative). */
export interface FigureInput {
  /** What it is, in words a reader of the README's table understands ("close of 10,000 series, latency 4h"). */
  figure: string;
  /** The measured value; `undefined`/`NaN` when it could not be measured (then it never meets its goal). */
  measured: number | undefined;
  unit: string;
  goal?: Goal;
}

/** One figure as written: `met` is computed here from `measured` and `goal` (`null`: no goal), never by the caller. */
export interface Figure {
  figure: string;
  measured: number | null;
  unit: string;
  goal: { min: number } | { max: number } | null;
  met: boolean | null;
}

/** The JSON every benchmark writes to `bench/results/<name>.json`. */
export interface BenchResult<R> {
  name: string;
  date: string;
  machine: Machine;
  /** The benchmark's own details (runs, spreads, counts). */
  results: R;
  /** The figures `npm run bench` and the README's table show. */
  figures: Figure[];
}

/** Builds the written figure: `met` from `measured` and `goal`. */
export function toFigure(f: FigureInput): Figure {
  const measured = f.measured !== undefined && Number.isFinite(f.measured) ? f.measured : null;
  const goal = f.goal === undefined ? null : 'max' in f.goal ? { max: f.goal.max } : { min: f.goal.min };
  return { figure: f.figure, measured, unit: f.unit, goal, met: goal === null ? null : meets(measured, goal) };
}

/** The old argument of {@link writeResult}: targets by key; `met` is ignored (recomputed from `results[key]`). */
export interface LegacyResultInput<R> {
  results: R;
  targets: Record<string, Target>;
  /** Ignored: `met` is computed from the measured value, never taken from the caller. */
  met?: Record<string, boolean>;
}

/** `results[key]` when it is a number (the old form's measured value of target `key`). */
function legacyMeasured(results: unknown, key: string): number | undefined {
  const v = typeof results === 'object' && results !== null ? (results as Record<string, unknown>)[key] : undefined;
  return typeof v === 'number' ? v : undefined;
}

/**
 * The figures to write: each given figure with its `met` computed; in the old form, one
 * figure per target `k`, measured at `results[k]`, the caller's `met` ignored.
 */
export function figuresOf(obj: { results: unknown; figures: FigureInput[] } | LegacyResultInput<unknown>): Figure[] {
  if ('figures' in obj) return obj.figures.map(toFigure);
  return Object.entries(obj.targets).map(([k, t]) => toFigure({ figure: k, measured: legacyMeasured(obj.results, k), unit: t.unit ?? '', goal: t }));
}

/**
 * Writes `bench/results/<name>.json` as {@link BenchResult}: `{name, date, machine (with the
 * load average now), results, figures}`, each figure's `met` computed from its measured value
 * and goal. Also accepts the old form `{results, targets, met}`: each target `k` becomes a
 * figure `k` measured at `results[k]` (a number, else unmeasured), and the given `met` is
 * ignored. Returns the path written.
 */
export function writeResult<R>(name: string, obj: { results: R; figures: FigureInput[] } | LegacyResultInput<R>): string {
  const figures = figuresOf(obj);
  const report: BenchResult<R> = { name, date: new Date().toISOString(), machine: machine(), results: obj.results, figures };
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  for (const f of figures) {
    const goal = f.goal === null ? '' : 'max' in f.goal ? ` (goal ≤ ${f.goal.max})` : ` (goal ≥ ${f.goal.min})`;
    console.log(`${name}: ${f.figure}: ${f.measured ?? 'not measured'} ${f.unit}${goal}${f.met === false ? ' MISSED' : ''}`);
  }
  console.log(`wrote ${relative(projectRoot, file)}`);
  return file;
}

/** The q-quantile (0..1) of `xs` by linear interpolation between closest ranks. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export const round1 = (x: number): number => Math.round(x * 10) / 10;

/** Deterministic uniform numbers in [0, 1) (mulberry32), so every run of a benchmark sees the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A system to benchmark against: `ES_URL` when set, else a local system started in this process. */
export interface BenchSystem {
  client: Client;
  url: string;
  inProcess: boolean;
  stop(): Promise<void>;
}

/**
 * Connects to `ES_URL` (user `elastic`, password `ELASTIC_PASSWORD`) when set; otherwise
 * starts `startLocalSystem({port: 0, cron: false})` in this process. The client never
 * retries (a retried `_data` would post twice) and waits up to 10 minutes per request.
 */
export async function connect(): Promise<BenchSystem> {
  const esUrl = process.env.ES_URL;
  const clientOpts = { maxRetries: 0, requestTimeout: 600_000 } as const;
  if (esUrl) {
    const password = process.env.ELASTIC_PASSWORD ?? '';
    const client = new Client({ node: esUrl, auth: { username: 'elastic', password }, ...clientOpts });
    return { client, url: esUrl, inProcess: false, stop: () => client.close() };
  }
  const elasticPassword = process.env.ELASTIC_PASSWORD || 'bench-password';
  const { startLocalSystem } = await import('../lib/local/system.ts');
  const system = await startLocalSystem({ port: 0, elasticPassword, cron: false });
  const client = new Client({ node: system.url, auth: { username: 'elastic', password: elasticPassword }, ...clientOpts });
  return {
    client,
    url: system.url,
    inProcess: true,
    stop: async () => {
      await client.close();
      await system.stop();
    },
  };
}

/** Force-closes and deletes `jobId` when it exists; ignores a missing job. */
export async function deleteIfExists(client: Client, jobId: string): Promise<void> {
  try {
    await client.ml.closeJob({ job_id: jobId, force: true });
  } catch (err) {
    if ((err as { meta?: { statusCode?: number } }).meta?.statusCode !== 404) throw err;
    return;
  }
  await client.ml.deleteJob({ job_id: jobId, force: true });
}

/**
 * Runs a benchmark's `main`, printing a failed Elasticsearch call as one line (method,
 * path, status, body) rather than the client's whole error object; exit code 1 on failure.
 */
export async function runMain(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (err instanceof errors.ResponseError) {
      const req = err.meta.meta.request.params;
      console.error(`${req.method} ${req.path}${req.querystring ? `?${String(req.querystring)}` : ''} → ${err.meta.statusCode}: ${JSON.stringify(err.meta.body)}`);
    } else {
      console.error(err);
    }
    process.exitCode = 1;
  }
}

/** CPU seconds (user + system) of this process's descendants named java (DynamoDB Local), read from /proc. */
export function javaCpuSeconds(): number {
  let out = '';
  try {
    out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' });
  } catch {
    return Number.NaN;
  }
  const rows = out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .map(([pid, ppid, comm]) => ({ pid: Number(pid), ppid: Number(ppid), comm: comm ?? '' }));
  const mine = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rows)
      if (!mine.has(r.pid) && mine.has(r.ppid)) {
        mine.add(r.pid);
        grew = true;
      }
  }
  let ticks = 0;
  for (const r of rows) {
    if (!mine.has(r.pid) || r.comm !== 'java') continue;
    const stat = readFileSync(`/proc/${r.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / 100;
}
