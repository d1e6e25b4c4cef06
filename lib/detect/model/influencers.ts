/**
 * Influencer results of a bucket: which values of the job's influencer fields lie behind its
 * anomalous records, as Elasticsearch's `result_type: influencer` documents, and one
 * `bucket_influencer` per influencer field beside `bucket_time`.
 *
 * How Elasticsearch does it (ml-cpp CHierarchicalResults, research §6): each record lists the
 * influencer values present in its series' bucket with an *influence* in [0, 1] (how much of
 * the anomaly is left when the value is taken out, or how much it makes alone); an influencer
 * (field F, value v) is a "pivot" node whose children are the records listing v, each
 * contributing p^influence; the children are aggregated like any node into the influencer's
 * probability, scored by a normaliser kept per field (and per value for its maximum), and the
 * per-field root of those nodes is the field's bucket influencer, scored by another per-field
 * normaliser.
 *
 * Here, simpler and explained:
 * - Influence is 1 for every value a record lists: the model does not keep per-value
 *   accumulators within a series' bucket, so it cannot tell which of several values present
 *   drove the anomaly. p^1 = p, so an influencer's probability is the least probability of the
 *   records it influences (the "extreme" aggregation Elasticsearch applies to people-like
 *   nodes). Where the influencer field is the by or partition field (the common setup) a record
 *   lists exactly one value, and this is what Elasticsearch computes too.
 * - `influencer_score` is the record normaliser's score of that least likely record, i.e. its
 *   `record_score` (the highest of them when several share the least probability): the same
 *   raw score ranked against the same history, so an influencer never outscores the record
 *   that makes it unusual. Elasticsearch keeps a normaliser per influencer field instead, whose
 *   history is the influencer scores; keeping one would mean learning them in the model state,
 *   and its percentile would rank an influencer among influencers only. Being a function of
 *   the bucket's records, influencer scores follow the records through renormalisation:
 *   {@link influencerResults} rebuilt from the renormalised records gives the new scores, which
 *   {@link renormalizedInfluencers} writes on Elasticsearch's big-update rule.
 * - A field's bucket influencer has the bucket's own form: the chance that the least likely of
 *   the bucket's evaluated series is as unlikely as the field's least likely value,
 *   1 − (1 − p_min)^n (as `bucket_time`, ./scoring.ts), its raw score and the bucket
 *   normaliser's score of it. The field's p_min is never below the bucket's, so a field never
 *   outscores `bucket_time` and the bucket's `anomaly_score` (the largest of its bucket
 *   influencers', as Elasticsearch recomputes it on renormalisation) stays the bucket's own.
 * - Buckets without records write no influencer and no field bucket influencer; interim
 *   buckets write both with `is_interim: true`, scored without learning, as their records are.
 */
import { BUCKET_SCOPE, isBigUpdate } from '../normalizer.ts';
import { clampProbability, rawScoreFromLn } from '../stats.ts';
import type { BucketInfluencer, BucketResult, InfluencerResult, RecordResult } from '../types.ts';
import type { ModelState } from './state.ts';

/**
 * Elasticsearch's reserved result field names (ReservedFieldNames, the part that occurs in
 * anomaly results): an influencer field so named is not copied into the influencer document
 * as `<field>: <value>` (nor is one whose first dot-separated segment is).
 */
const RESERVED_RESULT_FIELDS = new Set([
  'all_field_values',
  'job_id',
  'probability',
  'over_field_name',
  'over_field_value',
  'by_field_name',
  'by_field_value',
  'correlated_by_field_value',
  'partition_field_name',
  'partition_field_value',
  'function',
  'function_description',
  'typical',
  'actual',
  'geo_results',
  'influencers',
  'field_name',
  'multi_bucket_impact',
  'causes',
  'record_score',
  'initial_record_score',
  'bucket_span',
  'typical_point',
  'actual_point',
  'anomaly_score',
  'bucket_influencers',
  'event_count',
  'initial_anomaly_score',
  'processing_time_ms',
  'scheduled_events',
  'raw_anomaly_score',
  'detector_index',
  'influencer_field_name',
  'influencer_field_values',
  'influencer_field_value',
  'initial_influencer_score',
  'influencer_score',
  'model_feature',
  'model_lower',
  'model_upper',
  'model_median',
  'result_type',
  'timestamp',
  'is_interim',
  '_id',
  '_index',
]);

/** Whether Elasticsearch copies an influencer field into its influencer documents (ReservedFieldNames.isValidFieldName). */
export function isCopiedInfluencerField(fieldName: string): boolean {
  return !RESERVED_RESULT_FIELDS.has(fieldName.split('.')[0] as string);
}

/** An influencer value's least probable record so far. */
interface Least {
  probability: number;
  score: number;
}

/**
 * The influencer results of a bucket's records (see the module comment): one per influencer
 * field and value listed by a record, with the least probability of the records listing it and
 * that record's `record_score` (`initial_influencer_score` from `initial_record_score`). Ordered
 * by field as `fields` lists them, then by score (highest first), then value. Pure: usable again
 * on renormalised records.
 * @param fields the job's influencer field names
 * @param records the bucket's records (each with its `influencers`)
 * @param timestampMs bucket start, epoch ms; @param spanS bucket span, s
 */
export function influencerResults(
  jobId: string,
  fields: readonly string[],
  records: readonly RecordResult[],
  timestampMs: number,
  spanS: number,
  interim: boolean,
): InfluencerResult[] {
  if (fields.length === 0 || records.length === 0) return [];
  const byField = new Map<string, Map<string, { now: Least; initial: Least }>>();
  for (const r of records) {
    for (const infl of r.influencers ?? []) {
      let values = byField.get(infl.influencer_field_name);
      if (values === undefined) {
        values = new Map();
        byField.set(infl.influencer_field_name, values);
      }
      for (const v of infl.influencer_field_values) {
        const seen = values.get(v);
        if (seen === undefined) {
          values.set(v, { now: { probability: r.probability, score: r.record_score }, initial: { probability: r.probability, score: r.initial_record_score } });
          continue;
        }
        lower(seen.now, r.probability, r.record_score);
        lower(seen.initial, r.probability, r.initial_record_score);
      }
    }
  }
  const out: InfluencerResult[] = [];
  for (const field of fields) {
    const values = byField.get(field);
    if (values === undefined) continue;
    const copy = isCopiedInfluencerField(field);
    const docs: InfluencerResult[] = [];
    for (const [value, least] of values) {
      const doc: InfluencerResult = {
        job_id: jobId,
        result_type: 'influencer',
        influencer_field_name: field,
        influencer_field_value: value,
        influencer_score: least.now.score,
        initial_influencer_score: least.initial.score,
        probability: least.now.probability,
        bucket_span: spanS,
        is_interim: interim,
        timestamp: timestampMs,
      };
      if (copy) doc[field] = value;
      docs.push(doc);
    }
    docs.sort(
      (a, b) => b.influencer_score - a.influencer_score || (a.influencer_field_value < b.influencer_field_value ? -1 : a.influencer_field_value > b.influencer_field_value ? 1 : 0),
    );
    out.push(...docs);
  }
  return out;
}

/**
 * A bucket's stored influencer documents after its records were renormalised, as Elasticsearch
 * renormalises influencers (its Normalizer over `InfluencerNormalizable`): each document's new
 * `influencer_score` is what {@link influencerResults} gives for its field and value from the
 * renormalised `records` (the `record_score` of its least likely record), written only on
 * Elasticsearch's big-update rule (`isBigUpdate`: the severity band changes, it moves by 1.5 or
 * more, or one score is under 33% of the other), like every renormalised score.
 * `initial_influencer_score`, `probability` and every other field stay, and so does the
 * documents' order (the score index keys an influencer by its position in the bucket).
 * @param influencers the bucket's influencer documents as stored
 * @param records the bucket's records with their renormalised `record_score`
 * @returns the documents with their new scores, or the very array given when no score moved
 */
export function renormalizedInfluencers(influencers: InfluencerResult[], records: readonly RecordResult[]): InfluencerResult[] {
  const first = influencers[0];
  if (first === undefined) return influencers;
  const fields = [...new Set(influencers.map((i) => i.influencer_field_name))];
  const key = (i: InfluencerResult) => `${i.influencer_field_name}\u0000${i.influencer_field_value}`;
  const now = new Map(influencerResults(first.job_id, fields, records, first.timestamp, first.bucket_span, first.is_interim).map((i) => [key(i), i.influencer_score]));
  let changed = false;
  const out = influencers.map((i) => {
    const score = now.get(key(i));
    if (score === undefined || !isBigUpdate(i.influencer_score, score)) return i;
    changed = true;
    return { ...i, influencer_score: score };
  });
  return changed ? out : influencers;
}

/** Keeps the least probability, and among records sharing it the highest score. */
function lower(least: Least, probability: number, score: number): void {
  if (probability < least.probability || (probability === least.probability && score > least.score)) {
    least.probability = probability;
    least.score = score;
  }
}

/**
 * Adds the influencer results of a scored bucket (`result.influencers`) and a bucket influencer
 * per influencer field present (after `bucket_time`), as the module comment describes. Call
 * once the bucket's records are built; a bucket without records is left as it is.
 */
export function addInfluencers(model: ModelState, result: BucketResult): void {
  const fields = model.spec.influencers;
  if (fields.length === 0 || result.records.length === 0) return;
  const influencers = influencerResults(model.spec.jobId, fields, result.records, result.timestamp, result.bucket_span, result.is_interim);
  if (influencers.length === 0) return;
  result.influencers = influencers;
  const evaluated = Math.max(1, model.pass.evaluated);
  const least = new Map<string, number>();
  for (const i of influencers) {
    const p = least.get(i.influencer_field_name);
    if (p === undefined || i.probability < p) least.set(i.influencer_field_name, i.probability);
  }
  for (const [field, pMin] of least) {
    // As the bucket's probability (./scoring.ts): 1 − (1 − p)^n, or n·p where that underflows.
    let lnP = pMin < 1e-10 ? Math.log(evaluated) + Math.log(pMin) : Math.log(-Math.expm1(evaluated * Math.log1p(-pMin)));
    if (lnP > 0) lnP = 0;
    const raw = rawScoreFromLn(lnP);
    const score = model.bucketNorm.score(raw, BUCKET_SCOPE);
    const b: BucketInfluencer = {
      job_id: result.job_id,
      result_type: 'bucket_influencer',
      influencer_field_name: field,
      initial_anomaly_score: score,
      anomaly_score: score,
      raw_anomaly_score: raw,
      probability: clampProbability(lnP),
      timestamp: result.timestamp,
      bucket_span: result.bucket_span,
      is_interim: result.is_interim,
    };
    result.bucket_influencers.push(b);
  }
}
