/**
 * What each detector function models: which bucket features, which side is anomalous,
 * whether an empty bucket is a zero (count, sum) or nothing (non_zero_count, non_null_sum,
 * mean, min, max, metric), and the `function_description` Elasticsearch writes.
 */
import { SIDE_BOTH, SIDE_HIGH, SIDE_LOW, type Side } from './feature.ts';
import type { DetectorFunction } from './types.ts';

/** Bucket features a series can model. */
export const FEATURE_COUNT = 0;
export const FEATURE_MEAN = 1;
export const FEATURE_SUM = 2;
export const FEATURE_MIN = 3;
export const FEATURE_MAX = 4;
export type FeatureKind = 0 | 1 | 2 | 3 | 4;

export const FEATURE_NAMES: Record<FeatureKind, string> = {
  0: 'count',
  1: 'mean',
  2: 'sum',
  3: 'min',
  4: 'max',
};

export interface FunctionInfo {
  features: FeatureKind[];
  /** Anomalous side per feature: min is one-sided low and max one-sided high, as in ml-cpp. */
  sides: Side[];
  /** The features are event counts (Poisson variance floor, no field needed). */
  isCount: boolean;
  /** A bucket without records for a known series is modelled as 0. */
  modelsEmpty: boolean;
  /** `function_description`; undefined for metric, which names the feature reported. */
  description: string | undefined;
}

function info(features: FeatureKind[], side: Side, isCount: boolean, modelsEmpty: boolean, description?: string): FunctionInfo {
  const sides = features.map((f) => (f === FEATURE_MIN ? SIDE_LOW : f === FEATURE_MAX ? SIDE_HIGH : side));
  return { features, sides, isCount, modelsEmpty, description };
}

const C = FEATURE_COUNT;
export const FUNCTIONS: Record<DetectorFunction, FunctionInfo> = {
  count: info([C], SIDE_BOTH, true, true, 'count'),
  high_count: info([C], SIDE_HIGH, true, true, 'count'),
  low_count: info([C], SIDE_LOW, true, true, 'count'),
  non_zero_count: info([C], SIDE_BOTH, true, false, 'count'),
  high_non_zero_count: info([C], SIDE_HIGH, true, false, 'count'),
  low_non_zero_count: info([C], SIDE_LOW, true, false, 'count'),
  mean: info([FEATURE_MEAN], SIDE_BOTH, false, false, 'mean'),
  high_mean: info([FEATURE_MEAN], SIDE_HIGH, false, false, 'mean'),
  low_mean: info([FEATURE_MEAN], SIDE_LOW, false, false, 'mean'),
  sum: info([FEATURE_SUM], SIDE_BOTH, false, true, 'sum'),
  high_sum: info([FEATURE_SUM], SIDE_HIGH, false, true, 'sum'),
  low_sum: info([FEATURE_SUM], SIDE_LOW, false, true, 'sum'),
  non_null_sum: info([FEATURE_SUM], SIDE_BOTH, false, false, 'sum'),
  high_non_null_sum: info([FEATURE_SUM], SIDE_HIGH, false, false, 'sum'),
  low_non_null_sum: info([FEATURE_SUM], SIDE_LOW, false, false, 'sum'),
  min: info([FEATURE_MIN], SIDE_LOW, false, false, 'min'),
  max: info([FEATURE_MAX], SIDE_HIGH, false, false, 'max'),
  metric: info([FEATURE_MIN, FEATURE_MEAN, FEATURE_MAX], SIDE_BOTH, false, false, undefined),
};
