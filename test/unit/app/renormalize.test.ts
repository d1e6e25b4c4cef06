import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AnomalyModel, BucketResult, RecordResult } from '../../../lib/detect/index.ts';
import { RenormalizationDeferred } from '../../../lib/domain/errors.ts';
import type { JobConfig } from '../../../lib/domain/job/types.ts';
import { newJobRuntime, type JobRuntime } from '../../../lib/domain/state.ts';
import { memoryTable } from '../store/memory-table.ts';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
const ddb = mockClient(DynamoDBDocumentClient);

const state = vi.hoisted(() => ({ rt: undefined as JobRuntime | undefined, model: undefined as unknown }));
vi.mock('../../../lib/store/jobs.ts', () => ({
  getJobConfig: async () => ({ config: { job_id: 'job-r', analysis_config: { bucket_span: '1h' } } as unknown as JobConfig, version: 1 }),
  getJobRuntime: async () => state.rt,
  putJobRuntime: async (next: JobRuntime) => {
    if (next.version !== (state.rt?.version ?? 0) + 1) throw new Error('stale');
    state.rt = next;
  },
}));
vi.mock('../../../lib/app/live-model.ts', () => ({ loadModel: async () => state.model, effectiveConfig: (j: unknown) => j }));
vi.mock('../../../lib/app/job-lookup.ts', () => ({ upgradeModeHalts: async () => false }));
vi.mock('../../../lib/app/commands.ts', () => ({ submitCommand: vi.fn() }));

const { applyRenormalize } = await import('../../../lib/app/renormalize.ts');
const { writeResults, SCORE_INDEX_FLOOR } = await import('../../../lib/store/results.ts');
const { decodeBucketPart, entriesOfPart, scoreItems } = await import('../../../lib/store/result-parts.ts');
const { keys } = await import('../../../lib/store/keys.ts');

const JOB = 'job-r';
const SPAN = 3_600_000;
const T0 = Date.UTC(2026, 4, 1);

function bucket(i: number, score: number, description = 'mean'): BucketResult {
  const record: RecordResult = {
    job_id: JOB,
    result_type: 'record',
    probability: 1e-6,
    record_score: score,
    initial_record_score: score,
    bucket_span: 3600,
    detector_index: 0,
    is_interim: false,
    timestamp: T0 + i * SPAN,
    function: 'mean',
    function_description: description,
    typical: [1],
    actual: [2],
  };
  return {
    job_id: JOB,
    timestamp: T0 + i * SPAN,
    result_type: 'bucket',
    bucket_span: 3600,
    anomaly_score: score,
    initial_anomaly_score: score,
    event_count: 1,
    is_interim: false,
    processing_time_ms: 0,
    bucket_influencers: [],
    records: score > 0 ? [record] : [],
  };
}

/** A model whose normalisers give bucket `i` the score `target(i)` (records alike), with the big-update rule's "nothing moved". */
function modelScoring(target: (i: number) => number): AnomalyModel {
  return {
    renormalize(b: BucketResult) {
      const s = target((b.timestamp - T0) / SPAN);
      if (b.anomaly_score === s && b.records.every((r) => r.record_score === s)) return { bucket: b, changed: false };
      return { bucket: { ...b, anomaly_score: s, records: b.records.map((r) => ({ ...r, record_score: s })) }, changed: true };
    },
  } as unknown as AnomalyModel;
}

// Three posts of 4 hours each (three groups, one part each): anomalies at hours 1 (60), 6 (80) and 9 (30).
const initial = (i: number) => (i === 1 ? 60 : i === 6 ? 80 : i === 9 ? 30 : 0);

let table: ReturnType<typeof memoryTable>;

/** The stored buckets, and whether the score index holds exactly their results at or above the floor. */
function storedState(): { scores: number[]; consistent: boolean } {
  const items = [...table.items.values()];
  const entries = items.filter((i) => String(i.pk).startsWith(`results#${JOB}#`) && String(i.sk).startsWith('b#')).flatMap((p) => entriesOfPart(decodeBucketPart(p, true)));
  entries.sort((a, b) => a.timestamp - b.timestamp);
  const want = scoreItems(JOB, entries, SCORE_INDEX_FLOOR)
    .map((i) => `${i.sk}|${i.doc}`)
    .sort();
  const have = items
    .filter((i) => i.pk === keys.resultScorePartition(JOB))
    .map((i) => `${i.sk}|${i.doc}`)
    .sort();
  return { scores: entries.map((e) => e.anomaly_score), consistent: JSON.stringify(want) === JSON.stringify(have) };
}

beforeEach(async () => {
  ddb.reset();
  table = memoryTable(ddb);
  for (let g = 0; g < 3; g++)
    await writeResults(
      JOB,
      Array.from({ length: 4 }, (_, k) => bucket(g * 4 + k, initial(g * 4 + k))),
    );
  state.rt = {
    ...newJobRuntime(JOB, 0),
    state: 'opened',
    model: { generation: 3, chunks: 1, bytes: 1 },
    renormalization: { generation: 4, requested: 1, done: 0, start: T0 + 2 * SPAN, end: T0 + 12 * SPAN },
    version: 1,
  };
});

describe('the renormalize command', () => {
  it('rescores the window through the layout and marks the pass done; results before the window keep their scores', async () => {
    state.model = modelScoring((i) => Math.round(initial(i) / 2));
    const out = await applyRenormalize(JOB);
    expect(out).toMatchObject({ renormalized: true, buckets: 10, updated: 2 });
    // Hour 1 is before the window (it starts at hour 2): 60 stays; 80 → 40 and 30 → 15 inside it.
    expect(storedState()).toEqual({ scores: [0, 60, 0, 0, 0, 0, 40, 0, 0, 15, 0, 0], consistent: true });
    expect(state.rt?.renormalization).toEqual({ generation: 4, requested: 1, done: 1 });
    expect(await applyRenormalize(JOB)).toEqual({ renormalized: false, buckets: 0, updated: 0 });
  });

  it('hands on between chunks, saving its cursor, and the next invocation resumes after it', async () => {
    state.model = modelScoring((i) => Math.round(initial(i) / 2));
    await expect(applyRenormalize(JOB, { chunkBuckets: 4, invocationBuckets: 4 })).rejects.toThrow(RenormalizationDeferred);
    // Two chunks (hours 0–3, of which 2–3 are in the window, and 4–7) are done and the cursor saved after them; the third is untouched.
    expect(state.rt?.renormalization?.cursor).toBe(T0 + 4 * SPAN + 1);
    expect(storedState().scores.slice(6, 10)).toEqual([40, 0, 0, 30]);
    expect(await applyRenormalize(JOB, { chunkBuckets: 4, invocationBuckets: 4 })).toMatchObject({ renormalized: true, buckets: 4 });
    expect(storedState()).toEqual({ scores: [0, 60, 0, 0, 0, 0, 40, 0, 0, 15, 0, 0], consistent: true });
  });

  it('hands on after a chunk when the invocation runs short of time', async () => {
    state.model = modelScoring(() => 0);
    await expect(applyRenormalize(JOB, { remainingMs: () => 5_000, chunkBuckets: 4 })).rejects.toThrow(RenormalizationDeferred);
    expect(storedState().scores.slice(0, 7)).toEqual([0, 60, 0, 0, 0, 0, 80]);
    expect(state.rt?.renormalization?.cursor).toBe(T0 + 1);
  });

  it('a crash in the score index step leaves old scores and is completed on the next run', async () => {
    state.model = modelScoring((i) => (i === 6 ? 20 : initial(i)));
    table.failBatchWrites = 1;
    await expect(applyRenormalize(JOB)).rejects.toThrow('crash');
    expect(storedState()).toEqual({ scores: [0, 60, 0, 0, 0, 0, 80, 0, 0, 30, 0, 0], consistent: true });
    await applyRenormalize(JOB);
    expect(storedState()).toEqual({ scores: [0, 60, 0, 0, 0, 0, 20, 0, 0, 30, 0, 0], consistent: true });
  });

  it('a chunk cut short by a crash is completed from its saved plan, even when the job took more data (other normalisers) meanwhile', async () => {
    state.model = modelScoring((i) => (i === 6 ? 20 : initial(i)));
    // The crash: after the score index moved, the part's rewrite fails.
    table.failPut = (item) => String(item.pk).startsWith(`results#${JOB}#`);
    await expect(applyRenormalize(JOB)).rejects.toThrow('crash');
    expect(table.items.has(`${keys.renormalizationPlan(JOB).pk}\u0000${keys.renormalizationPlan(JOB).sk}`)).toBe(true);
    // Run again with other normalisers: the entry put under 20 must not outlive the rerun.
    table.failPut = undefined;
    state.model = modelScoring((i) => (i === 6 ? 50 : initial(i)));
    await applyRenormalize(JOB);
    expect(storedState()).toEqual({ scores: [0, 60, 0, 0, 0, 0, 50, 0, 0, 30, 0, 0], consistent: true });
    expect(table.items.has(`${keys.bucketScore(JOB, 20, T0 + 6 * SPAN).pk}\u0000${keys.bucketScore(JOB, 20, T0 + 6 * SPAN).sk}`)).toBe(false);
    expect(table.items.has(`${keys.renormalizationPlan(JOB).pk}\u0000${keys.renormalizationPlan(JOB).sk}`)).toBe(false);
  });

  it("keeps a summary right when its group's parts are rescored in different chunks", async () => {
    // One month of buckets with long records: a group of several parts.
    const long = 'x'.repeat(2000);
    const score = (i: number) => (i === 10 ? 60 : i === 500 ? 80 : 1);
    table.items.clear();
    await writeResults(
      JOB,
      Array.from({ length: 700 }, (_, i) => bucket(i, score(i), long)),
    );
    const summary = () => [...table.items.values()].find((i) => i.pk === keys.resultsIndexPartition(JOB) && /^\d{15}$/.test(String(i.sk))) as unknown as { parts: string };
    const listed = JSON.parse(summary().parts) as [number, number, number, number, number][];
    expect(listed.length).toBeGreaterThan(2);
    state.rt = { ...(state.rt as JobRuntime), renormalization: { generation: 4, requested: 1, done: 0, start: T0, end: T0 + 700 * SPAN } };
    state.model = modelScoring((i) => (i === 10 ? 30 : i === 500 ? 40 : 1));
    await applyRenormalize(JOB, { chunkBuckets: 1 });
    const tops = (JSON.parse(summary().parts) as [number, number, number, number, number][]).map((p) => p[3]);
    const partOf = (i: number) => listed.filter(([t]) => t <= T0 + i * SPAN).length - 1;
    expect(tops[partOf(10)]).toBe(30);
    expect(tops[partOf(500)]).toBe(40);
    expect(tops.filter((t) => t === 1).length).toBe(listed.length - 2);
    expect(storedState().consistent).toBe(true);
  });

  it('does nothing for a job with no pass pending, or one that is gone', async () => {
    state.model = modelScoring(() => 0);
    state.rt = { ...(state.rt as JobRuntime), renormalization: { generation: 4, requested: 2, done: 2 } };
    expect(await applyRenormalize(JOB)).toEqual({ renormalized: false, buckets: 0, updated: 0 });
    state.rt = undefined;
    expect(await applyRenormalize(JOB)).toEqual({ renormalized: false, buckets: 0, updated: 0 });
    expect(storedState().scores[6]).toBe(80);
  });
});
