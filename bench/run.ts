/**
 * Runs every benchmark under `bench/` (each `*.ts` but this file and `lib.ts`) in sequence,
 * each as its own child process (`npx tsx bench/<name>.ts`), then prints
 * ONE table of the figures they wrote to `bench/results/` (benchmark, figure, measured, goal,
 * met). `npm run bench` runs it; `npx tsx bench/run.ts e2e close` runs only those;
 * `npx tsx bench/run.ts --markdown` prints the results present as the README's table. Exits 1
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
function goalText(goal: Figure['goal'], unit: string): string {
  if (goal === null) return '';
  return 'max' in goal ? `≤ ${withUnit(goal.max, unit)}` : `≥ ${withUnit(goal.min, unit)}`;
}

/** `12345.678` → `12,345.7`: the table is read by people. */
const num = (x: number): string => x.toLocaleString('en-US', { maximumFractionDigits: Math.abs(x) < 1 ? 6 : 1 });

/** A value with its unit: `$0.2750`, `3,036.1 ms`. */
const withUnit = (x: number, unit: string): string => (unit === '$' ? `$${x.toFixed(4)}` : `${num(x)} ${unit}`);

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
    f.measured === null ? 'not measured' : withUnit(f.measured, f.unit),
    f.goal === null ? '' : goalText(f.goal, f.unit),
    f.met === null ? '' : f.met ? 'met' : 'MISSED',
  ]);
}

/**
 * `--markdown`: runs nothing; prints every results file's figures as the README's Markdown
 * table (figure, measured, goal, met, when and at which load average), so the README quotes
 * the JSON rather than retyping it.
 */
function markdown(names: string[]): void {
  const out = ['| figure (benchmark) | measured | goal | met | run (UTC), load average 1/5/15 min |', '|---|---|---|---|---|'];
  for (const name of names) {
    const file = join(resultsDir, `${name}.json`);
    if (!existsSync(file)) continue;
    const json = JSON.parse(readFileSync(file, 'utf8')) as Partial<BenchResult<unknown>>;
    const when = `${json.date?.slice(0, 16).replace('T', ' ') ?? '?'}, ${json.machine?.loadAverage?.join(' / ') ?? '?'}`;
    if (!Array.isArray(json.figures)) {
      out.push(`| \`bench/${name}.ts\`: old result shape, not rerun | | | | ${when} |`);
      continue;
    }
    for (const f of json.figures) {
      const measured = f.measured === null ? 'not measured' : withUnit(f.measured, f.unit);
      const goal = f.goal === null ? 'measured' : goalText(f.goal, f.unit);
      const met = f.met === null ? '' : f.met ? 'met' : '**not met**';
      out.push(`| ${f.figure} (\`bench/${name}.ts\`) | ${measured} | ${goal} | ${met} | ${when} |`);
    }
  }
  console.log(out.join('\n'));
}

function main(): void {
  const args = process.argv.slice(2);
  if (args.includes('--markdown')) {
    markdown(benchmarks(args.filter((a) => a !== '--markdown')));
    return;
  }
  const names = benchmarks(args);
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
