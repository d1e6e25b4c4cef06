/**
 * Results paging benchmark: a job holding a year of 5-minute buckets (105,120 buckets, one
 * record per bucket, the lookback shape), written through the store layer (`writeResults`,
 * in calls of 10,000 buckets as 10,000-record posts finalize them), then:
 *
 * - `GET results/buckets` pages of 10,000 (`size=10000`) at the start of the history, in its
 *   middle and at its end (newest first), timed through the Elasticsearch client (HTTP, JSON
 *   both ways included) and at the use case (`getBucketsJson`, what the route serves), median of
 *   `RUNS` runs each (with this process's CPU per page: server and client, not DynamoDB Local),
 *   and the middle page's layers: the summaries, the page's parts, the HTTP
 *   answer read as text;
 * - `GET results/records?record_score=75&sort=record_score`, timed, with the items it read;
 * - the write cost of the year: items and bytes written, against the one-item-per-result
 *   layout before it (one item per bucket and per record, their JSON documents).
 *
 * Items read come from the results store's counter (`resultReads`: a Query's scanned items,
 * BatchGet's and Get's items), so they are what DynamoDB bills reads for.
 * Needs the in-process local system (no `ES_URL`). Writes `bench/results/results-paging.json`.
 * Run: `npx tsx bench/results-paging.ts` (`RUNS=5` by default).
 */
import type { BucketResult, RecordResult } from '../lib/detect/index.ts';
import { connect, deleteIfExists, quantile, round1, runMain, writeResult } from './lib.ts';

const JOB = 'bench-results-paging';
const SPAN_S = 300;
const SPAN = SPAN_S * 1000;
const BUCKETS = 365 * 288;
const POST = 10_000;
const START_MS = Date.UTC(2025, 0, 1);
const RUNS = Number(process.env.RUNS ?? 5);
const PAGE = 10_000;

/** A deterministic pseudo-random in [0, 1). */
function rand(i: number, salt: number): number {
  const x = Math.sin(i * 12.9898 + salt * 78.233) * 43758.5453;
  return x - Math.floor(x);
}

/** Scores as a normal series gives them: mostly 0-3, one bucket in ~500 above 75. */
function scoreOf(i: number): number {
  const u = rand(i, 1);
  if (u < 0.002) return 75 + rand(i, 2) * 25;
  if (u < 0.01) return 10 + rand(i, 3) * 65;
  return rand(i, 4) * 3;
}

function bucket(i: number): BucketResult {
  const timestamp = START_MS + i * SPAN;
  const score = Math.round(scoreOf(i) * 1e6) / 1e6;
  const record: RecordResult = {
    job_id: JOB,
    result_type: 'record',
    probability: Math.max(1e-308, 1 - score / 100),
    record_score: score,
    initial_record_score: score,
    bucket_span: SPAN_S,
    detector_index: 0,
    is_interim: false,
    timestamp,
    function: 'mean',
    function_description: 'mean',
    typical: [Math.round(rand(i, 5) * 1e6) / 1e3],
    actual: [Math.round(rand(i, 6) * 1e6) / 1e3],
    field_name: 'value',
  };
  return {
    job_id: JOB,
    timestamp,
    result_type: 'bucket',
    bucket_span: SPAN_S,
    anomaly_score: score,
    initial_anomaly_score: score,
    event_count: 1,
    is_interim: false,
    processing_time_ms: 0,
    bucket_influencers: [
      {
        job_id: JOB,
        result_type: 'bucket_influencer',
        influencer_field_name: 'bucket_time',
        initial_anomaly_score: score,
        anomaly_score: score,
        raw_anomaly_score: score / 10,
        probability: record.probability,
        timestamp,
        bucket_span: SPAN_S,
        is_interim: false,
      },
    ],
    records: [record],
  };
}

/** Bytes of an item as DynamoDB sizes it (attribute names and values; binary as its length). */
function itemBytes(item: Record<string, unknown>): number {
  let n = 0;
  for (const [k, v] of Object.entries(item)) {
    n += k.length;
    if (v instanceof Uint8Array) n += v.byteLength;
    else if (typeof v === 'string') n += Buffer.byteLength(v);
    else n += 21;
  }
  return n;
}

async function main(): Promise<void> {
  if (process.env.ES_URL) throw new Error('bench/results-paging.ts writes results straight into the table: run it without ES_URL');
  process.env.LOG_LEVEL ??= 'warn';
  const system = await connect();
  try {
    const { client } = system;
    const { resultItems, resultReads } = await import('../lib/store/results.ts');
    const { batchWrite } = await import('../lib/store/batch.ts');
    const { getBucketsJson, getRecords } = await import('../lib/app/results.ts');
    const { readBucketParts, readIndex } = await import('../lib/store/results.ts');
    await deleteIfExists(client, JOB);
    await client.ml.putJob({
      job_id: JOB,
      analysis_config: { bucket_span: '5m', detectors: [{ function: 'mean', field_name: 'value' }] },
      data_description: { time_field: 'timestamp' },
    });

    // The year, written as 10,000-bucket calls (each call's items: parts and score entries, then summaries).
    let items = 0;
    let bytes = 0;
    let oldItems = 0;
    let oldBytes = 0;
    let writeMs = 0;
    for (let i = 0; i < BUCKETS; i += POST) {
      const buckets = Array.from({ length: Math.min(POST, BUCKETS - i) }, (_, k) => bucket(i + k));
      for (const b of buckets) {
        const { records, ...doc } = b;
        oldItems += 1 + records.length;
        oldBytes += itemBytes({ pk: `results#${JOB}`, sk: 'bucket#000000000000000', doc: JSON.stringify(doc) });
        for (const r of records) oldBytes += itemBytes({ pk: `results#${JOB}`, sk: 'record#000000000000000#0000#0000', doc: JSON.stringify(r) });
      }
      const started = performance.now();
      const { parts, summaries } = resultItems(JOB, buckets);
      await batchWrite(parts);
      await batchWrite(summaries);
      writeMs += performance.now() - started;
      items += parts.length + summaries.length;
      bytes += [...parts, ...summaries].reduce((n, it) => n + itemBytes(it), 0);
    }
    // Write units in AWS: one per started KB of each item.
    console.log(
      `results-paging: wrote ${BUCKETS} buckets as ${items} items (${Math.round(bytes / 1024)} KiB) in ${Math.round(writeMs)} ms; before: ${oldItems} items (${Math.round(oldBytes / 1024)} KiB)`,
    );

    const timeHttp = async (params: Record<string, unknown>) => {
      const ms: number[] = [];
      let count = 0;
      let got = 0;
      let reads = 0;
      const cpuMs: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        const before = resultReads.items;
        const cpu = process.cpuUsage();
        const started = performance.now();
        const res = (await client.ml.getBuckets({ job_id: JOB, ...params })) as { count: number; buckets: unknown[] };
        ms.push(performance.now() - started);
        const used = process.cpuUsage(cpu);
        cpuMs.push((used.user + used.system) / 1000);
        reads = resultReads.items - before;
        count = res.count;
        got = res.buckets.length;
      }
      // CPU of this process (server and client; not DynamoDB Local's): steadier than wall time on a loaded machine.
      return { medianMs: round1(quantile(ms, 0.5)), runsMs: ms.map(round1), cpuMedianMs: round1(quantile(cpuMs, 0.5)), count, returned: got, itemsRead: reads };
    };
    const timeUseCase = async (q: { from: number; desc: boolean }) => {
      const ms: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        const started = performance.now();
        await getBucketsJson(JOB, { anomalyScore: 0, excludeInterim: false, expand: false, sort: 'timestamp', desc: q.desc, from: q.from, size: PAGE });
        ms.push(performance.now() - started);
      }
      return round1(quantile(ms, 0.5));
    };

    const middle = await timeHttp({ from: 50_000, size: PAGE });
    const atStart = await timeHttp({ from: 0, size: PAGE });
    const atEnd = await timeHttp({ from: 0, size: PAGE, desc: true });
    const useCase = {
      middleMs: await timeUseCase({ from: 50_000, desc: false }),
      startMs: await timeUseCase({ from: 0, desc: false }),
      endMs: await timeUseCase({ from: 0, desc: true }),
    };
    // Where the middle page's time goes, layer by layer (medians): the summaries (readIndex), the
    // page's parts (BatchGetItem + inflation of their bucket bodies), the use case, the HTTP
    // answer read as text (no JSON parse), and the client (its JSON parse included: `middle`).
    const median = async (f: () => Promise<unknown>) => {
      const ms: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        const started = performance.now();
        await f();
        ms.push(performance.now() - started);
      }
      return round1(quantile(ms, 0.5));
    };
    const index = await readIndex(JOB, {});
    // The parts holding buckets [50,000, 60,000): the middle page's.
    const ends = index.parts.map((_, i) => index.parts.slice(0, i + 1).reduce((n, p) => n + p.buckets, 0));
    const firstPart = ends.findIndex((end) => end > 50_000);
    const pageParts = ends.findIndex((end) => end >= 50_000 + PAGE) - firstPart + 1;
    const auth = `Basic ${Buffer.from(`elastic:${process.env.ELASTIC_PASSWORD || 'bench-password'}`).toString('base64')}`;
    const layers = {
      readIndexMs: await median(() => readIndex(JOB, {})),
      pageParts,
      readPartsMs: await median(() => readBucketParts(index.parts.slice(firstPart, firstPart + pageParts), false)),
      httpTextMs: await median(async () =>
        (await fetch(`${system.url}/_ml/anomaly_detectors/${JOB}/results/buckets?from=50000&size=${PAGE}`, { headers: { authorization: auth } })).text(),
      ),
      bodyBytes: Buffer.byteLength(
        await (await fetch(`${system.url}/_ml/anomaly_detectors/${JOB}/results/buckets?from=50000&size=${PAGE}`, { headers: { authorization: auth } })).text(),
      ),
    };
    console.log(`results-paging: middle page layers ${JSON.stringify(layers)}`);
    console.log(
      `results-paging: buckets page of ${PAGE}: middle ${middle.medianMs} ms, start ${atStart.medianMs} ms, end ${atEnd.medianMs} ms (HTTP); use case ${JSON.stringify(useCase)}`,
    );

    const recMs: number[] = [];
    let recReads = 0;
    let recCount = 0;
    for (let r = 0; r < RUNS; r++) {
      const before = resultReads.items;
      const started = performance.now();
      const res = (await client.ml.getRecords({ job_id: JOB, record_score: 75, sort: 'record_score' })) as { count: number };
      recMs.push(performance.now() - started);
      recReads = resultReads.items - before;
      recCount = res.count;
    }
    const recUseCase = await getRecords(JOB, { recordScore: 75, excludeInterim: false, sort: 'record_score', desc: true, from: 0, size: 100 });
    console.log(`results-paging: records?record_score=75&sort=record_score: ${recCount} records, ${recReads} items read, ${round1(quantile(recMs, 0.5))} ms`);

    const results = {
      system: 'in-process startLocalSystem (DynamoDB Local + fauxqs); results written with writeResults',
      buckets: BUCKETS,
      recordsPerBucket: 1,
      bucketSpanS: SPAN_S,
      bucketsPerCall: POST,
      runs: RUNS,
      write: {
        items,
        bytes,
        // AWS bills a write unit per started KB of an item; the sizes here approximate DynamoDB's.
        writeMs: Math.round(writeMs),
        bucketsPerSecond: Math.round(BUCKETS / (writeMs / 1000)),
        bytesPerBucket: round1(bytes / BUCKETS),
        beforeItems: oldItems,
        beforeBytes: oldBytes,
        itemRatio: round1(oldItems / items),
      },
      bucketsPage: { middle, atStart, atEnd, useCaseMedianMs: useCase, middleLayers: layers },
      bucketsPageMedianMs: middle.medianMs,
      bucketsPageAtStartMedianMs: atStart.medianMs,
      bucketsPageAtEndMedianMs: atEnd.medianMs,
      recordsScore75: { count: recCount, returned: recUseCase.records.length, medianMs: round1(quantile(recMs, 0.5)), itemsRead: recReads },
      recordsScore75ItemsRead: recReads,
    };
    writeResult('results-paging', {
      results,
      figures: [
        { figure: 'GET results/buckets, page of 10,000 in the middle of a year of 5m buckets, HTTP median', measured: middle.medianMs, unit: 'ms', goal: { max: 100 } },
        { figure: 'the same page at the start of the history', measured: atStart.medianMs, unit: 'ms', goal: { max: 100 } },
        { figure: 'the same page at the end of the history', measured: atEnd.medianMs, unit: 'ms', goal: { max: 100 } },
        { figure: 'GET results/records?record_score=75&sort=record_score, items read', measured: recReads, unit: 'items', goal: { max: 300 } },
        { figure: 'a year of results written, items', measured: items, unit: 'items' },
      ],
    });
    await deleteIfExists(client, JOB);
  } finally {
    await system.stop();
  }
}

await runMain(main);
