/**
 * Bulk indexing benchmark: `POST _bulk` → HTTP function → document store → DynamoDB Local,
 * measured from the first request to the last answer (index setup excluded).
 *
 * One index `bench-bulk` mapped as a datafeed's source (`@timestamp` date, `host` keyword,
 * `total` long); 100 hosts reporting once a minute, so each 5,000-document body covers 50
 * minutes. 10 bodies in sequence with explicit ids (`index` actions: each id is looked up,
 * as re-indexing must version it), then 10 with generated ids (no lookup). Documents/s =
 * documents / wall time per variant, plus p50/p95 per request, medians of 3 runs; and
 * where the time goes: the CPU used by this process (HTTP, bulk parsing, mapping checks,
 * item building, the SDK) and by DynamoDB Local's JVM, each as a share of one core.
 * Target: ≥ 20,000 documents/s (explicit ids, the datafeed-like case).
 * `BULK_BODIES=3 BULK_RUNS=1 npx tsx bench/bulk.ts` profiles a smaller run without writing results.
 *
 * Starts a local system in this process, or uses `ES_URL` (with `ELASTIC_PASSWORD`).
 * Writes `bench/results/bulk.json`. Run: `npx tsx bench/bulk.ts`.
 */
import { connect, type Goal, javaCpuSeconds, quantile, round1, runMain, writeResult } from './lib.ts';

const HOSTS = 100;
/** `BULK_BODIES`/`BULK_RUNS` shrink a run for profiling; such a run does not write the result file. */
const BODIES = Number(process.env.BULK_BODIES ?? 10);
const PER_BODY = 5_000;
const RUNS = Number(process.env.BULK_RUNS ?? 3);
const PROFILE_ONLY = process.env.BULK_BODIES !== undefined || process.env.BULK_RUNS !== undefined;
const START_MS = Date.UTC(2017, 0, 1);
const MINUTE = 60_000;
const INDEX = 'bench-bulk';

/** Explicit ids, the datafeed-like case. */
const goal: Goal = { min: 20_000 };

/** Body `i` (0-based) as NDJSON: minutes [i·50, (i+1)·50) × 100 hosts; `withIds` gives each document its id. */
function body(i: number, withIds: boolean, run: number): string {
  const lines: string[] = [];
  const minutes = PER_BODY / HOSTS;
  for (let m = i * minutes; m < (i + 1) * minutes; m++) {
    const t = START_MS + (run * BODIES * minutes + m) * MINUTE;
    for (let h = 0; h < HOSTS; h++) {
      lines.push(withIds ? `{"index":{"_id":"h${h}-${t}"}}` : '{"index":{}}');
      lines.push(`{"@timestamp":${t},"host":"host-${h}","total":${(m * 31 + h * 17) % 1000}}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const system = await connect();
  const { client } = system;
  try {
    const variants: Record<string, { docsPerSecond: number[]; p50: number[]; p95: number[]; nodeCpu: number[]; javaCpu: number[] }> = {};
    for (const withIds of [true, false]) {
      const key = withIds ? 'explicitIds' : 'generatedIds';
      variants[key] = { docsPerSecond: [], p50: [], p95: [], nodeCpu: [], javaCpu: [] };
      for (let run = 0; run < RUNS; run++) {
        // A fresh index per run (deleting a big index between runs would leave its purge competing with the next run).
        const index = `${INDEX}-${key.toLowerCase()}-${run}`;
        await client.indices.delete({ index }, { ignore: [404] });
        await client.indices.create({ index, mappings: { properties: { '@timestamp': { type: 'date' }, host: { type: 'keyword' }, total: { type: 'long' } } } });
        const bodies = Array.from({ length: BODIES }, (_, i) => body(i, withIds, run));
        const latencies: number[] = [];
        const cpu0 = process.cpuUsage();
        const java0 = javaCpuSeconds();
        const t0 = performance.now();
        for (const b of bodies) {
          const s = performance.now();
          const res = await client.transport.request<{ errors: boolean }>({ method: 'POST', path: `/${index}/_bulk`, bulkBody: b }, { requestTimeout: 120_000 });
          if (res.errors) throw new Error('bulk reported item errors');
          latencies.push(performance.now() - s);
        }
        const wallMs = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        const javaS = javaCpuSeconds() - java0;
        const count = (await client.count({ index })).count;
        if (count !== BODIES * PER_BODY) throw new Error(`indexed ${count}, expected ${BODIES * PER_BODY}`);
        const v = variants[key]!;
        v.docsPerSecond.push(Math.round(((BODIES * PER_BODY) / wallMs) * 1000));
        v.p50.push(round1(quantile(latencies, 0.5)));
        v.p95.push(round1(quantile(latencies, 0.95)));
        // Share of one core used during the run: where the time goes (this process = HTTP, parsing, mapping, SDK; java = DynamoDB Local).
        v.nodeCpu.push(Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100));
        v.javaCpu.push(Math.round(((javaS * 1000) / wallMs) * 100));
        console.log(
          `bulk ${key} run ${run + 1}: ${v.docsPerSecond.at(-1)} documents/s (request p50 ${v.p50.at(-1)} ms; CPU node ${v.nodeCpu.at(-1)}%, java ${v.javaCpu.at(-1)}% of a core)`,
        );
      }
    }
    const median = (xs: number[]): number => Math.round(quantile(xs, 0.5));
    const explicit = variants.explicitIds!;
    const generated = variants.generatedIds!;
    const results = {
      system: system.inProcess ? 'in-process startLocalSystem (DynamoDB Local)' : system.url,
      bodies: BODIES,
      documentsPerBody: PER_BODY,
      runs: RUNS,
      documentsPerSecond: median(explicit.docsPerSecond),
      explicitIds: {
        documentsPerSecond: explicit.docsPerSecond,
        requestP50Ms: explicit.p50,
        requestP95Ms: explicit.p95,
        nodeCpuPercentOfCore: explicit.nodeCpu,
        dynamoDbLocalCpuPercentOfCore: explicit.javaCpu,
      },
      generatedIds: {
        documentsPerSecond: generated.docsPerSecond,
        requestP50Ms: generated.p50,
        requestP95Ms: generated.p95,
        nodeCpuPercentOfCore: generated.nodeCpu,
        dynamoDbLocalCpuPercentOfCore: generated.javaCpu,
        medianDocumentsPerSecond: median(generated.docsPerSecond),
      },
      generatedOverExplicit: Math.round((median(generated.docsPerSecond) / median(explicit.docsPerSecond)) * 100) / 100,
    };
    if (PROFILE_ONLY) {
      console.log(JSON.stringify(results, null, 1));
      return;
    }
    writeResult('bulk', {
      results,
      figures: [
        { figure: '_bulk of 5,000 documents, explicit ids (median of runs)', measured: results.documentsPerSecond, unit: 'documents/s', goal },
        { figure: '_bulk of 5,000 documents, generated ids (median of runs)', measured: results.generatedIds.medianDocumentsPerSecond, unit: 'documents/s' },
      ],
    });
  } finally {
    await system.stop();
  }
}

await runMain(main);
