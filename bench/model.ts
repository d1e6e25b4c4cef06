/**
 * Benchmark of the anomaly model (lib/detect), on one core:
 * - `count` on one series: records/s through `ingest` (target >= 1,000,000/s);
 * - `mean` split by 1,000 by-field series: records/s through `ingest` (target >= 300,000/s);
 * - model state bytes per series before periodic components (target <= 2 KB), and after;
 * - `parseDataBody` throughput on NDJSON, reported separately (parsing is excluded above);
 * - informative worst cases: one record per bucket (count) and one record per series and
 *   bucket (mean by 1,000), where bucket finalisation dominates.
 *
 * Run: `npx tsx bench/model.ts`. Writes bench/results/model.json.
 */
import { AnomalyModel, analysisFields, parseDataBody, type AnalysisSpec, type InputRecord } from '../lib/detect/index.ts';
import { writeResult } from './lib.ts';

const SPAN_MS = 300_000;
const START_MS = Date.UTC(2024, 0, 1);
/** Records per ingest call, like one `_data` post. */
const BATCH = 10_000;

function spec(detector: AnalysisSpec['detectors'][number]): AnalysisSpec {
  return {
    jobId: 'bench',
    bucketSpanMs: SPAN_MS,
    latencyMs: 0,
    detectors: [detector],
    influencers: [],
    modelMemoryLimitBytes: 1024 * 1024 * 1024,
  };
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `ingest` over the records in batches; returns records/s (best of `runs`). */
function ingestRate(make: () => AnomalyModel, records: InputRecord[], runs: number): { rate: number; buckets: number } {
  let best = 0;
  let buckets = 0;
  for (let r = 0; r < runs; r++) {
    const model = make();
    const t0 = process.hrtime.bigint();
    buckets = 0;
    for (let i = 0; i < records.length; i += BATCH) buckets += model.ingest(records.slice(i, i + BATCH)).buckets.length;
    buckets += model.finalizeAll().length;
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.max(best, records.length / s);
  }
  return { rate: best, buckets };
}

// 1. count, one series: 2,000,000 records, 2,000 a bucket.
function countRecords(n: number): InputRecord[] {
  const out: InputRecord[] = new Array(n);
  const perBucket = 2000;
  for (let i = 0; i < n; i++) {
    const b = Math.floor(i / perBucket);
    out[i] = { timeMs: START_MS + b * SPAN_MS + Math.floor(((i % perBucket) * SPAN_MS) / perBucket), fields: {} };
  }
  return out;
}

// 2. mean by 1,000 hosts: 1,000,000 records, 10 per host and bucket.
function meanRecords(n: number, hosts: number, perSeries: number): InputRecord[] {
  const rand = rng(7);
  const names = Array.from({ length: hosts }, (_, h) => `host-${h}`);
  const perBucket = hosts * perSeries;
  const out: InputRecord[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const b = Math.floor(i / perBucket);
    const j = i % perBucket;
    out[i] = {
      timeMs: START_MS + b * SPAN_MS + Math.floor((j * SPAN_MS) / perBucket),
      fields: { host: names[j % hosts], responsetime: 100 + 10 * rand() },
    };
  }
  return out;
}

function bytesPerSeries(hosts: number, buckets: number): { bytesPerSeries: number; modelBytes: number; serializedBytes: number } {
  const s = spec({ detector_index: 0, function: 'mean', field_name: 'responsetime', by_field_name: 'host' });
  const model = AnomalyModel.create(s);
  const empty = model.modelBytes();
  model.ingest(meanRecords(hosts * buckets, hosts, 1));
  model.finalizeAll();
  const bytes = model.modelBytes();
  const serialized = model.serialize().length;
  return { bytesPerSeries: (bytes - empty) / hosts, modelBytes: bytes, serializedBytes: serialized };
}

function parseRate(n: number): { recordsPerSecond: number; megabytesPerSecond: number } {
  const rand = rng(3);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({ time: Math.floor(START_MS / 1000) + i, host: `host-${i % 1000}`, responsetime: 100 + 10 * rand(), extra: 'x' }));
  }
  const body = lines.join('\n');
  const s = spec({ detector_index: 0, function: 'mean', field_name: 'responsetime', by_field_name: 'host' });
  const fields = analysisFields(s);
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    const { records } = parseDataBody(body, { time_field: 'time', time_format: 'epoch' }, fields);
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    if (records.length !== n) throw new Error('parse lost records');
    best = Math.min(best, sec);
  }
  return { recordsPerSecond: n / best, megabytesPerSecond: Buffer.byteLength(body) / 1e6 / best };
}

const count = ingestRate(() => AnomalyModel.create(spec({ detector_index: 0, function: 'count' })), countRecords(2_000_000), 3);
const meanRecs = meanRecords(1_000_000, 1000, 10);
const mean = ingestRate(() => AnomalyModel.create(spec({ detector_index: 0, function: 'mean', field_name: 'responsetime', by_field_name: 'host' })), meanRecs, 3);
// Worst cases (informative): every record finalises a bucket / every record is its series' only one.
const countSparse = ingestRate(
  () => AnomalyModel.create(spec({ detector_index: 0, function: 'count' })),
  Array.from({ length: 200_000 }, (_, i) => ({ timeMs: START_MS + i * SPAN_MS, fields: {} })),
  3,
);
const meanSparse = ingestRate(
  () => AnomalyModel.create(spec({ detector_index: 0, function: 'mean', field_name: 'responsetime', by_field_name: 'host' })),
  meanRecords(500_000, 1000, 1),
  3,
);
// 100 buckets (8 h 20 min): no periodic component yet; 600 buckets (50 h): daily profiles allocated.
const before = bytesPerSeries(1000, 100);
const after = bytesPerSeries(1000, 600);
const parse = parseRate(200_000);

const results = {
  count_one_series_records_per_second: Math.round(count.rate),
  mean_by_1000_series_records_per_second: Math.round(mean.rate),
  count_one_record_per_bucket_records_per_second: Math.round(countSparse.rate),
  mean_by_1000_series_one_record_per_series_and_bucket_records_per_second: Math.round(meanSparse.rate),
  model_bytes_per_series_before_periodic: Math.round(before.bytesPerSeries),
  model_bytes_per_series_with_periodic: Math.round(after.bytesPerSeries),
  model_bytes_1000_series_before_periodic: before.modelBytes,
  model_bytes_equals_serialized_length: before.modelBytes === before.serializedBytes && after.modelBytes === after.serializedBytes,
  parse_ndjson_records_per_second: Math.round(parse.recordsPerSecond),
  parse_ndjson_megabytes_per_second: Math.round(parse.megabytesPerSecond * 10) / 10,
};
writeResult('model', {
  results,
  figures: [
    { figure: 'model, count on one series (2,000 records per bucket)', measured: results.count_one_series_records_per_second, unit: 'records/s', goal: { min: 1_000_000 } },
    {
      figure: 'model, mean by 1,000 series (10 records per series and bucket)',
      measured: results.mean_by_1000_series_records_per_second,
      unit: 'records/s',
      goal: { min: 300_000 },
    },
    { figure: 'model state per series before periodic components', measured: results.model_bytes_per_series_before_periodic, unit: 'bytes', goal: { max: 2048 } },
    { figure: 'model, count on one series, one record per bucket', measured: results.count_one_record_per_bucket_records_per_second, unit: 'records/s' },
  ],
});
