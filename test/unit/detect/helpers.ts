/** Factories and synthetic data for the anomaly model tests. */
import type { AnalysisSpec, BucketResult, DetectorSpec, InputRecord } from '../../../lib/detect/index.ts';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/** A Monday, 00:00 UTC. */
export const T0 = Date.UTC(2024, 0, 1);

/** A spec with one detector (overridable) and a generous memory limit. */
export function makeSpec(detector: Partial<DetectorSpec> = {}, over: Partial<AnalysisSpec> = {}): AnalysisSpec {
  return {
    jobId: 'job-1',
    bucketSpanMs: 10 * MINUTE,
    latencyMs: 0,
    detectors: [{ detector_index: 0, function: 'count', ...detector }],
    influencers: [],
    modelMemoryLimitBytes: 64 * 1024 * 1024,
    ...over,
  };
}

/** Deterministic uniform [0, 1) numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws from a uniform source (Box–Muller). */
export function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * Records for `buckets` buckets of `spanMs` from T0: `perBucket(b)` gives the field objects
 * of bucket b (spread evenly inside the bucket).
 */
export function bucketsOf(buckets: number, spanMs: number, perBucket: (b: number) => Record<string, unknown>[], start = T0): InputRecord[] {
  const out: InputRecord[] = [];
  for (let b = 0; b < buckets; b++) {
    const docs = perBucket(b);
    docs.forEach((fields, i) => out.push({ timeMs: start + b * spanMs + Math.floor(((i + 0.5) * spanMs) / (docs.length + 1)), fields }));
  }
  return out;
}

/** The bucket with the highest anomaly score (first one on ties). */
export function topBucket(buckets: BucketResult[]): BucketResult {
  let best = buckets[0] as BucketResult;
  for (const b of buckets) if (b.anomaly_score > best.anomaly_score) best = b;
  return best;
}

/** Bucket results without the wall-clock processing time, for equality checks. */
export function stable(buckets: BucketResult[]): unknown[] {
  return buckets.map(({ processing_time_ms: _t, ...rest }) => rest);
}
