/**
 * Tail probabilities, computed in the log domain so that extreme deviations keep distinct
 * scores instead of all underflowing to 0.
 */

/** Smallest probability the model reports (Elasticsearch's floor is the smallest double). */
export const MIN_PROBABILITY = 1e-308;
/** ln ½, computed once: the tail is ½·I, and Math.log is a call into C on every use. */
const LN_HALF = Math.log(0.5);

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error ~1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (LANCZOS[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

let cachedNu = NaN;
let cachedLnNu = NaN;

/** ln ν, remembering the last ν (the model uses one). */
function logNu(nu: number): number {
  if (nu !== cachedNu) {
    cachedNu = nu;
    cachedLnNu = Math.log(nu);
  }
  return cachedLnNu;
}

let cachedA = NaN;
let cachedB = NaN;
let cachedLnBeta = NaN;

/** ln B(a, b), remembering the last pair (the model uses one or two ν). */
function logBeta(a: number, b: number): number {
  if (a !== cachedA || b !== cachedB) {
    cachedA = a;
    cachedB = b;
    cachedLnBeta = logGamma(a) + logGamma(b) - logGamma(a + b);
  }
  return cachedLnBeta;
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/**
 * ln of the upper tail P(T > t) of Student's t with `nu` degrees of freedom, t >= 0.
 * Uses P(T > t) = ½·I_x(ν/2, ½) with x = ν/(ν+t²), evaluated with ln x and ln(1−x) taken
 * from t directly so that large t keeps full relative precision.
 */
export function logStudentTail(t: number, nu: number): number {
  if (!(t > 0)) return LN_HALF;
  // ln(ν+t²) = 2 ln t + ln(1 + ν/t²): no overflow for t beyond 1e154.
  const lnT2 = 2 * Math.log(t);
  const lnDen = lnT2 + Math.log1p(nu / (t * t));
  const lnX = logNu(nu) - lnDen; // ln(ν/(ν+t²))
  const ln1mX = lnT2 - lnDen; // ln(t²/(ν+t²))
  const a = nu / 2;
  const b = 0.5;
  const lnBeta = logBeta(a, b);
  const x = Math.exp(lnX);
  if (x < (a + 1) / (a + b + 2)) {
    const lnI = a * lnX + b * ln1mX - lnBeta + Math.log(betaContinuedFraction(a, b, x) / a);
    return lnI + LN_HALF;
  }
  const lnJ = b * ln1mX + a * lnX - lnBeta + Math.log(betaContinuedFraction(b, a, 1 - x) / b);
  return LN_HALF + Math.log1p(-Math.exp(lnJ));
}

/**
 * The probability that lies in [MIN_PROBABILITY, 1] for a natural-log probability.
 */
export function clampProbability(lnP: number): number {
  if (!(lnP < 0)) return 1;
  const p = Math.exp(lnP);
  return p < MIN_PROBABILITY ? MIN_PROBABILITY : p;
}

/**
 * Probabilities at or above this give a raw score of 0: Elasticsearch's
 * maximumAnomalousProbability (CHierarchicalResultsNormalizer feeds 0 to the quantiles for
 * such results), so the normaliser's mass at 0 is "nothing unusual".
 */
export const MAXIMUM_ANOMALOUS_PROBABILITY = 0.035;
/** Elasticsearch's LARGEST_SIGNIFICANT_PROBABILITY: where the raw score starts (0 at 0.05). */
export const LARGEST_SIGNIFICANT_PROBABILITY = 0.05;
/** Elasticsearch's SMALL_PROBABILITY: the knee of the raw score, raw 1. */
export const SMALL_PROBABILITY = 1e-4;
const LN_MAX_ANOMALOUS = Math.log(MAXIMUM_ANOMALOUS_PROBABILITY);
const LN_SMALL = Math.log(SMALL_PROBABILITY);
/** ln 1e-50: raw 50, Elasticsearch's MINUSCULE_PROBABILITY. */
const LN_MINUSCULE = Math.log(1e-50);
const LN_MIN = Math.log(MIN_PROBABILITY);

/**
 * The raw anomaly score of a probability given as its natural log: Elasticsearch's
 * `CTools::anomalyScore`, piecewise in p and 0–100, so that the score is nearly flat where
 * probabilities are merely small and spreads out only past 1e-4:
 * - p >= 0.035 (maximumAnomalousProbability): 0;
 * - 1e-4 <= p < 0.035: (1/p − 20) / (1e4 − 20), linear in 1/p, so under 1;
 * - 1e-50 <= p < 1e-4: 1 + 49 · ln(1e-4 / p) / ln(1e46), so 1 to 50;
 * - p < 1e-50: 50 + 50 · ln(1e-50 / p) / ln(1e-50 / 1e-308), so 50 to 100 (p is floored at
 *   {@link MIN_PROBABILITY}).
 * This is the `raw_anomaly_score` of a bucket influencer (Elasticsearch's also carries a 0.8
 * factor from its aggregation of several probabilities; with one probability per bucket it
 * only rescales, so it is left out).
 */
export function rawScoreFromLn(lnP: number): number {
  if (!(lnP < LN_MAX_ANOMALOUS)) return 0;
  if (lnP >= LN_SMALL) return (Math.exp(-lnP) - 20) / (1e4 - 20);
  if (lnP >= LN_MINUSCULE) return 1 + (49 * (LN_SMALL - lnP)) / (LN_SMALL - LN_MINUSCULE);
  const s = 50 + (50 * (LN_MINUSCULE - lnP)) / (LN_MINUSCULE - LN_MIN);
  return Math.min(s, 100);
}

/**
 * The natural log of the probability a raw score stands for: the inverse of
 * {@link rawScoreFromLn} (Elasticsearch's `inverseAnomalyScore`), for raw > 0. A raw of 0 has
 * no single probability (every p >= 0.035 gives it); this returns ln 0.035 for it.
 */
export function lnProbabilityFromRawScore(raw: number): number {
  if (!(raw > 0)) return LN_MAX_ANOMALOUS;
  if (raw < 1) return -Math.log(20 + raw * (1e4 - 20));
  if (raw < 50) return LN_SMALL - ((raw - 1) * (LN_SMALL - LN_MINUSCULE)) / 49;
  return LN_MINUSCULE - ((Math.min(raw, 100) - 50) * (LN_MINUSCULE - LN_MIN)) / 50;
}

const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * ln of the standard normal upper tail Q(z) = P(Z > z), z any real. Uses the complementary
 * error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7) up to z = 8
 * and the asymptotic series −z²/2 − ln(z√(2π)) + ln(1 − 1/z² + 3/z⁴) beyond, where erfc
 * underflows in linear terms.
 */
export function logNormalTail(z: number): number {
  if (z > 8) {
    const z2 = z * z;
    return -0.5 * z2 - Math.log(z) - LN_SQRT_2PI + Math.log1p(-1 / z2 + 3 / (z2 * z2));
  }
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  // ln erfc(x) for x >= 0.
  const lnErfc =
    Math.log(t) -
    x * x -
    1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const lnQ = lnErfc + LN_HALF;
  return z >= 0 ? lnQ : Math.log1p(-Math.exp(lnQ));
}

/**
 * ln of the Student-t upper tail P(T > t) for one of a few fixed degrees of freedom whose
 * ln ν and ln B(ν/2, ½) the caller keeps (a model with several ν per series would otherwise
 * recompute three ln Γ per call; see {@link studentConstants}).
 */
export function logStudentTailWith(t: number, nu: number, lnNu: number, lnBeta: number): number {
  if (!(t > 0)) return LN_HALF;
  const lnT2 = 2 * Math.log(t);
  const lnDen = lnT2 + Math.log1p(nu / (t * t));
  const lnX = lnNu - lnDen;
  const ln1mX = lnT2 - lnDen;
  const a = nu / 2;
  const x = Math.exp(lnX);
  if (x < (a + 1) / (a + 2.5)) return a * lnX + 0.5 * ln1mX - lnBeta + Math.log(betaContinuedFraction(a, 0.5, x) / a) + LN_HALF;
  const lnJ = 0.5 * ln1mX + a * lnX - lnBeta + Math.log(betaContinuedFraction(0.5, a, 1 - x) / 0.5);
  return LN_HALF + Math.log1p(-Math.exp(lnJ));
}

/** The constants of a Student-t with ν degrees of freedom that its tail and density need. */
export interface StudentConstants {
  nu: number;
  lnNu: number;
  /** ln B(ν/2, ½). */
  lnBeta: number;
  /** ln of the density's normalising constant: ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln(νπ). */
  lnNorm: number;
}

/** Precomputes {@link StudentConstants} for ν. */
export function studentConstants(nu: number): StudentConstants {
  return {
    nu,
    lnNu: Math.log(nu),
    lnBeta: logGamma(nu / 2) + logGamma(0.5) - logGamma(nu / 2 + 0.5),
    lnNorm: logGamma((nu + 1) / 2) - logGamma(nu / 2) - 0.5 * Math.log(nu * Math.PI),
  };
}

/**
 * ln of the regularised incomplete beta function I_x(a, b), 0 <= x <= 1, a, b > 0, from its
 * continued fraction on the side where it converges (x below the mean a/(a+b)+…).
 */
export function logIncompleteBeta(a: number, b: number, x: number): number {
  if (x <= 0) return -Infinity;
  if (x >= 1) return 0;
  const lnFront = a * Math.log(x) + b * Math.log1p(-x) - (logGamma(a) + logGamma(b) - logGamma(a + b));
  if (x < (a + 1) / (a + b + 2)) return lnFront + Math.log(betaContinuedFraction(a, b, x) / a);
  const lnJ = lnFront + Math.log(betaContinuedFraction(b, a, 1 - x) / b);
  return Math.log1p(-Math.exp(Math.min(0, lnJ)));
}

/**
 * ln of the regularised incomplete gamma functions: `lower` P(a, x) = γ(a, x)/Γ(a) when
 * `lower`, else Q(a, x) = 1 − P(a, x); a > 0, x >= 0. Series for x < a + 1, Lentz continued
 * fraction otherwise (Numerical Recipes' gser/gcf), each giving the small side directly.
 */
export function logIncompleteGamma(a: number, x: number, lower: boolean): number {
  if (x <= 0) return lower ? -Infinity : 0;
  const lnFront = a * Math.log(x) - x - logGamma(a);
  let lnSmall: number;
  let smallIsLower: boolean;
  if (x < a + 1) {
    let ap = a;
    let sum = 1 / a;
    let del = sum;
    for (let n = 0; n < 500; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-15) break;
    }
    lnSmall = lnFront + Math.log(sum);
    smallIsLower = true;
  } else {
    const tiny = 1e-300;
    let b = x + 1 - a;
    let c = 1 / tiny;
    let d = 1 / b;
    let h = d;
    for (let i = 1; i < 500; i++) {
      const an = -i * (i - a);
      b += 2;
      d = an * d + b;
      if (Math.abs(d) < tiny) d = tiny;
      c = b + an / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      const del = d * c;
      h *= del;
      if (Math.abs(del - 1) < 1e-15) break;
    }
    lnSmall = lnFront + Math.log(h);
    smallIsLower = false;
  }
  if (smallIsLower === lower) return Math.min(0, lnSmall);
  return Math.log1p(-Math.exp(Math.min(0, lnSmall)));
}

/**
 * ln of a tail of a count distribution with mean `mean` (> 0) and variance `variance`: the
 * Poisson when the variance does not exceed the mean, otherwise the negative binomial with
 * that mean and variance (r = mean²/(variance − mean), success probability mean/variance),
 * the over-dispersed count family Elasticsearch's count models also allow.
 * `upper`: P(X >= k); else P(X <= k). k is a whole count >= 0.
 */
export function logCountTail(k: number, mean: number, variance: number, upper: boolean): number {
  if (upper && k <= 0) return 0;
  if (variance <= mean * 1.000001) {
    // Poisson: P(X >= k) = P(k, μ) (lower regularised gamma), P(X <= k) = Q(k + 1, μ).
    return upper ? logIncompleteGamma(k, mean, true) : logIncompleteGamma(k + 1, mean, false);
  }
  const r = (mean * mean) / (variance - mean);
  const p = mean / variance;
  // Negative binomial (failures before the r-th success): P(X <= k) = I_p(r, k + 1),
  // P(X >= k) = I_{1−p}(k, r).
  return upper ? logIncompleteBeta(k, r, 1 - p) : logIncompleteBeta(r, k + 1, p);
}
