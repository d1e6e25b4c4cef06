/**
 * Scoring a bucket: every series of every detector is evaluated (and, unless interim, learns
 * the bucket), the least likely ones become record candidates, and the bucket probability,
 * scores and normalisers follow.
 */
import type { FeatureModel, Side } from '../feature.ts';
import { FEATURE_COUNT, FEATURE_MAX, FEATURE_MEAN, FEATURE_MIN, FEATURE_SUM, type FeatureKind } from '../functions.ts';
import { ruleActions, SKIP_MODEL_UPDATE, SKIP_RESULT } from '../rules.ts';
import { BUCKET_SCOPE, recordScope } from '../normalizer.ts';
import { clampProbability, rawScoreFromLn } from '../stats.ts';
import type { BucketResult, ModelPlotResult, RecordResult } from '../types.ts';
import { countBucket } from './data-counts.ts';
import { addInfluencers } from './influencers.ts';
import { createSeries } from './memory.ts';
import { plotPoint, recordResult } from './results.ts';
import type { Acc, Detector, OpenBucket, Series } from './series.ts';
import { type BucketPass, type Candidate, type ModelState, syncNormalizerBytes } from './state.ts';

/** Records are written only below this probability. */
export const RECORD_PROBABILITY = 0.05;
export const LN_RECORD_PROBABILITY = Math.log(RECORD_PROBABILITY);
/** At most this many records per bucket, most anomalous first. */
export const MAX_RECORDS = 500;

/** The value of one feature of a series in a bucket (0 for a bucket without its data). */
export function featureValue(kind: FeatureKind, acc: Acc | undefined): number {
  if (acc === undefined) return 0;
  switch (kind) {
    case FEATURE_COUNT:
      return acc.count;
    case FEATURE_MEAN:
      return acc.count > 0 ? acc.sumWV / acc.count : 0;
    case FEATURE_SUM:
      return acc.sumV;
    case FEATURE_MIN:
      return acc.min;
    case FEATURE_MAX:
      return acc.max;
    default:
      return 0;
  }
}

/**
 * Scores the bucket `idx` (its `processing_time_ms` left 0) and, unless interim, learns from it and updates the normalisers
 * and the data counts (the caller then drops the open bucket and updates the memory status).
 * @param ob the open bucket of `idx` (`model.open.get(idx)`, which the caller has looked up), undefined for a bucket without data.
 * @param fraction elapsed part of an interim bucket, to scale counts and sums.
 */
export function scoreBucket(model: ModelState, idx: number, ob: OpenBucket | undefined, interim: boolean, fraction: number): BucketResult {
  const T = idx * model.span;
  const seq = ++model.seq;
  const pass = model.pass;
  pass.T = T;
  pass.interim = interim;
  pass.fraction = fraction;
  pass.evaluated = 0;
  pass.minLnP = 0;
  // Reused from bucket to bucket: the record documents built below copy what they need.
  const cands: Candidate[] = pass.cands;
  if (cands.length !== 0) cands.length = 0; // setting length is a runtime call even when it is 0
  const plot: ModelPlotResult[] | null = (pass.plot = model.plotZ > 0 && !interim ? [] : null);
  let refused = ob !== undefined && ob.failed === 1 && !interim;
  // The bucket's own accumulators are freed once it is scored: new series may use them.
  model.freeing = ob !== undefined && !interim ? ob.bytes : 0;

  for (const d of model.detectors) {
    const accs = ob?.accs[d.index];
    if (accs !== undefined) {
      for (const [key, acc] of accs) {
        let s = d.series.get(key);
        if (s === undefined) {
          if (interim) continue;
          s = createSeries(model, d, key, T);
          if (s === undefined) {
            refused = true;
            continue;
          }
        }
        s.mark = seq;
        if (!interim) s.lastDataMs = T;
        scoreSeries(model, pass, d, s, acc);
      }
    }
    if (d.info.modelsEmpty && !interim && d.series.size > (accs?.size ?? 0)) {
      for (const s of d.series.values()) {
        if (s.mark !== seq) scoreSeries(model, pass, d, s, undefined);
      }
    }
  }
  const evaluated = pass.evaluated;
  const minLnP = pass.minLnP;

  // Bucket probability: the chance that the least likely of `evaluated` series is this unlikely.
  let lnBucket = 0;
  if (minLnP < 0 && evaluated > 0) {
    const pMin = Math.exp(minLnP);
    lnBucket = pMin < 1e-10 ? Math.log(evaluated) + minLnP : Math.log(-Math.expm1(evaluated * Math.log1p(-pMin)));
    if (lnBucket > 0) lnBucket = 0;
  }
  const bucketP = clampProbability(lnBucket);
  const bucketRaw = rawScoreFromLn(lnBucket);

  if (cands.length > 1) cands.sort(byLnP);
  if (cands.length > MAX_RECORDS) cands.length = MAX_RECORDS;
  if (!interim) {
    // The normalisers learn the bucket before scoring it, as Elasticsearch's
    // updateQuantilesAndNormalize does: a score is ranked among the scores up to and
    // including its own bucket.
    model.bucketNorm.age();
    model.recordNorm.age();
    model.bucketNorm.add(bucketRaw, BUCKET_SCOPE);
    for (const c of cands) model.recordNorm.add(rawScoreFromLn(c.lnP), recordScope(c.det.spec.detector_index, c.series.partition, c.series.by));
    model.recordNorm.addZeros(evaluated - cands.length);
    syncNormalizerBytes(model);
  }
  const bucketScore = model.bucketNorm.score(bucketRaw, BUCKET_SCOPE);
  const spanS = model.span / 1000;
  const jobId = model.spec.jobId;
  const records: RecordResult[] = [];
  for (let i = 0; i < cands.length; i++) records.push(recordResult(model, cands[i] as Candidate, T, spanS, interim));

  if (!interim) {
    countBucket(model, T, ob);
    if (refused) model.allocationFailures++;
    model.lastRefused = refused;
  }
  const result: BucketResult = {
    job_id: jobId,
    timestamp: T,
    result_type: 'bucket',
    bucket_span: spanS,
    anomaly_score: bucketScore,
    initial_anomaly_score: bucketScore,
    event_count: ob?.events ?? 0,
    is_interim: interim,
    // Set by the caller for all the buckets of one call (see `stampProcessingTime`).
    processing_time_ms: 0,
    bucket_influencers: [
      {
        job_id: jobId,
        result_type: 'bucket_influencer',
        influencer_field_name: 'bucket_time',
        initial_anomaly_score: bucketScore,
        anomaly_score: bucketScore,
        raw_anomaly_score: bucketRaw,
        probability: bucketP,
        timestamp: T,
        bucket_span: spanS,
        is_interim: interim,
      },
    ],
    records,
  };
  if (plot !== null) {
    result.model_plot = plot;
    pass.plot = null;
  }
  addInfluencers(model, result);
  return result;
}

/** Least likely first (a module function: no closure per bucket). */
function byLnP(a: Candidate, b: Candidate): number {
  return a.lnP - b.lnP;
}

/** Scores (and unless interim, learns) one series in the bucket of `pass`. */
export function scoreSeries(model: ModelState, pass: BucketPass, d: Detector, s: Series, acc: Acc | undefined): void {
  const p = model.params;
  const info = d.info;
  const feats = info.features;
  const T = pass.T;
  const interim = pass.interim;
  let bestLnP = 0;
  let bestActual = 0;
  let bestTypical = 0;
  let bestFeature = feats[0] as FeatureKind;
  let bestLnSingle = 0;
  let bestLnMulti = 0;
  let warm = false;
  let any = false;
  const rules = d.rules;
  const plot = pass.plot;
  for (let fi = 0; fi < feats.length; fi++) {
    const kind = feats[fi] as FeatureKind;
    const fm = s.features[fi] as FeatureModel;
    const x = featureValue(kind, acc);
    const xe = interim && (kind === FEATURE_COUNT || kind === FEATURE_SUM) ? x / pass.fraction : x;
    const isWarm = fm.n >= p.warmup;
    const lnP = fm.evaluate(p, xe, T, model.span, info.sides[fi] as Side, info.isCount);
    const lnSingle = fm.lastLnSingle;
    const lnMulti = fm.lastLnMulti;
    const typical = info.isCount && fm.lastTypical < 0 ? 0 : fm.lastTypical;
    if (plot !== null && isWarm) plotPoint(model, plot, d, s, fm, kind, x, typical);
    let actions = 0;
    if (rules !== null) actions = ruleActions(rules, s.by, s.partition, x, typical, fm.n > 0, T / 1000);
    if (!interim && (actions & SKIP_MODEL_UPDATE) === 0) model.bytes += fm.update(p, x, T, model.span, info.isCount);
    if ((actions & SKIP_RESULT) !== 0) continue;
    if (isWarm) warm = true;
    if (!any || lnP < bestLnP) {
      any = true;
      bestLnP = lnP;
      bestActual = x;
      bestTypical = typical;
      bestFeature = kind;
      bestLnSingle = lnSingle;
      bestLnMulti = lnMulti;
    }
  }
  if (!warm) return;
  pass.evaluated++;
  if (bestLnP < pass.minLnP) pass.minLnP = bestLnP;
  if (bestLnP < LN_RECORD_PROBABILITY) {
    pass.cands.push({ det: d, series: s, acc, lnP: bestLnP, actual: bestActual, typical: bestTypical, feature: bestFeature, lnSingle: bestLnSingle, lnMulti: bestLnMulti });
  }
}
