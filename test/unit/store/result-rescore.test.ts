import { describe, expect, it } from 'vitest';
import type { BucketResult, InfluencerResult, RecordResult } from '../../../lib/detect/index.ts';
import { keys } from '../../../lib/store/keys.ts';
import { type BucketEntry, decodeBucketPart, entriesOfPart, PART_FORMAT, type PartSummary, packBuckets, scoreItems } from '../../../lib/store/result-parts.ts';
import { type GroupItem, planRescore, planWrites, type RescorePlan } from '../../../lib/store/result-rescore.ts';

const JOB = 'job-r';
const SPAN = 3_600_000;
const T0 = Date.UTC(2026, 4, 1);
const FLOOR = 10;

function rec(i: number, score: number, detector = 0): RecordResult {
  return {
    job_id: JOB,
    result_type: 'record',
    probability: 1e-6,
    record_score: score,
    initial_record_score: score,
    bucket_span: 3600,
    detector_index: detector,
    is_interim: false,
    timestamp: T0 + i * SPAN,
    function: 'mean',
    function_description: 'mean',
    typical: [1],
    actual: [2],
  };
}

function infl(i: number, score: number, value = 'web-2'): InfluencerResult {
  return {
    job_id: JOB,
    result_type: 'influencer',
    influencer_field_name: 'host',
    influencer_field_value: value,
    influencer_score: score,
    initial_influencer_score: score,
    probability: 1e-6,
    bucket_span: 3600,
    is_interim: false,
    timestamp: T0 + i * SPAN,
  };
}

function bucket(i: number, score: number, records: RecordResult[] = []): BucketResult {
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
    bucket_influencers: [
      {
        job_id: JOB,
        result_type: 'bucket_influencer',
        influencer_field_name: 'bucket_time',
        initial_anomaly_score: score,
        anomaly_score: score,
        raw_anomaly_score: score / 10,
        probability: 1e-6,
        timestamp: T0 + i * SPAN,
        bucket_span: 3600,
        is_interim: false,
      },
    ],
    records,
  };
}

type Store = Map<string, Record<string, unknown>>;
const id = (k: { pk: unknown; sk: unknown }) => `${String(k.pk)}\u0000${String(k.sk)}`;

/** A job's results as `writeResults` stores them: parts, score index, summaries. */
function stored(buckets: BucketResult[]): Store {
  const { parts, summaries } = packBuckets(JOB, buckets);
  const store: Store = new Map();
  for (const item of [...parts, ...scoreItems(JOB, buckets, FLOOR), ...summaries]) store.set(id(item as { pk: string; sk: string }), item);
  return store;
}

const ofKind = (store: Store, prefix: string) => [...store.values()].filter((i) => String(i.pk).startsWith(prefix));
const partItems = (store: Store) => ofKind(store, `results#${JOB}#`).filter((i) => String(i.sk).startsWith('b#'));
const groups = (store: Store) => ofKind(store, `resultsidx#${JOB}`) as GroupItem[];
const entries = (store: Store): BucketEntry[] => partItems(store).flatMap((p) => entriesOfPart(decodeBucketPart(p, true)));

/**
 * A rescoring that gives each result the score `target` says for its bucket index (records,
 * influencers and bucket alike), like `AnomalyModel.renormalize`: undefined when nothing moves.
 */
function rescoreTo(target: (i: number) => number) {
  return (b: BucketEntry): BucketEntry | undefined => {
    const s = target((b.timestamp - T0) / SPAN);
    const moved = b.anomaly_score !== s || b.records.some((r) => r.record_score !== s) || (b.influencers ?? []).some((x) => x.influencer_score !== s);
    if (!moved) return undefined;
    return {
      ...b,
      anomaly_score: s,
      bucket_influencers: b.bucket_influencers.map((x) => ({ ...x, anomaly_score: s })),
      records: b.records.map((r) => ({ ...r, record_score: s })),
      ...(b.influencers ? { influencers: b.influencers.map((x) => ({ ...x, influencer_score: s })) } : {}),
    };
  };
}

function plan(store: Store, target: (i: number) => number, planned?: string[], range = { startMs: 0, endMs: Number.MAX_SAFE_INTEGER }): RescorePlan {
  return planRescore({ jobId: JOB, groups: groups(store), parts: partItems(store), ...range, floor: FLOOR, rescore: rescoreTo(target), ...(planned ? { planned } : {}) });
}

/** The plan's steps, in order, as functions over the store (a part or summary deleted meanwhile is not brought back). */
function steps(p: RescorePlan, store: Store): (() => void)[] {
  const replace = (items: Record<string, unknown>[]) => () => {
    for (const i of items) if (store.has(id(i as { pk: string; sk: string }))) store.set(id(i as { pk: string; sk: string }), i);
  };
  return [
    replace(p.raise),
    () => {
      for (const i of p.scorePuts) store.set(id(i as { pk: string; sk: string }), i);
      for (const k of p.scoreDeletes) store.delete(id(k));
    },
    replace(p.parts),
    replace(p.summaries),
  ];
}

const run = (p: RescorePlan, store: Store) => {
  for (const s of steps(p, store)) s();
};

/** The layout's invariants: the score index is exactly the parts' results at or above the floor, and each summary lists its parts' top scores. */
function expectConsistent(store: Store): void {
  const all = entries(store);
  const want = new Map(scoreItems(JOB, all, FLOOR).map((i) => [i.sk as string, i.doc]));
  const have = new Map(ofKind(store, `resultscore#${JOB}`).map((i) => [i.sk as string, i.doc]));
  expect([...have.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [sk, doc] of want) expect(have.get(sk)).toBe(doc);
  for (const g of groups(store)) {
    for (const [t, , , maxB, maxR, , maxI] of JSON.parse(g.parts) as PartSummary[]) {
      const inPart = all.filter((e) => e.timestamp >= t && e.timestamp <= g.last);
      const part = partItems(store).find((p) => p.sk === keys.resultBucketPart(JOB, t).sk) as Record<string, unknown>;
      const own = entriesOfPart(decodeBucketPart(part, true));
      expect(inPart.length).toBeGreaterThanOrEqual(own.length);
      expect(maxB).toBe(Math.max(-1, ...own.map((e) => e.anomaly_score)));
      expect(maxR).toBe(Math.max(-1, ...own.flatMap((e) => e.records.map((r) => r.record_score))));
      if (maxI !== undefined) expect(maxI).toBe(Math.max(-1, ...own.flatMap((e) => (e.influencers ?? []).map((x) => x.influencer_score))));
    }
  }
}

// Bucket 2 is a moderate anomaly (60, its record 60), bucket 5 a big one (90), bucket 8 a small one (12); the rest score 0–1.
const history = () =>
  stored(
    Array.from({ length: 10 }, (_, i) =>
      i === 2 ? bucket(i, 60, [rec(i, 60)]) : i === 5 ? bucket(i, 90, [rec(i, 90)]) : i === 8 ? bucket(i, 12, [rec(i, 12)]) : bucket(i, i % 2),
    ),
  );
const original = (i: number) => (i === 2 ? 60 : i === 5 ? 90 : i === 8 ? 12 : i % 2);

describe('planning a renormalization chunk', () => {
  it('rewrites only what moved: the part, the score index entries of the moved results, and the summary when a top moved', () => {
    const store = history();
    // Bucket 2 drops to 20, bucket 8 to 5 (below the score index floor); the rest keep their scores.
    const p = plan(store, (i) => (i === 2 ? 20 : i === 8 ? 5 : original(i)));
    expect(p.updated).toBe(2);
    expect(p.unchanged).toBe(8);
    expect(p.parts).toHaveLength(1);
    expect(p.parts[0]).toMatchObject({ f: PART_FORMAT, pk: keys.resultBucketPart(JOB, T0).pk, sk: keys.resultBucketPart(JOB, T0).sk });
    const sks = (items: readonly Record<string, unknown>[]) => items.map((i) => String(i.sk)).sort();
    // Moved: bucket 2 and its record from 60 to 20; bucket 8 and its record from 12 to below the floor (only deleted).
    expect(sks(p.scoreDeletes)).toEqual(
      sks([
        keys.bucketScore(JOB, 60, T0 + 2 * SPAN),
        keys.recordScore(JOB, 60, T0 + 2 * SPAN, 0, 0),
        keys.bucketScore(JOB, 12, T0 + 8 * SPAN),
        keys.recordScore(JOB, 12, T0 + 8 * SPAN, 0, 0),
      ]),
    );
    expect(sks(p.scorePuts)).toEqual(sks([keys.bucketScore(JOB, 20, T0 + 2 * SPAN), keys.recordScore(JOB, 20, T0 + 2 * SPAN, 0, 0)]));
    // The tops (90, 90) did not move: no summary write at all.
    expect(p.raise).toEqual([]);
    expect(p.summaries).toEqual([]);
    run(p, store);
    expectConsistent(store);
    const after = entries(store);
    expect(after[2]).toMatchObject({ anomaly_score: 20, initial_anomaly_score: 60 });
    expect(after[2]?.records[0]).toMatchObject({ record_score: 20, initial_record_score: 60 });
    expect(after[2]?.bucket_influencers[0]).toMatchObject({ anomaly_score: 20, initial_anomaly_score: 60 });
  });

  it('raises a summary before the parts when a top rises, and sets it after them when a top falls', () => {
    const rising = plan(history(), (i) => (i === 5 ? 95 : original(i)));
    expect(rising.raise).toHaveLength(1);
    expect(JSON.parse(rising.raise[0]?.parts as string)[0]).toEqual([T0, 10, 3, 95, 95]);
    expect(rising.summaries).toEqual([]);
    const falling = plan(history(), (i) => (i === 5 ? 40 : original(i)));
    expect(falling.raise).toEqual([]);
    expect(JSON.parse(falling.summaries[0]?.parts as string)[0]).toEqual([T0, 10, 3, 60, 60]);
  });

  it('leaves results outside the window alone', () => {
    const store = history();
    const p = plan(store, () => 0, undefined, { startMs: T0 + 4 * SPAN, endMs: T0 + 9 * SPAN });
    run(p, store);
    const scores = entries(store).map((e) => e.anomaly_score);
    expect(scores).toEqual([0, 1, 60, 1, 0, 0, 0, 0, 0, 1]);
    expectConsistent(store);
  });

  it('is idempotent: planned twice it writes the same items, and once run there is nothing left to write', () => {
    const store = history();
    const target = (i: number) => (i === 2 ? 20 : i === 5 ? 70 : original(i));
    const first = plan(store, target);
    const again = plan(store, target);
    expect(again).toEqual(first);
    run(first, store);
    const snapshot = new Map(store);
    const after = plan(store, target);
    expect(planWrites(after)).toBe(false);
    run(first, store);
    expect(store).toEqual(snapshot);
  });

  for (const cut of [1, 2, 3]) {
    it(`a chunk cut after step ${cut} of 4 converges when run again, even with other normalisers, given its saved keys`, () => {
      const store = history();
      const first = plan(store, (i) => (i === 2 ? 20 : i === 5 ? 95 : original(i)));
      for (const s of steps(first, store).slice(0, cut)) s();
      // The job took more data meanwhile: the rerun scores bucket 2 at 30, not 20.
      const rerun = plan(store, (i) => (i === 2 ? 30 : i === 5 ? 95 : original(i)), first.planned);
      run(rerun, store);
      expectConsistent(store);
      expect(entries(store)[2]).toMatchObject({ anomaly_score: 30, initial_anomaly_score: 60 });
      expect(store.has(id(keys.bucketScore(JOB, 20, T0 + 2 * SPAN)))).toBe(false);
      expect(planWrites(plan(store, (i) => (i === 2 ? 30 : i === 5 ? 95 : original(i))))).toBe(false);
    });
  }

  it('without its saved keys, a rerun with other normalisers would leave an entry behind (why the plan is saved)', () => {
    const store = history();
    const first = plan(store, (i) => (i === 2 ? 20 : original(i)));
    for (const s of steps(first, store).slice(0, 2)) s();
    run(
      plan(store, (i) => (i === 2 ? 30 : original(i))),
      store,
    );
    expect(store.has(id(keys.bucketScore(JOB, 20, T0 + 2 * SPAN)))).toBe(true);
  });

  it('does not bring back a part deleted meanwhile (results retention)', () => {
    const store = history();
    const p = plan(store, () => 0);
    const part = keys.resultBucketPart(JOB, T0);
    store.delete(id(part));
    run(p, store);
    expect(store.has(id(part))).toBe(false);
  });

  it('keeps attributes of the part it does not know (documents added by later formats)', () => {
    const store = history();
    const part = partItems(store)[0] as Record<string, unknown>;
    store.set(id(part as { pk: string; sk: string }), { ...part, zq: new Uint8Array([1, 2, 3]) });
    const p = plan(store, (i) => (i === 2 ? 20 : original(i)));
    expect(p.parts[0]?.zq).toEqual(new Uint8Array([1, 2, 3]));
  });
});

describe('rescoring parts with influencers', () => {
  // Bucket 2 has an influencer (60) and bucket 5 a bucket and record top of 90 without one.
  const withInfluencer = () =>
    stored(Array.from({ length: 10 }, (_, i) => (i === 2 ? { ...bucket(i, 60, [rec(i, 60)]), influencers: [infl(i, 60)] } : i === 5 ? bucket(i, 90, [rec(i, 90)]) : bucket(i, 0))));
  const summary = (store: Store) => (JSON.parse((groups(store)[0] as GroupItem).parts) as PartSummary[])[0] as PartSummary;

  it('moves the influencer document, its score index entry and the summary top, keeping the count and initial_influencer_score', () => {
    const store = withInfluencer();
    expect(summary(store).slice(5)).toEqual([1, 60]);
    const p = plan(store, (i) => (i === 2 ? 20 : i === 5 ? 50 : 0));
    expect(p.scoreDeletes.map((k) => k.sk)).toContain(keys.influencerScore(JOB, 60, T0 + 2 * SPAN, 0).sk);
    expect(p.scorePuts.map((k) => k.sk)).toContain(keys.influencerScore(JOB, 20, T0 + 2 * SPAN, 0).sk);
    run(p, store);
    expectConsistent(store);
    expect(summary(store).slice(3)).toEqual([50, 50, 1, 20]);
    expect(entries(store).find((e) => e.timestamp === T0 + 2 * SPAN)?.influencers).toEqual([{ ...infl(2, 60), influencer_score: 20 }]);
  });

  it('raises the summary before the parts when only the influencer top rises', () => {
    // Bucket 2 rises to 80: the bucket and record tops (90) stay, the influencer top (60) rises.
    const p = plan(withInfluencer(), (i) => (i === 2 ? 80 : i === 5 ? 90 : 0));
    expect(p.raise).toHaveLength(1);
    expect(JSON.parse(p.raise[0]?.parts as string)[0]).toEqual([T0, 10, 2, 90, 90, 1, 80]);
    expect(p.summaries).toEqual([]);
  });

  for (const cut of [1, 2, 3]) {
    it(`a chunk cut after step ${cut} of 4 leaves no influencer entry behind when run again with other normalisers`, () => {
      const store = withInfluencer();
      const first = plan(store, (i) => (i === 2 ? 20 : i === 5 ? 90 : 0));
      for (const s of steps(first, store).slice(0, cut)) s();
      const rerun = plan(store, (i) => (i === 2 ? 30 : i === 5 ? 90 : 0), first.planned);
      run(rerun, store);
      expectConsistent(store);
      expect(store.has(id(keys.influencerScore(JOB, 20, T0 + 2 * SPAN, 0)))).toBe(false);
      expect(entries(store).find((e) => e.timestamp === T0 + 2 * SPAN)?.influencers?.[0]).toMatchObject({ influencer_score: 30, initial_influencer_score: 60 });
    });
  }
});
