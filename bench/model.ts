/**
 * Benchmark of the anomaly model (lib/detect) on one core, parsing included: each shape is a
 * series of `_data` bodies (NDJSON, 10,000 documents each, the bodies built beforehand) that
 * go through `parseDataBody` and then `model.ingest` 1,000 records at a time, as
 * lib/app/ingest.ts does, then `finalizeAll`. Every finalised bucket yields its BucketResult.
 *
 * Shapes (real data has one record per bucket and series; 5-minute buckets):
 * - one series, `mean(value)`, one record per bucket, times in epoch seconds, epoch ms and
 *   ISO-8601 text (target: ≥ 500,000 buckets/s, parse included);
 * - one series, `count`, one record per bucket (epoch seconds);
 * - 100 series, `mean(value) by host`, one record per host and minute (5 records per series
 *   and bucket, epoch seconds; target: the same per-record rate as one series).
 * CSV is not measured: jobs take JSON only (`data_description.format` xcontent).
 * Also the model state per series (`modelBytes`, which equals `serialize().length`).
 *
 * Figures are medians of RUNS runs in one process, per wall second (the targets) and per CPU
 * second of this process (informative: on a shared machine the wall figures fall with the load). Run: `npx tsx bench/model.ts`; writes
 * bench/results/model.json.
 */
import { type AnalysisSpec, AnomalyModel, analysisFields, type DataDescription, type InputRecord, parseDataBody } from '../lib/detect/index.ts';
import { quantile, rng, runMain, writeResult } from './lib.ts';

const SPAN_MS = 300_000;
const START_MS = Date.UTC(2024, 0, 1);
/** Documents per `_data` body. */
const POST = 10_000;
/** Records per `ingest` call (lib/app/ingest.ts INGEST_SLICE_RECORDS). */
const SLICE = 1000;
const RUNS = Number(process.env.MODEL_RUNS ?? 5);

function spec(detector: AnalysisSpec['detectors'][number]): AnalysisSpec {
  return { jobId: 'bench', bucketSpanMs: SPAN_MS, latencyMs: 0, detectors: [detector], influencers: [], modelMemoryLimitBytes: 1024 * 1024 * 1024 };
}

type TimeKind = 'epoch' | 'epoch_ms' | 'iso';

function timeValue(ms: number, kind: TimeKind): number | string {
  return kind === 'epoch' ? ms / 1000 : kind === 'epoch_ms' ? ms : new Date(ms).toISOString();
}

/** NDJSON bodies of `n` documents: `{time, [host,] value}`, `perBucket` documents per 5-minute bucket spread over `hosts`. */
function bodies(n: number, hosts: number, perBucket: number, kind: TimeKind): string[] {
  const rand = rng(5);
  const out: string[] = [];
  let lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const b = Math.floor(i / perBucket);
    const j = i % perBucket;
    const ms = START_MS + b * SPAN_MS + Math.floor((j * SPAN_MS) / perBucket);
    const value = Math.round((40 + 10 * Math.sin(b / 50) + 5 * rand()) * 1000) / 1000;
    const doc = hosts > 1 ? { time: timeValue(ms, kind), host: `host-${j % hosts}`, value } : { time: timeValue(ms, kind), value };
    lines.push(JSON.stringify(doc));
    if (lines.length === POST) {
      out.push(lines.join('\n'));
      lines = [];
    }
  }
  if (lines.length > 0) out.push(lines.join('\n'));
  return out;
}

interface ShapeFigures {
  records: number;
  buckets: number;
  records_per_second: number;
  buckets_per_second: number;
  /** The same per CPU second of this process (user + system): less skewed by other work on a shared machine. */
  records_per_cpu_second: number;
  buckets_per_cpu_second: number;
  /** Share of the time spent in parseDataBody. */
  parse_share: number;
}

/** Parses and ingests `posts` into a new model 1 + RUNS times; medians of the rates of the last RUNS. */
function measure(s: AnalysisSpec, dd: DataDescription, posts: string[]): ShapeFigures {
  const fields = analysisFields(s);
  const rates: number[] = [];
  const bucketRates: number[] = [];
  const shares: number[] = [];
  const cpuRates: number[] = [];
  const cpuBucketRates: number[] = [];
  let records = 0;
  let buckets = 0;
  // Run 0 warms the JIT up for this shape and is not counted.
  for (let r = 0; r <= RUNS; r++) {
    const model = AnomalyModel.create(s);
    records = 0;
    buckets = 0;
    let parseNs = 0n;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const body of posts) {
      const p0 = process.hrtime.bigint();
      const parsed: InputRecord[] = parseDataBody(body, dd, fields).records;
      parseNs += process.hrtime.bigint() - p0;
      records += parsed.length;
      for (let i = 0; i < parsed.length; i += SLICE) buckets += model.ingest(parsed.slice(i, i + SLICE)).buckets.length;
    }
    buckets += model.finalizeAll().length;
    const ns = Number(process.hrtime.bigint() - t0);
    const cpu = process.cpuUsage(c0);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    if (r === 0) continue;
    rates.push(records / (ns / 1e9));
    cpuRates.push(records / cpuS);
    cpuBucketRates.push(buckets / cpuS);
    bucketRates.push(buckets / (ns / 1e9));
    shares.push(Number(parseNs) / ns);
  }
  return {
    records,
    buckets,
    records_per_second: Math.round(quantile(rates, 0.5)),
    buckets_per_second: Math.round(quantile(bucketRates, 0.5)),
    records_per_cpu_second: Math.round(quantile(cpuRates, 0.5)),
    buckets_per_cpu_second: Math.round(quantile(cpuBucketRates, 0.5)),
    parse_share: Math.round(quantile(shares, 0.5) * 100) / 100,
  };
}

/** Model state bytes per series of `mean by host` over `hosts` series and `buckets` buckets. */
function bytesPerSeries(hosts: number, buckets: number): { perSeries: number; modelBytes: number; serializedBytes: number } {
  const s = spec({ detector_index: 0, function: 'mean', field_name: 'value', by_field_name: 'host' });
  const model = AnomalyModel.create(s);
  const empty = model.modelBytes();
  const fields = analysisFields(s);
  for (const body of bodies(hosts * buckets, hosts, hosts, 'epoch')) model.ingest(parseDataBody(body, { time_field: 'time', time_format: 'epoch' }, fields).records);
  model.finalizeAll();
  const bytes = model.modelBytes();
  return { perSeries: Math.round((bytes - empty) / hosts), modelBytes: bytes, serializedBytes: model.serialize().length };
}

await runMain(async () => {
  const ONE = 100_000;
  const mean = spec({ detector_index: 0, function: 'mean', field_name: 'value' });
  const count = spec({ detector_index: 0, function: 'count' });
  const byHost = spec({ detector_index: 0, function: 'mean', field_name: 'value', by_field_name: 'host' });
  const dd = (time_format: string): DataDescription => ({ time_field: 'time', time_format });

  const oneSeriesMean = measure(mean, dd('epoch'), bodies(ONE, 1, 1, 'epoch'));
  const oneSeriesMeanMs = measure(mean, dd('epoch_ms'), bodies(ONE, 1, 1, 'epoch_ms'));
  const oneSeriesMeanIso = measure(mean, dd("yyyy-MM-dd'T'HH:mm:ss.SSSX"), bodies(ONE, 1, 1, 'iso'));
  const oneSeriesCount = measure(count, dd('epoch'), bodies(ONE, 1, 1, 'epoch'));
  // 100 hosts × one record a minute = 500 records per 5-minute bucket.
  const hundredSeries = measure(byHost, dd('epoch'), bodies(1_000_000, 100, 500, 'epoch'));
  // 100 buckets (8 h 20 min): no periodic component yet; 600 buckets (50 h): the daily and
  // weekly candidates allocated (model v2 allocates both after a day of history).
  const before = bytesPerSeries(1000, 100);
  const after = bytesPerSeries(1000, 600);

  const results = {
    one_series_mean_epoch: oneSeriesMean,
    one_series_mean_epoch_ms: oneSeriesMeanMs,
    one_series_mean_iso: oneSeriesMeanIso,
    one_series_count_epoch: oneSeriesCount,
    hundred_series_mean_by_host_one_record_per_minute: hundredSeries,
    model_bytes_per_series_before_periodic: before.perSeries,
    model_bytes_per_series_with_periodic: after.perSeries,
    model_bytes_1000_series_before_periodic: before.modelBytes,
    model_bytes_equals_serialized_length: before.modelBytes === before.serializedBytes && after.modelBytes === after.serializedBytes,
    runs: RUNS,
  };
  writeResult('model', {
    results,
    figures: [
      // Issue 13: model v2 may cost more per bucket than v1 but must keep 200,000 buckets/s.
      { figure: 'model, one series mean, one record per bucket, parse included', measured: oneSeriesMean.buckets_per_second, unit: 'buckets/s', goal: { min: 200_000 } },
      { figure: 'model, one series count, one record per bucket, parse included', measured: oneSeriesCount.buckets_per_second, unit: 'buckets/s' },
      { figure: 'model, 100 series mean by host, one record per minute, parse included', measured: hundredSeries.records_per_second, unit: 'records/s', goal: { min: 500_000 } },
      { figure: 'model state per series before periodic components', measured: before.perSeries, unit: 'bytes', goal: { max: 2048 } },
      { figure: 'model state per series with daily and weekly components', measured: after.perSeries, unit: 'bytes', goal: { max: 4096 } },
      { figure: 'model_bytes equals the serialized state length (1 = yes)', measured: results.model_bytes_equals_serialized_length ? 1 : 0, unit: '', goal: { min: 1 } },
    ],
  });
  console.log(JSON.stringify(results, null, 2));
});
