/**
 * Bucketing: records into open buckets (Elasticsearch's out-of-order rule, series keys,
 * accumulators, influencer values), `_flush` (advance_time, skip_time, interim results) and
 * finalising buckets in order as the newest time passes them.
 */
import { stringBytes } from '../codec.ts';
import { fieldValue, MAX_RECORD_TIME_MS } from '../parse.ts';
import type { BucketResult, FlushOptions, FlushOutput, IngestOutput, InputRecord } from '../types.ts';
import { finalizeEmptyRun } from './empty-runs.ts';
import { isHard, notePeak, updateMemoryStatus } from './memory.ts';
import { scoreBucket } from './scoring.ts';
import { type Acc, ACC_BYTES, type Detector, KEY_SEP, numberOf, type OpenBucket, termOf } from './series.ts';
import type { ModelState } from './state.ts';

/** Distinct influencer values kept per field per series and bucket. */
export const MAX_INFLUENCER_VALUES = 10;

/** The work of {@link AnomalyModel.ingest} (documented there). */
export function ingestRecords(model: ModelState, records: InputRecord[]): IngestOutput {
  const started = performance.now();
  const out: BucketResult[] = [];
  const span = model.span;
  const latency = model.spec.latencyMs;
  const dets = model.detectors;
  const nd = dets.length;
  const summary = model.spec.summaryCountFieldName;
  const analysis = model.analysis;
  const na = analysis.length;
  let processed = 0;
  let processedFields = 0;
  let outOfOrder = 0;
  let earliest = Infinity;
  let latest = -Infinity;
  let openStart = model.pointer * span; // NaN before any data: every comparison is false
  let threshold = (model.pointer + 1) * span + latency;
  const latencyS = Math.trunc(latency / 1000);
  // For t >= 0, trunc(t / 1000) < oldestS ⟺ t < oldestS × 1000: no division per record.
  let oldestMs = oldestAcceptedS(model, latencyS) * 1000;
  // The rule moves only when the newest record enters a later bucket.
  let newestBucketEnd = Number.isNaN(model.newest) ? -Infinity : (Math.floor(model.newest / span) + 1) * span;
  let lastIndex = NaN;
  let ob: OpenBucket | undefined;
  let hard = isHard(model);

  for (let i = 0; i < records.length; i++) {
    const rec = records[i] as InputRecord;
    const t = rec.timeMs;
    if (!Number.isFinite(t)) continue;
    // Elasticsearch's out-of-order rule, plus what its autodetect would drop (see the class doc).
    if (t < 0 || t < oldestMs || (model.finalizedAny === 1 && t < openStart)) {
      outOfOrder++;
      continue;
    }
    const b = Math.floor(t / span);
    if (b !== lastIndex) {
      if (!(b >= model.pointer)) {
        // First data, or earlier data while nothing is final yet.
        model.pointer = b;
        openStart = b * span;
        threshold = (b + 1) * span + latency;
      }
      ob = model.open.get(b);
      if (ob === undefined) {
        ob = model.pool.bucket(b);
        model.open.add(ob);
        ob.bytes = 25 + 4 * nd;
        model.bytes += ob.bytes;
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
      // Direct reads here and below (fieldValue only when absent, for a dotted path): one
      // property read site per field keeps its inline cache monomorphic, where every read
      // through fieldValue's one site made it megamorphic (see parseDataBody).
      const name = analysis[f] as string;
      let v = fields[name];
      if (v === undefined) v = fieldValue(fields, name);
      if (v !== undefined && v !== null) processedFields++;
    }
    bucket.events += w;
    bucket.records++;
    for (let di = 0; di < nd; di++) {
      const d = dets[di] as Detector;
      const fieldName = d.fieldName;
      let v = 0;
      if (fieldName !== undefined) {
        let raw = fields[fieldName];
        if (raw === undefined) raw = fieldValue(fields, fieldName);
        v = numberOf(raw);
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
        acc = model.pool.acc();
        accs.set(key, acc);
        let added = stringBytes(key) + ACC_BYTES;
        if (d.tracked.length > 0) {
          acc.infl = d.tracked.map(() => new Set<string>());
          added += 4 * d.tracked.length;
        }
        bucket.bytes += added;
        model.bytes += added;
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
            const added = stringBytes(term);
            bucket.bytes += added;
            model.bytes += added;
          }
        }
      }
    }
    if (!(t <= model.newest)) {
      model.newest = t;
      if (t >= newestBucketEnd) {
        oldestMs = oldestAcceptedS(model, latencyS) * 1000;
        newestBucketEnd = (Math.floor(t / span) + 1) * span;
      }
    }
    if (model.newest >= threshold) {
      finalizeThrough(model, Math.floor((model.newest - latency) / span) - 1, out);
      openStart = model.pointer * span;
      threshold = (model.pointer + 1) * span + latency;
      lastIndex = NaN;
      hard = isHard(model);
    }
  }
  notePeak(model);
  stampProcessingTime(out, started);
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

/** The work of {@link AnomalyModel.flush} (documented there). */
export function flushBuckets(model: ModelState, opts: FlushOptions = {}): FlushOutput {
  const started = performance.now();
  const out: BucketResult[] = [];
  const span = model.span;
  if (opts.advanceTimeMs !== undefined) {
    // No record can lie past MAX_RECORD_TIME_MS: advancing further only makes a longer run.
    const end = Math.floor(Math.min(opts.advanceTimeMs, MAX_RECORD_TIME_MS) / span);
    if (Number.isNaN(model.pointer)) {
      model.pointer = end;
      model.finalizedAny = 1;
    } else {
      finalizeThrough(model, end - 1, out);
    }
  }
  if (opts.skipTimeMs !== undefined) {
    const to = Math.ceil(Math.min(opts.skipTimeMs, MAX_RECORD_TIME_MS) / span);
    if (Number.isNaN(model.pointer)) {
      model.pointer = to;
    } else if (to > model.pointer) {
      let lastData = NaN;
      for (const ob of model.open.values()) {
        if (ob.index < to && ob.records > 0 && !(ob.index <= lastData)) lastData = ob.index;
      }
      if (!Number.isNaN(lastData)) finalizeThrough(model, lastData, out);
      // A copy: dropOpen removes from the list being walked.
      for (const ob of [...model.open.values()]) {
        if (ob.index < to) dropOpen(model, ob);
      }
      model.pointer = to;
    }
    model.finalizedAny = 1;
  }
  const interim: BucketResult[] = [];
  if (opts.calcInterim === true) {
    const pending = [...model.open.values()].filter((ob) => ob.records > 0 && ob.index >= model.pointer);
    pending.sort((a, b) => a.index - b.index);
    for (const ob of pending) {
      const elapsed = (model.newest - ob.index * span) / span;
      const fraction = elapsed >= 1 ? 1 : elapsed > 0.05 ? elapsed : 0.05;
      interim.push(scoreBucket(model, ob.index, ob, true, fraction));
    }
  }
  notePeak(model);
  stampProcessingTime(out, started);
  stampProcessingTime(interim, started);
  const res: FlushOutput = { buckets: out, interim };
  const last = lastFinalizedBucketEndMs(model);
  if (last !== undefined) res.lastFinalizedBucketEndMs = last;
  return res;
}

/** The work of {@link AnomalyModel.finalizeAll} (documented there). */
export function finalizeAllBuckets(model: ModelState): BucketResult[] {
  const started = performance.now();
  const out: BucketResult[] = [];
  let last = NaN;
  for (const ob of model.open.values()) {
    if (ob.records > 0 && !(ob.index <= last)) last = ob.index;
  }
  if (!Number.isNaN(last)) finalizeThrough(model, last, out);
  notePeak(model);
  stampProcessingTime(out, started);
  return out;
}

/**
 * Sets `processing_time_ms` of the buckets one call finalised: the call's time since
 * `started` (ms, `performance.now()`) shared evenly, rounded, as Elasticsearch reports a
 * bucket's analysis time in whole ms. One clock reading per call, not two per bucket: at one
 * record per bucket the clock cost as much as the bucket's scoring.
 */
function stampProcessingTime(buckets: BucketResult[], started: number): void {
  if (buckets.length === 0) return;
  const each = Math.round((performance.now() - started) / buckets.length);
  if (each === 0) return;
  for (let i = 0; i < buckets.length; i++) (buckets[i] as BucketResult).processing_time_ms = each;
}

/** The work of {@link AnomalyModel.lastFinalizedBucketEndMs} (documented there). */
export function lastFinalizedBucketEndMs(model: ModelState): number | undefined {
  return Number.isNaN(model.pointer) ? undefined : model.pointer * model.span;
}

/**
 * Seconds before which a record is out of order by Elasticsearch's rule: the start of the
 * newest record's bucket (newest accepted record, or epoch 0 before any) minus the latency.
 */
export function oldestAcceptedS(model: ModelState, latencyS: number): number {
  const latest = Number.isNaN(model.newest) ? 0 : model.newest;
  return Math.trunc((Math.floor(latest / model.span) * model.span) / 1000) - latencyS;
}

/**
 * Finalises buckets up to index `lastIndex`: scores and learns each one, except the empty
 * buckets past the learning horizon, which are finalised a run at a time in O(1).
 */
export function finalizeThrough(model: ModelState, lastIndex: number, out: BucketResult[]): void {
  while (model.pointer <= lastIndex) {
    const idx = model.pointer;
    const ob = model.open.get(idx);
    if (ob === undefined && model.emptyStreak >= model.horizon) {
      // The open map holds only the buckets of the latency window: this scan is short.
      let next = lastIndex + 1;
      for (const o of model.open.values()) if (o.index > idx && o.index < next) next = o.index;
      finalizeEmptyRun(model, idx, next - idx);
      continue;
    }
    out.push(scoreBucket(model, idx, ob, false, 1));
    if (ob !== undefined) dropOpen(model, ob);
    model.emptyStreak = ob === undefined ? model.emptyStreak + 1 : 0;
    model.pointer = idx + 1;
    model.finalizedAny = 1;
    updateMemoryStatus(model, model.lastRefused, model.seq);
  }
}

/** Removes a finalised (or skipped) bucket from the open map and hands its objects back to the pool. */
export function dropOpen(model: ModelState, ob: OpenBucket): void {
  model.open.delete(ob.index);
  model.bytes -= ob.bytes;
  model.pool.release(ob);
}
