/**
 * Golden results of the model: NAB series and a synthetic 100-series job, parsed from `_data`
 * bodies and ingested a slice at a time as lib/app/ingest.ts does, with every output the model
 * gives (bucket, record, model plot, interim and empty-run documents, per-batch and parse
 * counts, model_size_stats, bucket counts, the serialized state) hashed per case and compared
 * with test/fixtures/golden/model-results.json, recorded before the model was made faster:
 * speed never changes an answer. `processing_time_ms` is left out (it is a clock reading).
 * Regenerate only for an intended change of the model: `GOLDEN_WRITE=1 npx vitest run
 * test/unit/detect/golden.test.ts`.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type AnalysisSpec, AnomalyModel, analysisFields, type DataDescription, parseDataBody } from '../../../lib/detect/index.ts';
import { rng } from './helpers.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');
const goldenFile = join(root, 'golden', 'model-results.json');
const writing = process.env.GOLDEN_WRITE === '1';
const golden: Record<string, Record<string, string | number>> = existsSync(goldenFile) ? JSON.parse(readFileSync(goldenFile, 'utf8')) : {};
const produced: Record<string, Record<string, string | number>> = {};

const MIN = 60_000;
/** Records per `ingest` call, as lib/app/ingest.ts slices a post. */
const SLICE = 1000;
/** Records per `_data` post. */
const POST = 2500;

function hash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 24);
}

/** Every output of the model over `bodies` (one `_data` post each), hashed by kind. */
function run(spec: AnalysisSpec, dd: DataDescription, bodies: string[]): Record<string, string | number> {
  const model = AnomalyModel.create(spec);
  const fields = analysisFields(spec);
  const buckets: unknown[] = [];
  const records: unknown[] = [];
  const plots: unknown[] = [];
  const counts: unknown[] = [];
  const interim: unknown[] = [];
  const take = (bs: ReturnType<AnomalyModel['finalizeAll']>, into: unknown[]) => {
    for (const b of bs) {
      const { processing_time_ms: _clock, records: rs, model_plot: mp, ...rest } = b;
      into.push(rest);
      records.push(rs);
      if (mp !== undefined) plots.push(mp);
    }
  };
  for (const body of bodies) {
    const parsed = parseDataBody(body, dd, fields);
    counts.push(parsed.counts);
    for (let i = 0; i < parsed.records.length; i += SLICE) {
      const out = model.ingest(parsed.records.slice(i, i + SLICE));
      const { buckets: bs, ...c } = out;
      counts.push(c);
      take(bs, buckets);
    }
    counts.push(model.takeEmptyRuns(), model.bucketCounts(), model.modelSizeStats());
  }
  const flushed = model.flush({ calcInterim: true });
  take(flushed.buckets, buckets);
  take(flushed.interim, interim);
  take(model.finalizeAll(), buckets);
  counts.push(model.takeEmptyRuns(), model.bucketCounts(), model.modelSizeStats(), model.seriesCounts());
  const state = model.serialize();
  return {
    bucket_count: buckets.length,
    record_count: records.flat().length,
    plot_count: plots.flat().length,
    buckets: hash(buckets),
    records: hash(records),
    model_plot: hash(plots),
    interim: hash(interim),
    counts: hash(counts),
    state_bytes: state.length,
    state: createHash('sha256').update(state).digest('hex').slice(0, 24),
    model_bytes: model.modelBytes(),
  };
}

function check(name: string, spec: AnalysisSpec, dd: DataDescription, bodies: string[]): void {
  const got = run(spec, dd, bodies);
  produced[name] = got;
  if (!writing) expect(got).toEqual(golden[name]);
}

/** A NAB CSV as `{time, value}` documents, the time as written, in epoch s or in epoch ms. */
function nabBodies(file: string, time: 'text' | 'epoch' | 'epoch_ms'): string[] {
  const lines = readFileSync(join(root, 'nab', 'data', file), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  const docs = lines.map((l) => {
    const [ts, value] = l.split(',') as [string, string];
    const ms = Date.parse(`${ts.replace(' ', 'T')}Z`);
    const t = time === 'text' ? ts : time === 'epoch' ? ms / 1000 : ms;
    return JSON.stringify({ time: t, value: Number(value) });
  });
  const bodies: string[] = [];
  for (let i = 0; i < docs.length; i += POST) bodies.push(`${docs.slice(i, i + POST).join('\n')}\n`);
  return bodies;
}

function nabSpec(jobId: string): AnalysisSpec {
  return {
    jobId,
    bucketSpanMs: 5 * MIN,
    latencyMs: 0,
    detectors: [
      { detector_index: 0, function: 'mean', field_name: 'value' },
      { detector_index: 1, function: 'count' },
      { detector_index: 2, function: 'metric', field_name: 'value' },
    ],
    influencers: [],
    modelMemoryLimitBytes: 64 * 1024 * 1024,
    modelPlot: { enabled: true },
  };
}

/**
 * 100 hosts, one record a minute each, 5-minute buckets, two days: values with a daily
 * shape and a few spikes, missing and null fields, numbers as strings, a nested field, a
 * record out of order, an unreadable time, and a host that goes quiet.
 */
function syntheticBodies(): string[] {
  const rand = rng(12);
  const start = Date.UTC(2024, 0, 1);
  const docs: string[] = [];
  for (let m = 0; m < 2 * 24 * 60; m++) {
    for (let h = 0; h < 100; h++) {
      if (h === 99 && m > 1500) continue;
      const t = start + m * MIN + h * 100;
      const daily = 50 + 20 * Math.sin((2 * Math.PI * m) / 1440);
      let rt: unknown = daily + 5 * rand() + (h % 10);
      if (m === 2000 && h === 7) rt = 900;
      if (m === 2300 && h < 30) rt = (rt as number) * 3;
      if ((m * 100 + h) % 977 === 0) rt = null;
      else if ((m * 100 + h) % 613 === 0) rt = String(rt);
      const doc: Record<string, unknown> = { '@timestamp': t, host: `host-${h}`, region: `r${h % 4}`, responsetime: rt, http: { status: h % 17 === 0 ? 500 : 200 } };
      if ((m * 100 + h) % 1009 === 0) delete doc.region;
      if ((m * 100 + h) % 4001 === 0) doc['@timestamp'] = 'not a time';
      docs.push(JSON.stringify(doc));
      if (m === 700 && h === 0) docs.push(JSON.stringify({ ...doc, '@timestamp': t - 60 * MIN }));
    }
  }
  const bodies: string[] = [];
  for (let i = 0; i < docs.length; i += 10_000) bodies.push(docs.slice(i, i + 10_000).join('\n'));
  return bodies;
}

describe('the model reproduces its recorded results', () => {
  for (const file of [
    'realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv',
    'realAWSCloudwatch/ec2_cpu_utilization_ac20cd.csv',
    'realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv',
    'artificialNoAnomaly/art_flatline.csv',
  ]) {
    it(`on NAB ${file} with a date-time text time`, () => {
      check(`nab ${file}`, nabSpec('nab'), { time_field: 'time', time_format: 'yyyy-MM-dd HH:mm:ss' }, nabBodies(file, 'text'));
    });
  }

  it('on a NAB series with epoch and epoch_ms times', () => {
    const file = 'realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv';
    check('nab epoch', nabSpec('nab-epoch'), { time_field: 'time', time_format: 'epoch' }, nabBodies(file, 'epoch'));
    check('nab epoch_ms', nabSpec('nab-epoch-ms'), { time_field: 'time', time_format: 'epoch_ms' }, nabBodies(file, 'epoch_ms'));
  });

  it('on 100 series, one record a minute each, with influencers, partitions and model plot', () => {
    const spec: AnalysisSpec = {
      jobId: 'hosts',
      bucketSpanMs: 5 * MIN,
      latencyMs: 2 * MIN,
      detectors: [
        { detector_index: 0, function: 'mean', field_name: 'responsetime', by_field_name: 'host' },
        { detector_index: 1, function: 'high_count', partition_field_name: 'region' },
        { detector_index: 2, function: 'sum', field_name: 'responsetime', by_field_name: 'host', partition_field_name: 'region' },
      ],
      influencers: ['host', 'region', 'http.status'],
      modelMemoryLimitBytes: 64 * 1024 * 1024,
      modelPlot: { enabled: true, terms: 'host-7,host-8,r2' },
    };
    check('hosts', spec, { time_field: '@timestamp', time_format: 'epoch_ms' }, syntheticBodies());
  });
});

afterAll(() => {
  if (!writing) return;
  mkdirSync(dirname(goldenFile), { recursive: true });
  writeFileSync(goldenFile, `${JSON.stringify(produced, null, 2)}\n`);
});
