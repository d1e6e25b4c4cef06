/**
 * Parse speed of a `_data` body: 50,000 NDJSON documents (one record per document, the
 * shape real feeds have), parsed by `parseDataBody` several times in this process; the
 * median in ms and in documents per second go to `bench/results/parse.json`. This figure
 * replaces the timed assertion the unit test once made (tests assert behaviour, benchmarks
 * speed). `npx tsx bench/parse.ts`.
 */
import { loadavg } from 'node:os';
import { parseDataBody } from '../lib/detect/index.ts';
import { quantile, round1, runMain, writeResult } from './lib.ts';

const DOCS = 50_000;
const RUNS = 7;

await runMain(async () => {
  const lines: string[] = [];
  for (let i = 0; i < DOCS; i++) lines.push(JSON.stringify({ time: 1_700_000_000 + i, airline: `a${i % 20}`, responsetime: i }));
  const body = lines.join('\n');
  const format = { time_field: 'time', time_format: 'epoch' };
  const used = ['airline', 'responsetime'];
  parseDataBody(body, format, used); // warm-up
  const ms: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const { records } = parseDataBody(body, format, used);
    ms.push(performance.now() - t0);
    if (records.length !== DOCS) throw new Error(`parsed ${records.length} records, expected ${DOCS}`);
  }
  const median = quantile(ms, 0.5);
  const docsPerSecond = Math.round(DOCS / (median / 1000));
  writeResult('parse', {
    results: { docs: DOCS, runs: RUNS, median_ms: round1(median), docs_per_s: docsPerSecond, load_average_1m: round1(loadavg()[0] ?? 0) },
    figures: [
      { figure: `parse of a ${DOCS}-document NDJSON _data body (median of ${RUNS})`, measured: round1(median), unit: 'ms', goal: { max: 2000 } },
      { figure: 'parse of NDJSON _data bodies', measured: docsPerSecond, unit: 'documents/s' },
    ],
  });
});
