/**
 * Cost model: dollars per million records ingested through `POST _data`, for the two shapes
 * real data has, from what one run of the local system actually consumed:
 *
 * - **lookback**: 1 series, 1 record per bucket (`mean(value)`, bucket_span 5m, one record
 *   every 5 minutes), the shape of a datafeed's lookback or NAB's CloudWatch series;
 * - **e2e**: 100 series, 5 records per bucket per series (`mean(value) by host`, 5m buckets,
 *   every host once a minute), the end-to-end benchmark's shape.
 *
 * Each shape gets its own job: opened, one warm-up post (cold starts, first buckets), then
 * the counters are reset and `COST_POSTS` posts of 10,000 records are measured. What is
 * counted, and how it is priced (us-east-1 list prices, {@link PRICES}):
 *
 * - DynamoDB read and write request units: summed from `ConsumedCapacity` on every request of
 *   the functions' client (`MLPLANE_CAPACITY_STATS=1`, `lib/store/db.ts`), which DynamoDB
 *   Local computes from the item sizes as DynamoDB bills them (on-demand: 1 WRU per 1 KB
 *   written, 0.5 RRU per 4 KB read eventually consistent, transactions twice). Writes refused
 *   by a condition return no capacity: each is priced as 1 WRU (their minimum). Nothing about
 *   the results layout is assumed, so the figure follows any change to it.
 * - SQS requests on the FIFO command queue: every call of every SQS client in this process
 *   (the HTTP functions' sends and the worker's event source receives and deletes), each billed
 *   per 64 KB chunk of its message payload. Empty receives are counted but not priced per
 *   record: they are the local poller's idle loop (in AWS the event source mapping's long
 *   polls cost a fixed amount a month, whatever the records).
 * - Lambda: requests (each `_data` call of the HTTP function, each worker batch) and
 *   GB-seconds: the worker's duration per batch (from its ReceiveMessage answer to its
 *   DeleteMessageBatch, paired by receipt handle) × its memory (`topology.workers`), plus each
 *   post's wall time as seen by the client × the HTTP function's memory. Local wall times on a
 *   shared machine against DynamoDB Local are slower than Lambda's against DynamoDB, so this
 *   part is an upper bound.
 * - API Gateway HTTP API: one request per 512 KB of each post's body.
 *
 * Goal (issue 12): ≤ $0.02 per million records, each shape. Writes `bench/results/cost.json`
 * with the counts and a per-component breakdown. Runs only in process (it counts inside the
 * functions): refuses `ES_URL`. Run: `npx tsx bench/cost.ts` (`COST_POSTS=n`, default 3).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Client } from '@elastic/elasticsearch';
import { workers } from '../lib/runtime/topology.ts';
import { connect, deleteIfExists, round1, runMain, writeResult } from './lib.ts';

/**
 * List prices, us-east-1, read on 2026-11-26 from the sources named (third-party summaries of
 * aws.amazon.com/<service>/pricing where that page was not at hand; they agree with each other).
 */
export const PRICES = {
  /** DynamoDB on-demand, $ per million write request units (since the 2024-11-01 cut; aws.amazon.com/dynamodb/pricing/on-demand, airbyte.com DynamoDB pricing 2025-07). */
  dynamoDbPerMillionWru: 0.625,
  /** DynamoDB on-demand, $ per million read request units (same sources). */
  dynamoDbPerMillionRru: 0.125,
  /** SQS FIFO, $ per million requests, each 64 KB chunk of payload one request (aws.amazon.com/sqs/pricing; cloudburn.io 2026-03, factualminds.com 2026-06). */
  sqsFifoPerMillionRequests: 0.5,
  /** Lambda Arm (the stack's architecture, infra/constructs/mlplane-function.ts), $ per GB-second, first 7.5 billion GB-s a month (aws.amazon.com/lambda/pricing). */
  lambdaArmPerGbSecond: 0.0000133334,
  /** Lambda, $ per million requests (same source). */
  lambdaPerMillionRequests: 0.2,
  /** API Gateway HTTP API, $ per million requests, first 300 million a month, metered in 512 KB increments (AWS whitepaper "Best practices for API Gateway private APIs", cost optimization). */
  httpApiPerMillionRequests: 1.0,
} as const;

/** The HTTP functions' memory: `HTTP_MEMORY_MIB` of infra/stack.ts (not exported from there; keep the two equal). */
const HTTP_MEMORY_MIB = 1024;
const SQS_CHUNK_BYTES = 64 * 1024;
const HTTP_API_CHUNK_BYTES = 512 * 1024;
const PER_POST = 10_000;
const POSTS = Number(process.env.COST_POSTS ?? 3);
const START_MS = Date.UTC(2026, 0, 5);
const MINUTE = 60_000;

/** What the SQS clients of this process did since the last reset. */
interface SqsCounts {
  requests: Record<string, number>;
  /** Requests as SQS bills them: each 64 KB chunk of a call's message payload one request; empty receives left out. */
  billedRequests: number;
  emptyReceives: number;
  payloadBytesSent: number;
  payloadBytesReceived: number;
  /** Worker batches (non-empty receives) and their summed duration, receive answer → delete, in ms. */
  workerBatches: number;
  workerMs: number;
}

const emptySqs = (): SqsCounts => ({ requests: {}, billedRequests: 0, emptyReceives: 0, payloadBytesSent: 0, payloadBytesReceived: 0, workerBatches: 0, workerMs: 0 });

/**
 * Counts every SQS call of this process by wrapping `SQSClient.prototype.send` (benchmark
 * instrumentation only: the functions and the local event source are unchanged). The local
 * event source invokes the worker between a ReceiveMessage that returned messages and the
 * DeleteMessageBatch of their receipt handles, so that interval is the worker's duration.
 */
function instrumentSqs(): { counts: () => SqsCounts; reset: () => void; settled: (timeoutMs: number) => Promise<void> } {
  let counts = emptySqs();
  const receivedAt = new Map<string, number>();
  const original = SQSClient.prototype.send;
  const chunks = (bytes: number): number => Math.max(1, Math.ceil(bytes / SQS_CHUNK_BYTES));
  SQSClient.prototype.send = async function send(this: SQSClient, command: unknown, ...rest: unknown[]): Promise<unknown> {
    const name = (command as { constructor: { name: string } }).constructor.name;
    const input = (command as { input: Record<string, unknown> }).input;
    counts.requests[name] = (counts.requests[name] ?? 0) + 1;
    if (name === 'SendMessageBatchCommand' || name === 'SendMessageCommand') {
      const bodies = name === 'SendMessageCommand' ? [input.MessageBody] : ((input.Entries as { MessageBody?: string }[]) ?? []).map((e) => e.MessageBody);
      const bytes = bodies.reduce((s: number, b) => s + Buffer.byteLength(String(b ?? '')), 0);
      counts.payloadBytesSent += bytes;
      counts.billedRequests += chunks(bytes);
    } else if (name === 'DeleteMessageBatchCommand') {
      const handles = ((input.Entries as { ReceiptHandle?: string }[]) ?? []).map((e) => e.ReceiptHandle ?? '');
      const started = Math.min(...handles.map((h) => receivedAt.get(h) ?? Number.POSITIVE_INFINITY));
      if (Number.isFinite(started)) {
        counts.workerBatches++;
        counts.workerMs += performance.now() - started;
      }
      for (const h of handles) receivedAt.delete(h);
      counts.billedRequests += 1;
    } else if (name !== 'ReceiveMessageCommand') {
      counts.billedRequests += 1;
    }
    const out = await (original as (this: SQSClient, ...a: unknown[]) => Promise<unknown>).call(this, command, ...rest);
    if (name === 'ReceiveMessageCommand') {
      const messages = (out as { Messages?: { Body?: string; ReceiptHandle?: string }[] }).Messages ?? [];
      if (messages.length === 0) counts.emptyReceives++;
      else {
        const bytes = messages.reduce((s, m) => s + Buffer.byteLength(m.Body ?? ''), 0);
        counts.payloadBytesReceived += bytes;
        counts.billedRequests += chunks(bytes);
        const now = performance.now();
        for (const m of messages) if (m.ReceiptHandle) receivedAt.set(m.ReceiptHandle, now);
      }
    }
    return out;
  } as typeof SQSClient.prototype.send;
  return {
    counts: () => ({ ...counts, requests: { ...counts.requests } }),
    // Batches received before a reset belong to the work before it (the warm-up): not timed.
    reset: () => {
      counts = emptySqs();
      receivedAt.clear();
    },
    /** Resolves once every batch received has been deleted (the worker is done), or after `timeoutMs`. */
    settled: async (timeoutMs) => {
      const deadline = performance.now() + timeoutMs;
      while (receivedAt.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    },
  };
}

type Rec = { timestamp: number; value: number; host?: string };

/** One shape: its job and its posts (post 0 is the warm-up). */
interface Shape {
  name: 'lookback' | 'e2e';
  description: string;
  analysis: { bucket_span: string; detectors: object[]; influencers?: string[] };
  post(i: number): Rec[];
}

const shapes: Shape[] = [
  {
    name: 'lookback',
    description: '1 series, 1 record per bucket (mean(value), 5m buckets, a record every 5 minutes)',
    analysis: { bucket_span: '5m', detectors: [{ function: 'mean', field_name: 'value' }] },
    post: (i) =>
      Array.from({ length: PER_POST }, (_, k) => {
        const n = i * PER_POST + k;
        return { timestamp: START_MS + n * 5 * MINUTE, value: 100 + 10 * Math.sin((2 * Math.PI * n) / 288) + ((n * 7919) % 100) / 50 };
      }),
  },
  {
    name: 'e2e',
    description: '100 series, 5 records per bucket per series (mean(value) by host, 5m buckets, every host once a minute)',
    analysis: { bucket_span: '5m', detectors: [{ function: 'mean', field_name: 'value', by_field_name: 'host' }], influencers: ['host'] },
    post: (i) =>
      Array.from({ length: PER_POST }, (_, k) => {
        const m = i * (PER_POST / 100) + Math.floor(k / 100);
        const h = k % 100;
        const noise = (((m * 7919 + h * 104729) % 1000) / 1000 - 0.5) * 4;
        return { timestamp: START_MS + m * MINUTE, host: `host-${String(h).padStart(3, '0')}`, value: 50 + h * 0.5 + 10 * Math.sin((2 * Math.PI * m) / 1440) + noise };
      }),
  },
];

/** Imported after the local system set the environment, as the functions import it. */
type Db = typeof import('../lib/store/db.ts');

async function measureShape(client: Client, db: Db, sqs: ReturnType<typeof instrumentSqs>, shape: Shape): Promise<Record<string, unknown>> {
  const jobId = `bench-cost-${shape.name}`;
  await deleteIfExists(client, jobId);
  await client.ml.putJob({ job_id: jobId, analysis_config: shape.analysis, data_description: { time_field: 'timestamp', time_format: 'epoch_ms' } });
  await client.ml.openJob({ job_id: jobId });
  await client.ml.postData({ job_id: jobId, data: shape.post(0) }); // warm-up: not counted

  const bodies = Array.from({ length: POSTS }, (_, i) => shape.post(i + 1));
  const bodyBytes = bodies.map((b) => Buffer.byteLength(`${b.map((r) => JSON.stringify(r)).join('\n')}\n`));
  db.resetCapacityStats();
  sqs.reset();
  let httpMs = 0;
  let processed = 0;
  const t0 = performance.now();
  for (const data of bodies) {
    const s = performance.now();
    processed = (await client.ml.postData({ job_id: jobId, data })).processed_record_count;
    httpMs += performance.now() - s;
  }
  const wallMs = performance.now() - t0;
  // The answer can come before the worker has deleted its last message: count its whole batch.
  await sqs.settled(30_000);
  const ddb = db.capacityStats();
  const q = sqs.counts();
  const records = POSTS * PER_POST;
  if (processed !== records + PER_POST) throw new Error(`${shape.name}: job processed ${processed} records, expected ${records + PER_POST}`);
  if (ddb.writeUnits === 0) throw new Error(`${shape.name}: no DynamoDB write units counted: is MLPLANE_CAPACITY_STATS reaching the functions' client?`);

  const perMillion = (x: number): number => (x / records) * 1e6;
  const workerGbS = (q.workerMs / 1000) * (workers.commands.memoryMiB / 1024);
  const httpGbS = (httpMs / 1000) * (HTTP_MEMORY_MIB / 1024);
  const lambdaRequests = POSTS + q.workerBatches;
  const apiRequests = bodyBytes.reduce((s, b) => s + Math.max(1, Math.ceil(b / HTTP_API_CHUNK_BYTES)), 0);
  const wru = ddb.writeUnits + ddb.conditionFailures;
  const dollars = {
    dynamoDbWrites: (wru / 1e6) * PRICES.dynamoDbPerMillionWru,
    dynamoDbReads: (ddb.readUnits / 1e6) * PRICES.dynamoDbPerMillionRru,
    sqs: (q.billedRequests / 1e6) * PRICES.sqsFifoPerMillionRequests,
    lambdaDuration: (workerGbS + httpGbS) * PRICES.lambdaArmPerGbSecond,
    lambdaRequests: (lambdaRequests / 1e6) * PRICES.lambdaPerMillionRequests,
    apiGateway: (apiRequests / 1e6) * PRICES.httpApiPerMillionRequests,
  };
  const total = Object.values(dollars).reduce((a, b) => a + b, 0);
  const perMillionDollars = Object.fromEntries(Object.entries(dollars).map(([k, v]) => [k, round6(perMillion(v))]));
  const out = {
    description: shape.description,
    posts: POSTS,
    recordsPerPost: PER_POST,
    records,
    wallMs: round1(wallMs),
    recordsPerSecond: Math.round((records / wallMs) * 1000),
    bodyBytes: bodyBytes.reduce((a, b) => a + b, 0),
    dynamoDb: {
      writeUnits: round1(ddb.writeUnits),
      readUnits: round1(ddb.readUnits),
      conditionFailures: ddb.conditionFailures,
      requests: ddb.requests,
      unitsByCommand: Object.fromEntries(Object.entries(ddb.unitsByCommand).map(([k, v]) => [k, round1(v)])),
      writeUnitsPerMillionRecords: Math.round(perMillion(wru)),
      // Where the units go, by item kind (key prefixes, `lib/store/db.ts#keyKindOf`), largest first.
      writeUnitsPerMillionRecordsByKind: Object.fromEntries(
        Object.entries(ddb.unitsByKind)
          .filter(([, v]) => v.writeUnits > 0)
          .sort(([, a], [, b]) => b.writeUnits - a.writeUnits)
          .map(([k, v]) => [k, { units: Math.round(perMillion(v.writeUnits)), items: v.writes }]),
      ),
      readUnitsPerMillionRecordsByKind: Object.fromEntries(
        Object.entries(ddb.unitsByKind)
          .filter(([, v]) => v.readUnits > 0)
          .sort(([, a], [, b]) => b.readUnits - a.readUnits)
          .map(([k, v]) => [k, { units: Math.round(perMillion(v.readUnits)), requests: v.reads }]),
      ),
      readUnitsPerMillionRecords: Math.round(perMillion(ddb.readUnits)),
    },
    sqs: { ...q, workerMs: round1(q.workerMs), billedRequestsPerMillionRecords: Math.round(perMillion(q.billedRequests)) },
    lambda: {
      requests: lambdaRequests,
      workerBatches: q.workerBatches,
      workerSeconds: round1(q.workerMs / 1000),
      workerMemoryMiB: workers.commands.memoryMiB,
      httpSeconds: round1(httpMs / 1000),
      httpMemoryMiB: HTTP_MEMORY_MIB,
      gbSecondsPerMillionRecords: round1(perMillion(workerGbS + httpGbS)),
    },
    apiGateway: { requests: apiRequests },
    dollarsPerMillionRecords: { ...perMillionDollars, total: round6(perMillion(total)) },
  };
  console.log(`cost (${shape.name}): ${JSON.stringify(out)}`);
  // Closed but not deleted here: a deletion running on in the background would write (delete)
  // the job's results while the next shape is being counted. main() deletes the jobs at the end.
  await client.ml.closeJob({ job_id: jobId, force: true });
  return out;
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

async function main(): Promise<void> {
  if (process.env.ES_URL) throw new Error('bench/cost.ts counts inside the functions: run it without ES_URL');
  process.env.MLPLANE_CAPACITY_STATS = '1';
  process.env.LOG_LEVEL ??= 'warn';
  const sqs = instrumentSqs();
  const system = await connect();
  const { client } = system;
  try {
    const db = (await import('../lib/store/db.ts')) as Db;
    const results: Record<string, unknown> = { system: 'in-process startLocalSystem (DynamoDB Local + fauxqs)', prices: PRICES, pricesDate: '2026-11-26', region: 'us-east-1' };
    const perShape: Record<string, { dollarsPerMillionRecords: { total: number }; dynamoDb: { writeUnitsPerMillionRecords: number; readUnitsPerMillionRecords: number } }> = {};
    for (const shape of shapes) {
      const r = await measureShape(client, db, sqs, shape);
      results[shape.name] = r;
      perShape[shape.name] = r as (typeof perShape)[string];
    }
    for (const shape of shapes) await client.ml.deleteJob({ job_id: `bench-cost-${shape.name}`, force: true, wait_for_completion: false });
    const label = { lookback: '1 series, 1 record per bucket', e2e: '100 series, 5 records per bucket per series' } as const;
    writeResult('cost', {
      results,
      figures: shapes.flatMap((s) => [
        { figure: `cost per million records, ${label[s.name]}`, measured: perShape[s.name]?.dollarsPerMillionRecords.total, unit: '$', goal: { max: 0.02 } },
        { figure: `DynamoDB write units per million records, ${label[s.name]}`, measured: perShape[s.name]?.dynamoDb.writeUnitsPerMillionRecords, unit: 'WRU' },
        { figure: `DynamoDB read units per million records, ${label[s.name]}`, measured: perShape[s.name]?.dynamoDb.readUnitsPerMillionRecords, unit: 'RRU' },
      ]),
    });
  } finally {
    await system.stop();
  }
}

await runMain(main);
