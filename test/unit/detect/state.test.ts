import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AnomalyModel, MODEL_STATE_VERSION, ModelStateError, type AnalysisSpec, type InputRecord } from '../../../lib/detect/index.ts';
import { DAY, HOUR, MINUTE, T0, bucketsOf, gaussian, makeSpec, rng, stable } from './helpers.ts';

const SPAN = 30 * MINUTE;
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

/** Two detectors, by/partition splits, influencers and latency: every kind of state. */
const richSpec: AnalysisSpec = {
  ...makeSpec({}, { bucketSpanMs: SPAN, latencyMs: 2 * SPAN, influencers: ['user', 'host'] }),
  detectors: [
    { detector_index: 0, function: 'count', by_field_name: 'host' },
    { detector_index: 1, function: 'metric', field_name: 'ms', by_field_name: 'host', partition_field_name: 'dc' },
  ],
};

function richRecords(days: number, seed: number): InputRecord[] {
  const g = gaussian(rng(seed));
  const perDay = DAY / SPAN;
  return bucketsOf(days * perDay, SPAN, (b) => {
    const hour = Math.floor(((b % perDay) * SPAN) / HOUR);
    const docs: Record<string, unknown>[] = [];
    for (const host of ['web-1', 'web-2', 'db-ü']) {
      const n = Math.max(0, Math.round((hour >= 9 && hour < 17 ? 12 : 4) + 2 * g()));
      for (let i = 0; i < n; i++) docs.push({ host, dc: host === 'db-ü' ? 'eu' : 'us', user: `u${i % 3}`, ms: 100 + 10 * g() + (b === 200 ? 400 : 0) });
    }
    return docs;
  });
}

describe('serialize and restore', () => {
  it('continues identically after a round trip, open buckets and daily profiles included', () => {
    const recs = richRecords(4, 21);
    const cut = Math.floor(recs.length * 0.6);
    const a = AnomalyModel.create(richSpec);
    const firstA = a.ingest(recs.slice(0, cut));
    const state = a.serialize();
    const b = AnomalyModel.restore(richSpec, state);
    expect(Buffer.from(b.serialize()).equals(Buffer.from(state))).toBe(true);
    const restA = [...a.ingest(recs.slice(cut)).buckets, ...a.flush({ calcInterim: true }).interim, ...a.finalizeAll()];
    const restB = [...b.ingest(recs.slice(cut)).buckets, ...b.flush({ calcInterim: true }).interim, ...b.finalizeAll()];
    expect(firstA.buckets.length).toBeGreaterThan(100);
    expect(restB.flatMap((x) => x.records).length).toBeGreaterThan(0);
    expect(stable(restB)).toEqual(stable(restA));
    expect(b.modelSizeStats()).toEqual(a.modelSizeStats());
    expect(b.bucketCounts()).toEqual(a.bucketCounts());
    expect(Buffer.from(b.serialize()).equals(Buffer.from(a.serialize()))).toBe(true);
  });

  it('gives the same results as a model that never stopped, restored after every batch', () => {
    const recs = richRecords(3, 22);
    const straight = AnomalyModel.create(richSpec);
    const expected = stable([...straight.ingest(recs).buckets, ...straight.finalizeAll()]);
    let state = AnomalyModel.create(richSpec).serialize();
    const got = [];
    for (let i = 0; i < recs.length; i += 997) {
      const m = AnomalyModel.restore(richSpec, state);
      got.push(...m.ingest(recs.slice(i, i + 997)).buckets);
      state = m.serialize();
    }
    got.push(...AnomalyModel.restore(richSpec, state).finalizeAll());
    expect(stable(got)).toEqual(expected);
  });

  it('round-trips a level shift in progress and a partial bucket exactly', () => {
    const spec = makeSpec({ function: 'mean', field_name: 'v' }, { bucketSpanMs: SPAN });
    const g = gaussian(rng(25));
    const recs = bucketsOf(160, SPAN, (b) => [{ v: (b >= 100 ? 300 : 100) + 5 * g() }, { v: (b >= 100 ? 300 : 100) + 5 * g() }]);
    // Cut three buckets into the shift, between the two records of a bucket.
    const cut = 2 * 103 + 1;
    const a = AnomalyModel.create(spec);
    a.ingest(recs.slice(0, cut));
    const b = AnomalyModel.restore(spec, a.serialize());
    const restA = [...a.ingest(recs.slice(cut)).buckets, ...a.finalizeAll()];
    const restB = [...b.ingest(recs.slice(cut)).buckets, ...b.finalizeAll()];
    expect(restA[0]?.records[0]?.actual[0]).toBeGreaterThan(250);
    expect(stable(restB)).toEqual(stable(restA));
  });

  it('starts with the format version byte and rejects another version, truncation or another spec', () => {
    const m = AnomalyModel.create(richSpec);
    m.ingest(richRecords(1, 23));
    const state = Buffer.from(m.serialize());
    expect(state[0]).toBe(MODEL_STATE_VERSION);
    const other = Buffer.from(state);
    other[0] = MODEL_STATE_VERSION + 1;
    expect(() => AnomalyModel.restore(richSpec, other)).toThrow(ModelStateError);
    expect(() => AnomalyModel.restore(richSpec, state.subarray(0, state.length - 3))).toThrow(ModelStateError);
    expect(() => AnomalyModel.restore(makeSpec(), state)).toThrow(ModelStateError);
  });

  it('restores a version 3 state (model v2 before the level-shift revert) and continues as a current model would', () => {
    // The fixture was written by the version 3 code from the first 300 buckets below; no
    // level shift happened in them, so a current model that saw the same 300 buckets holds
    // the same state, and both continue alike.
    const fixture = JSON.parse(readFileSync(join(FIXTURES, 'state', 'model-v3.json'), 'utf8')) as { version: number; base64: string };
    expect(fixture.version).toBe(3);
    const g = gaussian(rng(21));
    const spec = makeSpec({ function: 'mean', field_name: 'v', by_field_name: 'host' }, { bucketSpanMs: 10 * MINUTE });
    const recs = bucketsOf(400, 10 * MINUTE, (b) => [
      { v: 50 + 3 * Math.sin(b / 10) + 2 * g() + (b >= 350 && b < 360 ? 25 : 0), host: 'a' },
      { v: 20 + g(), host: 'b' },
    ]);
    const restored = AnomalyModel.restore(spec, Buffer.from(fixture.base64, 'base64'));
    const fresh = AnomalyModel.create(spec);
    fresh.ingest(recs.slice(0, 600));
    const rest = recs.slice(600);
    const a = [...restored.ingest(rest).buckets, ...restored.finalizeAll()];
    const b = [...fresh.ingest(rest).buckets, ...fresh.finalizeAll()];
    expect(a.some((x) => x.anomaly_score > 50)).toBe(true);
    expect(stable(a)).toEqual(stable(b));
    expect(restored.serialize()[0]).toBe(MODEL_STATE_VERSION);
    expect(restored.modelBytes()).toBe(restored.serialize().length);
  });

  it('keeps modelBytes equal to the serialized length through ingest, flush, prune and restore', () => {
    const m = AnomalyModel.create(richSpec);
    const check = () => expect(m.modelBytes()).toBe(m.serialize().length);
    check();
    const recs = richRecords(3, 24);
    for (let i = 0; i < recs.length; i += 500) {
      m.ingest(recs.slice(i, i + 500));
      check();
    }
    m.flush({ calcInterim: true });
    check();
    m.pruneIdleSeries(T0 + 3 * DAY, 0);
    check();
    m.finalizeAll();
    check();
    m.flush({ skipTimeMs: T0 + 5 * DAY });
    check();
    expect(AnomalyModel.restore(richSpec, m.serialize()).modelBytes()).toBe(m.modelBytes());
    expect(m.modelSizeStats().model_bytes).toBe(m.modelBytes());
  });

  it('keeps a series under 2 KB before its daily profile exists', () => {
    const spec = makeSpec({ function: 'mean', field_name: 'v', by_field_name: 'host' });
    const m = AnomalyModel.create(spec);
    const empty = m.modelBytes();
    m.ingest(bucketsOf(50, 10 * MINUTE, () => Array.from({ length: 100 }, (_, i) => ({ host: `host-${i}`, v: i }))));
    m.finalizeAll();
    expect((m.modelBytes() - empty) / 100).toBeLessThan(2048);
  });
});

describe('pruning and memory limits', () => {
  const spec = (limit: number): AnalysisSpec => makeSpec({ function: 'count', by_field_name: 'host' }, { bucketSpanMs: HOUR, modelMemoryLimitBytes: limit });
  /** `hosts` new hosts each hour for `hours` hours (host names h<hour>-<i>), each seen once. */
  const churn = (hours: number, hosts: number) => bucketsOf(hours, HOUR, (b) => Array.from({ length: hosts }, (_, i) => ({ host: `h${b}-${i}` })));

  it('prunes series whose last data is older than the window', () => {
    const m = AnomalyModel.create(spec(1e9));
    m.ingest(churn(5, 10));
    m.finalizeAll();
    expect(m.seriesCounts()).toEqual([50]);
    const before = m.modelBytes();
    // Series last seen at 0h and 1h are older than 5h − 3h.
    expect(m.pruneIdleSeries(T0 + 5 * HOUR, 3 * HOUR)).toBe(20);
    expect(m.seriesCounts()).toEqual([30]);
    expect(m.modelBytes()).toBeLessThan(before);
    expect(m.pruneIdleSeries(T0 + 5 * HOUR, 3 * HOUR)).toBe(0);
  });

  it('at 90% of the limit reports soft_limit and prunes idle series oldest first', () => {
    const probe = AnomalyModel.create(spec(1e9));
    const base = probe.modelBytes();
    probe.ingest(churn(1, 10));
    probe.finalizeAll();
    const perSeries = (probe.modelBytes() - base) / 10;
    // Room for 20 series; one new host an hour for 30 hours.
    const limit = Math.round(base + 20 * perSeries);
    const m = AnomalyModel.create(spec(limit));
    m.ingest(churn(30, 1));
    const stats = m.modelSizeStats();
    expect(stats.memory_status).toBe('soft_limit');
    expect(stats.bucket_allocation_failures_count).toBe(0);
    expect(m.modelBytes()).toBeLessThan(0.9 * limit);
    expect(stats.peak_model_bytes).toBeGreaterThanOrEqual(0.9 * limit);
    expect(m.seriesCounts()[0]).toBeLessThan(20);
    // The newest hosts survive; the oldest were pruned first.
    const state = Buffer.from(m.serialize()).toString('latin1');
    expect(state).toContain('h29-0');
    expect(state).toContain('h25-0');
    expect(state).not.toContain('h0-0');
    expect(state).not.toContain('h9-0');
  });

  it('reports ok well under the limit', () => {
    const m = AnomalyModel.create(spec(1e9));
    m.ingest(churn(30, 1));
    m.finalizeAll();
    expect(m.modelSizeStats()).toMatchObject({ memory_status: 'ok', bucket_allocation_failures_count: 0 });
    expect(m.seriesCounts()).toEqual([30]);
  });

  it('at the limit refuses new series, counts the failures and reports hard_limit', () => {
    const probe = AnomalyModel.create(spec(1e9));
    const base = probe.modelBytes();
    probe.ingest(churn(1, 10));
    probe.finalizeAll();
    const perSeries = (probe.modelBytes() - base) / 10;
    const limit = Math.round(base + 5.5 * perSeries);
    const m = AnomalyModel.create(spec(limit));
    // One bucket with 10 new hosts: only 5 fit.
    m.ingest(churn(1, 10));
    m.flush({ advanceTimeMs: T0 + HOUR });
    expect(m.seriesCounts()).toEqual([5]);
    const stats = m.modelSizeStats();
    expect(stats.memory_status).toBe('hard_limit');
    expect(stats.bucket_allocation_failures_count).toBe(1);
    expect(m.modelBytes()).toBeLessThanOrEqual(limit);
    // A known series is still modelled; a new one is still refused.
    m.ingest([
      { timeMs: T0 + HOUR + 1, fields: { host: 'new-host' } },
      { timeMs: T0 + HOUR + 2, fields: { host: 'h0-0' } },
    ]);
    const out = m.ingest([{ timeMs: T0 + 2 * HOUR, fields: { host: 'h0-0' } }]);
    expect(out.buckets[0]?.event_count).toBe(2);
    expect(m.modelSizeStats().bucket_allocation_failures_count).toBe(2);
    const state = Buffer.from(m.serialize()).toString('latin1');
    expect(state).toContain('h0-0');
    expect(state).not.toContain('new-host');
  });
});
