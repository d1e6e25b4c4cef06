/**
 * Bundle benchmark: bundles every Lambda entry (`infra/bundle.ts`, the settings deployed by
 * the stack), then for each bundle records its size (bytes of the minified `index.mjs`) and
 * the time to import it in a fresh `node` process (median of 5, ms, after one discarded
 * warm-up run that fills the file cache). Node runs with `--enable-source-maps`, as the
 * deployed functions do (`NODE_OPTIONS`); the median without it is recorded too.
 *
 * Figures: the largest bundle (goal ≤ 1 MiB) and the slowest median import (goal ≤ 150 ms).
 * Writes `bench/results/bundle.json`. Run: `npx tsx bench/bundle.ts`. Exits 1 when a bundle
 * is over a goal (issue 12: an oversized bundle fails `npm run bench`, unlike the other
 * benchmarks' missed goals), and without writing results when an entry file is missing.
 */
import { execFileSync } from 'node:child_process';
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleAll, MissingEntriesError, type BundleResult } from '../infra/bundle.ts';
import { projectRoot } from '../infra/entries.ts';
import { type FigureInput, toFigure, writeResult } from './lib.ts';

const RUNS = 5;
const targets = { maxBytes: 1_048_576, maxImportMs: 150 } as const;

/** Just enough environment for `lib/runtime/config.ts` to parse; nothing is called at import. */
const importEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  TABLE_NAME: 'mlplane-bench',
  COMMAND_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/commands.fifo',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
};

/** ms to `import()` the bundle in a new node process, measured inside that process. */
function importMs(file: string, nodeArgs: string[]): number {
  const script = `const t0 = performance.now(); const m = await import(${JSON.stringify(pathToFileURL(file).href)});
if (typeof m.handler !== 'function') { console.error('no handler export'); process.exit(2); }
process.stdout.write(String(performance.now() - t0));`;
  const out = execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], {
    env: importEnv,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return Number(out);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function measure(file: string, nodeArgs: string[]): number {
  importMs(file, nodeArgs); // warm-up: file cache
  return median(Array.from({ length: RUNS }, () => importMs(file, nodeArgs)));
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

async function main(): Promise<void> {
  let bundles: BundleResult[];
  try {
    bundles = await bundleAll();
  } catch (err) {
    if (err instanceof MissingEntriesError) {
      console.error(`bench/bundle: not run: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }

  const results = bundles.map((b) => {
    const importMsMedian = round(measure(b.file, ['--enable-source-maps']));
    const importMsMedianNoSourceMaps = round(measure(b.file, []));
    const ok = b.bytes <= targets.maxBytes && importMsMedian <= targets.maxImportMs;
    console.log(
      `${b.entry.id.padEnd(24)} ${String(b.bytes).padStart(9)} B  import ${importMsMedian} ms ` +
        `(${importMsMedianNoSourceMaps} ms without source maps)${ok ? '' : '  OVER TARGET'}  ${relative(projectRoot, b.file)}`,
    );
    return { fn: b.entry.id, bytes: b.bytes, importMsMedian, importMsMedianNoSourceMaps };
  });

  const largest = results.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const slowest = results.reduce((a, b) => (b.importMsMedian > a.importMsMedian ? b : a));
  const figures: FigureInput[] = [
    { figure: `largest function bundle, minified (${largest.fn}; ${results.length} functions)`, measured: largest.bytes, unit: 'bytes', goal: { max: targets.maxBytes } },
    { figure: `slowest bundle import, median of ${RUNS}, source maps on (${slowest.fn})`, measured: slowest.importMsMedian, unit: 'ms', goal: { max: targets.maxImportMs } },
  ];
  writeResult('bundle', { results, figures });
  if (figures.map(toFigure).some((f) => f.met === false)) {
    console.error('bench/bundle: over target (see above)');
    process.exitCode = 1;
  }
}

await main();
