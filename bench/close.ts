/**
 * Close benchmarks, timed over HTTP with the official client.
 *
 * (a) Big close: a job `mean(value) by host` with 1,000 hosts, bucket_span 1h, fed 14 days
 *     of hourly data (336 buckets × 1,000 series = 336,000 records, in posts of 10,000),
 *     then one graceful `POST _close` (final results, model snapshot, pruning) is timed.
 *     Target: ≤ 2,000 ms. Should the answer be a 202 task (the gateway cap), the time
 *     until `GET _tasks/<id>?wait_for_completion=true` reports it done is recorded instead.
 * (b) Idle close: a job with no data is opened and closed 30 times; the close calls are
 *     timed. Target: median ≤ 100 ms (p95 recorded).
 *
 * Starts a local system in this process, or uses `ES_URL` (with `ELASTIC_PASSWORD`) when
 * set. Writes `bench/results/close.json`. Run: `npx tsx bench/close.ts`.
 */
import type { Client } from '@elastic/elasticsearch';
import { connect, deleteIfExists, meets, quantile, round1, runMain, writeResult, type Target } from './lib.ts';

const HOSTS = 1_000;
const HOURS = 14 * 24;
const PER_POST = 10_000;
const IDLE_ROUNDS = 30;
const START_MS = Date.UTC(2026, 0, 5);
const HOUR = 3_600_000;

const targets: Record<string, Target> = {
  bigCloseMs: { max: 2_000, unit: 'ms' },
  idleCloseMedianMs: { max: 100, unit: 'ms' },
};

/** All records of (a), hour by hour, each hour 1,000 hosts. */
function* hourlyRecords(): Generator<{ timestamp: number; host: string; value: number }> {
  for (let h = 0; h < HOURS; h++) {
    const daily = Math.sin((2 * Math.PI * (h % 24)) / 24);
    for (let i = 0; i < HOSTS; i++) {
      const noise = (((h * 7919 + i * 104729) % 1000) / 1000 - 0.5) * 4;
      yield { timestamp: START_MS + h * HOUR, host: `host-${String(i).padStart(4, '0')}`, value: 100 + (i % 50) + 20 * daily + noise };
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

async function bigClose(client: Client): Promise<Record<string, unknown>> {
  const jobId = 'bench-close-big';
  await deleteIfExists(client, jobId);
  await client.ml.putJob({
    job_id: jobId,
    analysis_config: { bucket_span: '1h', detectors: [{ function: 'mean', field_name: 'value', by_field_name: 'host' }], influencers: ['host'] },
    data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
  });
  await client.ml.openJob({ job_id: jobId });

  const t0 = performance.now();
  let batch: object[] = [];
  let posts = 0;
  let processed = 0;
  for (const r of hourlyRecords()) {
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
  console.log(`close (a): posted ${HOURS * HOSTS} records in ${posts} posts, ${Math.round(ingestMs)} ms; processed ${processed}`);

  const close = await timedClose(client, jobId);
  console.log(`close (a): _close of ${HOSTS} series × ${HOURS} buckets: ${round1(close.ms)} ms${close.viaTask ? ' (via 202 task)' : ''}`);

  const stats = await client.ml.getJobStats({ job_id: jobId });
  const job = stats.jobs[0];
  const snapshots = await client.ml.getModelSnapshots({ job_id: jobId });
  const out = {
    series: HOSTS,
    buckets: HOURS,
    records: HOURS * HOSTS,
    posts,
    processedRecordCount: processed,
    ingestMs: Math.round(ingestMs),
    closeMs: round1(close.ms),
    closeViaTask: close.viaTask,
    closeResponse: close.body,
    stateAfter: job?.state,
    bucketCountAfter: job?.data_counts.bucket_count,
    modelBytes: job?.model_size_stats.model_bytes,
    snapshots: snapshots.count,
  };
  await client.ml.deleteJob({ job_id: jobId, force: true, wait_for_completion: false });
  return out;
}

async function idleClose(client: Client): Promise<Record<string, unknown>> {
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
      targets,
      met: {
        bigCloseMs: meets(big.closeMs as number, targets.bigCloseMs!),
        idleCloseMedianMs: meets((idle.closeMs as { median: number }).median, targets.idleCloseMedianMs!),
      },
    });
  } finally {
    await system.stop();
  }
}

await runMain(main);
