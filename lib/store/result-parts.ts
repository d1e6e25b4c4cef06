/**
 * Packing of results into items (layout and reasoning in `keys.ts`): the pure part, no AWS
 * calls, so the key and split rules are tested on their own.
 *
 * A call of `writeResults` turns its final buckets into one *group* per UTC month: the group's
 * buckets are cut into *parts* of about {@link PART_RAW_BYTES} of JSON, each part one item
 * keyed by its first bucket's timestamp; model plot documents are packed into parts of their
 * own. The group's summary item (one per group, in the job's index partition) lists its parts
 * with their counts and highest scores, so a reader counts and pages a time range from the
 * summaries and reads only the parts a page needs.
 *
 * A bucket part holds separately compressed bodies (Brotli; raw DEFLATE when written before) (format {@link PART_FORMAT}, attribute
 * `f`): `zb`, the bucket documents without their records, one JSON text a line after a header
 * line of their timestamps and anomaly scores; then one body per kind of per-bucket document
 * ({@link PART_DOC_KINDS}): `zr`, their records, and `zi`, their influencers (absent when no
 * bucket of the part has any), each one JSON array of per-bucket arrays. A
 * page of buckets (the common request, and what the UI's swimlane asks for) so reads neither
 * the records nor any JSON it does not send: it filters on the header and answers with the
 * documents' text as stored (`lib/app/results.ts#getBucketsJson`). Parts written before this
 * format (no `f`; one deflated JSON array `z` of buckets with their records embedded) are still
 * read, as the same {@link BucketPart}.
 */
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants, inflateRawSync } from 'node:zlib';
import type { BucketResult, InfluencerResult, ModelPlotResult, RecordResult } from '../detect/index.ts';
import { keys, MAX_CHUNK_BYTES, monthKey } from './keys.ts';

/**
 * Raw JSON bytes a part aims at. Results compress about 30 times (their field names and
 * most values repeat), so a part is a 15-20 KB item holding about 550 one-record buckets: a
 * page of 10,000 buckets reads about 20 parts, a page of 10 reads one.
 */
export const PART_RAW_BYTES = 512 * 1024;

/** The bucket part format this version writes (`f` of the item; absent on parts of the first packed format). */
export const PART_FORMAT = 2;

/** A bucket as a part stores it: the bucket document with its records and influencers, without model plot. */
export type BucketEntry = Omit<BucketResult, 'model_plot'>;

/**
 * The kinds of per-bucket documents a bucket part keeps beside the bucket documents, each in a
 * body of its own (`attr`), one JSON array of per-bucket arrays: a reader decompresses only the
 * kinds it serves, and code that rewrites parts (renormalisation) carries every kind through
 * {@link entriesOfPart} and {@link packBuckets} without naming them. A kind absent from a part
 * (`zi` of a part written before influencers, or of a job without them) reads as none.
 */
export const PART_DOC_KINDS = [
  { key: 'records', attr: 'zr' },
  { key: 'influencers', attr: 'zi' },
] as const;

/** A kind of per-bucket document of a part. */
export type PartDocKind = (typeof PART_DOC_KINDS)[number]['key'];

/** The bucket document of an entry: without its per-bucket documents. */
export function bucketDocOf(e: BucketEntry): Omit<BucketEntry, PartDocKind> {
  const { records: _records, influencers: _influencers, ...doc } = e;
  return doc;
}

/**
 * A bucket part as read: for each of its buckets, in time order, the timestamp (epoch ms), the
 * `anomaly_score`, the document without records as JSON text, and (when read with records)
 * its records in stored order.
 */
export interface BucketPart {
  t: number[];
  s: number[];
  docs: string[];
  /** Per bucket its records; undefined when the part was read without them. */
  records: RecordResult[][] | undefined;
  /** Per bucket its influencers; undefined when the part was read without them. */
  influencers?: InfluencerResult[][] | undefined;
}

/** The part read as nothing (gone: deleted by retention meanwhile). */
export const EMPTY_PART: BucketPart = { t: [], s: [], docs: [], records: [], influencers: [] };

/**
 * One part of a group as its summary lists it: `[first bucket timestamp ms, buckets, records,
 * highest anomaly_score, highest record_score]` and, when the part holds influencers,
 * `[…, influencers, highest influencer_score]` (the scores -1 when it holds none; the two
 * influencer entries absent on parts without influencers, written before them or not).
 */
export type PartSummary = [t: number, buckets: number, records: number, maxBucketScore: number, maxRecordScore: number, influencers?: number, maxInfluencerScore?: number];

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
 * First byte of a Brotli-compressed part body. Bodies written before were raw DEFLATE, whose
 * first byte holds the first block's BFINAL bit and 2-bit BTYPE (bits 0-2); BTYPE 3 is
 * reserved and never produced, so a body starting with this byte (BTYPE bits 11) is never a
 * DEFLATE stream: the tag tells the codecs apart without another attribute on the item.
 */
const BROTLI_TAG = 0xff;

/**
 * Part bodies are Brotli at quality 5: JSON of results shrinks 32× instead of raw DEFLATE 6's
 * 28× (one-record buckets of a lookback: 18 parts of 512 KB are 295 KB against 340 KB), and the
 * bucket parts are the item kind a lookback spends most write units on
 * (`bench/results/cost.json`). Compression costs about what DEFLATE 6 did (~13 ms per MB) and
 * decompression less (`bench/results/codec.json`). Quality 5 is where Brotli's ratio jumps
 * (28× at 4, 32× at 5 and 6).
 */
const PART_BROTLI_PARAMS = { [zlibConstants.BROTLI_PARAM_QUALITY]: 5, [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT };

/** Compresses a body: {@link BROTLI_TAG}, then the Brotli stream. */
function compressBody(text: string): Uint8Array {
  const raw = Buffer.from(text);
  const body = brotliCompressSync(raw, { params: { ...PART_BROTLI_PARAMS, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: raw.length } });
  const out = new Uint8Array(body.length + 1);
  out[0] = BROTLI_TAG;
  out.set(body, 1);
  return out;
}

/** A body's text: Brotli after {@link BROTLI_TAG}, or raw DEFLATE (bodies written before). */
function decompressBody(z: Uint8Array): string {
  return (z[0] === BROTLI_TAG ? brotliDecompressSync(z.subarray(1)) : inflateRawSync(z)).toString('utf8');
}

/** Compresses a JSON array of already serialized entries (a model plot part's `z`). */
function encode(entries: readonly string[]): Uint8Array {
  return compressBody(`[${entries.join(',')}]`);
}

/** The entries of a model plot part's body (`z`), or of a bucket part of the first packed format. */
export function decodePart<T>(z: Uint8Array): T[] {
  return JSON.parse(decompressBody(z)) as T[];
}

/**
 * The bodies of a bucket part: `zb` (header line `{"t":[…],"s":[…]}`, then a bucket document a
 * line) and one per kind of {@link PART_DOC_KINDS} (a JSON array of each bucket's documents of
 * that kind), `zr` always, the others only when a bucket has any.
 */
function encodeBuckets(members: readonly BucketEntry[], docs: readonly string[]): { bodies: Record<string, Uint8Array>; byteLength: number } {
  // JSON text never holds a raw line feed (JSON.stringify escapes it), so lines split back exactly.
  const header = JSON.stringify({ t: members.map((b) => b.timestamp), s: members.map((b) => b.anomaly_score) });
  const bodies: Record<string, Uint8Array> = { zb: compressBody(`${header}\n${docs.join('\n')}`) };
  for (const { key, attr } of PART_DOC_KINDS) {
    const per = members.map((b) => b[key] ?? []);
    if (key !== 'records' && per.every((xs) => xs.length === 0)) continue;
    bodies[attr] = compressBody(JSON.stringify(per));
  }
  return { bodies, byteLength: Object.values(bodies).reduce((n, z) => n + z.byteLength, 0) };
}

/**
 * A bucket part item as a {@link BucketPart}: of this format, `zb` always, `zr` only when
 * `withRecords` and `zi` only when `withInfluencers` (none per bucket when the part has no
 * `zi`); of the first packed format (no `f`: one body `z` of buckets with their records),
 * everything, each document re-serialized without its records.
 * @throws Error for a part format this version does not know (written by a newer one)
 */
export function decodeBucketPart(item: Record<string, unknown>, withRecords: boolean, withInfluencers = withRecords): BucketPart {
  if (item.f === undefined) {
    const entries = decodePart<BucketEntry>(item.z as Uint8Array);
    return {
      t: entries.map((e) => e.timestamp),
      s: entries.map((e) => e.anomaly_score),
      docs: entries.map((e) => JSON.stringify(bucketDocOf(e))),
      records: entries.map((e) => e.records),
      influencers: entries.map((e) => e.influencers ?? []),
    };
  }
  if (item.f !== PART_FORMAT) throw new Error(`result part ${String(item.pk)} ${String(item.sk)} has format ${String(item.f)}, which this version does not read`);
  const text = decompressBody(item.zb as Uint8Array);
  const nl = text.indexOf('\n');
  const header = JSON.parse(text.slice(0, nl)) as { t: number[]; s: number[] };
  return {
    t: header.t,
    s: header.s,
    docs: text.slice(nl + 1).split('\n'),
    records: withRecords ? (JSON.parse(decompressBody(item.zr as Uint8Array)) as RecordResult[][]) : undefined,
    influencers: !withInfluencers ? undefined : item.zi === undefined ? header.t.map(() => []) : (JSON.parse(decompressBody(item.zi as Uint8Array)) as InfluencerResult[][]),
  };
}

/**
 * The buckets of a part read with its records (and influencers), as entries (document with
 * `records`, and `influencers` when it has any).
 * @throws Error when the part was read without its records or influencers
 */
export function entriesOfPart(part: BucketPart): BucketEntry[] {
  const { records, influencers } = part;
  if (!records || !influencers) throw new Error('bucket part read without its records or influencers');
  const docs = JSON.parse(`[${part.docs.join(',')}]`) as Omit<BucketEntry, 'records'>[];
  return docs.map((d, i) => {
    const infl = influencers[i] ?? [];
    return infl.length > 0 ? { ...d, records: records[i] ?? [], influencers: infl } : { ...d, records: records[i] ?? [] };
  });
}

/**
 * A bucket part item with new contents for its buckets (the same buckets, in the same order:
 * renormalization's rescored scores), in this version's format whatever format it had: its
 * bodies re-encoded, the body of the first packed format (`z`) dropped, every other attribute
 * kept as it was. Its size changes only by the digits of the new scores, so it still fits its item.
 */
export function reencodeBucketPart(item: Record<string, unknown>, entries: readonly BucketEntry[]): Record<string, unknown> {
  const { z: _z, ...rest } = item;
  const docs = entries.map((e) => JSON.stringify(bucketDocOf(e)));
  // Bodies of the kinds the entries carry are re-encoded; a body they do not carry (e.g. `zi`
  // when the caller read the part without influencers) stays as it was in `rest`.
  const { bodies } = encodeBuckets(entries, docs);
  return { ...rest, f: PART_FORMAT, ...bodies };
}

/**
 * Splits entries (their raw JSON sizes given) into runs of about {@link PART_RAW_BYTES}, and
 * any run whose encoded bodies would pass {@link MAX_CHUNK_BYTES} in half again
 * (incompressible text), so every part fits DynamoDB's 400 KB item limit.
 */
function split<B extends { byteLength: number }>(sizes: readonly number[], encodeRun: (from: number, to: number) => B): { from: number; to: number; body: B }[] {
  const out: { from: number; to: number; body: B }[] = [];
  const emit = (from: number, to: number): void => {
    const body = encodeRun(from, to);
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
  sizes.forEach((size, i) => {
    if (bytes > 0 && bytes + size > PART_RAW_BYTES) {
      emit(start, i);
      start = i;
      bytes = 0;
    }
    bytes += size + 1;
  });
  if (start < sizes.length) emit(start, sizes.length);
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
    const group = buckets.slice(i, j).map(entryOf);
    const docs = group.map((b) => JSON.stringify(bucketDocOf(b)));
    // Raw size of a bucket with its records and influencers, as the cut at PART_RAW_BYTES has always counted it.
    const sizes = group.map((b, k) => (docs[k] as string).length + [...b.records, ...(b.influencers ?? [])].reduce((n: number, r) => n + JSON.stringify(r).length + 1, 12));
    const summary: GroupSummary = {
      first: (group[0] as BucketEntry).timestamp,
      last: (group.at(-1) as BucketEntry).timestamp,
      span: (group[0] as BucketEntry).bucket_span,
      parts: [],
      plots: [],
    };
    for (const p of split(sizes, (from, to) => encodeBuckets(group.slice(from, to), docs.slice(from, to)))) {
      const members = group.slice(p.from, p.to);
      const first = (members[0] as BucketEntry).timestamp;
      const records = members.flatMap((b) => b.records);
      const influencers = members.flatMap((b) => b.influencers ?? []);
      const ref: PartSummary = [first, members.length, records.length, maxOf(members.map((b) => b.anomaly_score)), maxOf(records.map((r) => r.record_score))];
      if (influencers.length > 0) ref.push(influencers.length, maxOf(influencers.map((i) => i.influencer_score)));
      summary.parts.push(ref);
      parts.push({ ...keys.resultBucketPart(jobId, first), f: PART_FORMAT, ...p.body.bodies });
    }
    const plots: ModelPlotResult[] = buckets.slice(i, j).flatMap((b) => b.model_plot ?? []);
    if (plots.length > 0) {
      const plotEntries = plots.map((d) => JSON.stringify(d));
      for (const p of split(
        plotEntries.map((e) => e.length),
        (from, to) => encode(plotEntries.slice(from, to)),
      )) {
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
 * The score index items of final buckets: a bucket with `anomaly_score` ≥ `floor`, a record
 * with `record_score` ≥ `floor` and an influencer with `influencer_score` ≥ `floor`, each
 * carrying its document (`doc`, a bucket without records or influencers) and timestamp (`t`),
 * so a page sorted or filtered by score is read from the index alone.
 */
export function scoreItems(jobId: string, buckets: readonly BucketResult[], floor: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const b of buckets) {
    if (b.anomaly_score >= floor) {
      const { model_plot: _plot, ...entry } = b;
      const doc = bucketDocOf(entry);
      out.push({ ...keys.bucketScore(jobId, b.anomaly_score, b.timestamp), t: b.timestamp, doc: JSON.stringify(doc) });
    }
    const perDetector = new Map<number, number>();
    for (const r of b.records) {
      const n = perDetector.get(r.detector_index) ?? 0;
      perDetector.set(r.detector_index, n + 1);
      if (r.record_score >= floor) out.push({ ...keys.recordScore(jobId, r.record_score, r.timestamp, r.detector_index, n), t: r.timestamp, doc: JSON.stringify(r) });
    }
    (b.influencers ?? []).forEach((inf, n) => {
      if (inf.influencer_score >= floor) out.push({ ...keys.influencerScore(jobId, inf.influencer_score, inf.timestamp, n), t: inf.timestamp, doc: JSON.stringify(inf) });
    });
  }
  return out;
}

/** Records of bucket entries, in stored order (timestamp, then detector, then the model's order). */
export function recordsOf(entries: readonly BucketEntry[]): RecordResult[] {
  return entries.flatMap((e) => e.records);
}
