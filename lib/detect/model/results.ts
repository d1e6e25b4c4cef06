/** Elasticsearch result documents of a scored series: the record and its model plot point. */
import { type FeatureModel, multiBucketImpact } from '../feature.ts';
import { FEATURE_NAMES, type FeatureKind } from '../functions.ts';
import { recordScope } from '../normalizer.ts';
import { clampProbability, rawScoreFromLn } from '../stats.ts';
import type { ModelPlotResult, RecordInfluencer, RecordResult } from '../types.ts';
import type { Detector, Series } from './series.ts';
import type { Candidate, ModelState } from './state.ts';

/** Appends the model plot document of one series and feature (before it learns the bucket). */
export function plotPoint(model: ModelState, plot: ModelPlotResult[], d: Detector, s: Series, fm: FeatureModel, kind: FeatureKind, x: number, typical: number): void {
  const terms = model.plotTerms;
  if (terms !== null && !((s.by !== undefined && terms.has(s.by)) || (s.partition !== undefined && terms.has(s.partition)))) return;
  const isCount = d.info.isCount;
  const half = model.plotZ * fm.spread(model.params, isCount);
  let lower = typical - half;
  const upper = typical + half;
  if (isCount && lower < 0) lower = 0;
  const spec = d.spec;
  const doc: ModelPlotResult = {
    job_id: model.spec.jobId,
    result_type: 'model_plot',
    bucket_span: model.span / 1000,
    detector_index: spec.detector_index,
    timestamp: model.pass.T,
    model_feature: FEATURE_NAMES[kind],
    model_lower: lower,
    model_upper: upper,
    model_median: typical,
    actual: x,
  };
  if (spec.partition_field_name !== undefined) {
    doc.partition_field_name = spec.partition_field_name;
    doc.partition_field_value = s.partition ?? '';
  }
  if (spec.by_field_name !== undefined) {
    doc.by_field_name = spec.by_field_name;
    doc.by_field_value = s.by ?? '';
  }
  plot.push(doc);
}

export function recordResult(model: ModelState, c: Candidate, T: number, spanS: number, interim: boolean): RecordResult {
  const d = c.det;
  const spec = d.spec;
  const score = model.recordNorm.score(rawScoreFromLn(c.lnP), recordScope(spec.detector_index, c.series.partition, c.series.by));
  const r: RecordResult = {
    job_id: model.spec.jobId,
    result_type: 'record',
    probability: clampProbability(c.lnP),
    record_score: score,
    initial_record_score: score,
    bucket_span: spanS,
    detector_index: spec.detector_index,
    is_interim: interim,
    timestamp: T,
    function: spec.function,
    function_description: d.info.description ?? FEATURE_NAMES[c.feature],
    typical: [c.typical],
    actual: [c.actual],
    multi_bucket_impact: multiBucketImpact(c.lnSingle, c.lnMulti),
  };
  if (d.fieldName !== undefined) r.field_name = d.fieldName;
  if (spec.by_field_name !== undefined) {
    r.by_field_name = spec.by_field_name;
    r.by_field_value = c.series.by ?? '';
  }
  if (spec.partition_field_name !== undefined) {
    r.partition_field_name = spec.partition_field_name;
    r.partition_field_value = c.series.partition ?? '';
  }
  if (model.spec.influencers.length > 0) {
    const infl: RecordInfluencer[] = [];
    for (const name of model.spec.influencers) {
      let values: string[] = [];
      if (name === spec.by_field_name) values = c.series.by ? [c.series.by] : [];
      else if (name === spec.partition_field_name) values = c.series.partition ? [c.series.partition] : [];
      else {
        const k = d.tracked.indexOf(name);
        const set = c.acc?.infl?.[k];
        if (set !== undefined) values = [...set].filter((v) => v !== '');
      }
      if (values.length > 0) infl.push({ influencer_field_name: name, influencer_field_values: values });
    }
    if (infl.length > 0) r.influencers = infl;
  }
  return r;
}
