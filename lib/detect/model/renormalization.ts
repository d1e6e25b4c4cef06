/** Renormalisation of stored results: scores of stored buckets and records under the current normalisers. */
import type { BucketResult } from '../types.ts';
import { RECORD_PROBABILITY } from './scoring.ts';
import type { ModelState } from './state.ts';

/** The work of {@link AnomalyModel.normalizeBucketScore} (documented there). */
export function normalizeBucketScore(model: ModelState, rawAnomalyScore: number): number {
  return model.bucketNorm.score(rawAnomalyScore);
}

/** The work of {@link AnomalyModel.normalizeRecordScore} (documented there). */
export function normalizeRecordScore(model: ModelState, probability: number): number {
  return probability < RECORD_PROBABILITY ? model.recordNorm.score(-Math.log10(probability)) : 0;
}

/** The work of {@link AnomalyModel.renormalize} (documented there). */
export function renormalize(model: ModelState, bucket: BucketResult): BucketResult {
  const infl = bucket.bucket_influencers.map((b) => ({ ...b, anomaly_score: normalizeBucketScore(model, b.raw_anomaly_score) }));
  const score = infl.reduce((m, b) => Math.max(m, b.anomaly_score), 0);
  return {
    ...bucket,
    anomaly_score: score,
    bucket_influencers: infl,
    records: bucket.records.map((r) => ({ ...r, record_score: normalizeRecordScore(model, r.probability) })),
  };
}
