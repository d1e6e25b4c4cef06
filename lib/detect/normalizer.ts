/**
 * Score normalisation: raw anomaly scores (0–100, {@link rawScoreFromLn}) to the 0–100
 * `anomaly_score` / `record_score`, in the manner of Elasticsearch's
 * `CAnomalyScore::CNormalizer`. A score must mean the same in every series and every job (one
 * alerting threshold serves them all), so it says how unusual a raw score is *for this
 * normaliser's history*, and it is the minimum of four ceilings:
 *
 * 0. Noise: when most buckets are unusual to some degree (less than half score raw 0), a score
 *    must stand out from the median raw score to get anywhere: 1 + 10 × (raw − median), so
 *    about 10 raw units (≈ 9 decades of probability, past 1e-4) above the noise for 100. Inert
 *    while at least half the raw scores are 0, as in most series.
 * 1. Percentile: the share of the history scoring strictly below this raw score, turned into
 *    the chance that every bucket of half an hour scores lower (F^(1800 s / span) for spans
 *    under 30 minutes, so short buckets are not more alarming for being many), mapped through
 *    Elasticsearch's knot points (70 → 1, 90 → 1.5, 95 → 3, 97 → 20, 99 → 50, 99.9 → 90, 100 →
 *    100). Frequent scores stay low whatever their probability: the routine bursts of a spiky
 *    series are as common as they are, and score so.
 *    In the bucket normaliser (one raw score per bucket) the ceiling waits for recurrence: it
 *    applies only to a raw score that at least two earlier *episodes* reached, an episode being
 *    a run of buckets with a raw score above 0 (p < 0.035) ended by half an hour of buckets at
 *    0 (at least one; empty buckets count), the normaliser's 30-minute equivalence again.
 *    The percentile counts buckets, and the buckets of one incident are not independent
 *    evidence that its level is common: a model's first day (before it knows the daily cycle)
 *    or one earlier incident of six buckets otherwise made a later, smaller incident the
 *    seventh largest score, held down near 20 in a short history (ec2_cpu_fe7f93: 6.5 rather
 *    than 74). Declustering exceedances into runs is the standard answer of extreme-value
 *    statistics; two is the smallest count that is a recurrence rather than one precedent.
 *    The run length (quiet buckets that end an episode) is half an hour so that one bucket's
 *    dip inside an incident does not make it two episodes, and so a recurrence of itself.
 *    Only the two largest finished episodes are kept (a raw score above the second has not
 *    recurred), not aged: the histogram beside them keeps scores for years too. The record
 *    normaliser has no episodes: its many series' records share one history, so its runs are
 *    not one series' incidents, and gating there would free every series' first spikes.
 * 2. Maximum: per scope (the bucket, or one series of a detector), the ratio r of the raw score
 *    to the scope's largest, aged raw score gives 100 · min(1.5 r, 0.5 + 0.5 r): the largest
 *    scores 100, half of it 75, a third 50. So a later incident like an earlier spike scores
 *    like it, rather than being held down by it.
 * 3. Absolute: p ≥ 1e-4 never reaches 100 (p = 0.01 → ≈ 30, 1e-3 → ≈ 65), whatever the
 *    history: a short history must not make a merely uncommon bucket critical. Under 30
 *    minutes, p is first the half-hour equivalent 1 − (1 − p)^(1800 s / span), as for ceiling 1.
 *
 * Ageing, at Elasticsearch's rate r = 0.0005 per 30 minutes of bucket span and bucket: the
 * scope maxima by e^(−2r) per bucket (half-life about 14 days whatever the span), the
 * histogram by e^(−r/20) (half-life about 19 months: high quantiles need a long memory). Both
 * are lazy, O(1) per bucket; the scope maxima are swept every 64 buckets.
 *
 * Measured on NAB (bench/nab.ts, 41 files, one configuration), each ceiling earns its place:
 * standard profile 54.6 with all four; without the percentile's 30-minute equivalence 52.0,
 * without the maximum ceiling 48.8, without the absolute one 51.4 (the noise ceiling never
 * bites there). ES's decay rates beat 20× slower or faster ones, and ES's knots score as
 * v1's more generous ones did (54.3). The absolute ceiling's 30-minute equivalence (ceiling 3)
 * measured 54.2 against 54.6 on an earlier model; on the model of issue 13 it lifts standard
 * 55.07 → 56.43 (low FP 45.64 → 48.38, low FN 59.63 → 60.54; AWS 49.22 → 49.39, traffic 55.89 →
 * 58.25, ad exchange and artificial unchanged; TP rows 44 → 44, FP rows at the threshold 112 →
 * 96): pure noise (art_noisy, whose top p ≈ 5e-4 is what 4,000 draws give) from 10 FP rows to 1,
 * and the tails of runs in speed_6005, occupancy_t4013 and ec2_cpu_77c1ca, whose scores there
 * were set by this ceiling, lose 3, 3 and 1. The episodes of ceiling 1 then lift standard
 * 56.43 → 58.82 (low FP 48.38 → 50.15, low FN 60.54 → 63.17; AWS 49.39 → 54.49, the other
 * categories unchanged; TP rows 44 → 46, FP rows 96 → 104): windows found in ec2_cpu_fe7f93
 * and iio_NetworkIn (which also gains 7 FP rows just before its window), one FP row more in
 * ec2_cpu_825cc2. Ending episodes at half an hour of quiet buckets rather than one moves
 * standard to 60.18 (low FP 51.39, low FN 64.60; traffic 58.25 → 64.93, AWS 54.49 → 54.44;
 * TP rows 47, FP rows 106), but all of that is one window of occupancy_t4013 whose best bucket
 * now scores 41.5 against a threshold of 41.49, while art_noisy and ec2_cpu_825cc2 gain an FP
 * row each: it is kept for the dip above, not for NAB (2 or 3 quiet buckets: 60.2 alike).
 * Waiting for 1 earlier episode measured 56.0, for 3 59.3 but 9 of 150 routine
 * spikes (the unit test's spiky series) scored >= 75, against 6 with 2 and 1 without episodes;
 * counting buckets rather than episodes needs about 10 of them for the same gain (59.1) and
 * then floods the spiky series (18 of 150). Tried and not adopted: the percentile as
 * Elasticsearch's 70% Beta credible interval (mean of the two knot scores 54.98 against 55.07;
 * its upper end alone 55.13, that without the score itself 55.39), and a histogram of
 * half-hour maxima rather than buckets (55.16: runs then score higher, FP rows 112 → 130);
 * feeding a job's first 100–576 buckets to the histogram as raw 0 (56.1–56.8; 57.8 for 100
 * with ceiling 3's equivalence: episodes do better without a constant of time); counting raw
 * scores within 25% of this one as ties (57.0, but all of it from one artificial file of ever-growing spikes,
 * while the real files lost 1.5 points: the model, not the normaliser, must learn that such
 * spikes are routine).
 *
 * Where this differs from Elasticsearch, and why:
 * - A fixed histogram (146 bins, fine where raw scores are dense) instead of a q-digest with a
 *   second, fine digest above the 90th percentile: the same resolution at the top, a fixed size.
 * - The percentile is the point estimate, not the mean of the knot scores of a 70% Beta
 *   credible interval: the interval only lowers scores while there are few buckets (the
 *   absolute ceiling already guards that), costs two Beta quantiles per scored bucket, and
 *   measured slightly worse on NAB (54.1, and again 54.98 against 55.07 on the model of issue 13).
 * - The bucket normaliser's percentile ceiling waits for two earlier episodes (ceiling 1);
 *   Elasticsearch applies it to every score.
 * - The absolute ceiling takes p as the half-hour equivalent for spans under 30 minutes, as
 *   Elasticsearch does for the percentile only: otherwise the most unlikely of the many short
 *   buckets of pure noise (p ≈ 1 / buckets) scores 65–75 (figures above).
 * - A record scope's maximum is kept while it is above 1% of the value it was set at, not
 *   dropped after 50 buckets without an update: records are written (and the maximum updated)
 *   only for series with p < 0.05, whereas Elasticsearch updates every series' scope every
 *   bucket; the maxima of series that stopped reporting go after ln 100 / (2r) buckets (96 days).
 */
import { type BinReader, type BinWriter, stringBytes } from './codec.ts';
import { lnProbabilityFromRawScore } from './stats.ts';

/**
 * Bin upper edges over raw scores 0–100: 0 alone (every p >= 0.035), 0.02 wide to 1 (p
 * 0.035 to 1e-4), 0.2 wide to 10, 1 wide to 50, 5 wide to 100.
 */
const EDGES: number[] = (() => {
  const e: number[] = [0];
  for (let i = 1; i <= 50; i++) e.push(i / 50);
  for (let i = 1; i <= 45; i++) e.push(1 + i / 5);
  for (let v = 11; v <= 50; v++) e.push(v);
  for (let v = 55; v <= 100; v += 5) e.push(v);
  return e;
})();
const BINS = EDGES.length;

/** Elasticsearch's default knot points (percentile, normalised score), ml-cpp CAnomalyDetectorModelConfig. */
const KNOTS: ReadonlyArray<readonly [number, number]> = [
  [0, 0],
  [70, 1],
  [85, 1.2],
  [90, 1.5],
  [95, 3],
  [97, 20],
  [99, 50],
  [99.9, 90],
  [100, 100],
];

/** Elasticsearch's default decay rate per bucket of its STANDARD_BUCKET_LENGTH, 30 minutes. */
const DECAY_RATE_PER_30_MIN = 0.0005;
const THIRTY_MIN_MS = 1_800_000;
/** The histogram ages 20 times slower than the maxima (ml-cpp QUANTILE_DECAY_TIME). */
const QUANTILE_DECAY_TIME = 20;
/** A scope maximum grown by more than this factor is a big change (ml-cpp BIG_CHANGE_FACTOR). */
const BIG_CHANGE_FACTOR = 1.1;
/** A scope maximum is forgotten once aged below 1% of the value it was set at: e-folds. */
const FORGET_E_FOLDS = Math.log(100);
/** Buckets between sweeps of the forgotten scope maxima. */
const SWEEP_EVERY = 64;
/** The noise percentile (ml-cpp noisePercentile, 50) and the score of the first knot at or above it. */
const NOISE_FRACTION = 0.5;
const NOISE_KNOT_SCORE = 1;
/** Slope of the absolute ceiling: 1 / ln(1e-4 / 0.05), the raw score's rise from p = 0.05 to 1e-4 per e-fold. */
const ABS_SLOPE = 1 / Math.log(1e-4 / 0.05);
const LN_LARGEST_SIGNIFICANT = Math.log(0.05);

/** Scope of the bucket normaliser: a bucket has one. */
export const BUCKET_SCOPE = '';

/** The record normaliser's scope of one series: its detector and its partition and by values (ml-cpp CMaximumScoreScope). */
export function recordScope(detectorIndex: number, partition: string | undefined, by: string | undefined): string {
  return `${detectorIndex}\u0000${partition ?? ''}\u0000${by ?? ''}`;
}

/** Serialized bytes of a normaliser without scope maxima (the fixed part). */
export const NORMALIZER_BYTES = 8 * (BINS + 12) + 4;

/** Bytes one scope maximum adds to the serialized normaliser. */
function scopeBytes(scope: string): number {
  return stringBytes(scope) + 16;
}

function binOf(s: number): number {
  if (s <= 0) return 0;
  if (s <= 1) return Math.max(1, Math.ceil(s * 50 - 1e-9));
  if (s <= 10) return 50 + Math.max(1, Math.ceil((s - 1) * 5 - 1e-9));
  if (s <= 50) return 95 + Math.max(1, Math.ceil(s - 10 - 1e-9));
  const b = 135 + Math.max(1, Math.ceil((s - 50) / 5 - 1e-9));
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
 * Ceiling 3, Elasticsearch's absolute cap: 100 · (0.05 + 0.95 · ln(p / 0.05) / ln(1e-4 / 0.05))
 * with p the probability the raw score stands for: 5 at p = 0.05, ≈ 30 at 0.01, ≈ 65 at 1e-3,
 * 100 at 1e-4 and above 100 (no cap) past it.
 *
 * For spans under 30 minutes p is first made the chance that at least one of the 1800 s / span
 * buckets of half an hour is this unlikely, 1 − (1 − p)^(1800 / span) (≈ 6p for 5-minute
 * buckets): the same 30-minute equivalence as the percentile ceiling's, so a short bucket is not
 * more alarming for being one of many draws (pure noise in 5-minute buckets reaches p ≈ 1e-3
 * every few hours). A half-hour p above 0.05 (5-minute buckets from p ≈ 0.0085 up) would
 * give less than 5 and, past p ≈ 0.11 per half hour, less than 0: the ceiling is then 0, as a
 * score is never below it.
 * @param spanFactor min(1, bucket span / 30 min).
 */
export function absoluteCeiling(raw: number, spanFactor = 1): number {
  let lnP = lnProbabilityFromRawScore(raw);
  if (spanFactor < 1) {
    const p = Math.exp(lnP);
    // 1 − (1 − p)^m is m·p to 1e-9 once m·p < 1e-9; exp(lnP) would underflow for the smallest p.
    lnP = p / spanFactor < 1e-9 ? lnP - Math.log(spanFactor) : Math.log(-Math.expm1(Math.log1p(-p) / spanFactor));
  }
  return Math.max(0, 100 * (0.95 * ABS_SLOPE * (lnP - LN_LARGEST_SIGNIFICANT) + 0.05));
}

/** Elasticsearch's severity band of a score (warning < 25 ≤ minor < 50 ≤ major < 75 ≤ critical). */
function band(score: number): number {
  return Math.floor(score / 25);
}

/**
 * Elasticsearch's rule for writing a renormalised score (Normalizer.isBigUpdate): only when
 * the severity band changes, the score moves by 1.5 or more, or one is under 33% of the
 * other; smaller moves keep the stored score, so renormalisation rewrites few documents.
 */
export function isBigUpdate(oldScore: number, newScore: number): boolean {
  return band(oldScore) !== band(newScore) || Math.abs(oldScore - newScore) >= 1.5 || oldScore * 0.33 > newScore || newScore * 0.33 > oldScore;
}

/** A scope's largest raw score, `max` as set when `clock` was `at` (aged lazily). */
interface ScopeMax {
  max: number;
  at: number;
}

/**
 * One normaliser (the model keeps one for buckets and one for records). Ageing is lazy: new
 * histogram weight is added inflated by `scale`, which grows per bucket, and a scope maximum
 * is read aged by e^(at − clock), `clock` counting the e-folds of max ageing so far. So a
 * bucket costs O(1) rather than a pass over the histogram and the scopes.
 */
export class ScoreNormalizer {
  private counts: Float64Array = new Float64Array(BINS);
  private total = 0;
  private scale = 1;
  /** e-folds the scope maxima have aged since the start (2r per bucket). */
  private clock = 0;
  private buckets = 0;
  /** Big changes so far: a scope maximum grew by more than 10% (stored scores are then stale). */
  private gen = 0;
  /** Elasticsearch's decay rate r per bucket for this bucket span. */
  private rate: number;
  /** min(1, span / 30 min): the percentile is raised to 1 / this (the 30-minute equivalent). */
  private spanFactor: number;
  private maxes = new Map<string, ScopeMax>();
  private extraBytes = 0;
  /** e^(r/20): what `scale` grows by per bucket (derived from `rate`, not persisted). */
  private growth: number;
  /** Whether the percentile ceiling waits for recurrence over episodes (module comment, ceiling 1). */
  private episodic: boolean;
  /** The largest raw score of the episode in progress; 0 between episodes. */
  private episodeMax = 0;
  /** Buckets at raw 0 since the episode in progress last had a raw score above 0. */
  private episodeQuiet = 0;
  /** The largest and second largest maxima of the finished episodes (0 while there are fewer). */
  private episodeTop1 = 0;
  private episodeTop2 = 0;

  /**
   * @param bucketSpanMs the job's bucket span (ms): sets the ageing rate and the 30-minute equivalence.
   * @param episodic whether `add` receives one raw score per bucket (the bucket normaliser), so
   *   that runs of buckets with a raw score above 0 are episodes: the percentile ceiling then
   *   applies only to a raw score reached by two earlier episodes.
   */
  constructor(bucketSpanMs: number, episodic = false) {
    this.rate = (DECAY_RATE_PER_30_MIN * bucketSpanMs) / THIRTY_MIN_MS;
    this.spanFactor = Math.min(1, bucketSpanMs / THIRTY_MIN_MS);
    this.growth = Math.exp(this.rate / QUANTILE_DECAY_TIME);
    this.episodic = episodic;
  }

  /** Big changes so far (a scope maximum grew by > 10%, or a first one was set); persisted. */
  get generation(): number {
    return this.gen;
  }

  /** Buckets at raw 0 that end an episode: half an hour's worth, at least 1. */
  private get episodeGap(): number {
    return Math.max(1, Math.round(1 / this.spanFactor));
  }

  /** Serialized bytes: the fixed part plus the scope maxima. */
  get bytes(): number {
    return NORMALIZER_BYTES + this.extraBytes;
  }

  /** Ages by one finalised bucket (call before adding that bucket's scores). */
  age(): void {
    this.scale *= this.growth;
    this.clock += 2 * this.rate;
    if (this.scale > 1e100) this.rescale();
    if (++this.buckets % SWEEP_EVERY === 0) this.sweep();
  }

  /**
   * Adds a raw score (>= 0) of `scope` to the histogram and raises the scope's maximum.
   * @returns whether that was a big change (the maximum grew by more than 10%).
   */
  add(raw: number, scope: string): boolean {
    if (this.episodic) {
      if (raw > 0) {
        if (raw > this.episodeMax) this.episodeMax = raw;
        this.episodeQuiet = 0;
      } else if (this.episodeMax > 0 && ++this.episodeQuiet >= this.episodeGap) this.endEpisode();
    }
    const b = binOf(raw);
    const w = this.scale;
    this.counts[b] = (this.counts[b] as number) + w;
    this.total += w;
    if (!(raw > 0)) return false;
    const m = this.maxes.get(scope);
    if (m === undefined) {
      this.maxes.set(scope, { max: raw, at: this.clock });
      this.extraBytes += scopeBytes(scope);
      this.gen++;
      return true;
    }
    const aged = m.max * Math.exp(m.at - this.clock);
    if (raw <= aged) return false;
    m.max = raw;
    m.at = this.clock;
    if (raw > BIG_CHANGE_FACTOR * aged) {
      this.gen++;
      return true;
    }
    return false;
  }

  /** Adds `weight` observations of raw score 0 (results with p >= 0.035): they raise no maximum. */
  addZeros(weight: number): void {
    if (!(weight > 0)) return;
    const w = weight * this.scale;
    this.counts[0] = (this.counts[0] as number) + w;
    this.total += w;
  }

  /**
   * `n` buckets, each aged and then adding `weight` raw scores of 0, in O(1 + scopes): the
   * same state as n × (age(); addZeros(weight)) up to rounding. Used for the empty buckets of
   * a long gap, so a gap costs the same whatever its length.
   */
  addZeroRun(n: number, weight: number): void {
    if (!(n > 0)) return;
    if (this.episodeMax > 0) {
      this.episodeQuiet += n;
      if (this.episodeQuiet >= this.episodeGap) this.endEpisode();
    }
    this.rescale();
    const factor = Math.exp(-this.rate / QUANTILE_DECAY_TIME);
    const keep = factor ** n;
    const c = this.counts;
    for (let i = 0; i < BINS; i++) c[i] = (c[i] as number) * keep;
    const added = factor < 1 ? (weight * (1 - keep)) / (1 - factor) : weight * n;
    c[0] = (c[0] as number) + added;
    this.total = this.total * keep + added;
    this.clock += 2 * this.rate * n;
    this.buckets += n;
    this.sweep();
  }

  /**
   * The 0–100 score of raw score `raw` in `scope`: the minimum of the four ceilings (module
   * comment); 0 for raw 0.
   */
  score(raw: number, scope: string): number {
    if (!(raw > 0)) return 0;
    let out = absoluteCeiling(raw, this.spanFactor);
    if (out > 100) out = 100;
    const m = this.maxes.get(scope);
    if (m !== undefined) {
      const r = raw / (m.max * Math.exp(m.at - this.clock));
      const c2 = 100 * Math.min(1.5 * r, 0.5 + 0.5 * r);
      if (c2 < out) out = c2;
    }
    const total = this.total;
    if (!(total > 0)) return out;
    const c = this.counts;
    // Episodic: a raw score above the second largest earlier episode's has not recurred yet.
    if (!this.episodic || raw <= this.episodeTop2) {
      const b = binOf(raw);
      let below = 0;
      for (let i = 0; i < b; i++) below += c[i] as number;
      // Strictly below: the bin's mass spread evenly over it, less one observation (the score
      // itself, or one equal to it).
      const lo = b === 0 ? 0 : (EDGES[b - 1] as number);
      const hi = EDGES[b] as number;
      const own = (c[b] as number) - this.scale;
      if (own > 0) below += (own * (raw - lo)) / (hi - lo);
      const f = Math.min(1, below / total);
      const c1 = knotScore(100 * (this.spanFactor < 1 ? f ** (1 / this.spanFactor) : f));
      if (c1 < out) out = c1;
    }
    // Noise ceiling, only where it can bite: the share of raw 0 below the noise percentile.
    const zeros = (c[0] as number) / total;
    if (zeros < NOISE_FRACTION) {
      const c0 = NOISE_KNOT_SCORE * Math.max(1 + 10 * (raw - this.median()), 0) + 100 * Math.max(2 * (zeros / NOISE_FRACTION) - 1, 0);
      if (c0 < out) out = c0;
    }
    return out;
  }

  /** Closes the episode in progress: its maximum joins the two largest. */
  private endEpisode(): void {
    const m = this.episodeMax;
    if (m > this.episodeTop1) {
      this.episodeTop2 = this.episodeTop1;
      this.episodeTop1 = m;
    } else if (m > this.episodeTop2) this.episodeTop2 = m;
    this.episodeMax = 0;
    this.episodeQuiet = 0;
  }

  /** The upper edge of the bin where the histogram, counted down from the top, passes k − ½ observations (0 if it holds fewer). */
  private levelFromTop(k: number): number {
    // Less half an observation: aged weights are a little under one each.
    const need = (k - 0.5) * this.scale;
    let acc = 0;
    for (let i = BINS - 1; i > 0; i--) {
      acc += this.counts[i] as number;
      if (acc >= need) return EDGES[i] as number;
    }
    return 0;
  }

  /** The median raw score (upper edge of the bin where the c.d.f. reaches 1/2). */
  private median(): number {
    const half = this.total * NOISE_FRACTION;
    let acc = 0;
    for (let i = 0; i < BINS; i++) {
      acc += this.counts[i] as number;
      if (acc >= half) return EDGES[i] as number;
    }
    return EDGES[BINS - 1] as number;
  }

  /** Back to scale 1: factor^-n would overflow. */
  private rescale(): void {
    const c = this.counts;
    for (let i = 0; i < BINS; i++) c[i] = (c[i] as number) / this.scale;
    this.total /= this.scale;
    this.scale = 1;
  }

  /** Drops the scope maxima aged below 1% of the value they were set at. */
  private sweep(): void {
    for (const [scope, m] of this.maxes) {
      if (this.clock - m.at > FORGET_E_FOLDS) {
        this.maxes.delete(scope);
        this.extraBytes -= scopeBytes(scope);
      }
    }
  }

  write(w: BinWriter): void {
    w.f64(this.rate);
    w.f64(this.spanFactor);
    w.f64(this.total);
    w.f64(this.scale);
    w.f64(this.clock);
    w.f64(this.buckets);
    w.f64(this.gen);
    w.f64(this.episodic ? 1 : 0);
    w.f64(this.episodeMax);
    w.f64(this.episodeQuiet);
    w.f64(this.episodeTop1);
    w.f64(this.episodeTop2);
    w.f64s(this.counts);
    w.u32(this.maxes.size);
    for (const [scope, m] of this.maxes) {
      w.str(scope);
      w.f64(m.max);
      w.f64(m.at);
    }
  }

  /**
   * Reads what {@link write} wrote. State versions 3 and 4 had no episodes: for those `olderEpisodic` says whether
   * this is the bucket normaliser, whose two largest episodes are then taken from its
   * histogram's two largest raw scores (each bucket its own episode: never below the truth, so
   * the percentile ceiling is if anything applied more often, as before).
   */
  static read(r: BinReader, olderEpisodic?: boolean): ScoreNormalizer {
    const n = new ScoreNormalizer(THIRTY_MIN_MS);
    n.rate = r.f64();
    n.growth = Math.exp(n.rate / QUANTILE_DECAY_TIME);
    n.spanFactor = r.f64();
    n.total = r.f64();
    n.scale = r.f64();
    n.clock = r.f64();
    n.buckets = r.f64();
    n.gen = r.f64();
    if (olderEpisodic === undefined) {
      n.episodic = r.f64() === 1;
      n.episodeMax = r.f64();
      n.episodeQuiet = r.f64();
      n.episodeTop1 = r.f64();
      n.episodeTop2 = r.f64();
    }
    n.counts = r.f64s(BINS);
    if (olderEpisodic === true) {
      n.episodic = true;
      n.episodeTop1 = n.levelFromTop(1);
      n.episodeTop2 = n.levelFromTop(2);
    }
    const k = r.u32();
    for (let i = 0; i < k; i++) {
      const scope = r.str();
      n.maxes.set(scope, { max: r.f64(), at: r.f64() });
      n.extraBytes += scopeBytes(scope);
    }
    return n;
  }
}
