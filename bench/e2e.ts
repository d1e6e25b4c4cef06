/**
 * End-to-end ingest benchmark: `POST _data` → HTTP function → payload chunks → SQS FIFO →
 * worker → model → DynamoDB Local, measured from the first post to the last answer (job
 * setup excluded), for two data shapes in one run:
 *
 * - `manySeries` (the README's historical shape): one job `mean(value) by host`, 100 hosts,
 *   bucket_span 5m, every host once a minute, so a post of 10,000 records covers 100 minutes
 *   (20 buckets × 100 series). `E2E_MANY_POSTS` posts (default 30).
 * - `oneSeries` (the lookback shape real data has): one job `mean(value)`, one series,
 *   bucket_span 5m, one record per bucket, so a post of 10,000 records is 10,000 buckets
 *   (about 35 days). `E2E_ONE_POSTS` posts (default 5).
 *
 * - `largePost`: one post of 100,000 records, 100 hosts × 1,000 minutes (about 4.8 MB), which
 *   must be answered with its data counts, never a 202 task (issue 12).
 *
 * Each post is an NDJSON body sent by the official client's `ml.postData`; a post answered
 * with anything but its data counts (a 202 task) counts as not processed. Records/s =
 * records / wall time of the posts; also p50/p95/max latency per post, and the ratio
 * manySeries ÷ oneSeries (the cost of one record per bucket; issue 12 asks for ≤ 4).
 * Targets: ≥ 200,000 records/s (100 series), ≥ 50,000 records/s (1 series), ratio ≤ 4.
 *
 * In-process runs also break a post's wall time into its steps (`breakdown` per shape and
 * `results.breakdown`): median ms per step over the posts after the first, from the spans of
 * lib/runtime/step-timing.ts (on for this run unless `E2E_BREAKDOWN=0`; one span per step of
 * a command, none per record), with the gaps between them (HTTP accept, SQS delivery, the
 * HTTP wait's notice of the outcome, the response).
 *
 * Starts a local system in this process (`startLocalSystem({port: 0, cron: false})`), or
 * uses `ES_URL` (with `ELASTIC_PASSWORD`) when set. Writes `bench/results/e2e.json`.
 * Run: `npx tsx bench/e2e.ts`.
 */
import type { Client } from '@elastic/elasticsearch';
import { connect, deleteIfExists, quantile, round1, runMain, writeResult } from './lib.ts';

const PER_POST = 10_000;
const START_MS = Date.UTC(2026, 0, 5); // a Monday, 00:00 UTC
const MINUTE = 60_000;
const BUCKET_MS = 5 * MINUTE;

type Rec = {
  timestamp: number;
  host?: string;
  value: number;
};

/** A deterministic value: a level, a daily wave and a little hashed noise. */
const valueAt = (minute: number, series: number): number => {
  const daily = Math.sin((2 * Math.PI * minute) / 1440);
  const noise = (((minute * 7919 + series * 104729) % 1000) / 1000 - 0.5) * 4;
  return 50 + series * 0.5 + 10 * daily + noise;
};

/**
 * The large post: 100,000 records of 100 hosts once a minute for 1,000 minutes, with short
 * field names and values of two decimals (about 4.8 MB of NDJSON), so it fits the default
 * body limit (`MAX_BODY_BYTES`, 5 MiB) as a real agent's post of that size would.
 */
function largePost(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let m = 0; m < 1_000; m++) {
    for (let h = 0; h < 100; h++) out.push({ time: START_MS + m * MINUTE, host: `h-${String(h).padStart(3, '0')}`, cpu: Math.round(valueAt(m, h) * 100) / 100 });
  }
  return out;
}

/** 100 series: post `i` (0-based) is minutes [i·100, (i+1)·100) × 100 hosts, in time order. */
function manySeriesPost(i: number): Rec[] {
  const hosts = 100;
  const out: Rec[] = new Array(PER_POST);
  const minutesPerPost = PER_POST / hosts;
  let k = 0;
  for (let m = i * minutesPerPost; m < (i + 1) * minutesPerPost; m++) {
    for (let h = 0; h < hosts; h++) out[k++] = { timestamp: START_MS + m * MINUTE, host: `host-${String(h).padStart(3, '0')}`, value: valueAt(m, h) };
  }
  return out;
}

/** 1 series, one record per 5-minute bucket: post `i` is buckets [i·10,000, (i+1)·10,000). */
function oneSeriesPost(i: number): Rec[] {
  const out: Rec[] = new Array(PER_POST);
  for (let k = 0; k < PER_POST; k++) {
    const b = i * PER_POST + k;
    out[k] = { timestamp: START_MS + b * BUCKET_MS, value: valueAt(b * 5, 0) };
  }
  return out;
}

interface ShapeResult {
  job: { series: number; bucketSpan: string; detector: string; recordsPerBucketPerSeries: number };
  posts: number;
  recordsPerPost: number;
  records: number;
  /** Posts answered 202 (a task) instead of their data counts. */
  accepted: number;
  /** DynamoDB and SQS calls per post by operation (in-process runs only: every caller in this process, HTTP polling included), and items written per post. */
  callsPerPost?: Record<string, number>;
  processedRecordCount: number | undefined;
  statsBucketCount: number | undefined;
  wallMs: number;
  recordsPerSecond: number;
  postLatencyMs: { p50: number; p95: number; max: number; min: number; first: number };
  /** In-process runs: median wall ms per step of a post (posts after the first), from lib/runtime/step-timing.ts spans. */
  breakdown?: Record<string, number>;
}

/** Counts of the AWS SDK calls this process makes, by operation, and the items BatchWriteItem carried. */
const calls = new Map<string, number>();
/** With `E2E_TRACE=1`, the timeline of the calls of one post (the third of each shape), printed after it. */
let trace: string[] | undefined;
let traceT0 = 0;

/**
 * Counts every DynamoDB and SQS call of the in-process system (a middleware on the
 * process-wide clients), so the JSON says what a post costs in requests: the per-command
 * and per-bucket overheads the profile cannot see (the time is spent in DynamoDB Local).
 */
async function countCalls(): Promise<void> {
  const { db } = await import('../lib/store/db.ts');
  const { sqs } = await import('../lib/queue/commands.ts');
  const count = (k: string, n = 1) => calls.set(k, (calls.get(k) ?? 0) + n);
  const middleware =
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
    (args: unknown): Promise<unknown> => {
      const name = (context.commandName ?? 'unknown').replace(/Command$/, '');
      count(name);
      const started = performance.now();
      if (trace) trace.push(`${(started - traceT0).toFixed(1).padStart(8)} → ${name}`);
      if (name === 'BatchWriteItem') {
        const items = (args as { input?: { RequestItems?: Record<string, unknown[]> } }).input?.RequestItems ?? {};
        count(
          'BatchWriteItem items',
          Object.values(items).reduce((n, l) => n + l.length, 0),
        );
      }
      const out = next(args);
      if (trace)
        void out.then(
          () => trace?.push(`${(performance.now() - traceT0).toFixed(1).padStart(8)} ← ${name} (${(performance.now() - started).toFixed(1)} ms)`),
          () => undefined,
        );
      return out;
    };
  for (const c of [db(), sqs()]) (c.middlewareStack as { add(m: unknown, o: unknown): void }).add(middleware, { step: 'initialize', name: 'benchCallCounter' });
}

/** lib/runtime/step-timing.ts, loaded with the in-process system (undefined against ES_URL). */
let stepTiming: typeof import('../lib/runtime/step-timing.ts') | undefined;

/**
 * The steps of one post, ms: each timed step's wall time (summed when it ran more than once),
 * and the gaps no step covers: `http.accept` (client send to the use case: client
 * serialization, HTTP, body read, routing), `sqs.delivery` (SQS send done to the worker's
 * first read: the poller's receive), `http.notice_outcome` (outcome written to the HTTP
 * wait's end: the poll interval), `http.respond` (use case end to the client's answer).
 * Steps overlap where work runs at once (`worker.commit` holds its `worker.commit.*`).
 */
function postBreakdown(spans: { step: string; startMs: number; endMs: number }[], clientStart: number, clientEnd: number): Record<string, number> {
  const out: Record<string, number> = { 'client.total': clientEnd - clientStart };
  const first = (step: string) => spans.find((x) => x.step === step);
  for (const x of spans) out[x.step] = (out[x.step] ?? 0) + (x.endMs - x.startMs);
  const use = first('http.post_data');
  const sent = first('http.sqs_send');
  const read = first('worker.command_read');
  const outcome = first('worker.outcome_write_and_lease_release');
  const wait = first('http.wait_for_outcome');
  if (use) out['http.accept'] = use.startMs - clientStart;
  if (use) out['http.respond'] = clientEnd - use.endMs;
  if (sent && read) out['sqs.delivery'] = read.startMs - sent.endMs;
  if (outcome && wait) out['http.notice_outcome'] = wait.endMs - outcome.endMs;
  return out;
}

/** Median per step over the posts' breakdowns, ms, one decimal. */
function medianBreakdown(posts: Record<string, number>[]): Record<string, number> {
  const steps = [...new Set(posts.flatMap((p) => Object.keys(p)))];
  return Object.fromEntries(
    steps.map((k) => [
      k,
      round1(
        quantile(
          posts.map((p) => p[k] ?? 0),
          0.5,
        ),
      ),
    ]),
  );
}

async function runShape(
  client: Client,
  jobId: string,
  detector: { function: string; field_name: string; by_field_name?: string },
  posts: Record<string, unknown>[][],
  series: number,
  perBucket: number,
  timeField = 'timestamp',
): Promise<ShapeResult> {
  await deleteIfExists(client, jobId);
  await client.ml.putJob({
    job_id: jobId,
    analysis_config: { bucket_span: '5m', detectors: [detector], influencers: detector.by_field_name ? [detector.by_field_name] : [] },
    data_description: { time_field: timeField, time_format: 'epoch_ms' },
  });
  await client.ml.openJob({ job_id: jobId });
  const latencies: number[] = [];
  let processed: number | undefined;
  let accepted = 0;
  calls.clear();
  const breakdowns: Record<string, number>[] = [];
  stepTiming?.takeStepSpans();
  const t0 = performance.now();
  for (const [i, data] of posts.entries()) {
    const s = performance.now();
    if (process.env.E2E_TRACE && i === 2) {
      trace = [];
      traceT0 = s;
    }
    const res = await client.ml.postData({ job_id: jobId, data }, { meta: true });
    const e = performance.now();
    latencies.push(e - s);
    const spans = stepTiming?.takeStepSpans() ?? [];
    if (i > 0 && spans.length > 0) breakdowns.push(postBreakdown(spans, s, e));
    if (trace) {
      console.log(`trace of post ${i}:\n${trace.join('\n')}\n${(performance.now() - traceT0).toFixed(1).padStart(8)} answered`);
      trace = undefined;
    }
    if (res.statusCode === 202) accepted++;
    else processed = res.body.processed_record_count;
  }
  const wallMs = performance.now() - t0;
  const callsPerPost = Object.fromEntries([...calls].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, round1(n / posts.length)]));
  const records = posts.reduce((n, p) => n + p.length, 0);
  const stats = await client.ml.getJobStats({ job_id: jobId });
  const dc = stats.jobs[0]?.data_counts;
  await client.ml.closeJob({ job_id: jobId, force: true });
  await client.ml.deleteJob({ job_id: jobId, force: true, wait_for_completion: false });
  const text = `${detector.function}(${detector.field_name})${detector.by_field_name ? ` by ${detector.by_field_name}` : ''}`;
  return {
    job: { series, bucketSpan: '5m', detector: text, recordsPerBucketPerSeries: perBucket },
    posts: posts.length,
    recordsPerPost: posts[0]?.length ?? 0,
    records,
    accepted,
    ...(calls.size > 0 ? { callsPerPost } : {}),
    processedRecordCount: processed,
    statsBucketCount: dc?.bucket_count,
    wallMs: round1(wallMs),
    recordsPerSecond: Math.round((records / wallMs) * 1000),
    ...(breakdowns.length > 0 ? { breakdown: medianBreakdown(breakdowns) } : {}),
    postLatencyMs: {
      p50: round1(quantile(latencies, 0.5)),
      p95: round1(quantile(latencies, 0.95)),
      max: round1(Math.max(...latencies)),
      min: round1(Math.min(...latencies)),
      first: round1(latencies[0]!),
    },
  };
}

const print = (name: string, r: ShapeResult): void =>
  console.log(
    `e2e ${name}: ${r.records} records in ${r.wallMs} ms = ${r.recordsPerSecond} records/s ` +
      `(post p50 ${r.postLatencyMs.p50} ms, p95 ${r.postLatencyMs.p95} ms); processed ${r.processedRecordCount}, ${r.accepted} answered 202`,
  );

/** Every post answered with its counts, and the last counts cover every record posted. */
const complete = (r: ShapeResult): boolean => r.accepted === 0 && r.processedRecordCount === r.records;

async function main(): Promise<void> {
  const manyPosts = Number(process.env.E2E_MANY_POSTS ?? 30);
  const onePosts = Number(process.env.E2E_ONE_POSTS ?? 5);
  // The step timing (a span per step of a command, never per record) is on unless E2E_BREAKDOWN=0; read when the system loads.
  if (process.env.E2E_BREAKDOWN !== '0') process.env.MLPLANE_STEP_TIMING = '1';
  const system = await connect();
  const { client } = system;
  if (system.inProcess) {
    await countCalls();
    stepTiming = await import('../lib/runtime/step-timing.ts');
  }
  try {
    // Bodies are built before the clocks start; the client serializes them as NDJSON.
    const many = Array.from({ length: manyPosts }, (_, i) => manySeriesPost(i));
    const one = Array.from({ length: onePosts }, (_, i) => oneSeriesPost(i));
    const manySeries = await runShape(client, 'bench-e2e-many', { function: 'mean', field_name: 'value', by_field_name: 'host' }, many, 100, 1);
    print('manySeries', manySeries);
    const oneSeries = await runShape(client, 'bench-e2e-one', { function: 'mean', field_name: 'value' }, one, 1, 1);
    print('oneSeries', oneSeries);
    const large = await runShape(client, 'bench-e2e-large', { function: 'mean', field_name: 'cpu', by_field_name: 'host' }, [largePost()], 100, 1, 'time');
    print('largePost', large);
    const shapeRatio = Math.round((manySeries.recordsPerSecond / oneSeries.recordsPerSecond) * 100) / 100;
    console.log(`e2e: ratio manySeries ÷ oneSeries = ${shapeRatio}`);
    for (const [name, r] of Object.entries({ manySeries, oneSeries, largePost: large }))
      if (!complete(r)) console.warn(`e2e: WARNING ${name} did not answer every post with counts covering its records`);
    const results = {
      system: system.inProcess ? 'in-process startLocalSystem (DynamoDB Local + fauxqs)' : system.url,
      manySeries,
      oneSeries,
      largePost: large,
      shapeRatio,
      breakdown: { oneSeries: oneSeries.breakdown, manySeries: manySeries.breakdown },
    };
    const incomplete = Object.values({ manySeries, oneSeries, large }).filter((r) => !complete(r)).length;
    writeResult('e2e', {
      results,
      figures: [
        { figure: "end to end, 100 series (today's shape), 10,000-record posts", measured: manySeries.recordsPerSecond, unit: 'records/s', goal: { min: 200_000 } },
        { figure: 'end to end, 1 series, one record per bucket, 10,000-record posts', measured: oneSeries.recordsPerSecond, unit: 'records/s', goal: { min: 50_000 } },
        { figure: 'ratio of the two shapes (100 series ÷ 1 series records/s)', measured: shapeRatio, unit: '', goal: { max: 4 } },
        { figure: '100,000-record posts answered 202 instead of counts', measured: large.accepted, unit: 'posts', goal: { max: 0 } },
        { figure: 'shapes with a post not answered with counts covering its records', measured: incomplete, unit: 'shapes', goal: { max: 0 } },
      ],
    });
  } finally {
    await system.stop();
  }
}

await runMain(main);
