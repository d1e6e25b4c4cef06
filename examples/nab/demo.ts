/**
 * NAB demo: anomaly detection on real AWS CloudWatch series from the Numenta Anomaly
 * Benchmark, checked against NAB's labelled anomaly windows.
 *
 * Against a running mlplane (`npm start`) at `ES_URL` (default http://localhost:9200), as
 * user `elastic` with password `ELASTIC_PASSWORD`, for each CSV in `examples/nab/data/`:
 * deletes the job `nab-<file>` if it exists (force close + delete), creates it
 * (`mean(value)`, bucket_span 5m, the series' sampling interval), opens it, posts the data
 * in chunks of 5,000 records, closes it (final results), and prints its top 5 records
 * beside the labelled windows. Each request's answer is printed as the server gave it; an
 * answer `202 {"task": …}` (the gateway cap passed before the command finished, which a
 * busy machine can cause) is followed with `GET _tasks/<id>` to its end (see answers.ts).
 * Run: `npm run demo`, or `ES_URL=http://host:9200 ELASTIC_PASSWORD=… npm run demo`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, errors, type estypes, type TransportResult } from '@elastic/elasticsearch';
import { describeAnswer, postedCounts, settle, type TaskAnswer } from './answers.ts';
import { bucketWindowIndex, chunks, jobIdFor, parseNabCsv, summarize, windowsFor, type NabWindow } from './nab.ts';

const here = dirname(fileURLToPath(import.meta.url));
// `||`, not `??`: an empty ES_URL (as `ES_URL= npm run demo` sets it) means the default too.
const ES_URL = process.env.ES_URL || 'http://localhost:9200';
const BUCKET_SPAN = '5m';
const BUCKET_SPAN_MS = 5 * 60_000;
const CHUNK = 5_000;
const TOP = 5;
const STRONG = 50;

class DemoError extends Error {}

function statusOf(err: unknown): number | undefined {
  return err instanceof errors.ResponseError ? (err.meta.statusCode ?? undefined) : undefined;
}

/** Checks the system answers and accepts the credentials, with a message that says what to do. */
async function checkReachable(client: Client): Promise<void> {
  try {
    const info = await client.info();
    console.log(`connected to ${ES_URL} (${info.name}, version ${info.version.number})`);
  } catch (err) {
    if (statusOf(err) === 401) {
      throw new DemoError(`${ES_URL} refused the credentials of user "elastic" (401): set ELASTIC_PASSWORD to the password the system was started with.`);
    }
    if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError) {
      throw new DemoError(`cannot reach ${ES_URL} (${err.message}): start the system first with \`npm start\`, or set ES_URL.`);
    }
    throw err;
  }
}

/**
 * Awaits a request made with `{ meta: true }`, follows a 202 task to its end, prints
 * `  <what> → <status> <answer>` and returns the final response. `said` turns a long
 * response into the part worth printing.
 */
async function answered(client: Client, what: string, request: Promise<TransportResult<unknown>>, said?: (response: unknown) => string): Promise<unknown> {
  const res = await request;
  const answer = { statusCode: res.statusCode ?? 0, body: res.body };
  const followTask = async (taskId: string): Promise<TaskAnswer> => (await client.tasks.get({ task_id: taskId, wait_for_completion: true, timeout: '10m' })) as TaskAnswer;
  try {
    const settled = await settle(answer, followTask);
    console.log(`  ${what} ${describeAnswer(answer, settled, said?.(settled.response))}`);
    return settled.response;
  } catch (err) {
    // A failed or endless task, or an answer `said` cannot read; a ResponseError of GET _tasks goes up as it is.
    if (err instanceof errors.ResponseError || !(err instanceof Error)) throw err;
    throw new DemoError(`${what}: ${err.message}`);
  }
}

async function deleteIfExists(client: Client, jobId: string): Promise<void> {
  try {
    await answered(client, `POST _ml/anomaly_detectors/${jobId}/_close?force=true`, client.ml.closeJob({ job_id: jobId, force: true }, { meta: true }));
  } catch (err) {
    if (statusOf(err) === 404) return;
    throw err;
  }
  await answered(client, `DELETE _ml/anomaly_detectors/${jobId}?force=true`, client.ml.deleteJob({ job_id: jobId, force: true }, { meta: true }));
}

function describeCounts(response: unknown): string {
  const c = postedCounts(response);
  return (
    `processed_record_count ${c.processed_record_count} (invalid_date_count ${c.invalid_date_count}, ` +
    `missing_field_count ${c.missing_field_count}, out_of_order_timestamp_count ${c.out_of_order_timestamp_count})`
  );
}

const fmt = (xs: number[] | undefined): string => (xs ?? []).map((x) => (Math.abs(x) >= 1e5 ? x.toExponential(3) : x.toFixed(2))).join(',');

async function runJob(client: Client, file: string, combined: Record<string, [string, string][]>): Promise<string> {
  const jobId = jobIdFor(file);
  const records = parseNabCsv(readFileSync(join(here, 'data', file), 'utf8'));
  const windows: NabWindow[] = windowsFor(combined, file);

  console.log(`\n${jobId}`);
  await deleteIfExists(client, jobId);
  const put = client.ml.putJob(
    {
      job_id: jobId,
      description: `NAB realAWSCloudwatch/${file}`,
      analysis_config: {
        bucket_span: BUCKET_SPAN,
        detectors: [{ function: 'mean', field_name: 'value', detector_description: 'mean(value)' }],
      },
      data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
    },
    { meta: true },
  );
  await answered(client, `PUT _ml/anomaly_detectors/${jobId}`, put, (job) => `job ${(job as { job_id?: unknown }).job_id} created`);
  await answered(client, `POST _ml/anomaly_detectors/${jobId}/_open`, client.ml.openJob({ job_id: jobId }, { meta: true }));
  let processed = 0;
  for (const chunk of chunks(records, CHUNK)) {
    const post = client.ml.postData({ job_id: jobId, data: chunk }, { meta: true });
    const response = await answered(client, `POST _ml/anomaly_detectors/${jobId}/_data (${chunk.length} records)`, post, describeCounts);
    processed = postedCounts(response).processed_record_count;
  }
  await answered(client, `POST _ml/anomaly_detectors/${jobId}/_close`, client.ml.closeJob({ job_id: jobId, timeout: '10m' }, { meta: true }));

  const top = await client.ml.getRecords({ job_id: jobId, sort: 'record_score', desc: true, page: { from: 0, size: TOP } });
  const strong = await client.ml.getRecords({ job_id: jobId, record_score: STRONG, sort: 'record_score', desc: true, page: { from: 0, size: 10_000 } });

  const lines = [
    `${jobId}: ${records.length} records posted, ${processed} processed; ${strong.count} records with score ≥ ${STRONG}; ` +
      `labelled windows: ${windows.map((w) => `${new Date(w.start).toISOString()} – ${new Date(w.end).toISOString()}`).join(', ')}`,
    `  ${'timestamp'.padEnd(24)}  ${'score'.padStart(6)}  ${'actual'.padStart(10)}  ${'typical'.padStart(10)}  in window`,
  ];
  const topRecords = top.records as estypes.MlAnomaly[];
  for (const r of topRecords) {
    const ts = Number(r.timestamp);
    const w = bucketWindowIndex(ts, BUCKET_SPAN_MS, windows);
    lines.push(
      `  ${new Date(ts).toISOString().padEnd(24)}  ${r.record_score.toFixed(1).padStart(6)}  ${fmt(r.actual).padStart(10)}  ${fmt(r.typical).padStart(10)}  ` +
        (w >= 0 ? `yes (window ${w + 1})` : 'no'),
    );
  }
  const s = summarize(
    topRecords.map((r) => ({ timestamp: Number(r.timestamp), record_score: r.record_score })),
    (strong.records as estypes.MlAnomaly[]).map((r) => ({ timestamp: Number(r.timestamp), record_score: r.record_score })),
    windows,
    BUCKET_SPAN_MS,
    STRONG,
  );
  const summary = `${jobId}: ${s.topInside} of top ${s.topCount} inside labelled windows; windows hit: ${s.windowsHit}/${s.windowCount}`;
  lines.push(`  ${summary}`);
  console.log(lines.join('\n'));
  return summary;
}

async function main(): Promise<void> {
  const client = new Client({
    node: ES_URL,
    auth: { username: 'elastic', password: process.env.ELASTIC_PASSWORD ?? '' },
    maxRetries: 0,
    requestTimeout: 600_000,
  });
  try {
    await checkReachable(client);
    const combined = JSON.parse(readFileSync(join(here, 'combined_windows.json'), 'utf8')) as Record<string, [string, string][]>;
    const files = readdirSync(join(here, 'data'))
      .filter((f) => f.endsWith('.csv'))
      .sort();
    const summaries: string[] = [];
    for (const file of files) summaries.push(await runJob(client, file, combined));
    console.log(`\nsummary\n${summaries.map((s) => `  ${s}`).join('\n')}`);
  } finally {
    await client.close();
  }
}

try {
  await main();
} catch (err) {
  if (err instanceof DemoError) {
    console.error(`demo: ${err.message}`);
  } else if (err instanceof errors.ResponseError) {
    console.error(`demo: ${err.meta.meta.request.params.method} ${err.meta.meta.request.params.path} → ${err.meta.statusCode}: ${JSON.stringify(err.meta.body)}`);
  } else {
    console.error(err);
  }
  process.exitCode = 1;
}
