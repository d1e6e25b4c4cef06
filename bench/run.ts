/**
 * Runs every benchmark under `bench/` (each `*.ts` but this file and `lib.ts`) in sequence,
 * each as its own child process (`npx tsx bench/<name>.ts`), then prints a table of the
 * JSON they wrote to `bench/results/`. `npm run bench` runs it; `npx tsx bench/run.ts e2e
 * close` runs only those. Exits 1 when a benchmark failed (a missed target is not a failure:
 * the table says so).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { benchDir, machine, projectRoot, resultsDir } from './lib.ts';

const ORDER = ['model', 'bundle', 'e2e', 'close', 'bulk', 'lookback'];

/** Benchmarks present, in the usual order (model, bundle, e2e, close, bulk, lookback), then the others by name. */
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

/** Flattens a JSON value to `path = value` leaves (arrays of more than 8 scalars are summarized). */
function leaves(v: unknown, path: string, out: Array<[string, string]>): void {
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every((x) => typeof x === 'object' && x !== null)) v.forEach((x, i) => leaves(x, `${path}[${i}]`, out));
    else out.push([path, v.length > 8 ? `[${v.length} items]` : JSON.stringify(v)]);
  } else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) leaves(x, path ? `${path}.${k}` : k, out);
  } else out.push([path, String(v)]);
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

function report(name: string, started: number): string[][] {
  const file = join(resultsDir, `${name}.json`);
  if (!existsSync(file)) return [[name, '(no results file)', '', '']];
  if (statSync(file).mtimeMs < started) return [[name, `(stale: ${relative(projectRoot, file)} was not rewritten)`, '', '']];
  const json = JSON.parse(readFileSync(file, 'utf8')) as {
    results?: unknown;
    targets?: Record<string, unknown>;
    met?: Record<string, boolean> | boolean;
    targets_met?: boolean;
  };
  const rows: string[][] = [];
  const kv: Array<[string, string]> = [];
  leaves(json.results, '', kv);
  for (const [k, v] of kv) {
    if (k === 'system' || k.endsWith('closeResponse') || k.startsWith('closeResponse')) continue;
    rows.push([name, k, v.length > 60 ? `${v.slice(0, 57)}...` : v, '']);
  }
  const label = (met: boolean | undefined): string => (met === undefined ? '' : met ? 'met' : 'MISSED');
  for (const [k, t] of Object.entries(json.targets ?? {})) {
    rows.push([name, `target ${k}`, JSON.stringify(t), label(typeof json.met === 'object' ? json.met[k] : undefined)]);
  }
  // other benchmarks' shapes: one boolean for all targets
  const all = typeof json.met === 'boolean' ? json.met : json.targets_met;
  if (all !== undefined) rows.push([name, 'all targets', '', label(all)]);
  return rows;
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

  const rows: string[][] = [['bench', 'measure', 'value', 'target']];
  for (const o of outcomes) {
    if (o.status !== 0) rows.push([o.name, `FAILED (exit ${o.status})`, '', '']);
    rows.push(...report(o.name, o.started));
  }
  console.log(`\n${table(rows)}`);
  console.log(`\nmachine: ${JSON.stringify(machine())}`);
  if (outcomes.some((o) => o.status !== 0)) process.exitCode = 1;
}

main();
