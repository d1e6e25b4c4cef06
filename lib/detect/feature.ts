/**
 * The statistical model of one feature (count, mean, sum, min or max per bucket) of one
 * series: a decaying level and spread, a level-shift detector and, once a day of history
 * exists for a bucket span of at most one hour, a daily seasonal profile that is used for
 * prediction only after two days and only while it fits better than the flat level.
 */
import type { BinReader, BinWriter } from './codec.ts';
import { logStudentTail } from './stats.ts';

/** Which side of typical is anomalous. */
export const SIDE_BOTH = 0;
export const SIDE_HIGH = 1;
export const SIDE_LOW = 2;
export type Side = typeof SIDE_BOTH | typeof SIDE_HIGH | typeof SIDE_LOW;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Largest number of seasonal slots per day (30-minute resolution at most). */
const MAX_SLOTS = 48;

/** Tunables shared by all features of a model; derived from the bucket span. */
export interface FeatureParams {
  /** Buckets observed before any probability below 1 is reported. */
  warmup: number;
  /** Smallest update weight of level and spread (≈ 1 / memory in buckets). */
  alphaMin: number;
  /** Residuals are clipped to this many standard deviations when learning. */
  clip: number;
  /** |z| above this starts or extends a run that may be a level shift. */
  shiftZ: number;
  /** Buckets of one-signed |z| > shiftZ after which the level jumps to the new one. */
  shiftRun: number;
  /** Degrees of freedom of the Student-t tail. */
  nu: number;
  /** Floor of the standard deviation relative to |typical| (metric features). */
  relFloor: number;
  /** Seasonal slots per day (0 = no daily component). */
  slots: number;
  /** Update weight floor of the seasonal fit comparison (≈ 1 / buckets per day). */
  alphaDay: number;
}

/** Builds the tunables for a bucket span (ms). */
export function featureParams(bucketSpanMs: number): FeatureParams {
  const perDay = DAY_MS / bucketSpanMs;
  const memory = Math.min(600, Math.max(48, perDay));
  const slots = bucketSpanMs <= HOUR_MS ? Math.max(1, Math.min(MAX_SLOTS, Math.floor(perDay))) : 0;
  return {
    warmup: 8,
    alphaMin: 1 / memory,
    clip: 5,
    shiftZ: 3,
    shiftRun: 6,
    nu: 8,
    relFloor: 0.02,
    slots,
    alphaDay: 1 / Math.max(8, Math.min(perDay, 500)),
  };
}

/** Serialized bytes of a feature without / with its seasonal arrays. */
export const FEATURE_BYTES = 8 * 12 + 1;
export function seasonalBytes(slots: number): number {
  return 2 + slots * 16;
}

const LN2 = Math.LN2;

/**
 * One feature of one series. All numbers are float64 so a serialize/restore round trip
 * continues bit-identically.
 */
export class FeatureModel {
  /** Buckets learnt from. */
  n = 0;
  /** Deseasonalised level. */
  level = 0;
  /** Variance of the residuals of the active predictor. */
  variance = 0;
  /** Day-scale base level the seasonal offsets are learnt against. */
  base = 0;
  /** Day-scale mean absolute residuals of the base without / with the seasonal offsets. */
  madFlat = 0;
  madSeasonal = 0;
  firstMs = 0;
  lastMs = 0;
  /** Length and residual sum of the current run of one-signed outliers. */
  run = 0;
  runSum = 0;
  /** Seasonal updates since the profile was allocated. */
  seasonalUpdates = 0;
  /** 1 when the seasonal profile is used for prediction. */
  seasonalActive = 0;
  /** offsets[slots] then visit counts[slots]; null until a day of history. */
  seasonal: Float64Array | null = null;
  /** Typical value of the last `evaluate` (not persisted). */
  lastTypical = 0;

  /** Prediction (typical) at time T. */
  predict(p: FeatureParams, timeMs: number): number {
    const s = this.seasonal;
    if (s !== null && this.seasonalActive === 1) return this.level + (s[slotOf(p, timeMs)] as number);
    return this.level;
  }

  /**
   * Scores x at time T without learning.
   * @param isCount use a Poisson floor (variance >= typical) instead of the relative floor.
   * @returns ln of the tail probability (<= 0); the typical value is left in `lastTypical`.
   */
  evaluate(p: FeatureParams, x: number, timeMs: number, side: Side, isCount: boolean): number {
    const typical = (this.lastTypical = this.predict(p, timeMs));
    if (this.n < p.warmup) return 0;
    const r = x - typical;
    if ((side === SIDE_HIGH && r <= 0) || (side === SIDE_LOW && r >= 0) || r === 0) return 0;
    // Young models have seen little of the spread: widen it (×3 at the end of the warm-up,
    // ×1.2 after ten times as long).
    const young = 1 + (2 * p.warmup) / this.n;
    const v = this.variance * young;
    const f = floor2(p, typical, isCount);
    const z = Math.abs(r) / Math.sqrt(isCount ? (v > f ? v : f) : v + f);
    const lnP = logStudentTail(z, p.nu);
    return side === SIDE_BOTH ? Math.min(0, lnP + LN2) : lnP;
  }

  /**
   * Standard deviation of the prediction of the last `evaluate` (the scale its probability
   * used), for prediction intervals. Meaningful once the warm-up is over.
   */
  spread(p: FeatureParams, isCount: boolean): number {
    const v = this.n > 0 ? this.variance * (1 + (2 * p.warmup) / this.n) : 0;
    const f = floor2(p, this.lastTypical, isCount);
    return Math.sqrt(isCount ? (v > f ? v : f) : v + f);
  }

  /**
   * Learns x observed in the bucket starting at T (ms).
   * @returns bytes added to the serialized state (the daily profile, when allocated now).
   */
  update(p: FeatureParams, x: number, timeMs: number, isCount: boolean): number {
    if (this.n === 0) {
      this.n = 1;
      this.level = x;
      this.variance = 0;
      this.firstMs = timeMs;
      this.lastMs = timeMs;
      return 0;
    }
    let seasonalBytesAdded = 0;
    const n = this.n;
    const slots = p.slots;
    let s = this.seasonal;
    if (s === null && slots > 0 && timeMs - this.firstMs >= DAY_MS) {
      s = this.seasonal = new Float64Array(2 * slots);
      this.base = this.level;
      this.madFlat = Math.sqrt(this.variance);
      this.madSeasonal = this.madFlat;
      this.seasonalUpdates = 0;
      seasonalBytesAdded = seasonalBytes(slots);
    }
    const k = s !== null ? slotOf(p, timeMs) : 0;
    const offset = s !== null ? (s[k] as number) : 0;
    const pred = this.level + (this.seasonalActive === 1 ? offset : 0);
    const f2 = floor2(p, pred, isCount);
    const sd = Math.sqrt(this.variance + f2);
    let r = x - pred;
    if (n >= p.warmup) {
      const z = r / sd;
      if (z > p.shiftZ || z < -p.shiftZ) {
        if (this.run > 0 && r > 0 === this.runSum > 0) {
          this.run++;
          this.runSum += r;
        } else {
          this.run = 1;
          this.runSum = r;
        }
        if (this.run >= p.shiftRun) {
          // A sustained shift: move to the new level, keep the spread learnt so far.
          const shift = this.runSum / this.run;
          this.level += shift;
          r -= shift;
          this.run = 0;
          this.runSum = 0;
        }
      } else {
        this.run = 0;
        this.runSum = 0;
      }
      const lim = p.clip * sd;
      if (r > lim) r = lim;
      else if (r < -lim) r = -lim;
    }
    const alpha = Math.max(1 / (n + 1), p.alphaMin);
    const incr = alpha * r;
    this.level += incr;
    this.variance = (1 - alpha) * (this.variance + r * incr);

    if (s !== null) {
      // Seasonal learning, Holt-Winters style, against a day-scale base level: the offset of
      // this slot and the base both move by the (clipped) residual of the seasonal predictor.
      // The fit comparison uses unclipped mean absolute residuals, so that an anomaly weighs on
      // both predictors alike and never argues for the profile.
      const count = s[slots + k] as number;
      const eFlat = x - this.base;
      const eSeas = count > 0 ? eFlat - offset : eFlat;
      const upd = ++this.seasonalUpdates;
      const a = Math.max(1 / (upd + 1), p.alphaDay);
      const scale = 1.25 * this.madSeasonal + Math.sqrt(f2);
      const e = upd * p.alphaDay <= 1 ? eSeas : clamp(eSeas, p.clip * scale);
      this.madFlat += a * (Math.abs(eFlat) - this.madFlat);
      this.madSeasonal += a * (Math.abs(eSeas) - this.madSeasonal);
      this.base += a * e;
      const c = count < 20 ? count + 1 : 20;
      s[k] = offset + e / c;
      s[slots + k] = c;
      if (upd % slots === 0) this.centre(s, slots);
      const history = timeMs - this.firstMs;
      if (this.seasonalActive === 0) {
        if (history >= 2 * DAY_MS && this.madSeasonal < 0.75 * this.madFlat) {
          this.seasonalActive = 1;
          this.level = this.base;
          this.variance = (1.25 * this.madSeasonal) ** 2;
          this.run = 0;
          this.runSum = 0;
        }
      } else if (this.madSeasonal > 0.9 * this.madFlat) {
        this.seasonalActive = 0;
        this.level = this.base;
        this.variance = (1.25 * this.madFlat) ** 2;
        this.run = 0;
        this.runSum = 0;
      }
    }
    this.n = n + 1;
    this.lastMs = timeMs;
    return seasonalBytesAdded;
  }

  /** Moves the mean of the learnt offsets into the level so the profile stays centred. */
  private centre(s: Float64Array, slots: number): void {
    let sum = 0;
    let m = 0;
    for (let i = 0; i < slots; i++) {
      if ((s[slots + i] as number) > 0) {
        sum += s[i] as number;
        m++;
      }
    }
    if (m < slots) return;
    const mean = sum / m;
    for (let i = 0; i < slots; i++) s[i] = (s[i] as number) - mean;
    this.base += mean;
    if (this.seasonalActive === 1) this.level += mean;
  }

  /** Serialized size in bytes. */
  bytes(): number {
    return FEATURE_BYTES + (this.seasonal !== null ? seasonalBytes(this.seasonal.length / 2) : 0);
  }

  write(w: BinWriter): void {
    w.f64(this.n);
    w.f64(this.level);
    w.f64(this.variance);
    w.f64(this.base);
    w.f64(this.madFlat);
    w.f64(this.madSeasonal);
    w.f64(this.firstMs);
    w.f64(this.lastMs);
    w.f64(this.run);
    w.f64(this.runSum);
    w.f64(this.seasonalUpdates);
    w.f64(this.seasonalActive);
    if (this.seasonal === null) {
      w.u8(0);
    } else {
      w.u8(1);
      w.u16(this.seasonal.length / 2);
      w.f64s(this.seasonal);
    }
  }

  static read(r: BinReader): FeatureModel {
    const f = new FeatureModel();
    f.n = r.f64();
    f.level = r.f64();
    f.variance = r.f64();
    f.base = r.f64();
    f.madFlat = r.f64();
    f.madSeasonal = r.f64();
    f.firstMs = r.f64();
    f.lastMs = r.f64();
    f.run = r.f64();
    f.runSum = r.f64();
    f.seasonalUpdates = r.f64();
    f.seasonalActive = r.f64();
    if (r.u8() === 1) {
      const slots = r.u16();
      f.seasonal = r.f64s(2 * slots);
    }
    return f;
  }
}

function clamp(v: number, lim: number): number {
  return v > lim ? lim : v < -lim ? -lim : v;
}

/** Seasonal slot of a bucket start. */
function slotOf(p: FeatureParams, timeMs: number): number {
  const inDay = ((timeMs % DAY_MS) + DAY_MS) % DAY_MS;
  const k = Math.floor((inDay * p.slots) / DAY_MS);
  return k < p.slots ? k : p.slots - 1;
}

/** Variance floor: Poisson for counts, relative (plus a tiny absolute term) for metrics. */
function floor2(p: FeatureParams, typical: number, isCount: boolean): number {
  if (isCount) {
    const t = typical > 1 ? typical : 1;
    return t;
  }
  const rel = p.relFloor * typical;
  return rel * rel + 1e-12;
}
