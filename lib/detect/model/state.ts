/**
 * The whole mutable state of one job's model (bucket pointer, open buckets, detectors and
 * their series, normalisers, data counts, memory accounting) and what is derived once from
 * the spec. The behaviour lives in the files beside this one, one concern each, as functions
 * of this state; ./anomaly-model.ts is the public face.
 */
import { featureParams, type FeatureParams } from '../feature.ts';
import type { FeatureKind } from '../functions.ts';
import { NORMALIZER_BYTES, ScoreNormalizer } from '../normalizer.ts';
import type { FilterMatcher } from '../rules.ts';
import type { AnalysisSpec, EmptyRun, ModelPlotResult } from '../types.ts';
import { analysisFields } from './analysis-fields.ts';
import { MODEL_PLOT_TAIL, studentQuantile } from './plot-bounds.ts';
import { type Acc, Detector, OpenBucketPool, type Series } from './series.ts';
import { OpenBuckets } from './open-buckets.ts';

/** Working state of the bucket being scored (one per model, reused). */
export class BucketPass {
  T = 0;
  interim = false;
  fraction = 1;
  evaluated = 0;
  minLnP = 0;
  cands: Candidate[] = [];
  /** Model plot documents of the bucket; null when not wanted (disabled, or interim). */
  plot: ModelPlotResult[] | null = null;
}

/** A series scoring below the record threshold in the bucket being scored. */
export interface Candidate {
  det: Detector;
  series: Series;
  acc: Acc | undefined;
  lnP: number;
  actual: number;
  typical: number;
  feature: FeatureKind;
  /** ln p of the single-bucket and multi-bucket tests (their combination is `lnP`). */
  lnSingle: number;
  lnMulti: number;
}

/**
 * Bytes of the serialized state's fixed part (header, normalisers, per-detector counts), the
 * start of the incremental byte count; must match what ./state-codec.ts writes.
 */
export function headerBytes(model: ModelState): number {
  return 1 + 8 + 8 + 1 + 8 * 8 + 8 * 4 + 2 * NORMALIZER_BYTES + 4 + 4 * model.detectors.length + 4;
}

/**
 * Counts a change in the normalisers' size (their scope maxima come and go) into
 * `model.bytes`, so that it stays `serialize().length`. O(1).
 */
export function syncNormalizerBytes(model: ModelState): void {
  const now = model.bucketNorm.bytes + model.recordNorm.bytes;
  if (now !== model.normBytes) {
    model.bytes += now - model.normBytes;
    model.normBytes = now;
  }
}

/** The model state of one job; see {@link AnomalyModel} for what it models. */
export class ModelState {
  readonly params: FeatureParams;
  readonly span: number;
  readonly detectors: Detector[];
  readonly analysis: string[];
  open = new OpenBuckets();
  /** Index (start / span) of the first non-final bucket; NaN before any data. */
  pointer = NaN;
  /** Newest record time, ms; NaN before any. */
  newest = NaN;
  finalizedAny = 0;
  bucketNorm: ScoreNormalizer;
  recordNorm: ScoreNormalizer;
  /** The normalisers' serialized bytes as last counted into `bytes` (not persisted; ../normalizer.ts). */
  normBytes = 2 * NORMALIZER_BYTES;
  // Running data counts.
  bucketCount = 0;
  emptyCount = 0;
  sparseCount = 0;
  latestBucket = NaN;
  latestEmpty = NaN;
  latestSparse = NaN;
  avgRecords = 0;
  /** Last [x, ln x] of a bucket's record count and of `avgRecords` (./data-counts.ts; not persisted). */
  readonly lnRecords = new Float64Array([Number.NaN, Number.NaN]);
  readonly lnAverage = new Float64Array([Number.NaN, Number.NaN]);
  /** Consecutive empty buckets finalised since the last bucket with data. */
  emptyStreak = 0;
  /** Empty buckets in a row that the model scores and learns; past them a gap is counted only. */
  readonly horizon: number;
  /** Empty runs finalised since the last takeEmptyRuns (not persisted: taken by the same command). */
  runs: EmptyRun[] = [];
  // Memory.
  bytes = 0;
  peakBytes = 0;
  allocationFailures = 0;
  /** 0 ok, 1 soft_limit, 2 hard_limit, as last seen when a bucket was finalised. */
  status = 0;
  seq = 0;
  /** Whether the bucket being finalised refused a new series (not persisted). */
  lastRefused = false;
  /** Bytes of the open bucket being finalised, about to be freed (not persisted). */
  freeing = 0;
  readonly pass = new BucketPass();
  /** Finalised open buckets kept for reuse (not persisted). */
  readonly pool: OpenBucketPool;
  /** Half-width of the model plot interval in standard deviations; 0 when model plot is off. */
  readonly plotZ: number;
  /** Model plot `terms`; null for every series. */
  readonly plotTerms: Set<string> | null;

  constructor(readonly spec: AnalysisSpec) {
    if (!(spec.bucketSpanMs > 0)) throw new RangeError('bucketSpanMs must be > 0');
    if (!(spec.latencyMs >= 0)) throw new RangeError('latencyMs must be >= 0');
    this.span = spec.bucketSpanMs;
    this.params = featureParams(spec.bucketSpanMs);
    this.horizon = Math.ceil(Math.max(10 / this.params.alphaMin, 100 * (this.params.daily?.slots ?? 0)));
    const filterCache = new Map<string, FilterMatcher>();
    this.detectors = spec.detectors.map((d, i) => new Detector(d, i, spec.influencers, spec.filters, filterCache));
    this.pool = new OpenBucketPool(this.detectors.length);
    const plot = spec.modelPlot;
    this.plotZ = plot?.enabled === true ? studentQuantile(MODEL_PLOT_TAIL, this.params.nu) : 0;
    const terms =
      plot?.enabled === true && plot.terms !== undefined
        ? plot.terms
            .split(',')
            .map((t) => t.trim())
            .filter((t) => t !== '')
        : [];
    this.plotTerms = terms.length > 0 ? new Set(terms) : null;
    this.analysis = analysisFields(spec);
    // The normalisers age at Elasticsearch's rate for the span (../normalizer.ts), not over the
    // renormalisation window, which only bounds which stored results are rescored.
    // The bucket normaliser receives one raw score per bucket, so its runs are episodes.
    this.bucketNorm = new ScoreNormalizer(spec.bucketSpanMs, true);
    this.recordNorm = new ScoreNormalizer(spec.bucketSpanMs);
    this.bytes = headerBytes(this);
    this.peakBytes = this.bytes;
  }
}
