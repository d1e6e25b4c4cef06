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

/** A bucket not final yet: its records' accumulators per detector and series key. */
export class OpenBucket {
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
