/**
 * Packing of results into items (layout and reasoning in `keys.ts`): the pure part, no AWS
 * calls, so the key and split rules are tested on their own.
 *
 * A call of `writeResults` turns its final buckets into one *group* per UTC month: the group's
 * buckets (each with its records embedded, as `expand=true` serves them) are cut into *parts* of
 * about {@link PART_RAW_BYTES} of JSON, each part one compressed item keyed by its first bucket's
 * timestamp; model plot documents are packed the same way into parts of their own. The group's
 * summary item (one per group, in the job's index partition) lists its parts with their counts
 * and highest scores, so a reader counts and pages a time range from the summaries and reads
 * only the parts a page needs.
 */
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants, inflateRawSync } from 'node:zlib';
import type { BucketResult, ModelPlotResult, RecordResult } from '../detect/index.ts';
import { keys, MAX_CHUNK_BYTES, monthKey } from './keys.ts';

/**
 * Raw JSON bytes a part aims at. Results compress about 10 to 20 times (their field names and
 * most values repeat), so a part is a 30-50 KB item holding about 550 one-record buckets: a
 * page of 10,000 buckets reads about 20 parts, a page of 10 reads one.
 */
export const PART_RAW_BYTES = 512 * 1024;

/** A bucket as a part stores it: the bucket document with its records, without model plot. */
export type BucketEntry = Omit<BucketResult, 'model_plot'>;

/**
 * One part of a group as its summary lists it: `[first bucket timestamp ms, buckets, records,
 * highest anomaly_score, highest record_score]` (the scores -1 when it holds none).
 */
export type PartSummary = [t: number, buckets: number, records: number, maxBucketScore: number, maxRecordScore: number];

/** A model plot part as its summary lists it: `[first timestamp ms, documents]`. */
export type PlotPartSummary = [t: number, docs: number];

/** The summary item of a group (`resultsidx#<job_id>` / `<first timestamp>`). */
export interface GroupSummary {
  /** First and last bucket timestamp of the group, epoch ms (both inside one UTC month). */
  first: number;
  last: number;
  /** Seconds. */
  span: number;
  parts: PartSummary[];
  plots: PlotPartSummary[];
}

/** Start of the UTC month holding `ms`, epoch ms: no group or part of a later month starts before it. */
export function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/**
 * First byte of a Brotli-compressed part body. Parts written before were raw DEFLATE, whose
 * first byte holds the first block's BFINAL bit and 2-bit BTYPE (bits 0-2); BTYPE 3 is
 * reserved and never produced, so a body starting with this byte (BTYPE bits 11) is never a
 * DEFLATE stream: the tag tells the codecs apart without another attribute on the item.
 */
const BROTLI_TAG = 0xff;

/**
 * Parts are Brotli at quality 5: JSON of results shrinks 32× instead of raw DEFLATE 6's 28×
 * (one-record buckets of a lookback: 18 parts of 512 KB are 295 KB against 340 KB), and the
 * bucket parts are the item kind a lookback spends most write units on
 * (`bench/results/cost.json`). Compression costs about what DEFLATE 6 did (~13 ms per MB) and
 * decompression less. Quality 5 is where Brotli's ratio jumps (28× at 4, 32× at 5 and 6).
 */
const PART_BROTLI_PARAMS = { [zlibConstants.BROTLI_PARAM_QUALITY]: 5, [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT };

/** Compresses a JSON array of already serialized entries: {@link BROTLI_TAG}, then the Brotli stream. */
function encode(entries: readonly string[]): Uint8Array {
  const raw = Buffer.from(`[${entries.join(',')}]`);
  const body = brotliCompressSync(raw, { params: { ...PART_BROTLI_PARAMS, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: raw.length } });
  const out = new Uint8Array(body.length + 1);
  out[0] = BROTLI_TAG;
  out.set(body, 1);
  return out;
}

/** The entries of a part item's body (`z`): Brotli after {@link BROTLI_TAG}, or raw DEFLATE (parts written before). */
export function decodePart<T>(z: Uint8Array): T[] {
  const raw = z[0] === BROTLI_TAG ? brotliDecompressSync(z.subarray(1)) : inflateRawSync(z);
  return JSON.parse(raw.toString('utf8')) as T[];
}

/**
 * Splits serialized entries into runs of about {@link PART_RAW_BYTES}, and any run whose
 * compressed body would pass {@link MAX_CHUNK_BYTES} in half again (incompressible text), so
 * every part fits DynamoDB's 400 KB item limit.
 */
function split(entries: readonly string[]): { from: number; to: number; body: Uint8Array }[] {
  const out: { from: number; to: number; body: Uint8Array }[] = [];
  const emit = (from: number, to: number): void => {
    const body = encode(entries.slice(from, to));
    if (body.byteLength > MAX_CHUNK_BYTES && to - from > 1) {
      const mid = from + Math.floor((to - from) / 2);
      emit(from, mid);
      emit(mid, to);
      return;
    }
    out.push({ from, to, body });
  };
  let start = 0;
  let bytes = 0;
  entries.forEach((e, i) => {
    if (bytes > 0 && bytes + e.length > PART_RAW_BYTES) {
      emit(start, i);
      start = i;
      bytes = 0;
    }
    bytes += e.length + 1;
  });
  if (start < entries.length) emit(start, entries.length);
  return out;
}

/**
 * A bucket as a part (or an interim item) stores it: without model plot, its records ordered by
 * detector (stable: the model's order within a detector), the order results have always been
 * served in.
 */
export function entryOf(b: BucketResult): BucketEntry {
  const { model_plot: _plot, ...entry } = b;
  const sorted = b.records.every((r, i) => i === 0 || (b.records[i - 1] as RecordResult).detector_index <= r.detector_index);
  return sorted ? entry : { ...entry, records: [...b.records].sort((x, y) => x.detector_index - y.detector_index) };
}

const maxOf = (xs: readonly number[]): number => xs.reduce((m, x) => Math.max(m, x), -1);

/**
 * The items of final buckets: per UTC month a summary item, its bucket parts and model plot
 * parts. Buckets must be in timestamp order (as the model emits them). Keys depend only on the
 * buckets given, so writing the same buckets again (a redelivered command) overwrites the same
 * items: one bucket, never two.
 */
export function packBuckets(jobId: string, buckets: readonly BucketResult[]): { summaries: Record<string, unknown>[]; parts: Record<string, unknown>[] } {
  const summaries: Record<string, unknown>[] = [];
  const parts: Record<string, unknown>[] = [];
  let i = 0;
  while (i < buckets.length) {
    const month = monthKey((buckets[i] as BucketResult).timestamp);
    let j = i;
    while (j < buckets.length && monthKey((buckets[j] as BucketResult).timestamp) === month) j++;
    const group = buckets.slice(i, j);
    const entries = group.map((b) => JSON.stringify(entryOf(b)));
    const summary: GroupSummary = {
      first: (group[0] as BucketResult).timestamp,
      last: (group.at(-1) as BucketResult).timestamp,
      span: (group[0] as BucketResult).bucket_span,
      parts: [],
      plots: [],
    };
    for (const p of split(entries)) {
      const members = group.slice(p.from, p.to);
      const first = (members[0] as BucketResult).timestamp;
      const records = members.flatMap((b) => b.records);
      summary.parts.push([first, members.length, records.length, maxOf(members.map((b) => b.anomaly_score)), maxOf(records.map((r) => r.record_score))]);
      parts.push({ ...keys.resultBucketPart(jobId, first), z: p.body });
    }
    const plots: ModelPlotResult[] = group.flatMap((b) => b.model_plot ?? []);
    if (plots.length > 0) {
      const plotEntries = plots.map((d) => JSON.stringify(d));
      for (const p of split(plotEntries)) {
        const first = (plots[p.from] as ModelPlotResult).timestamp;
        summary.plots.push([first, p.to - p.from]);
        parts.push({ ...keys.resultPlotPart(jobId, first), z: p.body });
      }
    }
    summaries.push({
      ...keys.resultGroup(jobId, summary.first),
      last: summary.last,
      span: summary.span,
      parts: JSON.stringify(summary.parts),
      plots: JSON.stringify(summary.plots),
    });
    i = j;
  }
  return { summaries, parts };
}

/** The summary of a group item as stored. */
export function groupOf(item: { sk: string; last: number; span: number; parts: string; plots?: string }): GroupSummary {
  return {
    first: Number(item.sk),
    last: item.last,
    span: item.span,
    parts: JSON.parse(item.parts) as PartSummary[],
    plots: item.plots ? (JSON.parse(item.plots) as PlotPartSummary[]) : [],
  };
}

/**
 * The score index items of final buckets: a bucket with `anomaly_score` ≥ `floor` and a record
 * with `record_score` ≥ `floor`, each carrying its document (`doc`, a bucket without records)
 * and timestamp (`t`), so a page sorted or filtered by score is read from the index alone.
 */
export function scoreItems(jobId: string, buckets: readonly BucketResult[], floor: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const b of buckets) {
    if (b.anomaly_score >= floor) {
      const { records: _records, model_plot: _plot, ...doc } = b;
      out.push({ ...keys.bucketScore(jobId, b.anomaly_score, b.timestamp), t: b.timestamp, doc: JSON.stringify(doc) });
    }
    const perDetector = new Map<number, number>();
    for (const r of b.records) {
      const n = perDetector.get(r.detector_index) ?? 0;
      perDetector.set(r.detector_index, n + 1);
      if (r.record_score >= floor) out.push({ ...keys.recordScore(jobId, r.record_score, r.timestamp, r.detector_index, n), t: r.timestamp, doc: JSON.stringify(r) });
    }
  }
  return out;
}

/** Records of bucket entries, in stored order (timestamp, then detector, then the model's order). */
export function recordsOf(entries: readonly BucketEntry[]): RecordResult[] {
  return entries.flatMap((e) => e.records);
}
