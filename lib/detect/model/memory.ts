/**
 * Memory accounting and limits: bytes of series and open buckets, creating a series within
 * the model memory limit, soft/hard limit status with pruning of idle series, the
 * model_prune_window pruning, and model_size_stats.
 */
import { stringBytes } from '../codec.ts';
import { FEATURE_BYTES, FeatureModel } from '../feature.ts';
import type { ModelSizeStats } from '../types.ts';
import { ACC_BYTES, type Detector, KEY_SEP, type OpenBucket, Series } from './series.ts';
import type { ModelState } from './state.ts';

/** Fraction of the model memory limit at which memory_status becomes `soft_limit` and idle series are pruned. */
export const SOFT_LIMIT = 0.9;
/** memory_status names by status number. */
export const STATUS_NAMES = ['ok', 'soft_limit', 'hard_limit'] as const;

export function createSeries(model: ModelState, d: Detector, key: string, T: number): Series | undefined {
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
  if (model.bytes - model.freeing + cost > model.spec.modelMemoryLimitBytes) return undefined;
  const s = new Series(
    by,
    partition,
    T,
    d.info.features.map(() => new FeatureModel()),
  );
  d.series.set(key, s);
  model.bytes += cost;
  return s;
}

export function seriesBytes(model: ModelState, d: Detector, s: Series): number {
  let n = d.seriesBytes(s.by, s.partition) - FEATURE_BYTES * s.features.length;
  for (const f of s.features) n += f.bytes();
  return n;
}

/** Bytes an open bucket adds to the serialized state, counted from its contents (the hot path reads `ob.bytes`, kept incrementally). */
export function openBucketBytes(model: ModelState, ob: OpenBucket): number {
  let n = 25 + 4 * model.detectors.length;
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

export function isHard(model: ModelState): boolean {
  return model.status === 2 || model.bytes >= model.spec.modelMemoryLimitBytes;
}

export function notePeak(model: ModelState): void {
  if (model.bytes > model.peakBytes) model.peakBytes = model.bytes;
}

/** Records the status seen at this bucket, and at the soft limit prunes idle series, oldest first. */
export function updateMemoryStatus(model: ModelState, refused: boolean, seq: number): void {
  notePeak(model);
  const limit = model.spec.modelMemoryLimitBytes;
  const soft = SOFT_LIMIT * limit;
  if (refused || model.bytes >= limit) model.status = 2;
  else if (model.bytes >= soft) {
    // hard_limit stays until a bucket ends under the soft limit.
    if (model.status === 0) model.status = 1;
  } else {
    model.status = 0;
    return;
  }
  const idle: { d: Detector; key: string; s: Series }[] = [];
  for (const d of model.detectors) {
    for (const [key, s] of d.series) if (s.mark !== seq) idle.push({ d, key, s });
  }
  idle.sort((a, b) => a.s.lastDataMs - b.s.lastDataMs);
  for (const { d, key, s } of idle) {
    if (model.bytes < soft) break;
    d.series.delete(key);
    model.bytes -= seriesBytes(model, d, s);
  }
}

/** The work of {@link AnomalyModel.pruneIdleSeries} (documented there). */
export function pruneIdleSeries(model: ModelState, nowMs: number, windowMs: number): number {
  const cutoff = nowMs - windowMs;
  let pruned = 0;
  for (const d of model.detectors) {
    for (const [key, s] of d.series) {
      if (s.lastDataMs < cutoff) {
        d.series.delete(key);
        model.bytes -= seriesBytes(model, d, s);
        pruned++;
      }
    }
  }
  return pruned;
}

/** The work of {@link AnomalyModel.modelSizeStats} (documented there). */
export function modelSizeStats(model: ModelState): ModelSizeStats {
  let byCount = 0;
  const partitions = new Set<string>();
  for (const d of model.detectors) {
    for (const s of d.series.values()) {
      if (s.by !== undefined) byCount++;
      if (s.partition !== undefined) partitions.add(s.partition);
    }
  }
  let status = model.status;
  const limit = model.spec.modelMemoryLimitBytes;
  if (model.bytes >= limit) status = 2;
  else if (model.bytes >= SOFT_LIMIT * limit && status < 1) status = 1;
  return {
    model_bytes: model.bytes,
    total_by_field_count: byCount,
    total_partition_field_count: partitions.size,
    total_over_field_count: 0,
    bucket_allocation_failures_count: model.allocationFailures,
    memory_status: STATUS_NAMES[status] as ModelSizeStats['memory_status'],
    peak_model_bytes: Math.max(model.peakBytes, model.bytes),
  };
}
