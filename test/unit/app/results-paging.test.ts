import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { deflateRawSync } from 'node:zlib';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { BucketResult, EmptyRun, RecordResult } from '../../../lib/detect/index.ts';
import { memoryTable } from '../store/memory-table.ts';
import { compare, pseudoScore } from './result-pages.ts';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
const ddb = mockClient(DynamoDBDocumentClient);
vi.mock('../../../lib/store/jobs.ts', () => ({ getJobConfig: async (id: string) => ({ job_id: id }) }));
const { getBuckets, getBucketsJson, getRecords } = await import('../../../lib/app/results.ts');
const { deleteResultsAt, deleteResultsBefore, queryBuckets, queryRecords, writeResults, SCORE_INDEX_FLOOR } = await import('../../../lib/store/results.ts');
const { decodeBucketPart, entriesOfPart, entryOf, PART_RAW_BYTES } = await import('../../../lib/store/result-parts.ts');
const { IllegalStateError } = await import('../../../lib/domain/errors.ts');

const SPAN_S = 300;
const SPAN = SPAN_S * 1000;
// 2026-01-31 12:00 UTC: the history crosses a month boundary (a group per month).
const T0 = Date.UTC(2026, 0, 31, 12);

/** A deterministic score in [0, 100): mostly low, some above the score index floor, some ties. */
const score = (i: number, salt: number) => pseudoScore(i, salt, 40);

function record(i: number, detector: number, interim = false): RecordResult {
  return {
    job_id: 'j',
    result_type: 'record',
    probability: 0.5,
    record_score: score(i, detector + 1),
    initial_record_score: score(i, detector + 1),
    bucket_span: SPAN_S,
    detector_index: detector,
    is_interim: interim,
    timestamp: T0 + i * SPAN,
    function: 'mean',
    function_description: 'mean',
    typical: [1],
    actual: [2],
  };
}

function bucket(i: number, interim = false): BucketResult {
  const records = i % 5 === 0 ? [] : i % 7 === 0 ? [record(i, 1, interim), record(i, 0, interim)] : [record(i, 0, interim)];
  return {
    job_id: 'j',
    timestamp: T0 + i * SPAN,
    result_type: 'bucket',
    bucket_span: SPAN_S,
    anomaly_score: score(i, 0),
    initial_anomaly_score: score(i, 0),
    event_count: i,
    is_interim: interim,
    processing_time_ms: 1,
    bucket_influencers: [],
    records,
  };
}

/** Everything of the job as the one-item-per-result layout served it, to compare pages with. */
interface Reference {
  buckets: Record<string, unknown>[];
  records: Record<string, unknown>[];
}

function expectedBuckets(
  ref: Reference,
  q: { start?: number; end?: number; anomalyScore: number; excludeInterim: boolean; sort: string; desc: boolean; from: number; size: number },
) {
  const all = ref.buckets
    .filter((b) => (q.start === undefined || (b.timestamp as number) >= q.start) && (q.end === undefined || (b.timestamp as number) < q.end))
    .filter((b) => (b.anomaly_score as number) >= q.anomalyScore && !(q.excludeInterim && b.is_interim))
    .sort(compare(q.sort, q.desc));
  return { count: all.length, buckets: all.slice(q.from, q.from + q.size) };
}

function expectedRecords(
  ref: Reference,
  q: { start?: number; end?: number; recordScore: number; excludeInterim: boolean; sort: string; desc: boolean; from: number; size: number },
) {
  const all = ref.records
    .filter((r) => (q.start === undefined || (r.timestamp as number) >= q.start) && (q.end === undefined || (r.timestamp as number) < q.end))
    .filter((r) => (r.record_score as number) >= q.recordScore && !(q.excludeInterim && r.is_interim))
    .sort(compare(q.sort, q.desc));
  return { count: all.length, records: all.slice(q.from, q.from + q.size) };
}

/** Writes buckets 0..n-1 in posts of `post` buckets (a lookback) and returns the reference view. */
async function lookback(n: number, post: number): Promise<Reference> {
  const all = Array.from({ length: n }, (_, i) => bucket(i));
  for (let i = 0; i < n; i += post) await writeResults('j', all.slice(i, i + post));
  return reference(all);
}

function reference(all: BucketResult[]): Reference {
  return {
    buckets: all.map(({ records: _r, model_plot: _p, ...b }) => b as Record<string, unknown>),
    records: all.flatMap((b) => [...b.records].sort((x, y) => x.detector_index - y.detector_index)) as unknown as Record<string, unknown>[],
  };
}

const table = memoryTable(ddb);
beforeEach(() => {
  table.items.clear();
  table.reads = 0;
});

const bucketQuery = { anomalyScore: 0, excludeInterim: false, expand: false, sort: 'timestamp', desc: false, from: 0, size: 100 };
const recordQuery = { recordScore: 0, excludeInterim: false, sort: 'record_score', desc: true, from: 0, size: 100 };

describe('results pages over packed parts', () => {
  it('packs a lookback into parts of about PART_RAW_BYTES, a group per post and month', async () => {
    await lookback(3_000, 1_000);
    const parts = [...table.items.keys()].filter((k) => k.startsWith('results#j#') && k.includes('\u0000b#'));
    const raw = 3_000 * JSON.stringify(bucket(1)).length;
    expect(parts.length).toBeGreaterThanOrEqual(Math.ceil(raw / PART_RAW_BYTES));
    expect(parts.length).toBeLessThan(3_000 / 100);
    // Parts live in the month partition of their first bucket.
    expect(new Set(parts.map((k) => k.split('\u0000')[0]))).toEqual(new Set(['results#j#2026-01', 'results#j#2026-02']));
  });

  it('answers every page in time order as the one-item-per-result layout did: crossing parts, past the end, newest first', async () => {
    const ref = await lookback(3_000, 700);
    const start = T0 + 411 * SPAN;
    const end = T0 + 2_603 * SPAN + 1;
    for (const q of [
      { ...bucketQuery },
      { ...bucketQuery, from: 850, size: 400 },
      { ...bucketQuery, from: 2_990, size: 100 },
      { ...bucketQuery, from: 3_000, size: 10 },
      { ...bucketQuery, desc: true, from: 5, size: 1_500 },
      { ...bucketQuery, start, end, from: 100, size: 1_000 },
      { ...bucketQuery, start, end, desc: true, from: 2_000, size: 1_000 },
      { ...bucketQuery, start, end, anomalyScore: 2, from: 3, size: 50 },
      { ...bucketQuery, start, end, anomalyScore: 2, desc: true, from: 3, size: 5_000 },
    ]) {
      expect(await getBuckets('j', q), JSON.stringify(q)).toEqual(expectedBuckets(ref, q));
      expect(JSON.parse(await getBucketsJson('j', q)), JSON.stringify(q)).toEqual(expectedBuckets(ref, q));
    }
    for (const q of [
      { ...recordQuery, sort: 'timestamp', desc: false },
      { ...recordQuery, sort: 'timestamp', desc: true, from: 700, size: 900 },
      { ...recordQuery, sort: 'timestamp', desc: true, start, end, from: 5, size: 3_000 },
      { ...recordQuery, sort: 'timestamp', recordScore: 3, from: 10, size: 20 },
      { ...recordQuery, sort: 'timestamp', from: 5_000, size: 20 },
    ]) {
      expect(await getRecords('j', q), JSON.stringify(q)).toEqual(expectedRecords(ref, q));
    }
  });

  it('answers score filters and score sorts from the score index as from the whole range', async () => {
    const ref = await lookback(3_000, 1_000);
    const start = T0 + 100 * SPAN;
    for (const q of [
      { ...recordQuery },
      { ...recordQuery, from: 20, size: 30 },
      { ...recordQuery, recordScore: 75 },
      { ...recordQuery, recordScore: SCORE_INDEX_FLOOR, start, desc: false, from: 3, size: 7 },
      { ...recordQuery, recordScore: 50, sort: 'timestamp', desc: true },
      { ...recordQuery, from: 120, size: 100 },
      { ...recordQuery, recordScore: 1, start },
    ]) {
      expect(await getRecords('j', q), JSON.stringify(q)).toEqual(expectedRecords(ref, q));
    }
    for (const q of [
      { ...bucketQuery, anomalyScore: 75, sort: 'anomaly_score', desc: true },
      { ...bucketQuery, anomalyScore: 30, start, from: 2, size: 10 },
      { ...bucketQuery, sort: 'anomaly_score', desc: true, from: 0, size: 10 },
      { ...bucketQuery, sort: 'event_count', desc: false, from: 100, size: 10 },
    ]) {
      expect(await getBuckets('j', q), JSON.stringify(q)).toEqual(expectedBuckets(ref, q));
    }
  });

  it('reads the score index alone for record_score=75 sorted by record_score', async () => {
    const ref = await lookback(3_000, 1_000);
    table.reads = 0;
    const q = { ...recordQuery, recordScore: 75 };
    const page = await getRecords('j', q);
    expect(page).toEqual(expectedRecords(ref, q));
    // The summaries (a handful), the retention floor, and the records scoring ≥ 75: no part.
    expect(table.reads).toBeLessThanOrEqual(page.count + 10);
  });

  it('reads the parts a page needs, not the history', async () => {
    await lookback(9_000, 3_000);
    const parts = [...table.items.keys()].filter((k) => k.startsWith('results#j#') && k.includes('\u0000b#')).length;
    table.reads = 0;
    const page = await getBuckets('j', { ...bucketQuery, from: 4_000, size: 100 });
    expect(page.count).toBe(9_000);
    expect(page.buckets).toHaveLength(100);
    const summaries = [...table.items.keys()].filter((k) => k.startsWith('resultsidx#')).length;
    expect(table.reads).toBeLessThanOrEqual(summaries + 1 + 2);
    expect(parts).toBeGreaterThan(6);
  });

  it('embeds each bucket’s records with expand, from parts and from the score index', async () => {
    const ref = await lookback(400, 400);
    for (const q of [
      { ...bucketQuery, expand: true, from: 10, size: 30 },
      { ...bucketQuery, expand: true, anomalyScore: 20 },
    ]) {
      const got = await getBuckets('j', q);
      const want = expectedBuckets(ref, q);
      expect(got.count).toBe(want.count);
      expect(got.buckets).toEqual(want.buckets.map((b) => ({ ...b, records: ref.records.filter((r) => r.timestamp === b.timestamp) })));
    }
  });

  it('pages buckets without reading their records: the records body is neither fetched nor needed', async () => {
    const ref = await lookback(3_000, 700);
    for (const [key, item] of table.items) if (key.startsWith('results#j#')) table.items.set(key, { ...item, zr: 'not records' });
    const start = T0 + 411 * SPAN;
    for (const q of [
      { ...bucketQuery, from: 850, size: 1_400 },
      { ...bucketQuery, start, desc: true, from: 10, size: 2_000 },
      { ...bucketQuery, anomalyScore: 3, from: 3, size: 500 },
    ]) {
      expect(JSON.parse(await getBucketsJson('j', q)), JSON.stringify(q)).toEqual(expectedBuckets(ref, q));
      expect(await getBuckets('j', q), JSON.stringify(q)).toEqual(expectedBuckets(ref, q));
    }
    await expect(getBuckets('j', { ...bucketQuery, expand: true })).rejects.toThrow();
  });

  it('answers from parts of the first packed format (a DATA_DIR written before the format tag) as from this one', async () => {
    const ref = await lookback(3_000, 700);
    // Rewrite every bucket part as main wrote it then: `z`, the deflated JSON array of its buckets with their records.
    for (const [key, item] of table.items) {
      if (!key.startsWith('results#j#') || !key.includes('\u0000b#')) continue;
      const entries = entriesOfPart(decodeBucketPart(item, true)).map((e) => JSON.stringify(entryOf(e)));
      table.items.set(key, { pk: item.pk, sk: item.sk, z: deflateRawSync(Buffer.from(`[${entries.join(',')}]`)) });
    }
    const start = T0 + 411 * SPAN;
    const end = T0 + 2_603 * SPAN + 1;
    for (const q of [
      { ...bucketQuery, from: 850, size: 400 },
      { ...bucketQuery, start, end, desc: true, from: 2_000, size: 1_000 },
      { ...bucketQuery, start, end, anomalyScore: 2, from: 3, size: 50 },
      { ...bucketQuery, sort: 'event_count', desc: false, from: 100, size: 10 },
    ]) {
      expect(await getBuckets('j', q), JSON.stringify(q)).toEqual(expectedBuckets(ref, q));
      expect(JSON.parse(await getBucketsJson('j', q)), JSON.stringify(q)).toEqual(expectedBuckets(ref, q));
    }
    const expanded = await getBuckets('j', { ...bucketQuery, expand: true, from: 10, size: 30 });
    expect(expanded.buckets).toEqual(
      expectedBuckets(ref, { ...bucketQuery, from: 10, size: 30 }).buckets.map((b) => ({ ...b, records: ref.records.filter((r) => r.timestamp === b.timestamp) })),
    );
    for (const q of [
      { ...recordQuery, sort: 'timestamp', desc: true, start, end, from: 5, size: 3_000 },
      { ...recordQuery, recordScore: 1, start },
    ]) {
      expect(await getRecords('j', q), JSON.stringify(q)).toEqual(expectedRecords(ref, q));
    }
    expect((await queryBuckets('j', { startMs: start, endMs: end })).buckets).toEqual(expectedBuckets(ref, { ...bucketQuery, start, end, size: 10_000 }).buckets);
  });

  it('serves a bucket written twice by a redelivered command once', async () => {
    const all = Array.from({ length: 50 }, (_, i) => bucket(i));
    await writeResults('j', all);
    await writeResults('j', all);
    expect((await getBuckets('j', { ...bucketQuery })).count).toBe(50);
    expect((await getRecords('j', { ...recordQuery })).count).toBe(expectedRecords(reference(all), { ...recordQuery }).count);
  });

  it('replaces interim results by the final ones, and leaves them out with exclude_interim', async () => {
    const all = Array.from({ length: 20 }, (_, i) => bucket(i));
    await writeResults('j', [...all.slice(0, 10), bucket(10, true)]);
    const withInterim = await getBuckets('j', { ...bucketQuery });
    expect(withInterim.count).toBe(11);
    expect(withInterim.buckets.at(-1)).toMatchObject({ timestamp: T0 + 10 * SPAN, is_interim: true });
    expect((await getBuckets('j', { ...bucketQuery, excludeInterim: true })).count).toBe(10);
    const interimRecords = (await getRecords('j', { ...recordQuery, sort: 'timestamp' })).records as RecordResult[];
    expect(interimRecords.filter((r) => r.is_interim)).toHaveLength(bucket(10).records.length);
    // The next batch: the interim bucket's deletion, then the final buckets.
    await deleteResultsAt('j', [T0 + 10 * SPAN]);
    await writeResults('j', all.slice(10));
    const ref = reference(all);
    expect(await getBuckets('j', { ...bucketQuery })).toEqual(expectedBuckets(ref, { ...bucketQuery }));
    expect(await getRecords('j', { ...recordQuery })).toEqual(expectedRecords(ref, { ...recordQuery }));
  });

  it('counts and pages the buckets of empty runs without materializing them', async () => {
    const run: EmptyRun = { job_id: 'j', timestamp: T0 + 10 * SPAN, end: T0 + 10 * SPAN + 1_000_000 * SPAN, bucket_span: SPAN_S };
    await writeResults(
      'j',
      Array.from({ length: 10 }, (_, i) => bucket(i)),
      [run],
    );
    await writeResults('j', [bucket(1_000_010)]);
    const all = await getBuckets('j', { ...bucketQuery, from: 999_998, size: 5 });
    expect(all.count).toBe(1_000_011);
    expect(all.buckets.map((b) => (b as { timestamp: number }).timestamp)).toEqual([0, 1, 2, 3, 4].map((k) => T0 + (999_998 + k) * SPAN));
    const desc = await getBuckets('j', { ...bucketQuery, desc: true, from: 1, size: 2, start: T0 + 5 * SPAN });
    expect(desc.count).toBe(1_000_006);
    expect(desc.buckets.map((b) => (b as { timestamp: number }).timestamp)).toEqual([T0 + 1_000_009 * SPAN, T0 + 1_000_008 * SPAN]);
    // A run that starts months before the range still reaches into it.
    const late = await getBuckets('j', { ...bucketQuery, start: T0 + 500_000 * SPAN, end: T0 + 500_003 * SPAN });
    expect(late).toMatchObject({ count: 3 });
  });

  it('refuses a job whose results only the one-item-per-result layout of an older DATA_DIR holds, rather than answer none', async () => {
    expect(await getBuckets('j', { ...bucketQuery })).toEqual({ count: 0, buckets: [] });
    table.items.set('results#j\u0000bucket#000000000000000', { pk: 'results#j', sk: 'bucket#000000000000000', doc: '{}' });
    await expect(getBuckets('j', { ...bucketQuery })).rejects.toMatchObject({
      type: 'illegal_state_exception',
      status: 500,
      message: expect.stringContaining('earlier results layout'),
    });
    await expect(getRecords('j', { ...recordQuery })).rejects.toBeInstanceOf(IllegalStateError);
  });

  it('hides results before the retention cutoff at once, and deletes the items wholly before it', async () => {
    const ref = await lookback(3_000, 1_000);
    const cutoff = T0 + 1_234 * SPAN;
    const deleted = await deleteResultsBefore('j', cutoff);
    expect(deleted).toBeGreaterThan(0);
    const q = { ...bucketQuery, from: 0, size: 5 };
    expect(await getBuckets('j', q)).toEqual(expectedBuckets(ref, { ...q, start: cutoff }));
    expect((await queryBuckets('j', {})).buckets[0]?.timestamp).toBe(cutoff);
    expect((await queryRecords('j', {})).every((r) => r.timestamp >= cutoff)).toBe(true);
    expect(await getRecords('j', { ...recordQuery, recordScore: 50 })).toEqual(expectedRecords(ref, { ...recordQuery, recordScore: 50, start: cutoff }));
  });
});
