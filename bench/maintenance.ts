/**
 * Maintenance over 10,000 jobs: one `DELETE _ml/_delete_expired_data` (what the nightly schedule
 * submits) over a table holding 10,000 jobs, timed from the request until `GET _tasks/<id>`
 * reports it done.
 *
 * The jobs are written straight into DynamoDB Local (the shape `PUT` gives them, copied from one
 * job made through the API): each has run, so it has a current model snapshot, one snapshot 20
 * days older (expired under the default 10-day retention), `results_retention_days: 1` and two
 * bucket results, one expired. So every job has work: one expired snapshot (metadata and state
 * chunk) and one expired bucket to delete, and the audits that go with them.
 *
 * The deletion runs as a `maintenance` command on the commands worker, whose invocations have 60 s
 * (`topology.workers.commands`, counted down by the local runtime's Lambda context): it must hand
 * itself on rather than run past that. The hand-offs are counted from the worker's log lines.
 * Targets: every job done (none left with expired data, checked on a sample of 500), and ≥ 10
 * jobs/s, so 10,000 jobs take under 17 minutes on DynamoDB Local (each of its calls takes 15–30 ms
 * on a shared 2-core machine), far inside the deletion's 8 h `timeout` and before the next night.
 *
 * Needs the in-process local system (no `ES_URL`). Writes `bench/results/maintenance.json`.
 * Run: `npx tsx bench/maintenance.ts` (`JOBS=1000` for a smaller table).
 */
import type { BucketResult } from '../lib/detect/index.ts';
import { connect, round1, runMain, writeResult } from './lib.ts';

const JOBS = Number(process.env.JOBS ?? 10_000);
const DAY = 86_400_000;
const NEWEST_MS = Date.UTC(2026, 10, 1);
const INVOCATION_S = 60;

async function main(): Promise<void> {
  if (process.env.ES_URL) throw new Error('bench/maintenance.ts writes jobs straight into the table: run it without ES_URL');
  // Count the worker's hand-offs from its log lines (JSON on stdout at info).
  process.env.LOG_LEVEL = 'info';
  process.env.LOG_FORMAT = 'json';
  let handOffs = 0;
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.includes('command handed on to a continuation message')) handOffs++;
    // Keep the benchmark's own lines; drop the system's log lines.
    if (text.startsWith('{')) return true;
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;

  const system = await connect();
  try {
    const client = system.client;
    const { batchWrite } = await import('../lib/store/batch.ts');
    const { keys } = await import('../lib/store/keys.ts');
    const { getJobConfig, getJobRuntime } = await import('../lib/store/jobs.ts');
    const { listSnapshots } = await import('../lib/store/snapshots.ts');
    const { newestBucketItem, queryBuckets, resultItems } = await import('../lib/store/results.ts');

    await client.ml.putJob({
      job_id: 'bench-maint-template',
      results_retention_days: 1,
      analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] },
      data_description: { time_field: 'timestamp' },
    });
    const template = await getJobConfig('bench-maint-template');
    const runtime = await getJobRuntime('bench-maint-template');
    if (!template || !runtime) throw new Error('template job missing');

    const id = (i: number) => `bench-maint-${String(i).padStart(5, '0')}`;
    const t0 = performance.now();
    const items: Record<string, unknown>[] = [];
    const flush = async () => {
      await batchWrite(items.splice(0, items.length));
    };
    for (let i = 0; i < JOBS; i++) {
      const jobId = id(i);
      items.push({ ...keys.jobConfig(jobId), version: 1, config: JSON.stringify({ ...template.config, job_id: jobId, model_snapshot_id: 'current' }) });
      items.push({ ...keys.jobState(jobId), version: runtime.version, data: JSON.stringify({ ...runtime, job_id: jobId }) });
      for (const [sid, ts] of [
        ['current', NEWEST_MS],
        ['expired', NEWEST_MS - 20 * DAY],
      ] as const) {
        const meta = { job_id: jobId, snapshot_id: sid, timestamp: ts, snapshot_doc_count: 1, retain: false, min_version: '7.0.0' };
        items.push({ ...keys.snapshot(jobId, sid), chunks: 1, doc: JSON.stringify(meta) });
        items.push({ ...keys.snapshotChunk(jobId, sid, 0), data: new Uint8Array(256) });
      }
      // Two buckets in two months: a summary and a part each (the results layout of keys.ts).
      const buckets = [NEWEST_MS - 3 * DAY, NEWEST_MS].map(
        (ts) =>
          ({
            job_id: jobId,
            timestamp: ts,
            bucket_span: 3600,
            result_type: 'bucket',
            anomaly_score: 0,
            initial_anomaly_score: 0,
            event_count: 1,
            is_interim: false,
            processing_time_ms: 0,
            bucket_influencers: [],
            records: [],
          }) as BucketResult,
      );
      const packed = resultItems(jobId, buckets);
      items.push(...packed.parts, ...packed.summaries);
      if (items.length >= 4_000) await flush();
    }
    await flush();
    const setupMs = performance.now() - t0;
    console.log(`maintenance: wrote ${JOBS} jobs (10 items each) in ${Math.round(setupMs)} ms`);

    const started = performance.now();
    const res = (await client.ml.deleteExpiredData({}, { meta: true })) as { statusCode: number | null; body: { deleted?: boolean; task?: string } };
    let response: unknown = res.body;
    if (res.statusCode === 202 && typeof res.body.task === 'string') {
      for (;;) {
        const task = (await client.tasks.get({ task_id: res.body.task, wait_for_completion: true, timeout: '10m' })) as { completed: boolean; response?: unknown; error?: unknown };
        if (task.completed) {
          response = task.response ?? task.error;
          break;
        }
      }
    }
    const passMs = performance.now() - started;
    console.log(`maintenance: one pass over ${JOBS + 1} jobs: ${Math.round(passMs)} ms, ${handOffs} hand-offs, answer ${JSON.stringify(response)}`);

    // Every 20th job: its expired snapshot and bucket must be gone, the current ones kept.
    let left = 0;
    let sampled = 0;
    for (let i = 0; i < JOBS; i += Math.max(1, Math.floor(JOBS / 500))) {
      sampled++;
      const snaps = (await listSnapshots(id(i))).map((s) => s.snapshot_id);
      const { buckets } = await queryBuckets(id(i), {});
      const newest = await newestBucketItem(id(i));
      if (snaps.join() !== 'current' || buckets.length !== 1 || newest?.timestamp !== NEWEST_MS) left++;
    }
    console.log(`maintenance: ${left} of ${sampled} sampled jobs left with expired data`);

    const jobsPerSecond = round1((JOBS + 1) / (passMs / 1000));
    const results = {
      system: 'in-process startLocalSystem (DynamoDB Local + fauxqs)',
      jobs: JOBS + 1,
      itemsPerJob: 10,
      setupMs: Math.round(setupMs),
      passMs: Math.round(passMs),
      jobsPerSecond,
      answer: response,
      handOffs,
      invocationSeconds: INVOCATION_S,
      handedOnWhenLongerThanOneInvocation: passMs < INVOCATION_S * 1000 || handOffs > 0,
      sampledJobs: sampled,
      sampledJobsLeftWithExpiredData: left,
    };
    writeResult('maintenance', {
      results,
      figures: [
        { figure: `expired-data deletion over ${JOBS + 1} jobs`, measured: jobsPerSecond, unit: 'jobs/s', goal: { min: 10 } },
        { figure: `expired-data deletion: sampled jobs (of ${sampled}) left with expired data`, measured: left, unit: 'jobs', goal: { max: 0 } },
      ],
    });
  } finally {
    await system.stop();
    process.stdout.write = write;
  }
}

await runMain(main);
