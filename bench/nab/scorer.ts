/**
 * The Numenta Anomaly Benchmark's scoring (numenta/NAB v1.1: `nab/scorer.py`, `nab/sweeper.py`,
 * `config/profiles.json`), written from its published rules. Pure: no I/O.
 *
 * - A file's rows are scored from a detector's `anomaly_score` in [0, 1]; a row is a detection
 *   when its score is ≥ the threshold. Rows in the probationary period (the first
 *   min(⌊0.15 × rows⌋, 750)) never count.
 * - Each labelled window (inclusive bounds) counts once: its earliest detection is a true
 *   positive weighted by the scaled sigmoid of its relative position, `σ(y) = 2 / (1 + e^(5y)) − 1`,
 *   with y = −(last row of the window − row + 1) / rows in window (≈ 0.987 at the window's first row,
 *   → 0 at its end). A window without a detection is a false negative (−1). Later detections in a
 *   window count for nothing.
 * - A detection outside every window is a false positive weighted by σ of its distance to the
 *   end of the preceding window, relative to that window's length (y = (row − last row) /
 *   (rows in window − 1), and −1 when y > 3); with no preceding window it weighs −1.
 * - A profile weighs TP, FP and FN: raw = Σ tp·σ + Σ fp·σ(FP) − fn·(missed windows).
 * - One threshold per detector and profile, for all files together: the one maximizing the sum
 *   of raw scores over every file (the sweep over every distinct score).
 * - Normalized score = 100 × (raw − null) / (perfect − null), summed over files: the null
 *   detector detects nothing (−fn per window), the perfect one detects every window on its first
 *   row (tp · σ(−1) per window).
 */

/** NAB's application profiles (`config/profiles.json`). */
export const PROFILES = {
  standard: { tp: 1.0, fp: 0.11, fn: 1.0 },
  reward_low_FP_rate: { tp: 1.0, fp: 0.22, fn: 1.0 },
  reward_low_FN_rate: { tp: 1.0, fp: 0.11, fn: 2.0 },
} as const;
export type ProfileName = keyof typeof PROFILES;
export interface CostMatrix {
  tp: number;
  fp: number;
  fn: number;
}

/** NAB's `probationPercent`, and the row count the percentage is taken of at most (0.15 × 5000). */
export const PROBATION_PERCENT = 0.15;
const PROBATION_CAP = Math.floor(PROBATION_PERCENT * 5000);

/** Rows of a file's probationary period: detections there are ignored. */
export function probationRows(rows: number): number {
  return Math.min(Math.floor(PROBATION_PERCENT * rows), PROBATION_CAP);
}

/** NAB's scaled sigmoid of a relative position (−1 = a window's first row, 0 = its end). */
export function scaledSigmoid(y: number): number {
  if (y > 3) return -1;
  return 2 / (1 + Math.exp(5 * y)) - 1;
}

/** One file as the scorer sees it: its row times and labelled windows (epoch ms, inclusive). */
export interface ScoredFile {
  name: string;
  /** Epoch ms of each row, ascending. */
  times: readonly number[];
  /** The detector's score of each row, in [0, 1]. */
  scores: readonly number[];
  windows: readonly { start: number; end: number }[];
}

/** The rows of each window: [first, last] row indices (inclusive); windows with no row dropped. */
export function windowRows(times: readonly number[], windows: readonly { start: number; end: number }[]): [number, number][] {
  const out: [number, number][] = [];
  for (const w of windows) {
    let a = -1;
    let b = -1;
    for (let i = 0; i < times.length; i++) {
      const t = times[i] as number;
      if (t >= w.start && t <= w.end) {
        if (a < 0) a = i;
        b = i;
      }
    }
    if (a >= 0) out.push([a, b]);
  }
  return out.sort((x, y) => x[0] - y[0]);
}

/** Per row: which window it is in (−1: none) and its weight if it is a detection. */
interface RowInfo {
  window: Int32Array;
  /** TP: σ of the position in its window; FP: σ of the distance after the preceding window (≤ 0), unweighted. */
  sigma: Float64Array;
  probation: number;
  windows: [number, number][];
}

function rowInfo(f: ScoredFile): RowInfo {
  const n = f.times.length;
  const windows = windowRows(f.times, f.windows);
  const window = new Int32Array(n).fill(-1);
  const sigma = new Float64Array(n);
  let wi = 0;
  let prev: [number, number] | undefined;
  for (let i = 0; i < n; i++) {
    while (wi < windows.length && (windows[wi] as [number, number])[1] < i) prev = windows[wi++];
    const cur = windows[wi];
    if (cur !== undefined && i >= cur[0] && i <= cur[1]) {
      window[i] = wi;
      const width = cur[1] - cur[0] + 1;
      sigma[i] = scaledSigmoid(-(cur[1] - i + 1) / width);
    } else if (prev !== undefined) {
      const width = prev[1] - prev[0] + 1;
      sigma[i] = scaledSigmoid(width > 1 ? (i - prev[1]) / (width - 1) : Number.POSITIVE_INFINITY);
    } else {
      sigma[i] = -1;
    }
  }
  return { window, sigma, probation: probationRows(n), windows };
}

/** Counts and raw score of one file at one threshold. */
export interface FileScore {
  name: string;
  raw: number;
  tp: number;
  fp: number;
  fn: number;
  windows: number;
  /** Raw scores of the null and perfect detectors on this file. */
  nullRaw: number;
  perfectRaw: number;
}

/** Scores one file at `threshold` under `cost` (NAB's `Scorer.getScore`). */
export function scoreFile(f: ScoredFile, threshold: number, cost: CostMatrix): FileScore {
  const info = rowInfo(f);
  const first = new Int32Array(info.windows.length).fill(-1);
  let fpSum = 0;
  let fp = 0;
  for (let i = info.probation; i < f.scores.length; i++) {
    if (!((f.scores[i] as number) >= threshold)) continue;
    const w = info.window[i] as number;
    if (w >= 0) {
      if ((first[w] as number) < 0) first[w] = i;
    } else {
      fp++;
      fpSum += cost.fp * (info.sigma[i] as number);
    }
  }
  let tpSum = 0;
  let tp = 0;
  let fn = 0;
  for (let w = 0; w < first.length; w++) {
    const i = first[w] as number;
    if (i >= 0) {
      tp++;
      tpSum += cost.tp * (info.sigma[i] as number);
    } else fn++;
  }
  return {
    name: f.name,
    raw: tpSum + fpSum - cost.fn * fn,
    tp,
    fp,
    fn,
    windows: info.windows.length,
    nullRaw: -cost.fn * info.windows.length,
    perfectRaw: cost.tp * scaledSigmoid(-1) * info.windows.length,
  };
}

/** The result of a profile over a set of files. */
export interface ProfileResult {
  profile: string;
  /** The threshold chosen (the sweep's best), applied as score ≥ threshold. */
  threshold: number;
  /** 100 × (raw − null) / (perfect − null) over all files. */
  score: number;
  raw: number;
  nullRaw: number;
  perfectRaw: number;
  files: FileScore[];
}

/**
 * The best threshold for `files` under `cost`: every distinct score is tried, from the highest
 * down, updating the summed raw score as rows become detections (NAB's sweeper), and the
 * threshold with the highest sum wins (the highest such threshold on ties). O(rows log rows).
 */
export function optimizeThreshold(files: readonly ScoredFile[], cost: CostMatrix): { threshold: number; raw: number } {
  const infos = files.map(rowInfo);
  // Every countable row of every file, by score descending.
  const rows: { s: number; f: number; i: number }[] = [];
  files.forEach((f, fi) => {
    const p = (infos[fi] as RowInfo).probation;
    for (let i = p; i < f.scores.length; i++) rows.push({ s: f.scores[i] as number, f: fi, i });
  });
  rows.sort((a, b) => b.s - a.s || a.f - b.f || a.i - b.i);
  const first = infos.map((inf) => new Int32Array(inf.windows.length).fill(-1));
  // Nothing detected: every window missed.
  let raw = infos.reduce((sum, inf) => sum - cost.fn * inf.windows.length, 0);
  let best = { threshold: Number.POSITIVE_INFINITY, raw };
  // A threshold above every score detects nothing, which is what +∞ means here: NAB's sweep starts at 1.1.
  best = { threshold: 1.1, raw };
  let k = 0;
  while (k < rows.length) {
    const s = (rows[k] as { s: number }).s;
    for (; k < rows.length && (rows[k] as { s: number }).s === s; k++) {
      const { f, i } = rows[k] as { f: number; i: number };
      const inf = infos[f] as RowInfo;
      const w = inf.window[i] as number;
      if (w < 0) {
        raw += cost.fp * (inf.sigma[i] as number);
        continue;
      }
      const fw = first[f] as Int32Array;
      const cur = fw[w] as number;
      if (cur < 0) {
        raw += cost.tp * (inf.sigma[i] as number) + cost.fn;
        fw[w] = i;
      } else if (i < cur) {
        raw += cost.tp * ((inf.sigma[i] as number) - (inf.sigma[cur] as number));
        fw[w] = i;
      }
    }
    if (raw > best.raw) best = { threshold: s, raw };
  }
  return best;
}

/** NAB's normalized score of `files` under one profile, with its optimized threshold. */
export function scoreProfile(files: readonly ScoredFile[], profile: string, cost: CostMatrix, threshold?: number): ProfileResult {
  const t = threshold ?? optimizeThreshold(files, cost).threshold;
  const scored = files.map((f) => scoreFile(f, t, cost));
  const raw = scored.reduce((s, x) => s + x.raw, 0);
  const nullRaw = scored.reduce((s, x) => s + x.nullRaw, 0);
  const perfectRaw = scored.reduce((s, x) => s + x.perfectRaw, 0);
  const score = perfectRaw === nullRaw ? 0 : (100 * (raw - nullRaw)) / (perfectRaw - nullRaw);
  return { profile, threshold: t, score, raw, nullRaw, perfectRaw, files: scored };
}
