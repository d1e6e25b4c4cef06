import { describe, expect, it } from 'vitest';
import { AnomalyModel } from '../../../lib/detect/index.ts';
import { absoluteCeiling, BUCKET_SCOPE, isBigUpdate, recordScope, ScoreNormalizer } from '../../../lib/detect/normalizer.ts';
import { lnProbabilityFromRawScore, rawScoreFromLn } from '../../../lib/detect/stats.ts';
import { BinReader, BinWriter } from '../../../lib/detect/codec.ts';
import { HOUR, MINUTE, bucketsOf, gaussian, makeSpec, rng } from './helpers.ts';

const raw = (p: number) => rawScoreFromLn(Math.log(p));

/**
 * Runs `buckets` buckets through a bucket normaliser (age, then add the bucket's raw score,
 * then score it, as the model does) and returns every bucket's score. `episodic` as the
 * model's bucket normaliser is; false as its record normaliser is.
 */
function run(spanMs: number, buckets: number, rawOf: (b: number) => number, episodic = true): { n: ScoreNormalizer; scores: number[] } {
  const n = new ScoreNormalizer(spanMs, episodic);
  const scores: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const r = rawOf(b);
    n.age();
    n.add(r, BUCKET_SCOPE);
    scores.push(n.score(r, BUCKET_SCOPE));
  }
  return { n, scores };
}

/** Mostly raw 0 with 3% mildly unusual buckets (p between 0.035 and 1e-3), as a smooth series gives. */
function quiet(seed: number): (b: number) => number {
  const u = rng(seed);
  return () => (u() < 0.03 ? raw(10 ** (-1.5 - 1.5 * u())) : 0);
}

describe('raw score (Elasticsearch anomalyScore)', () => {
  it('is 0 from p = 0.035 up, under 1 down to 1e-4, 50 at 1e-50 and 100 at the smallest probability', () => {
    expect(raw(1)).toBe(0);
    expect(raw(0.05)).toBe(0);
    expect(raw(0.035)).toBe(0);
    expect(raw(0.01)).toBeCloseTo((100 - 20) / (1e4 - 20), 12);
    expect(raw(1e-4)).toBeCloseTo(1, 12);
    expect(raw(1e-27)).toBeCloseTo(1 + (49 * 23) / 46, 9);
    expect(raw(1e-50)).toBeCloseTo(50, 9);
    expect(raw(1e-308)).toBeCloseTo(100, 9);
    expect(rawScoreFromLn(-1e6)).toBe(100);
  });

  it('is inverted by lnProbabilityFromRawScore on each piece', () => {
    for (const p of [0.03, 0.01, 2e-3, 1e-4, 3e-9, 1e-50, 1e-120, 1e-300]) expect(lnProbabilityFromRawScore(raw(p)) / Math.log(p)).toBeCloseTo(1, 9);
  });
});

describe('score normaliser', () => {
  it('maps the 30-minute-equivalent percentile of strictly lower scores through the knots', () => {
    // One raw score above k zeros: k / (k + 1) of the history is strictly below it.
    const at = (spanMs: number, zeros: number) => {
      const n = new ScoreNormalizer(spanMs);
      n.addZeros(zeros);
      n.add(raw(1e-20), BUCKET_SCOPE);
      return n.score(raw(1e-20), BUCKET_SCOPE);
    };
    expect(at(HOUR, 999)).toBeCloseTo(90, 6); // 99.9th percentile
    expect(at(HOUR, 99)).toBeCloseTo(50, 6); // 99th
    expect(at(30 * MINUTE, 99)).toBeCloseTo(50, 6);
    expect(at(HOUR, 19)).toBeCloseTo(3, 6); // 95th
    expect(at(HOUR, 9)).toBeCloseTo(1.5, 6); // 90th
    // 5-minute buckets: the chance that all six buckets of half an hour score lower, 0.99^6.
    expect(at(5 * MINUTE, 99)).toBeCloseTo(1.5 + (1.5 * (100 * 0.99 ** 6 - 90)) / 5, 6);
  });

  it('never lets p >= 1e-4 reach 100 (the absolute ceiling), whatever the history', () => {
    expect(absoluteCeiling(raw(0.01))).toBeCloseTo(100 * (0.05 + (0.95 * Math.log(0.2)) / Math.log(0.002)), 9); // ≈ 30
    expect(absoluteCeiling(raw(1e-4))).toBeCloseTo(100, 9);
    expect(absoluteCeiling(raw(1e-3))).toBeCloseTo(100 * (0.05 + (0.95 * Math.log(0.02)) / Math.log(0.002)), 9);
    const { scores } = run(HOUR, 5000, (b) => (b === 4000 ? raw(1e-3) : 0));
    expect(scores[4000]).toBeLessThan(66);
    expect(scores[4000]).toBeGreaterThan(60);
  });

  it("takes p as the chance that one of the half hour's buckets is that unlikely in the absolute ceiling", () => {
    // 5-minute buckets: p = 1e-3 is 1 − 0.999^6 ≈ 6e-3 per half hour, ≈ 37 rather than ≈ 65.
    const p30 = 1 - 0.999 ** 6;
    const expected = 100 * (0.05 + (0.95 * Math.log(p30 / 0.05)) / Math.log(0.002));
    expect(absoluteCeiling(raw(1e-3), 1 / 6)).toBeCloseTo(expected, 9);
    expect(absoluteCeiling(raw(1e-3), 1)).toBeCloseTo(absoluteCeiling(raw(1e-3)), 12);
    // p = 0.03 is 1 − 0.97^6 ≈ 0.17 per half hour: not significant, a ceiling of 0, not below.
    expect(absoluteCeiling(raw(0.03), 1 / 6)).toBe(0);
    expect(run(5 * MINUTE, 100, (b) => (b === 50 ? raw(0.03) : 0)).scores[50]).toBe(0);
    // The smallest probabilities keep their (uncapped) ceiling rather than underflowing.
    expect(absoluteCeiling(raw(1e-300), 1 / 6)).toBeGreaterThan(100);
    expect(Number.isFinite(absoluteCeiling(raw(1e-300), 1 / 6))).toBe(true);
    const { scores } = run(5 * MINUTE, 5000, (b) => (b === 4000 ? raw(1e-3) : 0));
    expect(scores[4000]).toBeCloseTo(expected, 6);
    // 30-minute buckets are their own half hour.
    expect(run(30 * MINUTE, 5000, (b) => (b === 4000 ? raw(1e-3) : 0)).scores[4000]).toBeGreaterThan(60);
  });

  it('rarely lets pure noise in 5-minute buckets reach 42', () => {
    // Every bucket's p uniform on (0, 1), five series of 4,000 buckets: the least likely reach
    // p ≈ 1 / 4,000, which scores 65–85 as a bucket's own p (25 buckets >= 42 after the first 600
    // of each) but is ordinary as half an hour's least likely of six (6 buckets).
    let high = 0;
    for (let seed = 11; seed <= 15; seed++) {
      const u = rng(seed);
      const { scores } = run(5 * MINUTE, 4000, () => raw(u()));
      high += scores.slice(600).filter((s) => s >= 42).length;
    }
    expect(high).toBeLessThan(10);
  });

  it("scores a smooth series' one anomaly critical although its probability is only 4e-5", () => {
    // v1 capped it relative to p = 1e-6 (score 73 at most); nothing here was ever more unusual.
    const mild = quiet(1);
    const { scores } = run(10 * MINUTE, 2000, (b) => (b === 1500 ? raw(4e-5) : mild(b)));
    expect(scores[1500]).toBeGreaterThanOrEqual(75);
    expect(Math.max(...scores.filter((_, i) => i !== 1500))).toBeLessThan(75);
  });

  it('does not let an early spike keep a later, similar incident below 75', () => {
    // The spike (p 1e-30) and the incident (p 1e-16: 0.6 of its raw score, a ratio that scored
    // 60 under v1's cap of raw / max).
    const mild = quiet(2);
    const spike = raw(1e-30);
    const incident = raw(1e-16);
    expect(incident / spike).toBeLessThan(0.62);
    const { scores } = run(10 * MINUTE, 3000, (b) => (b === 200 ? spike : b === 2500 ? incident : mild(b)));
    expect(scores[2500]).toBeGreaterThanOrEqual(75);
  });

  it('does not score the routine spikes of a spiky series critical after warm-up', () => {
    // A spike every 20 buckets with p between 1e-20 and 1e-30: each is as unusual as p says, but
    // 5% of buckets are like it. Only a spike larger than nearly all before it may stand out.
    const u = rng(3);
    const spikes: number[] = [];
    const { scores } = run(10 * MINUTE, 4000, (b) => {
      if (b % 20 !== 7) return 0;
      spikes.push(b);
      return raw(10 ** (-20 - 10 * u()));
    });
    const after = spikes.filter((b) => b >= 1000).map((b) => scores[b] as number);
    after.sort((a, b) => a - b);
    expect(after[Math.floor(after.length / 2)]).toBeLessThan(5);
    expect(after.filter((s) => s >= 75).length).toBeLessThan(after.length * 0.05);
    // Spikes exactly alike are all routine: none scores above the 95th percentile's knot, 3.
    const same = run(10 * MINUTE, 4000, (b) => (b % 20 === 7 ? raw(1e-25) : 0)).scores;
    expect(Math.max(...same.slice(1000))).toBeLessThanOrEqual(3);
  });

  it('does not let an early episode of several buckets hold a later, smaller incident down', () => {
    // A first-day burst of ten buckets (p 1e-20 to 1e-25, as a model that has not yet seen a
    // whole day gives), then a quiet series and an incident of p 1e-15 at bucket 3000: seventh
    // to eleventh largest raw score by buckets, which the percentile ceiling holds near 46, but
    // reached by only one earlier episode, so not yet a recurring level.
    const mild = quiet(4);
    const rawOf = (b: number) => (b >= 100 && b < 110 ? raw(10 ** (-20 - (b - 100) / 2)) : b === 3000 ? raw(1e-15) : mild(b));
    expect(run(10 * MINUTE, 3001, rawOf).scores[3000]).toBeGreaterThanOrEqual(75);
    expect(run(10 * MINUTE, 3001, rawOf, false).scores[3000]).toBeLessThan(50);
  });

  /** Scores of `raws`, bucket after bucket, after 1,000 quiet ten-minute buckets. */
  function after1000(raws: number[], episodic: boolean): number[] {
    const n = new ScoreNormalizer(10 * MINUTE, episodic);
    n.addZeros(1000);
    return raws.map((r) => {
      n.age();
      n.add(r, BUCKET_SCOPE);
      return n.score(r, BUCKET_SCOPE);
    });
  }

  it('applies the percentile ceiling again once two earlier episodes reached the raw score', () => {
    // The same level three times, each an episode of one bucket ended by half an hour (three
    // ten-minute buckets) at 0: the first two are ceilinged only by the maximum (100); the
    // third as a normaliser without episodes ceilings all three, by the percentile (81, 77, 74).
    const level = raw(1e-15);
    const seq = [level, 0, 0, 0, level, 0, 0, 0, level];
    const episodic = after1000(seq, true);
    const plain = after1000(seq, false);
    expect(episodic[0]).toBeCloseTo(100, 6);
    expect(episodic[4]).toBeCloseTo(100, 6);
    expect(plain[4]).toBeLessThan(80);
    expect(episodic[8]).toBeCloseTo(plain[8] as number, 9);
    expect(episodic[8]).toBeLessThan(75);
  });

  it('ends an episode only after half an hour of buckets at 0, so a dip does not split an incident', () => {
    const level = raw(1e-15);
    // One incident with a one-bucket dip, then a second incident: one earlier episode only.
    expect(after1000([level, 0, level, 0, 0, 0, level], true)[6]).toBeCloseTo(100, 6);
    // Two buckets at 0 are not yet half an hour of ten-minute buckets; three are.
    expect(after1000([level, 0, 0, level, 0, 0, level], true)[6]).toBeCloseTo(100, 6);
    expect(after1000([level, 0, 0, 0, level, 0, 0, 0, level], true)[8]).toBeLessThan(75);
    // Hourly buckets: one bucket at 0 is half an hour and more.
    const hourly = new ScoreNormalizer(HOUR, true);
    hourly.addZeros(1000);
    const scores = [level, 0, level, 0, level].map((r) => {
      hourly.age();
      hourly.add(r, BUCKET_SCOPE);
      return hourly.score(r, BUCKET_SCOPE);
    });
    expect(scores[4]).toBeLessThan(90);
  });

  it("counts a run's buckets as one episode, and ends an episode at a gap of empty buckets", () => {
    const level = raw(1e-15);
    // Five buckets of one run: none recurs (without episodes the fifth is ceilinged at 66).
    const run5 = after1000([level, level, level, level, level], true);
    expect(run5[4]).toBeCloseTo(100, 6);
    expect(after1000([level, level, level, level, level], false)[4]).toBeLessThan(70);
    // Two episodes separated only by gaps (empty buckets): the third is a recurrence; a gap
    // shorter than half an hour does not end one.
    // The score of a third bucket at `level` after two, each followed by runs of empty buckets.
    const third = (gaps: number[]) => {
      const n = new ScoreNormalizer(10 * MINUTE, true);
      n.addZeros(1000);
      for (let i = 0; i < 2; i++) {
        n.age();
        n.add(level, BUCKET_SCOPE);
        for (const g of gaps) n.addZeroRun(g, 1);
      }
      n.age();
      n.add(level, BUCKET_SCOPE);
      return n.score(level, BUCKET_SCOPE);
    };
    expect(third([1, 2])).toBeLessThan(80);
    expect(third([2])).toBeCloseTo(100, 6);
  });

  it('reads a version-3 normaliser, taking its episodes from the histogram', () => {
    const n = new ScoreNormalizer(HOUR, true);
    n.addZeros(100);
    for (const p of [1e-10, 1e-20, 1e-30]) {
      n.age();
      n.add(raw(p), BUCKET_SCOPE);
      n.age();
      n.add(0, BUCKET_SCOPE);
    }
    const w = new BinWriter();
    n.write(w);
    const v4 = w.finish();
    // Version 3 lacked the five episode fields after the first seven numbers.
    const v3 = Buffer.concat([v4.subarray(0, 56), v4.subarray(96)]);
    const back = ScoreNormalizer.read(new BinReader(v3), true);
    expect(back.bytes).toBe(n.bytes);
    // Its second largest episode is taken as the upper edge of the second largest raw score's
    // bin (p 1e-20: raw ≈ 18.04, bin up to 19): 18.5 has recurred there, not in the original.
    expect(raw(1e-20)).toBeGreaterThan(18);
    expect(back.score(18.5, BUCKET_SCOPE)).toBeLessThan(50);
    expect(n.score(18.5, BUCKET_SCOPE)).toBeGreaterThan(75);
    expect(back.score(19.5, BUCKET_SCOPE)).toBeCloseTo(n.score(19.5, BUCKET_SCOPE), 9);
    // A version-3 record normaliser is not episodic.
    const record = ScoreNormalizer.read(new BinReader(v3), false);
    expect(record.score(19.5, BUCKET_SCOPE)).toBeLessThan(60);
  });

  it("caps a series' score by its own largest raw score, not another series'", () => {
    const n = new ScoreNormalizer(HOUR);
    n.addZeros(1e6);
    n.add(40, recordScope(0, undefined, 'noisy-host'));
    n.add(10, recordScope(0, undefined, 'quiet-host'));
    expect(n.score(10, recordScope(0, undefined, 'quiet-host'))).toBeGreaterThan(99.9);
    expect(n.score(10, recordScope(0, undefined, 'noisy-host'))).toBeCloseTo(100 * 0.375, 6); // ratio 1/4 → 1.5 × 1/4
  });

  it('ages a scope maximum with a half-life of about 14 days', () => {
    const n = new ScoreNormalizer(HOUR);
    n.addZeros(1e6); // a long history: the percentile ceiling is out of the way
    n.add(40, BUCKET_SCOPE);
    const before = n.score(20, BUCKET_SCOPE);
    for (let i = 0; i < 14 * 24; i++) n.age();
    const after = n.score(20, BUCKET_SCOPE);
    // ratio 0.5 → 75; after one half-life of the maximum (ln 2 / (2 · 0.001) ≈ 347 hours) ≈ 0.98 → 99.
    expect(before).toBeCloseTo(75, 6);
    expect(after).toBeGreaterThan(97);
  });

  it('counts big changes: a first maximum or one raised by more than 10%', () => {
    const n = new ScoreNormalizer(HOUR);
    expect(n.generation).toBe(0);
    expect(n.add(0, BUCKET_SCOPE)).toBe(false);
    expect(n.add(10, BUCKET_SCOPE)).toBe(true);
    expect(n.add(10.5, BUCKET_SCOPE)).toBe(false);
    expect(n.add(11.6, BUCKET_SCOPE)).toBe(true);
    expect(n.add(5, 'other scope')).toBe(true);
    expect(n.generation).toBe(3);
  });
});

describe('big update rule (Elasticsearch Normalizer.isBigUpdate)', () => {
  it.each([
    [24.5, 25.2, true, 'severity band changes'],
    [30, 31.5, true, 'moves by 1.5'],
    [30, 31.4, false, 'moves by less than 1.5 within a band'],
    [1, 0.3, true, 'the new score is under 33% of the old'],
    [0, 0.2, true, 'from 0'],
    [0.3, 1, true, 'the old score is under 33% of the new'],
    [1, 0.34, false, 'the new score is 34% of the old'],
    [80, 80, false, 'the same'],
  ])('%s → %s is %s: %s', (a, b, big) => {
    expect(isBigUpdate(a, b)).toBe(big);
  });
});

describe('renormalisation hook', () => {
  const SPAN = 10 * MINUTE;
  function model() {
    return AnomalyModel.create(makeSpec({ function: 'mean', field_name: 'v' }, { bucketSpanMs: SPAN }));
  }
  function records(buckets: number, spikes: Record<number, number>) {
    const g = gaussian(rng(5));
    return bucketsOf(buckets, SPAN, (b) => [{ v: spikes[b] ?? 100 + 5 * g() }]);
  }

  it('keeps the stored bucket when no score moved enough, and rewrites it after a larger anomaly', () => {
    const m = model();
    const recs = records(2100, { 1000: 160, 2050: 2000 });
    // Up to the first record of bucket 1001: bucket 1000 is the last one finalised.
    const out = m.ingest(recs.slice(0, 1002)).buckets;
    const early = out[1000]!;
    expect(early.anomaly_score).toBeGreaterThan(50);
    const same = m.renormalize(early);
    expect(same.changed).toBe(false);
    expect(same.bucket).toBe(early);
    const gen = m.normalizerGeneration();
    m.ingest(recs.slice(1002));
    expect(m.normalizerGeneration()).toBeGreaterThan(gen);
    const again = m.renormalize(early);
    expect(again.changed).toBe(true);
    expect(again.bucket.anomaly_score).toBeLessThan(early.anomaly_score);
    expect(isBigUpdate(early.anomaly_score, again.bucket.anomaly_score)).toBe(true);
    expect(again.bucket.initial_anomaly_score).toBe(early.initial_anomaly_score);
  });

  it('persists the generation in the state', () => {
    const m = model();
    m.ingest(records(600, { 500: 200 }));
    expect(m.normalizerGeneration()).toBeGreaterThan(0);
    const back = AnomalyModel.restore(makeSpec({ function: 'mean', field_name: 'v' }, { bucketSpanMs: SPAN }), m.serialize());
    expect(back.normalizerGeneration()).toBe(m.normalizerGeneration());
    expect(back.modelBytes()).toBe(back.serialize().length);
  });
});
