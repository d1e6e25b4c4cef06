import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { BucketResult, EmptyRun, InfluencerResult } from '../../../lib/detect/index.ts';
import { memoryTable } from '../store/memory-table.ts';
import { compare, pseudoScore } from './result-pages.ts';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
const ddb = mockClient(DynamoDBDocumentClient);
const JOBS = [
  { job_id: 'j', groups: ['g'], analysis_config: { bucket_span: '5m' } },
  { job_id: 'k', groups: ['g'], analysis_config: { bucket_span: '10m' } },
];
vi.mock('../../../lib/store/jobs.ts', () => ({ getJobConfig: async (id: string) => ({ job_id: id }), listJobConfigs: async () => JOBS }));
const { getInfluencers } = await import('../../../lib/app/results.ts');
const { getOverallBuckets } = await import('../../../lib/app/overall-buckets.ts');
const { writeResults, SCORE_INDEX_FLOOR } = await import('../../../lib/store/results.ts');

const SPAN_S = 300;
const SPAN = SPAN_S * 1000;
const T0 = Date.UTC(2026, 0, 31, 12);
/** A deterministic score in [0, 100): mostly low, some above the score index floor, some ties. */
const score = (i: number, salt: number) => pseudoScore(i, salt, 60);

function influencer(i: number, n: number, interim: boolean): InfluencerResult {
  const value = `host-${(i + n) % 7}`;
  return {
    job_id: 'j',
    result_type: 'influencer',
    influencer_field_name: 'host',
    influencer_field_value: value,
    host: value,
    influencer_score: score(i, n + 1),
    initial_influencer_score: score(i, n + 1),
    probability: 0.01,
    bucket_span: SPAN_S,
    is_interim: interim,
    timestamp: T0 + i * SPAN,
  };
}

/** Bucket i of job `job` (span `spanS`): influencers on most buckets of j, none on k. */
function bucket(i: number, interim = false, job = 'j', spanS = SPAN_S): BucketResult {
  const n = job === 'j' ? (i % 4 === 0 ? 0 : i % 3 === 0 ? 2 : 1) : 0;
  return {
    job_id: job,
    timestamp: T0 + i * spanS * 1000,
    result_type: 'bucket',
    bucket_span: spanS,
    anomaly_score: score(i, job === 'j' ? 0 : 9),
    initial_anomaly_score: score(i, 0),
    event_count: i,
    is_interim: interim,
    processing_time_ms: 1,
    bucket_influencers: [],
    records: [],
    ...(n > 0 ? { influencers: Array.from({ length: n }, (_, k) => influencer(i, k, interim)) } : {}),
  };
}

const table = memoryTable(ddb);
beforeEach(() => {
  table.items.clear();
  table.reads = 0;
});

const base = { influencerScore: 0, excludeInterim: false, sort: 'influencer_score', desc: true, from: 0, size: 100 };
type Q = typeof base & { start?: number; end?: number };

function expected(all: InfluencerResult[], q: Q) {
  const docs = (all as unknown as Record<string, unknown>[])
    .filter((i) => (q.start === undefined || (i.timestamp as number) >= q.start) && (q.end === undefined || (i.timestamp as number) < q.end))
    .filter((i) => (i.influencer_score as number) >= q.influencerScore && !(q.excludeInterim && i.is_interim))
    .sort(compare(q.sort, q.desc));
  return { count: docs.length, influencers: docs.slice(q.from, q.from + q.size) };
}

describe('influencer pages over packed parts', () => {
  it('answers every sort, filter and page as a sort of all the influencers would', async () => {
    const finals = Array.from({ length: 3_000 }, (_, i) => bucket(i));
    for (let i = 0; i < finals.length; i += 700) await writeResults('j', finals.slice(i, i + 700));
    const interim = bucket(3_000, true);
    await writeResults('j', [interim]);
    const all = [...finals, interim].flatMap((b) => b.influencers ?? []);
    const start = T0 + 411 * SPAN;
    const end = T0 + 2_603 * SPAN + 1;
    for (const q of [
      { ...base },
      { ...base, from: 20, size: 30 },
      { ...base, influencerScore: 75 },
      { ...base, influencerScore: SCORE_INDEX_FLOOR, start, desc: false, from: 3, size: 7 },
      { ...base, influencerScore: 50, sort: 'timestamp', desc: true },
      { ...base, influencerScore: 1, start, end },
      { ...base, sort: 'timestamp', desc: false, from: 700, size: 900 },
      { ...base, sort: 'timestamp', start, end, from: 5, size: 3_000, excludeInterim: true },
      { ...base, excludeInterim: true, size: 10_000 },
      { ...base, desc: false, from: 5_000, size: 10 },
    ] as Q[]) {
      // Ties (a timestamp sort within one bucket) keep the stored order, as Elasticsearch's stable sort does.
      expect(await getInfluencers('j', q), JSON.stringify(q)).toEqual(expected(all, q));
    }
  });

  it('reads the score index alone for influencer_score=75', async () => {
    const finals = Array.from({ length: 3_000 }, (_, i) => bucket(i));
    await writeResults('j', finals);
    const q = { ...base, influencerScore: 75 };
    const want = expected(
      finals.flatMap((b) => b.influencers ?? []),
      q,
    );
    expect(want.count).toBeGreaterThan(0);
    // Without the parts the answer is the same: it came from the score index.
    for (const key of [...table.items.keys()]) if (key.startsWith('results#j#')) table.items.delete(key);
    table.reads = 0;
    expect(await getInfluencers('j', q)).toEqual(want);
    expect(table.reads).toBeLessThanOrEqual(want.count + 10);
  });
});

describe('overall buckets over stored results', () => {
  it('reads each job’s bucket scores, interim buckets and empty runs, and merges them', async () => {
    // j: 5m buckets 0..23 (two hours), k: 10m buckets 0..11, then an empty run of k for the next hour.
    await writeResults(
      'j',
      Array.from({ length: 24 }, (_, i) => bucket(i)),
    );
    await writeResults('j', [bucket(24, true)]);
    const run: EmptyRun = { job_id: 'k', timestamp: T0 + 2 * 3_600_000, end: T0 + 3 * 3_600_000, bucket_span: 600 };
    await writeResults(
      'k',
      Array.from({ length: 12 }, (_, i) => bucket(i, false, 'k', 600)),
      [run],
    );
    const r = await getOverallBuckets('g', { topN: 2, overallScore: 0, excludeInterim: false }, true);
    // The histogram span is k's 10m: per 10 minutes, j's two buckets and k's one.
    expect(r.count).toBe(18);
    const at = (t: number) => r.overall_buckets.find((o) => o.timestamp === t);
    for (let m = 0; m < 12; m++) {
      const j = Math.max(score(2 * m, 0), score(2 * m + 1, 0));
      const k = score(m, 9);
      expect(at(T0 + m * 600_000)).toEqual({
        timestamp: T0 + m * 600_000,
        bucket_span: 600,
        overall_score: (j + k) / 2,
        jobs: [
          { job_id: 'j', max_anomaly_score: j },
          { job_id: 'k', max_anomaly_score: k },
        ],
        is_interim: false,
        result_type: 'overall_bucket',
      });
    }
    // The interim bucket of j at 2h falls with k's run; the run's other intervals hold k alone at 0.
    expect(at(T0 + 2 * 3_600_000)).toMatchObject({ is_interim: true, jobs: [{ job_id: 'j' }, { job_id: 'k', max_anomaly_score: 0 }] });
    expect(at(T0 + 2 * 3_600_000 + 600_000)).toMatchObject({ overall_score: 0, jobs: [{ job_id: 'k', max_anomaly_score: 0 }] });
    const excl = await getOverallBuckets('g', { topN: 2, overallScore: 0, excludeInterim: true }, true);
    expect(excl.overall_buckets.find((o) => o.timestamp === T0 + 2 * 3_600_000)?.jobs).toEqual([{ job_id: 'k', max_anomaly_score: 0 }]);
    const hourly = await getOverallBuckets('j,k', { topN: 2, overallScore: 0, excludeInterim: false, bucketSpanMs: 3_600_000, start: T0, end: T0 + 2 * 3_600_000 }, true);
    expect(hourly.overall_buckets.map((o) => [o.timestamp, o.bucket_span])).toEqual([
      [T0, 3600],
      [T0 + 3_600_000, 3600],
    ]);
    expect(hourly.overall_buckets[0]?.overall_score).toBe(Math.max(...r.overall_buckets.slice(0, 6).map((o) => o.overall_score)));
    await expect(getOverallBuckets('g', { topN: 1, overallScore: 0, excludeInterim: false, bucketSpanMs: 300_000 }, true)).rejects.toThrow(
      'Param [bucket_span] must be greater or equal to the max bucket_span [10m]',
    );
    expect(await getOverallBuckets('none-*', { topN: 1, overallScore: 0, excludeInterim: false }, true)).toEqual({ count: 0, overall_buckets: [] });
    await expect(getOverallBuckets('none-*', { topN: 1, overallScore: 0, excludeInterim: false }, false)).rejects.toThrow("No known job with id 'none-*'");
  });
});
