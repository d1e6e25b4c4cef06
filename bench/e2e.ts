/**
 * End-to-end ingest benchmark: `POST _data` → HTTP function → SQS FIFO → worker → model →
 * DynamoDB Local, measured from the first post to the last answer (job setup excluded).
 *
 * One job, `mean(value) by host`, 100 hosts, bucket_span 5m; every host reports once a
 * minute, so each post of 10,000 records covers 100 minutes (20 buckets × 100 series).
 * 30 posts in sequence, each an NDJSON body sent by the official client's `ml.postData`.
 * Records/s = 300,000 / wall time of the 30 posts; also p50/p95/max latency per post.
 * Target: ≥ 20,000 records/s.
 *
 * Starts a local system in this process (`startLocalSystem({port: 0, cron: false})`), or
 * uses `ES_URL` (with `ELASTIC_PASSWORD`) when set. Writes `bench/results/e2e.json`.
 * Run: `npx tsx bench/e2e.ts`.
 */
import { connect, deleteIfExists, quantile, round1, runMain, writeResult, type Target } from './lib.ts';

const HOSTS = 100;
const POSTS = 30;
const PER_POST = 10_000;
const START_MS = Date.UTC(2026, 0, 5); // a Monday, 00:00 UTC
const MINUTE = 60_000;

const targets: Record<string, Target> = { recordsPerSecond: { min: 20_000, unit: 'records/s' } };

interface Rec {
  timestamp: number;
  host: string;
  value: number;
}

/** Post `i` (0-based): minutes [i·100, (i+1)·100) × 100 hosts, in time order. */
function post(i: number): Rec[] {
  const out: Rec[] = new Array(PER_POST);
  const minutesPerPost = PER_POST / HOSTS;
  let k = 0;
  for (let m = i * minutesPerPost; m < (i + 1) * minutesPerPost; m++) {
    const t = START_MS + m * MINUTE;
    const daily = Math.sin((2 * Math.PI * m) / 1440);
    for (let h = 0; h < HOSTS; h++) {
      // deterministic: a per-host level, a daily wave and a little hashed noise
      const noise = (((m * 7919 + h * 104729) % 1000) / 1000 - 0.5) * 4;
      out[k++] = { timestamp: t, host: `host-${String(h).padStart(3, '0')}`, value: 50 + h * 0.5 + 10 * daily + noise };
    }
  }
  return out;
}

async function main(): Promise<void> {
  const system = await connect();
  const { client } = system;
  const jobId = 'bench-e2e';
  try {
    await deleteIfExists(client, jobId);
    await client.ml.putJob({
      job_id: jobId,
      analysis_config: { bucket_span: '5m', detectors: [{ function: 'mean', field_name: 'value', by_field_name: 'host' }], influencers: ['host'] },
      data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
    });
    await client.ml.openJob({ job_id: jobId });

    // Bodies are built before the clock starts; the client serializes them as NDJSON.
    const bodies = Array.from({ length: POSTS }, (_, i) => post(i));
    const latencies: number[] = [];
    let processed = 0;
    const t0 = performance.now();
    for (const data of bodies) {
      const s = performance.now();
      const res = await client.ml.postData({ job_id: jobId, data });
      latencies.push(performance.now() - s);
      processed = res.processed_record_count;
    }
    const wallMs = performance.now() - t0;

    const total = POSTS * PER_POST;
    const recordsPerSecond = Math.round((total / wallMs) * 1000);
    const stats = await client.ml.getJobStats({ job_id: jobId });
    const dc = stats.jobs[0]?.data_counts;
    const results = {
      system: system.inProcess ? 'in-process startLocalSystem (DynamoDB Local + fauxqs)' : system.url,
      job: { hosts: HOSTS, bucketSpan: '5m', detector: 'mean(value) by host', recordsPerHostPerMinute: 1 },
      posts: POSTS,
      recordsPerPost: PER_POST,
      records: total,
      processedRecordCount: processed,
      statsProcessedRecordCount: dc?.processed_record_count,
      statsBucketCount: dc?.bucket_count,
      wallMs: round1(wallMs),
      recordsPerSecond,
      postLatencyMs: {
        p50: round1(quantile(latencies, 0.5)),
        p95: round1(quantile(latencies, 0.95)),
        max: round1(Math.max(...latencies)),
        min: round1(Math.min(...latencies)),
        first: round1(latencies[0]!),
      },
    };
    console.log(
      `e2e: ${total} records in ${results.wallMs} ms = ${recordsPerSecond} records/s ` +
        `(post p50 ${results.postLatencyMs.p50} ms, p95 ${results.postLatencyMs.p95} ms); processed ${processed}`,
    );
    if (processed !== total) console.warn(`e2e: WARNING processed_record_count ${processed} ≠ ${total} posted`);
    writeResult('e2e', {
      results,
      figures: [
        { figure: 'end to end, 100 series, 5 records per bucket per series, 10,000-record posts', measured: recordsPerSecond, unit: 'records/s', goal: targets.recordsPerSecond! },
        { figure: 'end to end: records posted but not processed', measured: total - processed, unit: 'records', goal: { max: 0 } },
      ],
    });

    await client.ml.closeJob({ job_id: jobId, force: true });
    await client.ml.deleteJob({ job_id: jobId, force: true, wait_for_completion: false });
  } finally {
    await system.stop();
  }
}

await runMain(main);
