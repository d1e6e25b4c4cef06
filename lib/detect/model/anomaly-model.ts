/**
 * The anomaly model of one job, as the rest of the system sees it: buckets records, splits
 * them into series per detector, scores every finalised bucket and keeps its whole state
 * serializable. A facade over {@link ModelState}: each operation lives in the file named for
 * its concern (bucketing, scoring, memory, empty runs, data counts, renormalization, state codec).
 */
import { BinReader } from '../codec.ts';
import type { AnalysisSpec, BucketCounts, BucketResult, EmptyRun, FlushOptions, FlushOutput, IngestOutput, InputRecord, ModelSizeStats, RecordResult } from '../types.ts';
import { finalizeAllBuckets, flushBuckets, ingestRecords, lastFinalizedBucketEndMs } from './bucketing.ts';
import { bucketCounts, seriesCounts } from './data-counts.ts';
import { pendingEmptyRunBuckets, takeEmptyRuns } from './empty-runs.ts';
import { modelSizeStats, pruneIdleSeries } from './memory.ts';
import { normalizeBucketScore, normalizeRecordScore, normalizerGeneration, type Renormalized, renormalize } from './renormalization.ts';
import { readModel, serializeModel } from './state-codec.ts';
import { ModelState, syncNormalizerBytes } from './state.ts';

/**
 * The anomaly model of one job (model v2: see ../feature.ts for the per-series model). Not
 * thread-safe; one instance per job.
 *
 * Bucketing: bucket start = floor(t / bucketSpanMs) × bucketSpanMs. A bucket is final when
 * the newest record time reaches its end + latency (autodetect's CAnomalyJob). Out of order
 * (dropped and counted) is Elasticsearch's rule (AbstractDataToProcessWriter), in whole
 * seconds: trunc(t / 1000) < trunc(floor(latest / span) × span / 1000) − trunc(latency / 1000),
 * `latest` being the newest accepted record time (0 before any). So a record inside the open
 * bucket, or within the latency window, is accepted again however often it is posted, as in
 * Elasticsearch. Two more cases are counted out of order where Elasticsearch would write the
 * record to autodetect, which then drops it silently while `processed_record_count` counts
 * it: a record whose bucket is already final (possible after `advance_time`, or with a latency
 * that is not a multiple of the bucket span), and a time before 1970.
 *
 * Every finalised bucket from the first data on yields a BucketResult, empty ones included
 * (count and sum see 0 there), except buckets jumped over by `skip_time` and empty buckets
 * past the learning horizon. Gaps: the model scores and learns at most `horizon` empty
 * buckets in a row (10 × the level's memory, and 100 visits of every daily slot: 2,400
 * buckets for a 1h span, 6,000 for 1m), by which the state has converged on the empty level;
 * the rest of the gap is finalised in O(1): counted in the data counts, decayed into the
 * score normalisers in closed form, not learnt, and handed out as an {@link EmptyRun}
 * ({@link AnomalyModel.takeEmptyRuns}) instead of one BucketResult per bucket. So a record a
 * thousand years ahead costs what a record a few months ahead costs. (Elasticsearch's
 * autodetect writes a result for every bucket of the gap: years of 1h buckets take it hours.)
 *
 * Data counts: `ingest` returns the per-batch counts; the running bucket counters
 * (bucket_count, empty/sparse bucket counts and their latest timestamps) are read with
 * {@link AnomalyModel.bucketCounts}.
 */
export class AnomalyModel {
  /** The state every operation works on (./state.ts); the files beside this one hold the operations. */
  private readonly state: ModelState;

  private constructor(readonly spec: AnalysisSpec) {
    this.state = new ModelState(spec);
  }

  /** Empty buckets in a row that the model scores and learns; past them a gap is counted only. */
  get horizon(): number {
    return this.state.horizon;
  }

  /**
   * A new, empty model for the spec.
   * @throws RangeError when bucketSpanMs <= 0, latencyMs < 0, a function is unknown, a metric
   *   function has no field_name, or a custom rule has an unknown action, applies_to,
   *   operator or filter_type.
   */
  static create(spec: AnalysisSpec): AnomalyModel {
    return new AnomalyModel(spec);
  }

  /**
   * Rebuilds a model from `serialize()` output. The spec must describe the same analysis as
   * the one the state was written with (bucket span, detectors and their functions, fields
   * and splits, influencers, summary count field), but may differ in what Elasticsearch lets
   * `_update` change: detectors' `custom_rules`, `filters`, `modelPlot`,
   * `modelMemoryLimitBytes` (a limit now below the state size shows from the next bucket:
   * new series are refused and idle ones pruned) and `renormalizationWindowMs`.
   * @throws ModelStateError when the blob is truncated, of another version or does not fit
   *   the spec (e.g. another number of detectors).
   */
  static restore(spec: AnalysisSpec, state: Uint8Array): AnomalyModel {
    const m = new AnomalyModel(spec);
    readModel(m.state, new BinReader(state));
    // The restored normalisers may hold scope maxima the new, empty ones counted in `bytes` did not.
    syncNormalizerBytes(m.state);
    return m;
  }

  /**
   * Adds records (epoch ms times, any order within the latency window) to their buckets and
   * finalises the buckets the newest time has passed.
   * @returns processed/out-of-order counts, earliest/latest accepted time (ms) of this batch
   *   and the BucketResults finalised, oldest first.
   */
  ingest(records: InputRecord[]): IngestOutput {
    return ingestRecords(this.state, records);
  }

  /**
   * Elasticsearch `_flush`.
   * - `advanceTimeMs`: finalises every bucket ending at or before it (empty ones too; past
   *   the learning horizon as an empty run). Times past MAX_RECORD_TIME_MS count as it.
   * - `skipTimeMs`: finalises the buffered buckets that hold data, then jumps to the bucket
   *   boundary at or after it without results or learning for the gap.
   * - `calcInterim`: interim results (`is_interim: true`, counts and sums scaled to the
   *   elapsed part of the bucket) for buffered buckets with data, without learning.
   * @returns finalised buckets, interim buckets and the end of the last finalised bucket
   *   (epoch ms; absent before any data or advance).
   */
  flush(opts: FlushOptions = {}): FlushOutput {
    return flushBuckets(this.state, opts);
  }

  /**
   * At close: finalises every buffered bucket up to the last one holding data (the empty
   * ones between included), as Elasticsearch "flushes buffers and calculates final results".
   * @returns the finalised BucketResults, oldest first.
   */
  finalizeAll(): BucketResult[] {
    return finalizeAllBuckets(this.state);
  }

  /** End (epoch ms) of the last finalised bucket; undefined before any data or advance. */
  lastFinalizedBucketEndMs(): number | undefined {
    return lastFinalizedBucketEndMs(this.state);
  }

  /**
   * The empty runs finalised since the last call (oldest first; adjacent runs merged), and
   * forgets them. Callers persist them with the BucketResults of the same call.
   */
  takeEmptyRuns(): EmptyRun[] {
    return takeEmptyRuns(this.state);
  }

  /** Buckets in the empty runs not yet taken (for timing stats), without taking them. */
  pendingEmptyRunBuckets(): number {
    return pendingEmptyRunBuckets(this.state);
  }

  /**
   * Drops series whose last data (bucket start, ms) is before `nowMs − windowMs`
   * (Elasticsearch's model_prune_window).
   * @returns how many series were dropped.
   */
  pruneIdleSeries(nowMs: number, windowMs: number): number {
    return pruneIdleSeries(this.state, nowMs, windowMs);
  }

  /** Bytes of the serialized state, kept incrementally: equals `serialize().length`. */
  modelBytes(): number {
    return this.state.bytes;
  }

  /**
   * model_size_stats fields. memory_status: `hard_limit` once a new series was refused (it
   * stays until the model is back under the soft limit) or the state is at the limit;
   * `soft_limit` when the state reached 90% of the limit at the latest bucket (idle series
   * were then pruned, oldest first); else `ok`.
   */
  modelSizeStats(): ModelSizeStats {
    return modelSizeStats(this.state);
  }

  /** Running bucket counters (data_counts fields); timestamps are bucket starts in ms. */
  bucketCounts(): BucketCounts {
    return bucketCounts(this.state);
  }

  /** Number of series of each detector (detector order). */
  seriesCounts(): number[] {
    return seriesCounts(this.state);
  }

  /**
   * Current 0–100 bucket score of a stored `raw_anomaly_score` (a bucket influencer's; raw
   * scores are Elasticsearch's piecewise `anomalyScore(p)`, 0–100, see lib/detect/stats.ts).
   */
  normalizeBucketScore(rawAnomalyScore: number): number {
    return normalizeBucketScore(this.state, rawAnomalyScore);
  }

  /**
   * Current 0–100 record score of a stored record `probability`, in the scope of the
   * record's series (`detector_index`, `partition_field_value`, `by_field_value`; detector 0
   * and no split values when `record` is left out).
   */
  normalizeRecordScore(probability: number, record?: Pick<RecordResult, 'detector_index' | 'partition_field_value' | 'by_field_value'>): number {
    return normalizeRecordScore(this.state, probability, record);
  }

  /**
   * A counter of the normalisers' big changes, persisted in the state: it grows whenever a
   * scope's largest raw score (the bucket's, or one series') rose by more than 10%, or a
   * scope got its first non-zero raw score. That is when Elasticsearch's autodetect writes
   * new quantiles and the Java side renormalises (BIG_CHANGE_FACTOR 1.1). A caller that
   * remembers the value it last renormalised at rescores the stored results of the
   * renormalisation window (`renormalizationWindowMs`; Elasticsearch's default
   * max(30 days, 100 bucket spans)) with {@link AnomalyModel.renormalize} when it has grown.
   * Interim buckets never change it.
   */
  normalizerGeneration(): number {
    return normalizerGeneration(this.state);
  }

  /**
   * Rescores a stored bucket (its bucket influencers from `raw_anomaly_score`, its records
   * from `probability`, its influencers from their least likely records: ./influencers.ts)
   * with the current normalisers, as Elasticsearch's renormalisation does: `anomaly_score`,
   * `record_score` and `influencer_score` may change, the `initial_*` scores, raw scores and
   * probabilities never do. A new score replaces the stored one only on Elasticsearch's
   * "big update" rule (Normalizer.isBigUpdate): the severity band (0–25–50–75–100) changes,
   * or it moves by 1.5 or more, or one is under 33% of the other; otherwise the stored score
   * stays. The bucket's `anomaly_score` is then its bucket influencers' largest.
   * @returns `{ bucket, changed }`: `changed` is false (and `bucket` the very object given)
   *   when nothing passed the rule, so the caller writes nothing back; else a new object.
   */
  renormalize(bucket: BucketResult): Renormalized {
    return renormalize(this.state, bucket);
  }

  /**
   * The whole model state (format version byte first, then little-endian float64 fields and
   * length-prefixed UTF-8 strings). `restore(spec, serialize())` continues bit-identically.
   */
  serialize(): Uint8Array {
    return serializeModel(this.state);
  }
}
