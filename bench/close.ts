/**
 * Close benchmarks, timed over HTTP with the official client.
 *
 * (a) Close with work left: a job `mean(value) by host` with 10,000 hosts, bucket_span 15m
 *     and `latency` 1h, fed 8 hours (32 buckets × 10,000 series = 320,000 records, in posts
 *     of 10,000). The latency holds the last buckets open (Elasticsearch finalizes a bucket
 *     only once data is `latency` past its end), so the graceful `POST _close` has to score
 *     and write them for every series, besides the final model snapshot: work that grows with
 *     the data, which the close of a job whose buckets are all final never shows. The
 *     buckets the close finalized (bucket_count after − before) are recorded, and a run in
 *     which it finalized none fails. Goal (issue 12): ≤ 3 s. Should the answer be a 202 task
 *     (the gateway cap), the time until `GET _tasks/<id>?wait_for_completion=true` reports it
 *     done is recorded instead.
 * (b) Idle close: a job with no data is opened and closed 30 times; the close calls are
 *     timed. Goal: median ≤ 100 ms (p95 recorded).
 *
 * Starts a local system in this process, or uses `ES_URL` (with `ELASTIC_PASSWORD`) when
 * set. Writes `bench/results/close.json`. Run: `npx tsx bench/close.ts`.
 */
import type { Client } from '@elastic/elasticsearch';
import { connect, deleteIfExists, quantile, round1, runMain, writeResult } from './lib.ts';

const HOSTS = 10_000;
const BUCKET_SPAN = '15m';
const SPAN_MS = 15 * 60_000;
const LATENCY = '1h';
const BUCKETS = 32;
const PER_POST = 10_000;
const IDLE_ROUNDS = 30;
const START_MS = Date.UTC(2026, 0, 5);

/** All records of (a), bucket by bucket, each bucket one record per host (at its middle). */
function* records(): Generator<{ timestamp: number; host: string; value: number }> {
  for (let b = 0; b < BUCKETS; b++) {
    const daily = Math.sin((2 * Math.PI * b * SPAN_MS) / 86_400_000);
    for (let i = 0; i < HOSTS; i++) {
      const noise = (((b * 7919 + i * 104729) % 1000) / 1000 - 0.5) * 4;
      yield { timestamp: START_MS + b * SPAN_MS + SPAN_MS / 2, host: `host-${String(i).padStart(5, '0')}`, value: 100 + (i % 50) + 20 * daily + noise };
    }
  }
}

/** Times a close; follows a 202 task to its end. */
async function timedClose(client: Client, jobId: string): Promise<{ ms: number; viaTask: boolean; body: unknown }> {
  const t0 = performance.now();
  const res = (await client.ml.closeJob({ job_id: jobId }, { meta: true })) as { statusCode: number | null; body: unknown };
  const body = res.body as { task?: string; closed?: boolean };
  if (res.statusCode === 202 && typeof body.task === 'string') {
    const done = await client.tasks.get({ task_id: body.task, wait_for_completion: true, timeout: '10m' });
    return { ms: performance.now() - t0, viaTask: true, body: done };
  }
  return { ms: performance.now() - t0, viaTask: false, body };
}

async function bigClose(client: Client): Promise<Record<string, unknown> & { closeMs: number; bucketsFinalizedByClose: number }> {
  const jobId = 'bench-close-big';
  await deleteIfExists(client, jobId);
  await client.ml.putJob({
    job_id: jobId,
    analysis_config: {
      bucket_span: BUCKET_SPAN,
      latency: LATENCY,
      detectors: [{ function: 'mean', field_name: 'value', by_field_name: 'host' }],
      influencers: ['host'],
    },
    data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
  });
  await client.ml.openJob({ job_id: jobId });

  const t0 = performance.now();
  let batch: object[] = [];
  let posts = 0;
  let processed = 0;
  for (const r of records()) {
    batch.push(r);
    if (batch.length === PER_POST) {
      processed = (await client.ml.postData({ job_id: jobId, data: batch })).processed_record_count;
      posts++;
      batch = [];
    }
  }
  if (batch.length > 0) {
    processed = (await client.ml.postData({ job_id: jobId, data: batch })).processed_record_count;
    posts++;
  }
  const ingestMs = performance.now() - t0;
  const before = (await client.ml.getJobStats({ job_id: jobId })).jobs[0]?.data_counts.bucket_count ?? 0;
  console.log(`close (a): posted ${BUCKETS * HOSTS} records in ${posts} posts, ${Math.round(ingestMs)} ms; processed ${processed}; ${before} buckets final before the close`);

  const close = await timedClose(client, jobId);
  const stats = await client.ml.getJobStats({ job_id: jobId });
  const job = stats.jobs[0];
  const after = job?.data_counts.bucket_count ?? 0;
  const finalized = after - before;
  console.log(`close (a): _close of ${HOSTS} series finalizing ${finalized} buckets: ${round1(close.ms)} ms${close.viaTask ? ' (via 202 task)' : ''}`);
  if (finalized <= 0) throw new Error(`the close finalized no bucket (bucket_count ${before} → ${after}): the benchmark's data left it no work`);

  const snapshots = await client.ml.getModelSnapshots({ job_id: jobId });
  const out = {
    series: HOSTS,
    bucketSpan: BUCKET_SPAN,
    latency: LATENCY,
    buckets: BUCKETS,
    records: BUCKETS * HOSTS,
    posts,
    processedRecordCount: processed,
    ingestMs: Math.round(ingestMs),
    bucketCountBeforeClose: before,
    bucketCountAfterClose: after,
    bucketsFinalizedByClose: finalized,
    seriesBucketsFinalizedByClose: finalized * HOSTS,
    closeMs: round1(close.ms),
    closeViaTask: close.viaTask,
    closeResponse: close.body,
    stateAfter: job?.state,
    modelBytes: job?.model_size_stats.model_bytes,
    snapshots: snapshots.count,
  };
  await client.ml.deleteJob({ job_id: jobId, force: true, wait_for_completion: false });
  return out;
}

async function idleClose(client: Client): Promise<Record<string, unknown> & { closeMs: { median: number } }> {
  const jobId = 'bench-close-idle';
  await deleteIfExists(client, jobId);
  await client.ml.putJob({
    job_id: jobId,
    analysis_config: { bucket_span: '15m', detectors: [{ function: 'mean', field_name: 'value', by_field_name: 'host' }] },
    data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
  });
  const closeMs: number[] = [];
  const openMs: number[] = [];
  for (let i = 0; i < IDLE_ROUNDS; i++) {
    const o = performance.now();
    await client.ml.openJob({ job_id: jobId });
    openMs.push(performance.now() - o);
    const c = await timedClose(client, jobId);
    closeMs.push(c.ms);
  }
  await client.ml.deleteJob({ job_id: jobId, force: true, wait_for_completion: false });
  const out = {
    rounds: IDLE_ROUNDS,
    closeMs: { median: round1(quantile(closeMs, 0.5)), p95: round1(quantile(closeMs, 0.95)), min: round1(Math.min(...closeMs)), max: round1(Math.max(...closeMs)) },
    openMs: { median: round1(quantile(openMs, 0.5)), p95: round1(quantile(openMs, 0.95)) },
    allCloseMs: closeMs.map(round1),
  };
  console.log(`close (b): idle close over ${IDLE_ROUNDS} rounds: median ${out.closeMs.median} ms, p95 ${out.closeMs.p95} ms (open median ${out.openMs.median} ms)`);
  return out;
}

async function main(): Promise<void> {
  const system = await connect();
  try {
    const big = await bigClose(system.client);
    const idle = await idleClose(system.client);
    const results = {
      system: system.inProcess ? 'in-process startLocalSystem (DynamoDB Local + fauxqs)' : system.url,
      bigClose: big,
      idleClose: idle,
    };
    writeResult('close', {
      results,
      figures: [
        {
          figure: `close of ${HOSTS.toLocaleString('en-US')} series, latency ${LATENCY} holding ${big.bucketsFinalizedByClose} buckets of ${BUCKET_SPAN} open`,
          measured: big.closeMs,
          unit: 'ms',
          goal: { max: 3_000 },
        },
        { figure: `idle close, median of ${IDLE_ROUNDS}`, measured: idle.closeMs.median, unit: 'ms', goal: { max: 100 } },
      ],
    });
  } finally {
    await system.stop();
  }
}

await runMain(main);
