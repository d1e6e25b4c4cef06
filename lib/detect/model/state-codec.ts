/**
 * The model state's binary form: writing it (format version byte first, then little-endian
 * float64 fields and length-prefixed UTF-8 strings) and reading it back, older versions
 * included.
 */
import { ModelStateError } from '../../domain/errors.ts';
import { type BinReader, BinWriter } from '../codec.ts';
import { FeatureModel } from '../feature.ts';
import { ScoreNormalizer } from '../normalizer.ts';
import { openBucketBytes, seriesBytes } from './memory.ts';
import { Acc, KEY_SEP, OpenBucket, Series } from './series.ts';
import type { ModelState } from './state.ts';

/**
 * Version byte at the start of the serialized state: 6 is model v2 with the level-shift
 * revert (each feature keeps its last shift, its age and the revert run, and the burst
 * component as it was when the current run of outliers began) and the normalisers' episodes
 * (../normalizer.ts); 5 has no burst component at a run's start (read: taken as it is), 4 no
 * episodes either, 3 no revert either (read: no shift in mind, and the bucket normaliser's
 * episodes estimated from its histogram);
 * 1 and 2 were model v1, whose feature models v2
 * cannot continue (as Elasticsearch refuses a model snapshot older than its minimum version
 * instead of guessing).
 */
export const MODEL_STATE_VERSION = 6;
/** State versions `restore` reads. */
export const READABLE_STATE_VERSIONS = new Set([3, 4, 5, 6]);

/**
 * Checks that a serialized state is of a version this model reads, without reading the rest.
 * @throws ModelStateError (with `stateVersion` set) for another version, or when empty.
 */
export function checkModelStateVersion(state: Uint8Array): void {
  if (state.length === 0) throw new ModelStateError('model state is truncated');
  const version = state[0] as number;
  if (!READABLE_STATE_VERSIONS.has(version)) throw new ModelStateError(`unsupported model state version [${version}]`, version);
}

/** The work of {@link AnomalyModel.serialize} (documented there). */
export function serializeModel(model: ModelState): Uint8Array {
  const w = new BinWriter(model.bytes);
  w.u8(MODEL_STATE_VERSION);
  w.f64(model.pointer);
  w.f64(model.newest);
  w.u8(model.finalizedAny);
  w.f64(model.bucketCount);
  w.f64(model.emptyCount);
  w.f64(model.sparseCount);
  w.f64(model.latestBucket);
  w.f64(model.latestEmpty);
  w.f64(model.latestSparse);
  w.f64(model.avgRecords);
  w.f64(model.detectors.length);
  w.f64(model.allocationFailures);
  w.f64(model.peakBytes);
  w.f64(model.status);
  w.f64(model.emptyStreak);
  model.bucketNorm.write(w);
  model.recordNorm.write(w);
  w.u32(model.detectors.length);
  for (const d of model.detectors) {
    w.u32(d.series.size);
    for (const s of d.series.values()) {
      if (d.spec.by_field_name !== undefined) w.str(s.by ?? '');
      if (d.spec.partition_field_name !== undefined) w.str(s.partition ?? '');
      w.f64(s.lastDataMs);
      for (const f of s.features) f.write(w);
    }
  }
  w.u32(model.open.size);
  for (const ob of model.open.values()) {
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

export function readModel(model: ModelState, r: BinReader): void {
  const version = r.u8();
  if (!READABLE_STATE_VERSIONS.has(version)) throw new ModelStateError(`unsupported model state version [${version}]`, version);
  model.pointer = r.f64();
  model.newest = r.f64();
  model.finalizedAny = r.u8();
  model.bucketCount = r.f64();
  model.emptyCount = r.f64();
  model.sparseCount = r.f64();
  model.latestBucket = r.f64();
  model.latestEmpty = r.f64();
  model.latestSparse = r.f64();
  model.avgRecords = r.f64();
  const detectorsAgain = r.f64();
  model.allocationFailures = r.f64();
  model.peakBytes = r.f64();
  model.status = r.f64();
  model.emptyStreak = r.f64();
  model.bucketNorm = ScoreNormalizer.read(r, version < 5 ? true : undefined);
  model.recordNorm = ScoreNormalizer.read(r, version < 5 ? false : undefined);
  const nd = r.u32();
  if (nd !== model.detectors.length || detectorsAgain !== nd) {
    throw new ModelStateError(`model state has ${nd} detectors, the job has ${model.detectors.length}`);
  }
  for (const d of model.detectors) {
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const by = d.spec.by_field_name !== undefined ? r.str() : undefined;
      const partition = d.spec.partition_field_name !== undefined ? r.str() : undefined;
      const lastDataMs = r.f64();
      const features = d.info.features.map(() => FeatureModel.read(r, version));
      const key = by !== undefined ? (partition !== undefined ? partition + KEY_SEP + by : by) : (partition ?? '');
      const s = new Series(by, partition, lastDataMs, features);
      d.series.set(key, s);
      model.bytes += seriesBytes(model, d, s);
    }
  }
  const no = r.u32();
  for (let i = 0; i < no; i++) {
    const ob = new OpenBucket(r.f64(), model.detectors.length);
    ob.events = r.f64();
    ob.records = r.f64();
    ob.failed = r.u8();
    for (const d of model.detectors) {
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
    model.open.add(ob);
    ob.bytes = openBucketBytes(model, ob);
    model.bytes += ob.bytes;
  }
  if (!r.done()) throw new ModelStateError('model state has trailing bytes');
}
