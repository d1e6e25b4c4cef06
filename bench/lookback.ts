/**
 * Datafeed lookback benchmark: documents indexed with `_bulk`, then a datafeed with an `end`
 * reads them all into its job, which closes by itself when the lookback is done.
 *
 * One index mapped as a datafeed's source (`@timestamp` date, `host` keyword, `total` long);
 * 100 hosts reporting once a minute (1,000,000 documents ≈ 10,000 minutes ≈ 7 days), indexed
 * in 5,000-document bodies with generated ids (as Beats and Logstash index). A job
 * `mean(total) by host` with 10m buckets, a datafeed over the index with `match_all`; `_start`
 * with `start` at the first document and `end` after the last, then the job is polled until it
 * is `closed` (the datafeed's end closes it). Documents/s for indexing, for the lookback
 * (`_start` to closed) and end to end (first bulk to closed), with the CPU used by this process
 * (HTTP, search, the model) and by DynamoDB Local's JVM as shares of one core, and the
 * datafeed's `search_count`: what bounds it.
 *
 * `LOOKBACK_DOCS` sets the size (a multiple of 5,000); the default is the 1,000,000
 * (about 2.5 minutes on a 2-core machine). No target in the issue beyond "measured, with the
 * figure in the README": the results record the size run.
 * Starts a local system in this process, or uses `ES_URL` (with `ELASTIC_PASSWORD`).
 * Writes `bench/results/lookback.json`. Run: `npx tsx bench/lookback.ts`.
 */
import { connect, deleteIfExists, javaCpuSeconds, round1, runMain, writeResult } from './lib.ts';

const HOSTS = 100;
const PER_BODY = 5_000;
const DOCS = Number(process.env.LOOKBACK_DOCS ?? 1_000_000);
const START_MS = Date.UTC(2017, 0, 1);
const MINUTE = 60_000;
const INDEX = 'bench-lookback';
const JOB = 'bench-lookback';
const DATAFEED = 'datafeed-bench-lookback';
/** Longest the lookback may take before the run is abandoned (a stuck datafeed must not hang the benchmark). */
const LOOKBACK_TIMEOUT_MS = 3 * 60 * 60_000;

/** Body `i` (0-based): minutes [i·50, (i+1)·50) × 100 hosts, generated ids. */
function body(i: number): string {
  const lines: string[] = [];
  const minutes = PER_BODY / HOSTS;
  for (let m = i * minutes; m < (i + 1) * minutes; m++) {
    const t = START_MS + m * MINUTE;
    const daily = Math.sin((2 * Math.PI * m) / 1440);
    for (let h = 0; h < HOSTS; h++) {
      const noise = ((m * 7919 + h * 104729) % 1000) / 100;
      lines.push('{"index":{}}');
      lines.push(`{"@timestamp":${t},"host":"host-${String(h).padStart(3, '0')}","total":${Math.round(500 + h * 5 + 100 * daily + noise)}}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const share = (cpuMs: number, wallMs: number): number => Math.round((cpuMs / wallMs) * 100);

async function main(): Promise<void> {
  if (DOCS % PER_BODY !== 0 || DOCS <= 0) throw new Error(`LOOKBACK_DOCS must be a positive multiple of ${PER_BODY}`);
  const system = await connect();
  const { client } = system;
  try {
    await deleteIfExists(client, JOB);
    await client.indices.delete({ index: INDEX }, { ignore: [404] });
    await client.indices.create({ index: INDEX, mappings: { properties: { '@timestamp': { type: 'date' }, host: { type: 'keyword' }, total: { type: 'long' } } } });

    const bodies = DOCS / PER_BODY;
    const cpu0 = process.cpuUsage();
    const java0 = javaCpuSeconds();
    const t0 = performance.now();
    for (let i = 0; i < bodies; i++) {
      const res = await client.transport.request<{ errors: boolean }>({ method: 'POST', path: `/${INDEX}/_bulk`, bulkBody: body(i) }, { requestTimeout: 300_000 });
      if (res.errors) throw new Error('bulk reported item errors');
      if ((i + 1) % 20 === 0) console.log(`lookback: indexed ${(i + 1) * PER_BODY} documents`);
    }
    const indexMs = performance.now() - t0;
    const indexCpu = process.cpuUsage(cpu0);
    const indexJava = javaCpuSeconds() - java0;
    const count = (await client.count({ index: INDEX })).count;
    if (count !== DOCS) throw new Error(`indexed ${count}, expected ${DOCS}`);

    await client.ml.putJob({
      job_id: JOB,
      analysis_config: { bucket_span: '10m', detectors: [{ function: 'mean', field_name: 'total', by_field_name: 'host' }], influencers: ['host'] },
      data_description: { time_field: '@timestamp' },
    });
    await client.ml.putDatafeed({ datafeed_id: DATAFEED, job_id: JOB, indices: [INDEX], query: { match_all: {} } });
    await client.ml.openJob({ job_id: JOB });
    const lastMs = START_MS + (DOCS / HOSTS - 1) * MINUTE;
    const cpu1 = process.cpuUsage();
    const java1 = javaCpuSeconds();
    const t1 = performance.now();
    await client.ml.startDatafeed({ datafeed_id: DATAFEED, start: String(START_MS), end: String(lastMs + MINUTE) });
    let state = '';
    // Polls the job state (a benchmark, not a test: the wait is the measurement).
    for (let polls = 0; state !== 'closed'; polls++) {
      if (performance.now() - t1 > LOOKBACK_TIMEOUT_MS) throw new Error(`job still ${state} after ${LOOKBACK_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, polls < 20 ? 250 : 2_000));
      state = (await client.ml.getJobStats({ job_id: JOB })).jobs[0]?.state ?? '';
    }
    const lookbackMs = performance.now() - t1;
    const lookCpu = process.cpuUsage(cpu1);
    const lookJava = javaCpuSeconds() - java1;
    const endToEndMs = performance.now() - t0;

    const jobStats = (await client.ml.getJobStats({ job_id: JOB })).jobs[0];
    const feedStats = (await client.ml.getDatafeedStats({ datafeed_id: DATAFEED })).datafeeds[0];
    const processed = jobStats?.data_counts.processed_record_count ?? 0;
    const results = {
      system: system.inProcess ? 'in-process startLocalSystem (DynamoDB Local + fauxqs)' : system.url,
      documents: DOCS,
      hosts: HOSTS,
      minutes: DOCS / HOSTS,
      job: { bucketSpan: '10m', detector: 'mean(total) by host' },
      documentsPerBody: PER_BODY,
      processedRecordCount: processed,
      bucketCount: jobStats?.data_counts.bucket_count,
      datafeedSearchCount: (feedStats as { timing_stats?: { search_count?: number } } | undefined)?.timing_stats?.search_count,
      indexing: {
        ms: round1(indexMs),
        documentsPerSecond: Math.round((DOCS / indexMs) * 1000),
        nodeCpuPercentOfCore: share((indexCpu.user + indexCpu.system) / 1000, indexMs),
        dynamoDbLocalCpuPercentOfCore: share(indexJava * 1000, indexMs),
      },
      lookback: {
        ms: round1(lookbackMs),
        documentsPerSecond: Math.round((DOCS / lookbackMs) * 1000),
        nodeCpuPercentOfCore: share((lookCpu.user + lookCpu.system) / 1000, lookbackMs),
        dynamoDbLocalCpuPercentOfCore: share(lookJava * 1000, lookbackMs),
      },
      endToEnd: { ms: round1(endToEndMs), documentsPerSecond: Math.round((DOCS / endToEndMs) * 1000) },
    };
    console.log(JSON.stringify(results, null, 1));
    if (processed !== DOCS) throw new Error(`job processed ${processed} records, expected ${DOCS}`);
    // No goal in the issue for the datafeed lookback: its figures are measured, not judged.
    writeResult('lookback', {
      results,
      figures: [
        { figure: `datafeed lookback: indexing ${DOCS} documents with _bulk`, measured: results.indexing.documentsPerSecond, unit: 'documents/s' },
        { figure: 'datafeed lookback: _start to closed', measured: results.lookback.documentsPerSecond, unit: 'documents/s' },
        { figure: 'datafeed lookback: end to end (first _bulk to closed)', measured: results.endToEnd.documentsPerSecond, unit: 'documents/s' },
      ],
    });
    await client.ml.deleteDatafeed({ datafeed_id: DATAFEED, force: true });
    await client.ml.deleteJob({ job_id: JOB, force: true, wait_for_completion: false });
  } finally {
    await system.stop();
  }
}

await runMain(main);
