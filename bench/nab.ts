/**
 * Detection quality on the Numenta Anomaly Benchmark: every NAB file under `NAB_DIR` (default
 * `../shared/data/nab`, NAB's layout: `data/<category>/<file>.csv` and
 * `labels/combined_windows.json`) goes through the anomaly model directly (no server) with one
 * fixed job configuration for every file, as NAB's rules require:
 *
 *   `mean(value)`, `bucket_span` = the file's sampling interval (the median gap between rows,
 *   in whole seconds), no influencers, default everything else.
 *
 * Each row's score is its bucket's `initial_anomaly_score` / 100: the score the bucket was
 * given when it was finalised, from the data up to its end (no look-ahead; renormalization
 * later never changes it). Rows are ingested 1,000 at a time as `_data` posts would be.
 * The scores then go through NAB's scorer (`bench/nab/scorer.ts`: windows, the scaled sigmoid,
 * the three profiles, one optimized threshold per profile, normalization between the null and
 * perfect detectors).
 *
 * Writes bench/results/nab.json: the three profile scores (the standard one has its goal,
 * ≥ 60), per-category scores at the standard profile's threshold, the files with the lowest
 * normalized contribution, and per-file counts. `NAB_ROWS=1` also writes each file's rows
 * (`timestamp,value,anomaly_score,label`) to bench/results/nab-rows/ for inspection.
 * Run: `npx tsx bench/nab.ts`.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseNabCsv, windowsFor } from '../examples/nab/nab.ts';
import { type AnalysisSpec, AnomalyModel, type BucketResult } from '../lib/detect/index.ts';
import { projectRoot, resultsDir, runMain, writeResult } from './lib.ts';
import { PROFILES, type ProfileName, type ScoredFile, scoreProfile } from './nab/scorer.ts';

const NAB_DIR = resolve(process.env.NAB_DIR ?? join(projectRoot, '..', 'shared', 'data', 'nab'));
/** Records per `ingest` call, as lib/app/ingest.ts slices a post. */
const SLICE = 1000;

/** The file's sampling interval: the median gap between consecutive rows, whole seconds, in ms. */
export function samplingIntervalMs(times: readonly number[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) gaps.push((times[i] as number) - (times[i - 1] as number));
  gaps.sort((a, b) => a - b);
  const median = gaps[Math.floor(gaps.length / 2)] ?? 60_000;
  return Math.max(1000, Math.round(median / 1000) * 1000);
}

/** The one job configuration used for every file. */
function specFor(name: string, bucketSpanMs: number): AnalysisSpec {
  return {
    jobId: `nab-${name}`,
    bucketSpanMs,
    latencyMs: 0,
    detectors: [{ detector_index: 0, function: 'mean', field_name: 'value' }],
    influencers: [],
    modelMemoryLimitBytes: 1024 * 1024 * 1024,
  };
}

/** Runs one file through the model: each row's score in [0, 1] (its bucket's initial_anomaly_score / 100). */
export function scoreRows(name: string, times: readonly number[], values: readonly number[]): { scores: number[]; bucketSpanMs: number } {
  const span = samplingIntervalMs(times);
  const model = AnomalyModel.create(specFor(name, span));
  const byBucket = new Map<number, number>();
  const keep = (bs: BucketResult[]): void => {
    for (const b of bs) byBucket.set(b.timestamp, b.initial_anomaly_score);
  };
  for (let i = 0; i < times.length; i += SLICE) {
    const recs = [];
    for (let j = i; j < Math.min(times.length, i + SLICE); j++) recs.push({ timeMs: times[j] as number, fields: { value: values[j] } });
    keep(model.ingest(recs).buckets);
  }
  keep(model.finalizeAll());
  const scores = times.map((t) => (byBucket.get(Math.floor(t / span) * span) ?? 0) / 100);
  return { scores, bucketSpanMs: span };
}

interface FileRun extends ScoredFile {
  category: string;
  bucketSpanMs: number;
  values: number[];
}

function loadFiles(): FileRun[] {
  const combined = JSON.parse(readFileSync(join(NAB_DIR, 'labels', 'combined_windows.json'), 'utf8')) as Record<string, [string, string][]>;
  const out: FileRun[] = [];
  const dataDir = join(NAB_DIR, 'data');
  for (const category of readdirSync(dataDir).sort()) {
    for (const file of readdirSync(join(dataDir, category)).sort()) {
      if (!file.endsWith('.csv')) continue;
      const key = `${category}/${file}`;
      if (!(key in combined)) continue;
      const rows = parseNabCsv(readFileSync(join(dataDir, category, file), 'utf8'));
      const times = rows.map((r) => r.timestamp);
      const values = rows.map((r) => r.value);
      const { scores, bucketSpanMs } = scoreRows(file.replace(/\.csv$/, ''), times, values);
      out.push({ name: key, category, times, values, scores, windows: windowsFor(combined, key), bucketSpanMs });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const files = loadFiles();
  const modelMs = performance.now() - t0;
  const rows = files.reduce((s, f) => s + f.times.length, 0);
  const profiles = Object.fromEntries(
    (Object.keys(PROFILES) as ProfileName[]).map((p) => {
      const r = scoreProfile(files, p, PROFILES[p]);
      return [p, r];
    }),
  ) as Record<ProfileName, ReturnType<typeof scoreProfile>>;
  const std = profiles.standard;
  // Per category: the standard profile's threshold (NAB's per-subset tables use one detector run).
  const categories = [...new Set(files.map((f) => f.category))];
  const perCategory = Object.fromEntries(
    categories.map((c) => {
      const sub = files.filter((f) => f.category === c);
      const entry = Object.fromEntries((Object.keys(PROFILES) as ProfileName[]).map((p) => [p, round(scoreProfile(sub, p, PROFILES[p], profiles[p].threshold).score)]));
      return [c, entry];
    }),
  );
  // A file's share of the gap to perfect: what it loses under the standard profile.
  const perFile = std.files.map((f) => ({ file: f.name, tp: f.tp, fp: f.fp, fn: f.fn, windows: f.windows, raw: round(f.raw), lost: round(f.perfectRaw - f.raw) }));
  const worst = [...perFile].sort((a, b) => b.lost - a.lost).slice(0, 10);
  if (process.env.NAB_ROWS === '1') writeRows(files);
  const fmt = (p: ProfileName): { score: number; threshold: number } => ({ score: round(profiles[p].score), threshold: profiles[p].threshold });
  writeResult('nab', {
    results: {
      data: NAB_DIR,
      files: files.length,
      rows,
      modelSeconds: round(modelMs / 1000),
      configuration: 'mean(value), bucket_span = median sampling interval, latency 0, score = initial_anomaly_score / 100',
      profiles: { standard: fmt('standard'), reward_low_FP_rate: fmt('reward_low_FP_rate'), reward_low_FN_rate: fmt('reward_low_FN_rate') },
      perCategory,
      worst,
      perFile,
    },
    figures: [
      { figure: `NAB score, standard profile (${files.length} files)`, measured: round(std.score), unit: '', goal: { min: 60 } },
      { figure: 'NAB score, reward low FP', measured: round(profiles.reward_low_FP_rate.score), unit: '' },
      { figure: 'NAB score, reward low FN', measured: round(profiles.reward_low_FN_rate.score), unit: '' },
    ],
  });
}

function writeRows(files: readonly FileRun[]): void {
  const dir = join(resultsDir, 'nab-rows');
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    const lines = ['timestamp,value,anomaly_score,label'];
    f.times.forEach((t, i) => {
      const label = f.windows.some((w) => t >= w.start && t <= w.end) ? 1 : 0;
      lines.push(`${new Date(t).toISOString()},${f.values[i]},${f.scores[i]},${label}`);
    });
    writeFileSync(join(dir, f.name.replace('/', '__')), `${lines.join('\n')}\n`);
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (import.meta.url === `file://${process.argv[1]}`) await runMain(main);
