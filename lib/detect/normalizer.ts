/**
 * Score normalisation: raw scores (−log10 probability) to 0–100, in the manner of
 * Elasticsearch's normaliser. A decaying histogram of all raw scores gives the percentile
 * of a score, mapped through Elasticsearch's knot points (percentile 95 → 20, 99 → 75,
 * 100 → 100, …); that is capped by the score's ratio to the decayed largest raw score, so
 * the largest anomaly of the window scores 100 and anomalies as frequent as noise score low.
 */
import type { BinReader, BinWriter } from './codec.ts';

/** Bin upper edges: 0 alone, 0.1 wide to 10, 1 wide to 50, 10 wide to 310. */
const EDGES: number[] = (() => {
  const e: number[] = [0];
  for (let i = 1; i <= 100; i++) e.push(i / 10);
  for (let v = 11; v <= 50; v++) e.push(v);
  for (let v = 60; v <= 310; v += 10) e.push(v);
  return e;
})();
const BINS = EDGES.length;

/** Elasticsearch's default knot points: (percentile, normalised score). */
const KNOTS: ReadonlyArray<readonly [number, number]> = [
  [0, 0],
  [70, 1],
  [85, 1],
  [90, 5],
  [95, 20],
  [97.5, 50],
  [99, 75],
  [99.9, 90],
  [100, 100],
];

/**
 * A raw score that counts as the largest possible when nothing bigger was seen
 * (probability 1e-6): a first, mild anomaly is not given 100.
 */
export const MAX_SCORE_FLOOR = 6;

/** Serialized bytes of a normaliser. */
export const NORMALIZER_BYTES = 8 * (BINS + 3);

function binOf(s: number): number {
  if (s <= 0) return 0;
  if (s <= 10) return Math.ceil(s * 10 - 1e-9);
  if (s <= 50) return 100 + Math.ceil(s - 10 - 1e-9);
  const b = 140 + Math.ceil((s - 50) / 10 - 1e-9);
  return b < BINS ? b : BINS - 1;
}

function knotScore(percentile: number): number {
  for (let i = 1; i < KNOTS.length; i++) {
    const [q1, v1] = KNOTS[i] as readonly [number, number];
    if (percentile <= q1) {
      const [q0, v0] = KNOTS[i - 1] as readonly [number, number];
      return v0 + ((v1 - v0) * (percentile - q0)) / (q1 - q0);
    }
  }
  return 100;
}

/**
 * One decaying normaliser (the model keeps one for buckets and one for records). Decay is
 * lazy: new weight is added inflated by `scale`, which grows by 1/factor per bucket, so a
 * bucket costs O(1) rather than a pass over the histogram.
 */
export class ScoreNormalizer {
  private counts: Float64Array = new Float64Array(BINS);
  private total = 0;
  private max = 0;
  private scale = 1;

  /** Adds `weight` observations of raw score `s` (>= 0). */
  add(s: number, weight = 1): void {
    const b = binOf(s);
    const w = weight * this.scale;
    this.counts[b] = (this.counts[b] as number) + w;
    this.total += w;
    if (s > this.max) this.max = s;
  }

  /** Forgets by `factor` in (0, 1]: called once per finalised bucket. */
  decay(factor: number): void {
    this.scale /= factor;
    this.max *= factor;
    if (this.scale > 1e100) {
      const c = this.counts;
      for (let i = 0; i < BINS; i++) c[i] = (c[i] as number) / this.scale;
      this.total /= this.scale;
      this.scale = 1;
    }
  }

  /**
   * `n` buckets of raw score 0, each adding `weight` observations after one `decay(factor)`,
   * in O(1): the same state as n × (decay(factor); add(0, weight)) up to rounding. Used for
   * the empty buckets of a long gap, so a gap costs the same whatever its length.
   */
  addZeroRun(n: number, weight: number, factor: number): void {
    if (!(n > 0)) return;
    const c = this.counts;
    // Back to scale 1 first: factor^-n would overflow for long runs.
    for (let i = 0; i < BINS; i++) c[i] = (c[i] as number) / this.scale;
    this.total /= this.scale;
    this.scale = 1;
    const keep = factor ** n;
    for (let i = 0; i < BINS; i++) c[i] = (c[i] as number) * keep;
    const added = factor < 1 ? (weight * (1 - keep)) / (1 - factor) : weight * n;
    c[0] = (c[0] as number) + added;
    this.total = this.total * keep + added;
    this.max *= keep;
  }

  /** The 0–100 score of raw score `s`. */
  score(s: number): number {
    if (!(s > 0)) return 0;
    const m = this.max > MAX_SCORE_FLOOR ? this.max : MAX_SCORE_FLOOR;
    const ratio = s >= m ? 100 : (100 * s) / m;
    if (this.total <= 0) return ratio;
    const b = binOf(s);
    let below = 0;
    for (let i = 0; i < b; i++) below += this.counts[i] as number;
    const lo = b === 0 ? 0 : (EDGES[b - 1] as number);
    const hi = EDGES[b] as number;
    const within = hi > lo ? (s - lo) / (hi - lo) : 1;
    below += (this.counts[b] as number) * within;
    const q = s >= this.max ? 100 : Math.min(100, (100 * below) / this.total);
    const k = knotScore(q);
    return k < ratio ? k : ratio;
  }

  write(w: BinWriter): void {
    w.f64(this.total);
    w.f64(this.max);
    w.f64(this.scale);
    w.f64s(this.counts);
  }

  static read(r: BinReader): ScoreNormalizer {
    const n = new ScoreNormalizer();
    n.total = r.f64();
    n.max = r.f64();
    n.scale = r.f64();
    n.counts = r.f64s(BINS);
    return n;
  }
}
