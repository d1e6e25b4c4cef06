/**
 * The series registry's pieces: a bucket's per-series accumulators, the open (not final)
 * bucket, a series with its feature models, a detector with its series map, and how a
 * record's by/partition values become a series key.
 */
import { stringBytes } from '../codec.ts';
import { FEATURE_BYTES, type FeatureModel } from '../feature.ts';
import { type FunctionInfo, FUNCTIONS } from '../functions.ts';
import { type CompiledRule, compileRules, type FilterMatcher } from '../rules.ts';
import type { AnalysisSpec, DetectorSpec } from '../types.ts';

/** Separates the partition value from the by value in a series key. */
export const KEY_SEP = '\u0000';

/** Σ of the features of one series and bucket. */
export class Acc {
  count = 0;
  sumV = 0;
  sumWV = 0;
  min = Infinity;
  max = -Infinity;
  values = 0;
  /** Values of the influencer fields tracked for the detector; null when none are. */
  infl: Set<string>[] | null = null;
}
export const ACC_BYTES = 6 * 8;

/**
 * A bucket not final yet: its records' accumulators per detector and series key. Objects of
 * finalised buckets are reused (see {@link OpenBucketPool}): a series with one record per
 * bucket would otherwise allocate a bucket, its maps and accumulators for every record.
 */
export class OpenBucket {
  events = 0;
  records = 0;
  failed = 0;
  /** Bytes this bucket adds to the serialized state, kept as accumulators are added (see `openBucketBytes`). */
  bytes = 0;
  readonly accs: Map<string, Acc>[];
  constructor(
    public index: number,
    detectors: number,
  ) {
    this.accs = [];
    for (let i = 0; i < detectors; i++) this.accs.push(new Map());
  }
}

/** Finalised open buckets and their accumulators, kept for reuse. */
export class OpenBucketPool {
  private readonly buckets: OpenBucket[] = [];
  private readonly accs: Acc[] = [];

  constructor(private readonly detectors: number) {}

  /** An empty open bucket for index `index`. */
  bucket(index: number): OpenBucket {
    const ob = this.buckets.pop();
    if (ob === undefined) return new OpenBucket(index, this.detectors);
    ob.index = index;
    return ob;
  }

  /** A zeroed accumulator. */
  acc(): Acc {
    return this.accs.pop() ?? new Acc();
  }

  /**
   * Takes back a bucket no longer in the open map, with its accumulators. Only when nothing
   * else holds them: the record documents of its bucket are built before it is dropped.
   */
  release(ob: OpenBucket): void {
    if (this.buckets.length >= MAX_POOLED_BUCKETS) return;
    ob.events = 0;
    ob.records = 0;
    ob.failed = 0;
    ob.bytes = 0;
    for (const accs of ob.accs) {
      if (this.accs.length < MAX_POOLED_ACCS) {
        for (const acc of accs.values()) {
          acc.count = 0;
          acc.sumV = 0;
          acc.sumWV = 0;
          acc.min = Infinity;
          acc.max = -Infinity;
          acc.values = 0;
          acc.infl = null;
          this.accs.push(acc);
        }
      }
      if (accs.size !== 0) accs.clear();
    }
    this.buckets.push(ob);
  }
}
/** Open buckets kept for reuse: the latency window rarely holds more. */
const MAX_POOLED_BUCKETS = 8;
/** Accumulators kept for reuse: a bucket's worth for up to this many series. */
const MAX_POOLED_ACCS = 16_384;

/** One series (detector × by value × partition value) and its feature models. */
export class Series {
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
export class Detector {
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
    return (by !== undefined ? stringBytes(by) : 0) + (partition !== undefined ? stringBytes(partition) : 0) + 8 + FEATURE_BYTES * this.info.features.length;
  }
}

/** A by/partition/influencer value as Elasticsearch's string term; missing is "". */
export function termOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** A metric or summary count field value as a number; NaN when it is not one. */
export function numberOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.length > 0) return +v;
  return NaN;
}
