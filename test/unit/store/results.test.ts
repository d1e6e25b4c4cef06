import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { brotliDecompressSync, deflateRawSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import type { BucketResult, EmptyRun } from '../../../lib/detect/index.ts';
import { memoryTable } from './memory-table.ts';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
const ddb = mockClient(DynamoDBDocumentClient);
const {
  deleteResultsBefore,
  newestBucketItem,
  queryBuckets,
  queryInfluencers,
  queryRecords,
  readIndex,
  readScoreIndex,
  resultItemKeys,
  writeResults,
  queryModelPlot,
  SCORE_INDEX_FLOOR,
} = await import('../../../lib/store/results.ts');
const { decodeBucketPart, decodePart, entriesOfPart, entryOf, packBuckets, PART_FORMAT, PART_RAW_BYTES, scoreItems } = await import('../../../lib/store/result-parts.ts');
const { keys, scoreHex } = await import('../../../lib/store/keys.ts');

/** One in-memory table for the file: the mock answers with the table wired last. */
const sharedTable = memoryTable(ddb);
const SPAN = 3_600_000;
const T0 = Date.UTC(2026, 2, 31, 20);

function bucket(i: number, extra: Partial<BucketResult> = {}): BucketResult {
  return {
    job_id: 'job-a',
    timestamp: T0 + i * SPAN,
    result_type: 'bucket',
    bucket_span: 3600,
    anomaly_score: i % 10 === 0 ? 80 : 1,
    initial_anomaly_score: 1,
    event_count: 1,
    is_interim: false,
    processing_time_ms: 0,
    bucket_influencers: [],
    records: [],
    ...extra,
  };
}

describe('score keys', () => {
  it('sort as the scores do, exactly', () => {
    const scores = [0, 1e-9, 0.5, 9.999999999, 10, 10.000000000001, 75, 99.99999999999999, 100];
    const keyed = [...scores].reverse().map(scoreHex).sort();
    expect(keyed).toEqual(scores.map(scoreHex));
    expect(new Set(keyed).size).toBe(scores.length);
  });
});

describe('packing final buckets into parts', () => {
  it('makes a group per UTC month, each part keyed by its first bucket in that month’s partition', () => {
    // Hours from March 31 20:00 to April 1 03:00: four buckets in March, four in April.
    const { summaries, parts } = packBuckets(
      'job-a',
      Array.from({ length: 8 }, (_, i) => bucket(i)),
    );
    expect(summaries.map((s) => [s.pk, s.sk])).toEqual([
      ['resultsidx#job-a', String(T0).padStart(15, '0')],
      ['resultsidx#job-a', String(T0 + 4 * SPAN).padStart(15, '0')],
    ]);
    expect(parts.map((p) => [p.pk, p.sk])).toEqual([
      ['results#job-a#2026-03', `b#${String(T0).padStart(15, '0')}`],
      ['results#job-a#2026-04', `b#${String(T0 + 4 * SPAN).padStart(15, '0')}`],
    ]);
    expect(entriesOfPart(decodeBucketPart(parts[1] as Record<string, unknown>, true)).map((b) => b.timestamp)).toEqual([4, 5, 6, 7].map((i) => T0 + i * SPAN));
    expect(JSON.parse(summaries[0]?.parts as string)).toEqual([[T0, 4, 0, 80, -1]]);
    expect(summaries[0]).toMatchObject({ last: T0 + 3 * SPAN, span: 3600 });
  });

  it('cuts a part at PART_RAW_BYTES of JSON and lists each with its counts and top scores', () => {
    const big = 'x'.repeat(10_000);
    const buckets = Array.from({ length: 200 }, (_, i) =>
      bucket(i % 4, {
        timestamp: T0 + 4 * SPAN + i * 60_000,
        records: [
          {
            job_id: 'job-a',
            result_type: 'record',
            probability: 1,
            record_score: i,
            initial_record_score: i,
            bucket_span: 3600,
            detector_index: 0,
            is_interim: false,
            timestamp: T0 + 4 * SPAN + i * 60_000,
            function: 'count',
            function_description: big,
            typical: [1],
            actual: [1],
          },
        ],
      }),
    );
    const { summaries, parts } = packBuckets('job-a', buckets);
    const listed = JSON.parse(summaries[0]?.parts as string) as number[][];
    expect(listed.length).toBe(parts.length);
    expect(parts.length).toBe(Math.ceil((200 * 10_400) / PART_RAW_BYTES));
    expect(listed.reduce((n, p) => n + (p[1] as number), 0)).toBe(200);
    for (const [n, p] of parts.entries()) {
      const entries = entriesOfPart(decodeBucketPart(p, true));
      expect(entries[0]?.timestamp).toBe(listed[n]?.[0]);
      expect(entries.length).toBe(listed[n]?.[1]);
      expect(Math.max(...entries.map((e) => e.records[0]?.record_score ?? -1))).toBe(listed[n]?.[4]);
    }
  });

  it('orders a bucket’s records by detector, keeping the model’s order within one', () => {
    const rec = (detector_index: number, record_score: number) => ({
      job_id: 'job-a',
      result_type: 'record' as const,
      probability: 1,
      record_score,
      initial_record_score: 0,
      bucket_span: 3600,
      detector_index,
      is_interim: false,
      timestamp: T0,
      function: 'count' as const,
      function_description: 'count',
      typical: [1] as [number],
      actual: [1] as [number],
    });
    const { parts } = packBuckets('job-a', [bucket(0, { records: [rec(1, 5), rec(0, 7), rec(1, 3), rec(0, 2)] })]);
    const [entry] = entriesOfPart(decodeBucketPart(parts[0] as Record<string, unknown>, true));
    expect(entry?.records.map((r) => [r.detector_index, r.record_score])).toEqual([
      [0, 7],
      [0, 2],
      [1, 5],
      [1, 3],
    ]);
  });

  it('stores a part as Brotli behind its tag byte, smaller than the DEFLATE of before', () => {
    const buckets = Array.from({ length: 500 }, (_, i) =>
      bucket(i, {
        bucket_influencers: [
          {
            job_id: 'job-a',
            result_type: 'bucket_influencer',
            influencer_field_name: 'bucket_time',
            initial_anomaly_score: 0,
            anomaly_score: 0,
            raw_anomaly_score: 0,
            probability: 1 - i / 1e7,
            timestamp: T0 + i * SPAN,
            bucket_span: 3600,
            is_interim: false,
          },
        ],
      }),
    );
    const { parts } = packBuckets('job-a', buckets);
    // The first part holds March's 4 buckets, the second April's 496.
    const part = parts[1] as { zb: Uint8Array; zr: Uint8Array };
    const zb = part.zb;
    expect(zb[0]).toBe(0xff);
    expect(part.zr[0]).toBe(0xff);
    const text = brotliDecompressSync(zb.subarray(1)).toString('utf8');
    expect(
      text
        .split('\n')
        .slice(1)
        .map((d) => JSON.parse(d).timestamp),
    ).toEqual(buckets.slice(4).map((b) => b.timestamp));
    // DEFLATE at its default level 6, as parts were written before: Brotli 5 is smaller.
    expect(zb.length).toBeLessThan(deflateRawSync(text).length);
  });

  it('reads a part written before as raw DEFLATE (no tag)', () => {
    const entries = [bucket(0), bucket(1)];
    expect(decodePart<BucketResult>(deflateRawSync(JSON.stringify(entries)))).toEqual(entries);
  });

  it('indexes only results at or above the floor, with their document and time', () => {
    const items = scoreItems('job-a', [bucket(0), bucket(1)], SCORE_INDEX_FLOOR);
    expect(items).toEqual([{ ...keys.bucketScore('job-a', 80, T0), t: T0, doc: expect.any(String) }]);
    expect(JSON.parse(items[0]?.doc as string)).not.toHaveProperty('records');
  });
});

describe('the bucket part format', () => {
  const rec = (i: number, detector_index: number) => ({
    job_id: 'job-a',
    result_type: 'record' as const,
    probability: 0.1,
    record_score: 40 + i,
    initial_record_score: 40 + i,
    bucket_span: 3600,
    detector_index,
    is_interim: false,
    timestamp: T0 + i * SPAN,
    function: 'mean' as const,
    function_description: 'mean\nline',
    typical: [1] as [number],
    actual: [2] as [number],
  });
  // Four hours of March 31 (one group, one part); records in detector order, as parts store
  // them; line feeds in values, which the format's lines must survive.
  const buckets = Array.from({ length: 4 }, (_, i) =>
    bucket(i, { records: i % 3 === 0 ? [] : [rec(i, 0), rec(i, 1)], event_count: i, bucket_influencers: [{ influencer_field_name: `line\nfeed ${i}` } as never] }),
  );
  const withoutRecords = buckets.map(({ records: _r, ...doc }) => doc);

  it('keeps the bucket documents apart from their records: a header of timestamps and scores, a document a line', () => {
    const [item] = packBuckets('job-a', buckets).parts as Record<string, unknown>[];
    expect(item).toMatchObject({ f: PART_FORMAT });
    expect(item?.z).toBeUndefined();
    // Read without records, as a page of buckets reads it: the records body is not even needed.
    const part = decodeBucketPart({ ...item, zr: undefined }, false);
    expect(part.t).toEqual(buckets.map((b) => b.timestamp));
    expect(part.s).toEqual(buckets.map((b) => b.anomaly_score));
    expect(part.docs.map((d) => JSON.parse(d))).toEqual(withoutRecords);
    expect(part.records).toBeUndefined();
    expect(() => entriesOfPart(part)).toThrow('without its records');
    expect(entriesOfPart(decodeBucketPart(item as Record<string, unknown>, true))).toEqual(buckets);
  });

  it('reads a part of the first packed format (one body of buckets with their records embedded) as the same part', () => {
    const [item] = packBuckets('job-a', buckets).parts as Record<string, unknown>[];
    // A part as main wrote it before the format tag: `z`, a deflated JSON array of entries.
    const old = { pk: item?.pk, sk: item?.sk, z: deflateRawSync(Buffer.from(`[${buckets.map((b) => JSON.stringify(entryOf(b))).join(',')}]`)) };
    for (const withRecords of [false, true]) {
      const part = decodeBucketPart(old, withRecords);
      expect(part.t).toEqual(buckets.map((b) => b.timestamp));
      expect(part.s).toEqual(buckets.map((b) => b.anomaly_score));
      expect(part.docs).toEqual(decodeBucketPart(item as Record<string, unknown>, false).docs);
      expect(entriesOfPart(part)).toEqual(buckets);
    }
  });

  it('refuses a part format it does not know, naming the part', () => {
    const [item] = packBuckets('job-a', buckets).parts as Record<string, unknown>[];
    expect(() => decodeBucketPart({ ...item, f: PART_FORMAT + 1 }, false)).toThrow(`format ${PART_FORMAT + 1}`);
  });
});

describe('influencers in the results layout', () => {
  const table = sharedTable;
  beforeEach(() => {
    ddb.resetHistory();
    table.items.clear();
  });
  const infl = (i: number, value: string, score: number, is_interim = false) => ({
    job_id: 'job-a',
    result_type: 'influencer' as const,
    influencer_field_name: 'host',
    influencer_field_value: value,
    host: value,
    influencer_score: score,
    initial_influencer_score: score,
    probability: 0.001,
    bucket_span: 3600,
    is_interim,
    timestamp: T0 + i * SPAN,
  });
  // Hours 0-2 of March 31: bucket 1 has two influencers; hour 3 is interim with one.
  const finals = [bucket(0), bucket(1, { influencers: [infl(1, 'web-2', 75), infl(1, 'web-1', 5)] }), bucket(2)];
  const interim = bucket(3, { is_interim: true, influencers: [infl(3, 'web-3', 40, true)] });

  it('stores them in their own body of the part, counted in the summary and indexed from the floor', async () => {
    await writeResults('job-a', [...finals, interim]);
    const part = table.items.get(`results#job-a#2026-03\u0000b#${String(T0).padStart(15, '0')}`) as Record<string, unknown>;
    expect(part.zi).toBeInstanceOf(Uint8Array);
    const summary = table.items.get(`resultsidx#job-a\u0000${String(T0).padStart(15, '0')}`) as Record<string, unknown>;
    expect(JSON.parse(summary.parts as string)).toEqual([[T0, 3, 0, 80, -1, 2, 75]]);
    const hits = await readScoreIndex('job-a', 'influencer', SCORE_INDEX_FLOOR, {});
    expect(hits).toEqual([{ doc: infl(1, 'web-2', 75), order: `${String(T0 + SPAN).padStart(15, '0')}#0000` }]);
    expect((await readIndex('job-a', {})).parts[0]).toMatchObject({ influencers: 2, maxInfluencerScore: 75 });
    // Served in time order, the interim bucket's too; never inside a bucket document.
    expect(await queryInfluencers('job-a', {})).toEqual([infl(1, 'web-2', 75), infl(1, 'web-1', 5), infl(3, 'web-3', 40, true)]);
    const { buckets } = await queryBuckets('job-a', {});
    expect(buckets).toHaveLength(4);
    expect(buckets.some((b) => 'influencers' in b)).toBe(false);
    expect(await queryRecords('job-a', {})).toEqual([]);
    // Deleting the job removes the score entry with the rest; retention past the bucket removes it too.
    expect((await resultItemKeys('job-a')).some((k) => k.sk.startsWith('i#'))).toBe(true);
    await deleteResultsBefore('job-a', T0 + 2 * SPAN);
    expect([...table.items.keys()].some((k) => k.startsWith('resultscore#job-a\u0000i#'))).toBe(false);
  });

  it('keeps parts without influencers as before: no body, a five-entry summary, entries without the key', () => {
    const { parts, summaries } = packBuckets('job-a', [bucket(0), bucket(1)]);
    expect(parts[0]?.zi).toBeUndefined();
    expect(JSON.parse(summaries[0]?.parts as string)).toEqual([[T0, 2, 0, 80, -1]]);
    const part = decodeBucketPart(parts[0] as Record<string, unknown>, true);
    expect(part.influencers).toEqual([[], []]);
    expect(entriesOfPart(part)).toEqual([bucket(0), bucket(1)]);
  });

  it('round-trips every kind through a part, and reads only the bodies asked for', () => {
    const [item] = packBuckets('job-a', finals).parts as Record<string, unknown>[];
    expect(entriesOfPart(decodeBucketPart(item as Record<string, unknown>, true))).toEqual(finals);
    const onlyInfluencers = decodeBucketPart({ ...item, zr: undefined }, false, true);
    expect(onlyInfluencers.records).toBeUndefined();
    expect(onlyInfluencers.influencers?.[1]).toEqual([infl(1, 'web-2', 75), infl(1, 'web-1', 5)]);
    expect(decodeBucketPart({ ...item, zi: undefined }, true, false).influencers).toBeUndefined();
    expect(scoreItems('job-a', finals, SCORE_INDEX_FLOOR).map((i) => i.sk)).toEqual([
      `b#${scoreHex(80)}#${String(T0).padStart(15, '0')}`,
      `i#${scoreHex(75)}#${String(T0 + SPAN).padStart(15, '0')}#0000`,
    ]);
  });
});

describe('the results retention adapter', () => {
  const table = sharedTable;
  beforeEach(() => {
    ddb.resetHistory();
    table.items.clear();
  });

  it('reads only the newest summary item: one item, newest first', async () => {
    expect(await newestBucketItem('job-a')).toBeUndefined();
    const run: EmptyRun = { job_id: 'job-a', timestamp: T0 + 10 * SPAN, end: T0 + 20 * SPAN, bucket_span: 3600 };
    await writeResults('job-a', [bucket(0), bucket(1)]);
    expect(await newestBucketItem('job-a')).toEqual({ timestamp: T0 + SPAN, bucket_span: 3600 });
    await writeResults('job-a', [], [run]);
    expect(await newestBucketItem('job-a')).toEqual({ timestamp: run.timestamp, end: run.end, bucket_span: 3600 });
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      ScanIndexForward: false,
      Limit: 1,
      ExpressionAttributeValues: { ':pk': 'resultsidx#job-a', ':lo': '000000000000000', ':hi': '~' },
    });
  });

  it('deletes the groups, parts, runs and score entries wholly before the cutoff and counts them', async () => {
    const run: EmptyRun = { job_id: 'job-a', timestamp: T0 - 5 * SPAN, end: T0, bucket_span: 3600 };
    // March: buckets 0-3 (bucket 0 scores 80); April: 4-7.
    await writeResults(
      'job-a',
      Array.from({ length: 8 }, (_, i) => bucket(i)),
      [run],
    );
    const before = table.items.size;
    // The cutoff inside April's group: March's group (summary, part), the run and bucket 0's score entry go.
    expect(await deleteResultsBefore('job-a', T0 + 5 * SPAN)).toBe(4);
    expect(table.items.size).toBe(before - 4 + 1); // + the retention floor
    expect(table.items.get(`resultsidx#job-a\u0000!retention`)).toMatchObject({ from: T0 + 5 * SPAN });
    // A lower cutoff later never lowers the floor.
    await deleteResultsBefore('job-a', T0);
    expect(table.items.get(`resultsidx#job-a\u0000!retention`)).toMatchObject({ from: T0 + 5 * SPAN });
  });

  it('serves the buckets of a table written before, parts as raw DEFLATE, beside parts written now', async () => {
    const buckets = Array.from({ length: 8 }, (_, i) => bucket(i));
    await writeResults('job-a', buckets);
    // Rewrite March's part as the code before stored it (April's stays Brotli).
    const march = table.items.get(`results#job-a#2026-03\u0000b#${String(T0).padStart(15, '0')}`) as unknown as { zb: Uint8Array; zr: Uint8Array };
    march.zb = deflateRawSync(brotliDecompressSync(march.zb.subarray(1)));
    march.zr = deflateRawSync(brotliDecompressSync(march.zr.subarray(1)));
    const { buckets: read } = await queryBuckets('job-a', { startMs: T0, endMs: T0 + 8 * SPAN });
    expect(read.map((b) => b.timestamp)).toEqual(buckets.map((b) => b.timestamp));
    expect(read[0]).toMatchObject({ anomaly_score: 80, job_id: 'job-a' });
  });

  it('lists every result item of a job for its deletion, the layout before packing included', async () => {
    await writeResults(
      'job-a',
      Array.from({ length: 8 }, (_, i) =>
        bucket(i, {
          model_plot: [
            {
              job_id: 'job-a',
              result_type: 'model_plot',
              bucket_span: 3600,
              detector_index: 0,
              timestamp: T0 + i * SPAN,
              model_lower: 0,
              model_upper: 1,
              model_median: 0.5,
              actual: 1,
            } as never,
          ],
        }),
      ),
    );
    table.items.set(`results#job-a\u0000bucket#1`, { pk: 'results#job-a', sk: 'bucket#1' });
    expect(await queryModelPlot('job-a', {})).toHaveLength(8);
    const listed = await resultItemKeys('job-a');
    expect(listed.map((k) => `${k.pk}\u0000${k.sk}`).sort()).toEqual([...table.items.keys()].sort());
  });
});
