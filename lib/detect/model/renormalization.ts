/** Renormalisation of stored results: scores of stored buckets, records and influencers under the current normalisers. */
import { BUCKET_SCOPE, isBigUpdate, recordScope } from '../normalizer.ts';
import { rawScoreFromLn } from '../stats.ts';
import type { BucketResult, RecordResult } from '../types.ts';
import { renormalizedInfluencers } from './influencers.ts';
import type { ModelState } from './state.ts';

/** What {@link renormalize} gives: the bucket with its current scores, and whether any score was rewritten. */
export interface Renormalized {
  bucket: BucketResult;
  changed: boolean;
}

/** The work of {@link AnomalyModel.normalizeBucketScore} (documented there). */
export function normalizeBucketScore(model: ModelState, rawAnomalyScore: number): number {
  return model.bucketNorm.score(rawAnomalyScore, BUCKET_SCOPE);
}

/** The work of {@link AnomalyModel.normalizeRecordScore} (documented there). */
export function normalizeRecordScore(model: ModelState, probability: number, record?: Pick<RecordResult, 'detector_index' | 'partition_field_value' | 'by_field_value'>): number {
  const scope = recordScope(record?.detector_index ?? 0, record?.partition_field_value, record?.by_field_value);
  return model.recordNorm.score(rawScoreFromLn(Math.log(probability)), scope);
}

/** The work of {@link AnomalyModel.normalizerGeneration} (documented there). */
export function normalizerGeneration(model: ModelState): number {
  return model.bucketNorm.generation + model.recordNorm.generation;
}

/** The work of {@link AnomalyModel.renormalize} (documented there). */
export function renormalize(model: ModelState, bucket: BucketResult): Renormalized {
  let changed = false;
  const infl = bucket.bucket_influencers.map((b) => {
    const score = normalizeBucketScore(model, b.raw_anomaly_score);
    if (!isBigUpdate(b.anomaly_score, score)) return b;
    changed = true;
    return { ...b, anomaly_score: score };
  });
  // The bucket is a container: its score is its influencers' largest (Elasticsearch's
  // BucketNormalizable), rewritten when that moved.
  const score = infl.reduce((m, b) => Math.max(m, b.anomaly_score), 0);
  if (score !== bucket.anomaly_score) changed = true;
  const records = bucket.records.map((r) => {
    const s = normalizeRecordScore(model, r.probability, r);
    if (!isBigUpdate(r.record_score, s)) return r;
    changed = true;
    return { ...r, record_score: s };
  });
  // Influencer scores follow their least likely records (./influencers.ts), as Elasticsearch rescores its InfluencerNormalizables.
  const influencers = bucket.influencers && renormalizedInfluencers(bucket.influencers, records);
  if (influencers !== bucket.influencers) changed = true;
  if (!changed) return { bucket, changed };
  return { bucket: { ...bucket, anomaly_score: score, bucket_influencers: infl, records, ...(influencers ? { influencers } : {}) }, changed };
}
