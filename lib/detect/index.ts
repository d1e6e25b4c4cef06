/**
 * The anomaly model (model v2): `_data` body parsing, bucketing, per-series statistics,
 * scores and Elasticsearch result shapes. Pure TypeScript, no I/O.
 */
export type {
  AnalysisSpec,
  BucketCounts,
  BucketInfluencer,
  BucketResult,
  DetectorFunction,
  DetectionRule,
  DetectorSpec,
  EmptyRun,
  FilterRef,
  FlushOptions,
  FlushOutput,
  IngestOutput,
  InputCounts,
  InfluencerResult,
  InputRecord,
  ModelPlotConfig,
  ModelPlotResult,
  ModelSizeStats,
  RecordInfluencer,
  RecordResult,
  RuleAction,
  RuleCondition,
} from './types.ts';
export { DataParseError, ModelStateError } from '../domain/errors.ts';
export { fieldValue, parseDataBody, parseTime, type DataDescription } from './parse.ts';
export { analysisFields } from './model/analysis-fields.ts';
export { AnomalyModel } from './model/anomaly-model.ts';
export type { Renormalized } from './model/renormalization.ts';
export { emptyBucketResult } from './model/empty-runs.ts';
export { checkModelStateVersion, MODEL_STATE_VERSION } from './model/state-codec.ts';
export { MIN_PROBABILITY } from './stats.ts';

export { FUNCTIONS as MODELLED_FUNCTIONS } from './functions.ts';
