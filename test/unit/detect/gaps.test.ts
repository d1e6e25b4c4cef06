import { describe, expect, it } from 'vitest';
import { AnomalyModel, MODEL_STATE_VERSION, ModelStateError, parseTime, type InputRecord } from '../../../lib/detect/index.ts';
import { ScoreNormalizer } from '../../../lib/detect/normalizer.ts';
import { HOUR, MINUTE, T0, makeSpec } from './helpers.ts';

const hourlyCount = (over: Parameters<typeof makeSpec>[1] = {}) => makeSpec({ function: 'count' }, { bucketSpanMs: HOUR, ...over });
const rec = (timeMs: number, fields: Record<string, unknown> = {}): InputRecord => ({ timeMs, fields });

/** The data: 2025-01-01T00:00Z, then 9999-01-01T00:00Z. */
const FIRST = 1735689600000;
const YEAR_9999 = 253370764800000;
/** 1h buckets between the two records: ES's bucket_count after the second one. */
const GAP_BUCKETS = (YEAR_9999 - FIRST) / HOUR;

describe('a gap of empty buckets', () => {
  it('a record in the year 9999 is finalised with bounded output and the counts Elasticsearch reports', () => {
    const m = AnomalyModel.create(hourlyCount());
    m.ingest([rec(FIRST)]);
    const out = m.ingest([rec(YEAR_9999)]);
    expect(out.processed_record_count).toBe(1);
    // The data bucket and the empty buckets the model learns from; the rest is one run.
    expect(out.buckets).toHaveLength(1 + m.horizon);
    expect(m.horizon).toBeLessThanOrEqual(6000);
    const runs = m.takeEmptyRuns();
    expect(runs).toEqual([{ job_id: 'job-1', timestamp: FIRST + (1 + m.horizon) * HOUR, end: YEAR_9999, bucket_span: 3600 }]);
    expect(m.takeEmptyRuns()).toEqual([]);
    expect(m.bucketCounts()).toEqual({
      bucket_count: GAP_BUCKETS,
      empty_bucket_count: GAP_BUCKETS - 1,
      sparse_bucket_count: 0,
      latest_bucket_timestamp: YEAR_9999 - HOUR,
      latest_empty_bucket_timestamp: YEAR_9999 - HOUR,
    });
    expect(m.lastFinalizedBucketEndMs()).toBe(YEAR_9999);
    // The state does not grow with the gap: the header, the normalisers and one series with
    // its daily and weekly candidates (model v2; about 1.8 KB of them).
    expect(m.serialize().length).toBeLessThan(6144);
    expect(m.serialize().length).toBe(m.modelBytes());
  });

  it('bounds a metric job and advance_time alike', () => {
    const m = AnomalyModel.create(makeSpec({ function: 'mean', field_name: 'v', by_field_name: 'host' }, { bucketSpanMs: MINUTE }));
    m.ingest([rec(FIRST, { host: 'a', v: 1 }), rec(FIRST + 1000, { host: 'b', v: 2 })]);
    const out = m.flush({ advanceTimeMs: YEAR_9999 });
    expect(out.buckets).toHaveLength(1 + m.horizon);
    const runs = m.takeEmptyRuns();
    expect(runs).toHaveLength(1);
    expect(runs[0]?.end).toBe(YEAR_9999);
    expect(m.bucketCounts()).toMatchObject({ bucket_count: (YEAR_9999 - FIRST) / MINUTE, empty_bucket_count: (YEAR_9999 - FIRST) / MINUTE - 1 });
  });

  it('advance_time far past any readable record time stops at MAX_RECORD_TIME_MS', () => {
    const m = AnomalyModel.create(hourlyCount());
    m.ingest([rec(FIRST)]);
    const out = m.flush({ advanceTimeMs: 1e20 });
    expect(out.buckets).toHaveLength(1 + m.horizon);
    expect(out.lastFinalizedBucketEndMs).toBe(Math.floor(1e15 / HOUR) * HOUR);
    expect(m.takeEmptyRuns()[0]?.end).toBe(Math.floor(1e15 / HOUR) * HOUR);
  });

  it('gives the same counts and runs when the gap is finalised in pieces, across a restore', () => {
    const whole = AnomalyModel.create(hourlyCount());
    whole.ingest([rec(FIRST), rec(YEAR_9999)]);
    let pieces = AnomalyModel.create(hourlyCount());
    pieces.ingest([rec(FIRST)]);
    const a = pieces.flush({ advanceTimeMs: FIRST + 1000 * HOUR });
    pieces = AnomalyModel.restore(hourlyCount(), pieces.serialize());
    const b = pieces.flush({ advanceTimeMs: FIRST + 5000 * HOUR });
    const runsB = pieces.takeEmptyRuns();
    pieces = AnomalyModel.restore(hourlyCount(), pieces.serialize());
    const c = pieces.ingest([rec(YEAR_9999)]);
    const runsC = pieces.takeEmptyRuns();
    expect(a.buckets.length + b.buckets.length + c.buckets.length).toBe(1 + whole.horizon);
    expect([...runsB, ...runsC].map((r) => [r.timestamp, r.end])).toEqual([
      [FIRST + (1 + whole.horizon) * HOUR, FIRST + 5000 * HOUR],
      [FIRST + 5000 * HOUR, YEAR_9999],
    ]);
    expect(pieces.bucketCounts()).toEqual(whole.bucketCounts());
  });

  it('still learns and scores the empty buckets of a gap shorter than the horizon', () => {
    const m = AnomalyModel.create(hourlyCount());
    const recs: InputRecord[] = [];
    for (let b = 0; b < 48; b++) for (let i = 0; i < 20; i++) recs.push(rec(T0 + b * HOUR + i * MINUTE));
    m.ingest(recs);
    const out = m.ingest([rec(T0 + 60 * HOUR)]);
    expect(out.buckets.map((b) => b.event_count)).toEqual([20, ...Array(12).fill(0)]);
    expect(m.takeEmptyRuns()).toEqual([]);
    // The first empty bucket after steady data is an anomaly (a drop to 0).
    expect(out.buckets[1]?.records[0]?.actual).toEqual([0]);
  });

  it('picks up again after a long gap: data after it is modelled as usual', () => {
    const m = AnomalyModel.create(hourlyCount());
    m.ingest([rec(FIRST), rec(YEAR_9999)]);
    const recs: InputRecord[] = [];
    for (let b = 0; b < 30; b++) for (let i = 0; i < 5; i++) recs.push(rec(YEAR_9999 + b * HOUR + i * MINUTE));
    for (let i = 0; i < 200; i++) recs.push(rec(YEAR_9999 + 30 * HOUR + i * 1000));
    recs.push(rec(YEAR_9999 + 31 * HOUR));
    const out = m.ingest(recs);
    expect(out.buckets).toHaveLength(31);
    expect(out.buckets[30]).toMatchObject({ event_count: 200 });
    expect(out.buckets[30]?.anomaly_score).toBeGreaterThan(50);
  });

  it('refuses a state of model v1 (versions 1 and 2) with a ModelStateError naming its version', () => {
    const m = AnomalyModel.create(hourlyCount());
    m.ingest([rec(FIRST), rec(FIRST + 5 * HOUR)]);
    const state = Buffer.from(m.serialize());
    for (const v of [1, 2]) {
      const old = Buffer.from(state);
      old[0] = v;
      let err: unknown;
      try {
        AnomalyModel.restore(hourlyCount(), old);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ModelStateError);
      expect((err as ModelStateError).stateVersion).toBe(v);
    }
    expect(AnomalyModel.restore(hourlyCount(), state).serialize()[0]).toBe(MODEL_STATE_VERSION);
  });
});

describe('time bounds', () => {
  it('reads the year 9999 and refuses times whose 15-digit keys would not sort (1e20, year 33658 on)', () => {
    expect(parseTime(YEAR_9999, 'epoch_ms')).toBe(YEAR_9999);
    expect(parseTime('253370764800', 'epoch')).toBe(YEAR_9999);
    expect(parseTime(1e20, 'epoch_ms')).toBeUndefined();
    expect(parseTime(1e15, 'epoch_ms')).toBeUndefined();
    expect(parseTime(1e15 - 1, 'epoch_ms')).toBe(1e15 - 1);
    expect(parseTime('+100000-01-01T00:00:00Z', "yyyy-MM-dd'T'HH:mm:ssX")).toBeUndefined();
  });
});

describe('ScoreNormalizer.addZeroRun', () => {
  it('leaves the normaliser as n buckets of ageing and raw score 0 would', () => {
    const looped = new ScoreNormalizer(5 * MINUTE);
    const closed = new ScoreNormalizer(5 * MINUTE);
    for (const n of [looped, closed]) for (let i = 0; i < 50; i++) n.add(i % 7, i % 2 === 0 ? 'a' : 'b');
    for (let i = 0; i < 300; i++) {
      looped.age();
      looped.addZeros(3);
    }
    closed.addZeroRun(300, 3);
    for (const s of [0.5, 2, 4, 6, 9]) for (const scope of ['a', 'b']) expect(closed.score(s, scope)).toBeCloseTo(looped.score(s, scope), 9);
  });

  it('stays finite for runs far longer than float64 decay factors can express, and forgets the aged maxima', () => {
    const n = new ScoreNormalizer(5 * MINUTE);
    n.add(5, 'a');
    const withMax = n.bytes;
    n.addZeroRun(7e7, 1);
    expect(Number.isFinite(n.score(5, 'a'))).toBe(true);
    expect(n.score(5, 'a')).toBeGreaterThan(0);
    expect(n.bytes).toBeLessThan(withMax);
  });
});

describe('out of order: Elasticsearch rule trunc(t/1000) < trunc(floor(latest, span)/1000) − trunc(latency/1000)', () => {
  const H = (h: number, m = 0, s = 0, ms = 0) => T0 + h * HOUR + m * MINUTE + s * 1000 + ms;
  const rows: { name: string; latencyMs: number; seed: number[]; probe: number; outOfOrder: boolean }[] = [
    { name: 'latency 0: the start of the latest bucket is accepted', latencyMs: 0, seed: [H(10, 10)], probe: H(10), outOfOrder: false },
    { name: 'latency 0: a millisecond before it is out of order', latencyMs: 0, seed: [H(10, 10)], probe: H(9, 59, 59, 999), outOfOrder: true },
    { name: 'latency 0: a record inside the open bucket, older than the latest, is accepted', latencyMs: 0, seed: [H(10, 50)], probe: H(10, 1), outOfOrder: false },
    { name: 'latency < span: exactly latest floor − latency is accepted', latencyMs: 30 * MINUTE, seed: [H(10, 10)], probe: H(9, 30), outOfOrder: false },
    { name: 'latency < span: before it is out of order although its bucket is not final', latencyMs: 30 * MINUTE, seed: [H(10, 10)], probe: H(9, 29, 59, 999), outOfOrder: true },
    { name: 'latency < span: inside the window but in a final bucket is out of order', latencyMs: 30 * MINUTE, seed: [H(9, 5), H(10, 40)], probe: H(9, 45), outOfOrder: true },
    { name: 'latency > span: exactly latest floor − latency is accepted', latencyMs: 90 * MINUTE, seed: [H(10, 10)], probe: H(8, 30), outOfOrder: false },
    { name: 'latency > span: a millisecond before it is out of order', latencyMs: 90 * MINUTE, seed: [H(10, 10)], probe: H(8, 29, 59, 999), outOfOrder: true },
    { name: 'latency in whole seconds: 1500ms counts as 1s', latencyMs: 1500, seed: [H(10, 10)], probe: H(9, 59, 59), outOfOrder: false },
    { name: 'latency in whole seconds: 1500ms, a record 1.001s early is out', latencyMs: 1500, seed: [H(10, 10)], probe: H(9, 59, 58, 999), outOfOrder: true },
    { name: 'before any data the latest time is epoch 0: times before 1970 are out of order', latencyMs: 0, seed: [], probe: -5 * HOUR, outOfOrder: true },
  ];
  it.each(rows)('$name', ({ latencyMs, seed, probe, outOfOrder }) => {
    const m = AnomalyModel.create(hourlyCount({ latencyMs }));
    if (seed.length > 0) m.ingest(seed.map((t) => rec(t)));
    const out = m.ingest([rec(probe)]);
    expect(out.out_of_order_timestamp_count).toBe(outOfOrder ? 1 : 0);
    expect(out.processed_record_count).toBe(outOfOrder ? 0 : 1);
  });

  it('counts records re-posted inside the open bucket again, as Elasticsearch does', () => {
    const m = AnomalyModel.create(hourlyCount());
    const minutes = Array.from({ length: 10 }, (_, i) => rec(T0 + i * MINUTE));
    const first = m.ingest(minutes);
    const again = m.ingest(minutes);
    expect([first.processed_record_count, again.processed_record_count]).toEqual([10, 10]);
    expect(again.out_of_order_timestamp_count).toBe(0);
    expect(m.finalizeAll()[0]?.event_count).toBe(20);
  });
});
