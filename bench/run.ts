/**
 * Runs every benchmark under `bench/` (each `*.ts` but this file and `lib.ts`) in sequence,
 * each as its own child process (`npx tsx bench/<name>.ts`), then prints
 * ONE table of the figures they wrote to `bench/results/` (benchmark, figure, measured, goal,
 * met). `npm run bench` runs it; `npx tsx bench/run.ts e2e close` runs only those. Exits 1
 * when a benchmark exited non-zero: it crashed, or it is the bundle benchmark over its target
 * (issue 12: an oversized bundle fails the run). Any other missed goal is shown as MISSED,
 * not a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type BenchResult, benchDir, type Figure, machine, projectRoot, resultsDir } from './lib.ts';

const ORDER = ['model', 'parse', 'bundle', 'e2e', 'close', 'cost', 'bulk', 'lookback', 'maintenance'];

/** Benchmarks present, in the usual order ({@link ORDER}), then the others by name. */
function benchmarks(only: string[]): string[] {
  const names = readdirSync(benchDir)
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && f !== 'lib.ts' && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3));
  const rank = (n: string): number => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  const all = names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  if (only.length === 0) return all;
  for (const o of only) if (!all.includes(o)) console.warn(`bench: no bench/${o}.ts; skipped`);
  return all.filter((n) => only.includes(n));
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The `goal` column: `≥ 50000` or `≤ 3000`; empty for an informative figure. */
function goalText(goal: Figure['goal']): string {
  if (goal === null) return '';
  return 'max' in goal ? `≤ ${goal.max}` : `≥ ${goal.min}`;
}

/** `12345.678` → `12,345.7`: the table is read by people. */
const num = (x: number): string => x.toLocaleString('en-US', { maximumFractionDigits: Math.abs(x) < 1 ? 6 : 1 });

/** The rows of one benchmark's results file: one per figure; a missing, stale or old-shaped file says so. */
function report(name: string, started: number): string[][] {
  const file = join(resultsDir, `${name}.json`);
  if (!existsSync(file)) return [[name, '(no results file)', '', '', '']];
  if (statSync(file).mtimeMs < started) return [[name, `(stale: ${relative(projectRoot, file)} was not rewritten)`, '', '', '']];
  const json = JSON.parse(readFileSync(file, 'utf8')) as Partial<BenchResult<unknown>>;
  if (!Array.isArray(json.figures)) return [[name, '(no figures: the file has the old shape)', '', '', '']];
  return json.figures.map((f) => [
    name,
    f.figure,
    f.measured === null ? 'not measured' : `${num(f.measured)} ${f.unit}`,
    f.goal === null ? '' : `${goalText(f.goal)} ${f.unit}`,
    f.met === null ? '' : f.met ? 'met' : 'MISSED',
  ]);
}

function main(): void {
  const names = benchmarks(process.argv.slice(2));
  const outcomes: Array<{ name: string; status: number | null; ms: number; started: number }> = [];
  for (const name of names) {
    console.log(`\n=== bench/${name}.ts ===`);
    const started = Date.now();
    const r = spawnSync('npx', ['tsx', join('bench', `${name}.ts`)], { cwd: projectRoot, stdio: 'inherit', env: process.env });
    outcomes.push({ name, status: r.status, ms: Date.now() - started, started });
    if (r.status !== 0) console.error(`bench/${name}.ts exited with ${r.status ?? r.signal}`);
  }

  const rows: string[][] = [['benchmark', 'figure', 'measured', 'goal', 'met']];
  for (const o of outcomes) {
    if (o.status !== 0) rows.push([o.name, `FAILED (exit ${o.status})`, '', '', '']);
    rows.push(...report(o.name, o.started));
  }
  console.log(`\n${table(rows)}`);
  console.log(`\nmachine: ${JSON.stringify(machine())}`);
  if (outcomes.some((o) => o.status !== 0)) process.exitCode = 1;
}

main();
