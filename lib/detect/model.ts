/**
 * The anomaly model of one job: buckets records, splits them into series per detector,
 * scores every finalised bucket and keeps its whole state serializable.
 */
import { BinReader, BinWriter, ModelStateError, stringBytes } from './codec.ts';
import { FEATURE_BYTES, FeatureModel, featureParams, type FeatureParams, type Side } from './feature.ts';
import {
  FEATURE_COUNT,
  FEATURE_MAX,
  FEATURE_MEAN,
  FEATURE_MIN,
  FEATURE_NAMES,
  FEATURE_SUM,
  FUNCTIONS,
  type FeatureKind,
  type FunctionInfo,
} from './functions.ts';
import { NORMALIZER_BYTES, ScoreNormalizer } from './normalizer.ts';
import { MAX_RECORD_TIME_MS, fieldValue } from './parse.ts';
import { SKIP_MODEL_UPDATE, SKIP_RESULT, compileRules, ruleActions, type CompiledRule, type FilterMatcher } from './rules.ts';
import { clampProbability, logStudentTail, rawScoreFromLn } from './stats.ts';
import type {
  AnalysisSpec,
  BucketCounts,
  BucketResult,
  DetectorSpec,
  EmptyRun,
  FlushOptions,
  FlushOutput,
  IngestOutput,
  InputRecord,
  ModelPlotResult,
  ModelSizeStats,
  RecordInfluencer,
  RecordResult,
} from './types.ts';

/** Version byte at the start of the serialized state. */
export const MODEL_STATE_VERSION = 2;
/** Older state versions `restore` still reads (1: no empty-bucket streak, read as 0). */
const READABLE_STATE_VERSIONS = new Set([1, 2]);
/** Records are written only below this probability. */
const RECORD_PROBABILITY = 0.05;
const LN_RECORD_PROBABILITY = Math.log(RECORD_PROBABILITY);
/** At most this many records per bucket, most anomalous first. */
const MAX_RECORDS = 500;
/** Distinct influencer values kept per field per series and bucket. */
const MAX_INFLUENCER_VALUES = 10;
const SOFT_LIMIT = 0.9;
const DAY_MS = 86_400_000;
const KEY_SEP = '\u0000';
const STATUS_NAMES = ['ok', 'soft_limit', 'hard_limit'] as const;
/** Model plot bounds: the central 95% of the predictive distribution. */
const MODEL_PLOT_TAIL = 0.025;

/** The z with an upper Student-t tail of `tail` (bisection; the model plot's bound width). */
function studentQuantile(tail: number, nu: number): number {
  const target = Math.log(tail);
  let lo = 0;
  let hi = 1000;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (logStudentTail(mid, nu) > target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Σ of the features of one series and bucket. */
class Acc {
  count = 0;
  sumV = 0;
  sumWV = 0;
  min = Infinity;
  max = -Infinity;
  values = 0;
  /** Values of the influencer fields tracked for the detector; null when none are. */
  infl: Set<string>[] | null = null;
}
const ACC_BYTES = 6 * 8;

/** A bucket not final yet: its records' accumulators per detector and series key. */
class OpenBucket {
  events = 0;
  records = 0;
  failed = 0;
  readonly accs: Map<string, Acc>[];
  constructor(
    readonly index: number,
    detectors: number,
  ) {
    this.accs = [];
    for (let i = 0; i < detectors; i++) this.accs.push(new Map());
  }
}

/** One series (detector × by value × partition value) and its feature models. */
class Series {
  /** Sequence number of the last bucket that processed this series (not persisted). */
  mark = -1;
  constructor(
    readonly by: string | undefined,
    readonly partition: string | undefined,
    public lastDataMs: number,
    readonly features: FeatureModel[],
  ) {}
}

/** A detector with what the hot path needs precomputed. */
class Detector {
  readonly info: FunctionInfo;
  readonly series = new Map<string, Series>();
  /** Influencer fields whose values must be collected from records (not by/partition). */
  readonly tracked: string[];
  /** The value field; undefined for the count functions. */
  readonly fieldName: string | undefined;
  /** Compiled custom rules; null when the detector has none (no rule work at all). */
  readonly rules: CompiledRule[] | null;
  constructor(
    readonly spec: DetectorSpec,
    readonly index: number,
    influencers: string[],
    filters: AnalysisSpec['filters'],
    filterCache: Map<string, FilterMatcher>,
  ) {
    this.info = FUNCTIONS[spec.function];
    if (this.info === undefined) throw new RangeError(`unknown detector function [${String(spec.function)}]`);
    this.tracked = influencers.filter((f) => f !== spec.by_field_name && f !== spec.partition_field_name);
    this.fieldName = this.info.isCount ? undefined : spec.field_name;
    if (!this.info.isCount && spec.field_name === undefined) {
      throw new RangeError(`detector [${index}] function [${spec.function}] requires a field_name`);
    }
    this.rules = compileRules(spec, filters, filterCache);
  }


  /** Bytes of a series with these values and no seasonal arrays. */
  seriesBytes(by: string | undefined, partition: string | undefined): number {
    return (
      (by !== undefined ? stringBytes(by) : 0) +
      (partition !== undefined ? stringBytes(partition) : 0) +
      8 +
      FEATURE_BYTES * this.info.features.length
    );
  }
}

/** Working state of the bucket being scored (one per model, reused). */
class BucketPass {
  T = 0;
  interim = false;
  fraction = 1;
  evaluated = 0;
  minLnP = 0;
  cands: Candidate[] = [];
  /** Model plot documents of the bucket; null when not wanted (disabled, or interim). */
  plot: ModelPlotResult[] | null = null;
}

interface Candidate {
  det: Detector;
  series: Series;
  acc: Acc | undefined;
  lnP: number;
  actual: number;
  typical: number;
  feature: FeatureKind;
}

/** A by/partition/influencer value as Elasticsearch's string term; missing is "". */
function termOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function numberOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.length > 0) return +v;
  return NaN;
}

function featureValue(kind: FeatureKind, acc: Acc | undefined): number {
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

/** The fields a job reads from records: detector fields, by/partition fields, influencers, summary count. */
export function analysisFields(spec: AnalysisSpec): string[] {
  const out = new Set<string>();
  for (const d of spec.detectors) {
    if (d.field_name !== undefined && !FUNCTIONS[d.function]?.isCount) out.add(d.field_name);
    if (d.by_field_name !== undefined) out.add(d.by_field_name);
    if (d.partition_field_name !== undefined) out.add(d.partition_field_name);
  }
  for (const f of spec.influencers) out.add(f);
  if (spec.summaryCountFieldName !== undefined) out.add(spec.summaryCountFieldName);
  return [...out];
}

/**
 * The anomaly model of one job (model v1). Not thread-safe; one instance per job.
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
  private readonly params: FeatureParams;
  private readonly span: number;
  private readonly detectors: Detector[];
  private readonly analysis: string[];
  private readonly decay: number;
  private open = new Map<number, OpenBucket>();
  /** Index (start / span) of the first non-final bucket; NaN before any data. */
  private pointer = NaN;
  /** Newest record time, ms; NaN before any. */
  private newest = NaN;
  private finalizedAny = 0;
  private bucketNorm = new ScoreNormalizer();
  private recordNorm = new ScoreNormalizer();
  // Running data counts.
  private bucketCount = 0;
  private emptyCount = 0;
  private sparseCount = 0;
  private latestBucket = NaN;
  private latestEmpty = NaN;
  private latestSparse = NaN;
  private avgRecords = 0;
  /** Consecutive empty buckets finalised since the last bucket with data. */
  private emptyStreak = 0;
  /** Empty buckets in a row that the model scores and learns; past them a gap is counted only. */
  readonly horizon: number;
  /** Empty runs finalised since the last takeEmptyRuns (not persisted: taken by the same command). */
  private runs: EmptyRun[] = [];
  // Memory.
  private bytes = 0;
  private peakBytes = 0;
  private allocationFailures = 0;
  /** 0 ok, 1 soft_limit, 2 hard_limit, as last seen when a bucket was finalised. */
  private status = 0;
  private seq = 0;
  /** Whether the bucket being finalised refused a new series (not persisted). */
  private lastRefused = false;
  /** Bytes of the open bucket being finalised, about to be freed (not persisted). */
  private freeing = 0;
  private readonly pass = new BucketPass();
  /** Half-width of the model plot interval in standard deviations; 0 when model plot is off. */
  private readonly plotZ: number;
  /** Model plot `terms`; null for every series. */
  private readonly plotTerms: Set<string> | null;

  private constructor(readonly spec: AnalysisSpec) {
    if (!(spec.bucketSpanMs > 0)) throw new RangeError('bucketSpanMs must be > 0');
    if (!(spec.latencyMs >= 0)) throw new RangeError('latencyMs must be >= 0');
    this.span = spec.bucketSpanMs;
    this.params = featureParams(spec.bucketSpanMs);
    this.horizon = Math.ceil(Math.max(10 / this.params.alphaMin, 100 * this.params.slots));
    const filterCache = new Map<string, FilterMatcher>();
    this.detectors = spec.detectors.map((d, i) => new Detector(d, i, spec.influencers, spec.filters, filterCache));
    const plot = spec.modelPlot;
    this.plotZ = plot?.enabled === true ? studentQuantile(MODEL_PLOT_TAIL, this.params.nu) : 0;
    const terms = plot?.enabled === true && plot.terms !== undefined ? plot.terms.split(',').map((t) => t.trim()).filter((t) => t !== '') : [];
    this.plotTerms = terms.length > 0 ? new Set(terms) : null;
    this.analysis = analysisFields(spec);
    const window = spec.renormalizationWindowMs ?? Math.max(30 * DAY_MS, 100 * spec.bucketSpanMs);
    this.decay = Math.exp(-spec.bucketSpanMs / Math.max(window, spec.bucketSpanMs));
    this.bytes = this.headerBytes();
    this.peakBytes = this.bytes;
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
    m.read(new BinReader(state));
    return m;
  }

  // ---------------------------------------------------------------------------------------
  // Ingest

  /**
   * Adds records (epoch ms times, any order within the latency window) to their buckets and
   * finalises the buckets the newest time has passed.
   * @returns processed/out-of-order counts, earliest/latest accepted time (ms) of this batch
   *   and the BucketResults finalised, oldest first.
   */
  ingest(records: InputRecord[]): IngestOutput {
    const out: BucketResult[] = [];
    const span = this.span;
    const latency = this.spec.latencyMs;
    const dets = this.detectors;
    const nd = dets.length;
    const summary = this.spec.summaryCountFieldName;
    const analysis = this.analysis;
    const na = analysis.length;
    let processed = 0;
    let processedFields = 0;
    let outOfOrder = 0;
    let earliest = Infinity;
    let latest = -Infinity;
    let openStart = this.pointer * span; // NaN before any data: every comparison is false
    let threshold = (this.pointer + 1) * span + latency;
    const latencyS = Math.trunc(latency / 1000);
    // For t >= 0, trunc(t / 1000) < oldestS ⟺ t < oldestS × 1000: no division per record.
    let oldestMs = this.oldestAcceptedS(latencyS) * 1000;
    // The rule moves only when the newest record enters a later bucket.
    let newestBucketEnd = Number.isNaN(this.newest) ? -Infinity : (Math.floor(this.newest / span) + 1) * span;
    let lastIndex = NaN;
    let ob: OpenBucket | undefined;
    let hard = this.isHard();

    for (let i = 0; i < records.length; i++) {
      const rec = records[i] as InputRecord;
      const t = rec.timeMs;
      if (!Number.isFinite(t)) continue;
      // Elasticsearch's out-of-order rule, plus what its autodetect would drop (see the class doc).
      if (t < 0 || t < oldestMs || (this.finalizedAny === 1 && t < openStart)) {
        outOfOrder++;
        continue;
      }
      const b = Math.floor(t / span);
      if (b !== lastIndex) {
        if (!(b >= this.pointer)) {
          // First data, or earlier data while nothing is final yet.
          this.pointer = b;
          openStart = b * span;
          threshold = (b + 1) * span + latency;
        }
        ob = this.open.get(b);
        if (ob === undefined) {
          ob = new OpenBucket(b, nd);
          this.open.set(b, ob);
          this.bytes += 25 + 4 * nd;
        }
        lastIndex = b;
      }
      const bucket = ob as OpenBucket;
      const fields = rec.fields;
      let w = 1;
      if (summary !== undefined) {
        const sw = numberOf(fieldValue(fields, summary));
        if (Number.isFinite(sw) && sw >= 0) w = sw;
      }
      processed++;
      if (t < earliest) earliest = t;
      if (t > latest) latest = t;
      for (let f = 0; f < na; f++) {
        const v = fieldValue(fields, analysis[f] as string);
        if (v !== undefined && v !== null) processedFields++;
      }
      bucket.events += w;
      bucket.records++;
      for (let di = 0; di < nd; di++) {
        const d = dets[di] as Detector;
        const fieldName = d.fieldName;
        let v = 0;
        if (fieldName !== undefined) {
          v = numberOf(fieldValue(fields, fieldName));
          if (!Number.isFinite(v)) continue;
        }
        const byName = d.spec.by_field_name;
        const partName = d.spec.partition_field_name;
        let key = '';
        if (byName !== undefined) {
          key = termOf(fieldValue(fields, byName));
          if (partName !== undefined) key = termOf(fieldValue(fields, partName)) + KEY_SEP + key;
        } else if (partName !== undefined) {
          key = termOf(fieldValue(fields, partName));
        }
        const accs = bucket.accs[di] as Map<string, Acc>;
        let acc = accs.get(key);
        if (acc === undefined) {
          if (hard && !d.series.has(key)) {
            bucket.failed = 1;
            continue;
          }
          acc = new Acc();
          accs.set(key, acc);
          this.bytes += stringBytes(key) + ACC_BYTES;
          if (d.tracked.length > 0) {
            acc.infl = d.tracked.map(() => new Set<string>());
            this.bytes += 4 * d.tracked.length;
          }
        }
        acc.count += w;
        if (fieldName !== undefined) {
          acc.sumV += v;
          acc.sumWV += w * v;
          if (v < acc.min) acc.min = v;
          if (v > acc.max) acc.max = v;
          acc.values++;
        }
        const infl = acc.infl;
        if (infl !== null) {
          for (let k = 0; k < infl.length; k++) {
            const raw = fieldValue(fields, d.tracked[k] as string);
            if (raw === undefined || raw === null) continue;
            const set = infl[k] as Set<string>;
            if (set.size >= MAX_INFLUENCER_VALUES) continue;
            const term = termOf(raw);
            if (!set.has(term)) {
              set.add(term);
              this.bytes += stringBytes(term);
            }
          }
        }
      }
      if (!(t <= this.newest)) {
        this.newest = t;
        if (t >= newestBucketEnd) {
          oldestMs = this.oldestAcceptedS(latencyS) * 1000;
          newestBucketEnd = (Math.floor(t / span) + 1) * span;
        }
      }
      if (this.newest >= threshold) {
        this.finalizeThrough(Math.floor((this.newest - latency) / span) - 1, out);
        openStart = this.pointer * span;
        threshold = (this.pointer + 1) * span + latency;
        lastIndex = NaN;
        hard = this.isHard();
      }
    }
    this.notePeak();
    const res: IngestOutput = {
      processed_record_count: processed,
      processed_field_count: processedFields,
      out_of_order_timestamp_count: outOfOrder,
      buckets: out,
    };
    if (processed > 0) {
      res.earliest_record_timestamp = earliest;
      res.latest_record_timestamp = latest;
    }
    return res;
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
    const out: BucketResult[] = [];
    const span = this.span;
    if (opts.advanceTimeMs !== undefined) {
      // No record can lie past MAX_RECORD_TIME_MS: advancing further only makes a longer run.
      const end = Math.floor(Math.min(opts.advanceTimeMs, MAX_RECORD_TIME_MS) / span);
      if (Number.isNaN(this.pointer)) {
        this.pointer = end;
        this.finalizedAny = 1;
      } else {
        this.finalizeThrough(end - 1, out);
      }
    }
    if (opts.skipTimeMs !== undefined) {
      const to = Math.ceil(Math.min(opts.skipTimeMs, MAX_RECORD_TIME_MS) / span);
      if (Number.isNaN(this.pointer)) {
        this.pointer = to;
      } else if (to > this.pointer) {
        let lastData = NaN;
        for (const ob of this.open.values()) {
          if (ob.index < to && ob.records > 0 && !(ob.index <= lastData)) lastData = ob.index;
        }
        if (!Number.isNaN(lastData)) this.finalizeThrough(lastData, out);
        for (const [idx, ob] of this.open) {
          if (idx < to) this.dropOpen(ob);
        }
        this.pointer = to;
      }
      this.finalizedAny = 1;
    }
    const interim: BucketResult[] = [];
    if (opts.calcInterim === true) {
      const pending = [...this.open.values()].filter((ob) => ob.records > 0 && ob.index >= this.pointer);
      pending.sort((a, b) => a.index - b.index);
      for (const ob of pending) {
        const elapsed = (this.newest - ob.index * span) / span;
        const fraction = elapsed >= 1 ? 1 : elapsed > 0.05 ? elapsed : 0.05;
        interim.push(this.scoreBucket(ob.index, true, fraction));
      }
    }
    this.notePeak();
    const res: FlushOutput = { buckets: out, interim };
    const last = this.lastFinalizedBucketEndMs();
    if (last !== undefined) res.lastFinalizedBucketEndMs = last;
    return res;
  }

  /**
   * At close: finalises every buffered bucket up to the last one holding data (the empty
   * ones between included), as Elasticsearch "flushes buffers and calculates final results".
   * @returns the finalised BucketResults, oldest first.
   */
  finalizeAll(): BucketResult[] {
    const out: BucketResult[] = [];
    let last = NaN;
    for (const ob of this.open.values()) {
      if (ob.records > 0 && !(ob.index <= last)) last = ob.index;
    }
    if (!Number.isNaN(last)) this.finalizeThrough(last, out);
    this.notePeak();
    return out;
  }

  /** End (epoch ms) of the last finalised bucket; undefined before any data or advance. */
  lastFinalizedBucketEndMs(): number | undefined {
    return Number.isNaN(this.pointer) ? undefined : this.pointer * this.span;
  }

  // ---------------------------------------------------------------------------------------
  // Bucket processing

  /**
   * Seconds before which a record is out of order by Elasticsearch's rule: the start of the
   * newest record's bucket (newest accepted record, or epoch 0 before any) minus the latency.
   */
  private oldestAcceptedS(latencyS: number): number {
    const latest = Number.isNaN(this.newest) ? 0 : this.newest;
    return Math.trunc((Math.floor(latest / this.span) * this.span) / 1000) - latencyS;
  }

  /**
   * Finalises buckets up to index `lastIndex`: scores and learns each one, except the empty
   * buckets past the learning horizon, which are finalised a run at a time in O(1).
   */
  private finalizeThrough(lastIndex: number, out: BucketResult[]): void {
    while (this.pointer <= lastIndex) {
      const idx = this.pointer;
      const ob = this.open.get(idx);
      if (ob === undefined && this.emptyStreak >= this.horizon) {
        // The open map holds only the buckets of the latency window: this scan is short.
        let next = lastIndex + 1;
        for (const k of this.open.keys()) if (k > idx && k < next) next = k;
        this.finalizeEmptyRun(idx, next - idx);
        continue;
      }
      out.push(this.scoreBucket(idx, false, 1));
      if (ob !== undefined) this.dropOpen(ob);
      this.emptyStreak = ob === undefined ? this.emptyStreak + 1 : 0;
      this.pointer = idx + 1;
      this.finalizedAny = 1;
      this.updateMemoryStatus(this.lastRefused, this.seq);
    }
  }

  /**
   * Finalises `n` empty buckets from index `first` without scoring them one by one: the model
   * has converged on the empty level (the streak passed the horizon), so each would score 0
   * and teach nothing new. Counts and normalisers advance as n empty buckets would move them;
   * the memory status is already settled (an empty bucket refuses nothing and prunes nothing).
   */
  private finalizeEmptyRun(first: number, n: number): void {
    const span = this.span;
    this.bucketNorm.addZeroRun(n, 1, this.decay);
    this.recordNorm.addZeroRun(n, this.warmEmptySeries(), this.decay);
    this.bucketCount += n;
    this.emptyCount += n;
    this.latestBucket = this.latestEmpty = (first + n - 1) * span;
    // countBucket's running average over 10 buckets, n times with 0 records.
    this.avgRecords *= 0.9 ** n;
    this.emptyStreak += n;
    this.lastRefused = false;
    this.pointer = first + n;
    this.finalizedAny = 1;
    const last = this.runs[this.runs.length - 1];
    if (last !== undefined && last.end === first * span) last.end = (first + n) * span;
    else this.runs.push({ job_id: this.spec.jobId, timestamp: first * span, end: (first + n) * span, bucket_span: span / 1000 });
  }

  /** Series that an empty bucket evaluates (warm series of detectors that model empty buckets). */
  private warmEmptySeries(): number {
    let n = 0;
    for (const d of this.detectors) {
      if (!d.info.modelsEmpty) continue;
      for (const s of d.series.values()) if (s.features.some((f) => f.n >= this.params.warmup)) n++;
    }
    return n;
  }

  /**
   * The empty runs finalised since the last call (oldest first; adjacent runs merged), and
   * forgets them. Callers persist them with the BucketResults of the same call.
   */
  takeEmptyRuns(): EmptyRun[] {
    const out = this.runs;
    this.runs = [];
    return out;
  }

  /** Buckets in the empty runs not yet taken (for timing stats), without taking them. */
  pendingEmptyRunBuckets(): number {
    let n = 0;
    for (const r of this.runs) n += (r.end - r.timestamp) / this.span;
    return n;
  }

  private dropOpen(ob: OpenBucket): void {
    this.open.delete(ob.index);
    this.bytes -= this.openBucketBytes(ob);
  }

  /**
   * Scores the bucket `idx` and, unless interim, learns from it and updates the normalisers
   * and the data counts (the caller then drops the open bucket and updates the memory status).
   * @param fraction elapsed part of an interim bucket, to scale counts and sums.
   */
  private scoreBucket(idx: number, interim: boolean, fraction: number): BucketResult {
    const t0 = performance.now();
    const T = idx * this.span;
    const ob = this.open.get(idx);
    const seq = ++this.seq;
    const pass = this.pass;
    pass.T = T;
    pass.interim = interim;
    pass.fraction = fraction;
    pass.evaluated = 0;
    pass.minLnP = 0;
    const cands: Candidate[] = (pass.cands = []);
    const plot: ModelPlotResult[] | null = (pass.plot = this.plotZ > 0 && !interim ? [] : null);
    let refused = ob !== undefined && ob.failed === 1 && !interim;
    // The bucket's own accumulators are freed once it is scored: new series may use them.
    this.freeing = ob !== undefined && !interim ? this.openBucketBytes(ob) : 0;

    for (const d of this.detectors) {
      const accs = ob?.accs[d.index];
      if (accs !== undefined) {
        for (const [key, acc] of accs) {
          let s = d.series.get(key);
          if (s === undefined) {
            if (interim) continue;
            s = this.createSeries(d, key, T);
            if (s === undefined) {
              refused = true;
              continue;
            }
          }
          s.mark = seq;
          if (!interim) s.lastDataMs = T;
          this.scoreSeries(pass, d, s, acc);
        }
      }
      if (d.info.modelsEmpty && !interim && d.series.size > (accs?.size ?? 0)) {
        for (const s of d.series.values()) {
          if (s.mark !== seq) this.scoreSeries(pass, d, s, undefined);
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
    const bucketRaw = bucketP < RECORD_PROBABILITY ? rawScoreFromLn(lnBucket) : 0;

    cands.sort((a, b) => a.lnP - b.lnP);
    if (cands.length > MAX_RECORDS) cands.length = MAX_RECORDS;
    if (!interim) {
      this.bucketNorm.decay(this.decay);
      this.recordNorm.decay(this.decay);
      this.bucketNorm.add(bucketRaw);
      for (const c of cands) this.recordNorm.add(rawScoreFromLn(c.lnP));
      this.recordNorm.add(0, evaluated - cands.length);
    }
    const bucketScore = this.bucketNorm.score(bucketRaw);
    const spanS = this.span / 1000;
    const jobId = this.spec.jobId;
    const records: RecordResult[] = cands.map((c) => this.recordResult(c, T, spanS, interim));

    if (!interim) {
      this.countBucket(T, ob);
      if (refused) this.allocationFailures++;
      this.lastRefused = refused;
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
      processing_time_ms: Math.round(performance.now() - t0),
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
    return result;
  }

  /** Scores (and unless interim, learns) one series in the bucket of `pass`. */
  private scoreSeries(pass: BucketPass, d: Detector, s: Series, acc: Acc | undefined): void {
    const p = this.params;
    const info = d.info;
    const feats = info.features;
    const T = pass.T;
    const interim = pass.interim;
    let bestLnP = 0;
    let bestActual = 0;
    let bestTypical = 0;
    let bestFeature = feats[0] as FeatureKind;
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
      const lnP = fm.evaluate(p, xe, T, info.sides[fi] as Side, info.isCount);
      const typical = info.isCount && fm.lastTypical < 0 ? 0 : fm.lastTypical;
      if (plot !== null && isWarm) this.plotPoint(plot, d, s, fm, kind, x, typical);
      let actions = 0;
      if (rules !== null) actions = ruleActions(rules, s.by, s.partition, x, typical, fm.n > 0, T / 1000);
      if (!interim && (actions & SKIP_MODEL_UPDATE) === 0) this.bytes += fm.update(p, x, T, info.isCount);
      if ((actions & SKIP_RESULT) !== 0) continue;
      if (isWarm) warm = true;
      if (!any || lnP < bestLnP) {
        any = true;
        bestLnP = lnP;
        bestActual = x;
        bestTypical = typical;
        bestFeature = kind;
      }
    }
    if (!warm) return;
    pass.evaluated++;
    if (bestLnP < pass.minLnP) pass.minLnP = bestLnP;
    if (bestLnP < LN_RECORD_PROBABILITY) {
      pass.cands.push({ det: d, series: s, acc, lnP: bestLnP, actual: bestActual, typical: bestTypical, feature: bestFeature });
    }
  }

  /** Appends the model plot document of one series and feature (before it learns the bucket). */
  private plotPoint(plot: ModelPlotResult[], d: Detector, s: Series, fm: FeatureModel, kind: FeatureKind, x: number, typical: number): void {
    const terms = this.plotTerms;
    if (terms !== null && !((s.by !== undefined && terms.has(s.by)) || (s.partition !== undefined && terms.has(s.partition)))) return;
    const isCount = d.info.isCount;
    const half = this.plotZ * fm.spread(this.params, isCount);
    let lower = typical - half;
    const upper = typical + half;
    if (isCount && lower < 0) lower = 0;
    const spec = d.spec;
    const doc: ModelPlotResult = {
      job_id: this.spec.jobId,
      result_type: 'model_plot',
      bucket_span: this.span / 1000,
      detector_index: spec.detector_index,
      timestamp: this.pass.T,
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

  private recordResult(c: Candidate, T: number, spanS: number, interim: boolean): RecordResult {
    const d = c.det;
    const spec = d.spec;
    const score = this.recordNorm.score(rawScoreFromLn(c.lnP));
    const r: RecordResult = {
      job_id: this.spec.jobId,
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
    if (this.spec.influencers.length > 0) {
      const infl: RecordInfluencer[] = [];
      for (const name of this.spec.influencers) {
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

  private countBucket(T: number, ob: OpenBucket | undefined): void {
    const recs = ob?.records ?? 0;
    this.bucketCount++;
    this.latestBucket = T;
    if (recs === 0) {
      this.emptyCount++;
      this.latestEmpty = T;
    } else if (this.bucketCount > 10 && Math.log(recs) < Math.log(this.avgRecords) - 2) {
      // Elasticsearch's DataStreamDiagnostics: log count more than 2 below the log average.
      this.sparseCount++;
      this.latestSparse = T;
    }
    this.avgRecords += (recs - this.avgRecords) / Math.min(this.bucketCount, 10);
  }

  private createSeries(d: Detector, key: string, T: number): Series | undefined {
    let by: string | undefined;
    let partition: string | undefined;
    const hasBy = d.spec.by_field_name !== undefined;
    const hasPart = d.spec.partition_field_name !== undefined;
    if (hasBy && hasPart) {
      const i = key.indexOf(KEY_SEP);
      partition = key.slice(0, i);
      by = key.slice(i + 1);
    } else if (hasBy) by = key;
    else if (hasPart) partition = key;
    const cost = d.seriesBytes(by, partition);
    if (this.bytes - this.freeing + cost > this.spec.modelMemoryLimitBytes) return undefined;
    const s = new Series(
      by,
      partition,
      T,
      d.info.features.map(() => new FeatureModel()),
    );
    d.series.set(key, s);
    this.bytes += cost;
    return s;
  }

  private seriesBytes(d: Detector, s: Series): number {
    let n = d.seriesBytes(s.by, s.partition) - FEATURE_BYTES * s.features.length;
    for (const f of s.features) n += f.bytes();
    return n;
  }

  private openBucketBytes(ob: OpenBucket): number {
    let n = 25 + 4 * this.detectors.length;
    for (const accs of ob.accs) {
      for (const [key, acc] of accs) {
        n += stringBytes(key) + ACC_BYTES;
        if (acc.infl !== null) {
          n += 4 * acc.infl.length;
          for (const set of acc.infl) for (const v of set) n += stringBytes(v);
        }
      }
    }
    return n;
  }

  // ---------------------------------------------------------------------------------------
  // Memory

  private isHard(): boolean {
    return this.status === 2 || this.bytes >= this.spec.modelMemoryLimitBytes;
  }

  private notePeak(): void {
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
  }

  /** Records the status seen at this bucket, and at the soft limit prunes idle series, oldest first. */
  private updateMemoryStatus(refused: boolean, seq: number): void {
    this.notePeak();
    const limit = this.spec.modelMemoryLimitBytes;
    const soft = SOFT_LIMIT * limit;
    if (refused || this.bytes >= limit) this.status = 2;
    else if (this.bytes >= soft) {
      // hard_limit stays until a bucket ends under the soft limit.
      if (this.status === 0) this.status = 1;
    } else {
      this.status = 0;
      return;
    }
    const idle: { d: Detector; key: string; s: Series }[] = [];
    for (const d of this.detectors) {
      for (const [key, s] of d.series) if (s.mark !== seq) idle.push({ d, key, s });
    }
    idle.sort((a, b) => a.s.lastDataMs - b.s.lastDataMs);
    for (const { d, key, s } of idle) {
      if (this.bytes < soft) break;
      d.series.delete(key);
      this.bytes -= this.seriesBytes(d, s);
    }
  }

  /**
   * Drops series whose last data (bucket start, ms) is before `nowMs − windowMs`
   * (Elasticsearch's model_prune_window).
   * @returns how many series were dropped.
   */
  pruneIdleSeries(nowMs: number, windowMs: number): number {
    const cutoff = nowMs - windowMs;
    let pruned = 0;
    for (const d of this.detectors) {
      for (const [key, s] of d.series) {
        if (s.lastDataMs < cutoff) {
          d.series.delete(key);
          this.bytes -= this.seriesBytes(d, s);
          pruned++;
        }
      }
    }
    return pruned;
  }

  /** Bytes of the serialized state, kept incrementally: equals `serialize().length`. */
  modelBytes(): number {
    return this.bytes;
  }

  /**
   * model_size_stats fields. memory_status: `hard_limit` once a new series was refused (it
   * stays until the model is back under the soft limit) or the state is at the limit;
   * `soft_limit` when the state reached 90% of the limit at the latest bucket (idle series
   * were then pruned, oldest first); else `ok`.
   */
  modelSizeStats(): ModelSizeStats {
    let byCount = 0;
    const partitions = new Set<string>();
    for (const d of this.detectors) {
      for (const s of d.series.values()) {
        if (s.by !== undefined) byCount++;
        if (s.partition !== undefined) partitions.add(s.partition);
      }
    }
    let status = this.status;
    const limit = this.spec.modelMemoryLimitBytes;
    if (this.bytes >= limit) status = 2;
    else if (this.bytes >= SOFT_LIMIT * limit && status < 1) status = 1;
    return {
      model_bytes: this.bytes,
      total_by_field_count: byCount,
      total_partition_field_count: partitions.size,
      total_over_field_count: 0,
      bucket_allocation_failures_count: this.allocationFailures,
      memory_status: STATUS_NAMES[status] as ModelSizeStats['memory_status'],
      peak_model_bytes: Math.max(this.peakBytes, this.bytes),
    };
  }

  /** Running bucket counters (data_counts fields); timestamps are bucket starts in ms. */
  bucketCounts(): BucketCounts {
    const out: BucketCounts = {
      bucket_count: this.bucketCount,
      empty_bucket_count: this.emptyCount,
      sparse_bucket_count: this.sparseCount,
    };
    if (!Number.isNaN(this.latestBucket)) out.latest_bucket_timestamp = this.latestBucket;
    if (!Number.isNaN(this.latestEmpty)) out.latest_empty_bucket_timestamp = this.latestEmpty;
    if (!Number.isNaN(this.latestSparse)) out.latest_sparse_bucket_timestamp = this.latestSparse;
    return out;
  }

  /** Number of series of each detector (detector order). */
  seriesCounts(): number[] {
    return this.detectors.map((d) => d.series.size);
  }

  // ---------------------------------------------------------------------------------------
  // Renormalisation of stored results

  /** Current 0–100 bucket score of a stored `raw_anomaly_score`. */
  normalizeBucketScore(rawAnomalyScore: number): number {
    return this.bucketNorm.score(rawAnomalyScore);
  }

  /** Current 0–100 record score of a stored record `probability`. */
  normalizeRecordScore(probability: number): number {
    return probability < RECORD_PROBABILITY ? this.recordNorm.score(-Math.log10(probability)) : 0;
  }

  /**
   * Rescores a stored bucket (and its records) with the current normalisers, as
   * Elasticsearch's renormalisation does: `anomaly_score` and `record_score` change, the
   * `initial_*` scores do not. Returns a new object.
   */
  renormalize(bucket: BucketResult): BucketResult {
    const infl = bucket.bucket_influencers.map((b) => ({ ...b, anomaly_score: this.normalizeBucketScore(b.raw_anomaly_score) }));
    const score = infl.reduce((m, b) => Math.max(m, b.anomaly_score), 0);
    return {
      ...bucket,
      anomaly_score: score,
      bucket_influencers: infl,
      records: bucket.records.map((r) => ({ ...r, record_score: this.normalizeRecordScore(r.probability) })),
    };
  }

  // ---------------------------------------------------------------------------------------
  // State

  private headerBytes(): number {
    return 1 + 8 + 8 + 1 + 8 * 8 + 8 * 4 + 2 * NORMALIZER_BYTES + 4 + 4 * this.detectors.length + 4;
  }

  /**
   * The whole model state (format version byte first, then little-endian float64 fields and
   * length-prefixed UTF-8 strings). `restore(spec, serialize())` continues bit-identically.
   */
  serialize(): Uint8Array {
    const w = new BinWriter(this.bytes);
    w.u8(MODEL_STATE_VERSION);
    w.f64(this.pointer);
    w.f64(this.newest);
    w.u8(this.finalizedAny);
    w.f64(this.bucketCount);
    w.f64(this.emptyCount);
    w.f64(this.sparseCount);
    w.f64(this.latestBucket);
    w.f64(this.latestEmpty);
    w.f64(this.latestSparse);
    w.f64(this.avgRecords);
    w.f64(this.detectors.length);
    w.f64(this.allocationFailures);
    w.f64(this.peakBytes);
    w.f64(this.status);
    w.f64(this.emptyStreak);
    this.bucketNorm.write(w);
    this.recordNorm.write(w);
    w.u32(this.detectors.length);
    for (const d of this.detectors) {
      w.u32(d.series.size);
      for (const s of d.series.values()) {
        if (d.spec.by_field_name !== undefined) w.str(s.by ?? '');
        if (d.spec.partition_field_name !== undefined) w.str(s.partition ?? '');
        w.f64(s.lastDataMs);
        for (const f of s.features) f.write(w);
      }
    }
    w.u32(this.open.size);
    for (const ob of this.open.values()) {
      w.f64(ob.index);
      w.f64(ob.events);
      w.f64(ob.records);
      w.u8(ob.failed);
      for (const accs of ob.accs) {
        w.u32(accs.size);
        for (const [key, acc] of accs) {
          w.str(key);
          w.f64(acc.count);
          w.f64(acc.sumV);
          w.f64(acc.sumWV);
          w.f64(acc.min);
          w.f64(acc.max);
          w.f64(acc.values);
          if (acc.infl !== null) {
            for (const set of acc.infl) {
              w.u32(set.size);
              for (const v of set) w.str(v);
            }
          }
        }
      }
    }
    return w.finish();
  }

  private read(r: BinReader): void {
    const version = r.u8();
    if (!READABLE_STATE_VERSIONS.has(version)) throw new ModelStateError(`unsupported model state version [${version}]`);
    this.pointer = r.f64();
    this.newest = r.f64();
    this.finalizedAny = r.u8();
    this.bucketCount = r.f64();
    this.emptyCount = r.f64();
    this.sparseCount = r.f64();
    this.latestBucket = r.f64();
    this.latestEmpty = r.f64();
    this.latestSparse = r.f64();
    this.avgRecords = r.f64();
    const detectorsAgain = r.f64();
    this.allocationFailures = r.f64();
    this.peakBytes = r.f64();
    this.status = r.f64();
    this.emptyStreak = version >= 2 ? r.f64() : 0;
    this.bucketNorm = ScoreNormalizer.read(r);
    this.recordNorm = ScoreNormalizer.read(r);
    const nd = r.u32();
    if (nd !== this.detectors.length || detectorsAgain !== nd) {
      throw new ModelStateError(`model state has ${nd} detectors, the job has ${this.detectors.length}`);
    }
    for (const d of this.detectors) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const by = d.spec.by_field_name !== undefined ? r.str() : undefined;
        const partition = d.spec.partition_field_name !== undefined ? r.str() : undefined;
        const lastDataMs = r.f64();
        const features = d.info.features.map(() => FeatureModel.read(r));
        const key = by !== undefined ? (partition !== undefined ? partition + KEY_SEP + by : by) : (partition ?? '');
        const s = new Series(by, partition, lastDataMs, features);
        d.series.set(key, s);
        this.bytes += this.seriesBytes(d, s);
      }
    }
    const no = r.u32();
    for (let i = 0; i < no; i++) {
      const ob = new OpenBucket(r.f64(), this.detectors.length);
      ob.events = r.f64();
      ob.records = r.f64();
      ob.failed = r.u8();
      for (const d of this.detectors) {
        const accs = ob.accs[d.index] as Map<string, Acc>;
        const na = r.u32();
        for (let j = 0; j < na; j++) {
          const key = r.str();
          const acc = new Acc();
          acc.count = r.f64();
          acc.sumV = r.f64();
          acc.sumWV = r.f64();
          acc.min = r.f64();
          acc.max = r.f64();
          acc.values = r.f64();
          if (d.tracked.length > 0) {
            acc.infl = d.tracked.map(() => {
              const set = new Set<string>();
              const nv = r.u32();
              for (let k = 0; k < nv; k++) set.add(r.str());
              return set;
            });
          }
          accs.set(key, acc);
        }
      }
      this.open.set(ob.index, ob);
      this.bytes += this.openBucketBytes(ob);
    }
    if (!r.done()) throw new ModelStateError('model state has trailing bytes');
  }
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
