/**
 * Empty runs: the empty buckets of a gap past the learning horizon, finalised a run at a time
 * in O(1) and handed out as {@link EmptyRun}s, and the bucket result each of their buckets
 * stands for.
 */
import type { BucketResult, EmptyRun } from '../types.ts';
import { type ModelState, syncNormalizerBytes } from './state.ts';

/**
 * Finalises `n` empty buckets from index `first` without scoring them one by one: the model
 * has converged on the empty level (the streak passed the horizon), so each would score 0
 * and teach nothing new. Counts and normalisers advance as n empty buckets would move them;
 * the memory status is already settled (an empty bucket refuses nothing and prunes nothing).
 */
export function finalizeEmptyRun(model: ModelState, first: number, n: number): void {
  const span = model.span;
  model.bucketNorm.addZeroRun(n, 1);
  model.recordNorm.addZeroRun(n, warmEmptySeries(model));
  syncNormalizerBytes(model);
  model.bucketCount += n;
  model.emptyCount += n;
  model.latestBucket = model.latestEmpty = (first + n - 1) * span;
  // countBucket's running average over 10 buckets, n times with 0 records.
  model.avgRecords *= 0.9 ** n;
  model.emptyStreak += n;
  model.lastRefused = false;
  model.pointer = first + n;
  model.finalizedAny = 1;
  const last = model.runs[model.runs.length - 1];
  if (last !== undefined && last.end === first * span) last.end = (first + n) * span;
  else model.runs.push({ job_id: model.spec.jobId, timestamp: first * span, end: (first + n) * span, bucket_span: span / 1000 });
}

/** Series that an empty bucket evaluates (warm series of detectors that model empty buckets). */
export function warmEmptySeries(model: ModelState): number {
  let n = 0;
  for (const d of model.detectors) {
    if (!d.info.modelsEmpty) continue;
    for (const s of d.series.values()) if (s.features.some((f) => f.n >= model.params.warmup)) n++;
  }
  return n;
}

/** The work of {@link AnomalyModel.takeEmptyRuns} (documented there). */
export function takeEmptyRuns(model: ModelState): EmptyRun[] {
  const out = model.runs;
  model.runs = [];
  return out;
}

/** The work of {@link AnomalyModel.pendingEmptyRunBuckets} (documented there). */
export function pendingEmptyRunBuckets(model: ModelState): number {
  let n = 0;
  for (const r of model.runs) n += (r.end - r.timestamp) / model.span;
  return n;
}

/**
 * The bucket result of an empty bucket that scores 0, exactly as `AnomalyModel` writes one
 * (event_count 0, every score 0, probability 1, no records): what each bucket of an
 * {@link EmptyRun} stands for.
 * @param timestampMs bucket start, epoch ms; @param bucketSpanS bucket span in seconds.
 */
export function emptyBucketResult(jobId: string, timestampMs: number, bucketSpanS: number): BucketResult {
  return {
    job_id: jobId,
    timestamp: timestampMs,
    result_type: 'bucket',
    bucket_span: bucketSpanS,
    anomaly_score: 0,
    initial_anomaly_score: 0,
    event_count: 0,
    is_interim: false,
    processing_time_ms: 0,
    bucket_influencers: [
      {
        job_id: jobId,
        result_type: 'bucket_influencer',
        influencer_field_name: 'bucket_time',
        initial_anomaly_score: 0,
        anomaly_score: 0,
        raw_anomaly_score: 0,
        probability: 1,
        timestamp: timestampMs,
        bucket_span: bucketSpanS,
        is_interim: false,
      },
    ],
    records: [],
  };
}
