import { emptyBucketResult, type EmptyRun, type InfluencerResult, type RecordResult } from '../detect/index.ts';
import { ResourceNotFoundError, Messages } from '../domain/errors.ts';
import { getJobConfig } from '../store/jobs.ts';
import { bucketDocOf } from '../store/result-parts.ts';
import {
  type BucketEntry,
  type BucketPart,
  type PartRef,
  queryModelPlot,
  readBucketEntries,
  readBucketParts,
  readIndex,
  readScoreIndex,
  type ResultsIndex,
  SCORE_INDEX_FLOOR,
  type TimeRange,
} from '../store/results.ts';
import { listAudit } from '../store/audit.ts';
import { compareBy, loadedSegment, newestBucketFirst, pageByTime, type Segment } from './result-pages.ts';

/** GET buckets query (Elasticsearch `ml.get_buckets`): times epoch ms. */
export interface BucketQuery {
  timestamp?: number;
  start?: number;
  end?: number;
  anomalyScore: number;
  excludeInterim: boolean;
  expand: boolean;
  sort: string;
  desc: boolean;
  from: number;
  size: number;
}

type Doc = Record<string, unknown>;

/** A stored bucket, or the buckets of an empty run inside the query range (`n` of them from `first`). */
type SortSegment = { doc: Doc } | { run: EmptyRun; first: number; n: number; template: Doc };

/** The bucket document of bucket `i` of a run segment. */
function runBucket(s: { run: EmptyRun; first: number }, i: number): Doc {
  const { records: _records, ...doc } = emptyBucketResult(s.run.job_id, s.first + i * s.run.bucket_span * 1000, s.run.bucket_span);
  return doc as Doc;
}

/** The part of a run inside [startMs, endMs): its first bucket start and bucket count. */
function clip(run: EmptyRun, startMs: number | undefined, endMs: number | undefined): { first: number; n: number } {
  const span = run.bucket_span * 1000;
  const first = startMs === undefined || startMs <= run.timestamp ? run.timestamp : run.timestamp + Math.ceil((startMs - run.timestamp) / span) * span;
  const end = endMs === undefined || endMs >= run.end ? run.end : endMs;
  return { first, n: end > first ? Math.ceil((end - first) / span) : 0 };
}

const within = (range: TimeRange) => (t: number) => (range.startMs === undefined || t >= range.startMs) && (range.endMs === undefined || t < range.endMs);

/** Whether a part lies wholly inside the range (its size then counts without reading it). */
const wholly = (p: PartRef, range: TimeRange) => (range.startMs === undefined || p.t >= range.startMs) && (range.endMs === undefined || p.last < range.endMs);

/**
 * Reads parts asked for in the same turn of the event loop with one `readBucketParts` call (one
 * BatchGetItem per 100 parts) instead of one request each: a page's segments ask for their
 * parts together. `withRecords`, `withInfluencers`: read the parts' records, influencers too.
 */
function partReader(withRecords: boolean, withInfluencers = false): (p: PartRef) => Promise<BucketPart> {
  let queue: { part: PartRef; resolve: (e: BucketPart) => void; reject: (err: unknown) => void }[] = [];
  return (part) =>
    new Promise((resolve, reject) => {
      if (queue.length === 0) {
        setImmediate(() => {
          const batch = queue;
          queue = [];
          readBucketParts(
            batch.map((b) => b.part),
            withRecords,
            withInfluencers,
          ).then(
            (parts) => {
              for (const [i, b] of batch.entries()) b.resolve(parts[i] as BucketPart);
            },
            (err: unknown) => {
              for (const b of batch) b.reject(err);
            },
          );
        });
      }
      queue.push({ part, resolve, reject });
    });
}

/** A bucket entry as a bucket document: with its records (`expand`) or without (never with its influencers, served on their own). */
function bucketDoc(e: BucketEntry, expand: boolean): Doc {
  const doc = bucketDocOf(e) as Doc;
  return expand ? { ...doc, records: e.records } : doc;
}

/**
 * How a page's buckets are built: parsed documents (`T` = {@link Doc}), or their JSON text as
 * stored (`T` = string), which a page sorted by time sends without parsing or serializing them.
 */
interface BucketForm<T> {
  /** Whether parts are read with their records (`expand`). */
  withRecords: boolean;
  /** The buckets at positions `at` of a part. */
  part(p: BucketPart, at: readonly number[]): T[];
  /** A bucket built here (an empty run's, an interim one). */
  doc(d: Doc): T;
}

/** Buckets as documents, with their records when `expand`. */
const parsedForm = (expand: boolean): BucketForm<Doc> => ({
  withRecords: expand,
  part(p, at) {
    const docs = JSON.parse(`[${at.map((i) => p.docs[i]).join(',')}]`) as Doc[];
    if (!expand) return docs;
    return docs.map((d, k) => ({ ...d, records: p.records?.[at[k] as number] ?? [] }));
  },
  doc: (d) => d,
});

/** Buckets as JSON text, without records. */
const textForm: BucketForm<string> = {
  withRecords: false,
  part: (p, at) => at.map((i) => p.docs[i] as string),
  doc: (d) => JSON.stringify(d),
};

/** A bucket segment and what it is, for the in-memory sort: stored buckets to load, or a run's buckets (alike but for the timestamp). */
type BucketSegment<T> = Segment<T> & ({ kind: 'stored'; loaded(): Promise<T[]> } | { kind: 'run'; run: EmptyRun; n: number });

/** The bucket segments (parts, runs, interim buckets) of a range for a score threshold below the score index floor. */
function bucketSegments<T>(index: ResultsIndex, q: BucketQuery, form: BucketForm<T>): BucketSegment<T>[] {
  const { range } = index;
  const inside = within(range);
  const out: BucketSegment<T>[] = [];
  const read = partReader(form.withRecords);
  for (const p of index.parts) {
    if (p.maxBucketScore < q.anomalyScore || p.buckets === 0) continue;
    const known = q.anomalyScore <= 0 && wholly(p, range) ? p.buckets : undefined;
    const segment = loadedSegment(p.t, known, async () => {
      const part = await read(p);
      const at: number[] = [];
      part.t.forEach((t, i) => {
        if (inside(t) && (part.s[i] as number) >= q.anomalyScore) at.push(i);
      });
      return form.part(part, at);
    });
    out.push({ ...segment, kind: 'stored' });
  }
  if (q.anomalyScore <= 0) {
    for (const run of index.runs) {
      const { first, n } = clip(run, range.startMs, range.endMs);
      if (n <= 0) continue;
      const bucket = (i: number) => form.doc({ ...runBucket({ run, first }, i), ...(q.expand ? { records: [] } : {}) });
      out.push({
        kind: 'run',
        run,
        n,
        first,
        count: n,
        read: async (lo, hi, desc) => Array.from({ length: Math.max(0, Math.min(hi, n) - lo) }, (_, k) => bucket(desc ? n - 1 - (lo + k) : lo + k)),
      });
    }
  }
  for (const b of index.interims) {
    if (q.excludeInterim || b.anomaly_score < q.anomalyScore) continue;
    out.push({ ...loadedSegment(b.timestamp, 1, async () => [form.doc(bucketDoc(b, q.expand))]), kind: 'stored' });
  }
  return out;
}

/** The records of the parts holding the given bucket timestamps (`expand` of buckets read from the score index). */
async function recordsAt(index: ResultsIndex, timestamps: readonly number[]): Promise<Map<number, RecordResult[]>> {
  const wanted = new Set(timestamps);
  const parts = index.parts.filter((p) => timestamps.some((t) => t >= p.t && t <= p.last));
  const out = new Map<number, RecordResult[]>();
  for (const e of [...(await readBucketEntries(parts)).flat(), ...index.interims]) if (wanted.has(e.timestamp)) out.set(e.timestamp, e.records);
  return out;
}

/**
 * Results at or above a score from the score index (and the interim ones from the summaries),
 * in the requested order: the index hits put in time order first, then a stable sort, as
 * Elasticsearch's sort with timestamp ties leaves them.
 */
function orderHits(hits: { doc: Doc; order: string }[], sort: string, desc: boolean): Doc[] {
  hits.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  return hits.map((h) => h.doc).sort(compareBy(sort, desc));
}

/** The order of an interim record among the score index's (`<timestamp>#<detector>#<rank>`). */
function interimRecordHits(entries: readonly BucketEntry[]): { doc: Doc; order: string }[] {
  const out: { doc: Doc; order: string }[] = [];
  for (const e of entries) {
    const perDetector = new Map<number, number>();
    for (const r of e.records) {
      const n = perDetector.get(r.detector_index) ?? 0;
      perDetector.set(r.detector_index, n + 1);
      out.push({ doc: r as unknown as Doc, order: `${String(r.timestamp).padStart(15, '0')}#${String(r.detector_index).padStart(4, '0')}#${String(n).padStart(4, '0')}` });
    }
  }
  return out;
}

/**
 * The summaries of a range of a job that exists: its config and the summaries are read at once
 * (one round trip before the parts, not two).
 * @throws ResourceNotFoundError (404) for an unknown job, whatever reading its results said
 */
async function indexOfJob(jobId: string, range: TimeRange): Promise<ResultsIndex> {
  const index = readIndex(jobId, range);
  // Handled below when the job exists; an unknown job is a 404 whatever its results read gave.
  index.catch(() => undefined);
  if (!(await getJobConfig(jobId))) throw new ResourceNotFoundError(Messages.unknownJob(jobId));
  return index;
}

/** The time range a buckets query asks for: one bucket (`timestamp`) or `[start, end)`. */
const requestedRange = (q: BucketQuery): TimeRange => (q.timestamp !== undefined ? { startMs: q.timestamp, endMs: q.timestamp + 1 } : { startMs: q.start, endMs: q.end });

/**
 * GET _ml/anomaly_detectors/<id>/results/buckets[/<timestamp>]: `{count, buckets}` where
 * `count` is the total matches and `buckets` one page; `expand` embeds the bucket's records.
 * Every final bucket is there, as in Elasticsearch, empty ones included: the buckets of an
 * empty run (a long gap, stored as one item) are built for the requested page only, so a
 * page over a gap of millions of buckets costs what any page costs.
 *
 * Reads (layout in `lib/store/keys.ts`): in time order, the summaries of the range and the
 * parts the page overlaps (and the parts cut by the range's edges, to count); with
 * `anomaly_score` ≥ the score index floor, the score index alone; sorted on another field
 * with a lower threshold, every part of the range (as before the packed layout).
 * @throws 404 unknown job; 404 "No known bucket with timestamp ..." is not raised (ES answers count 0)
 */
export async function getBuckets(jobId: string, q: BucketQuery): Promise<{ count: number; buckets: unknown[] }> {
  const index = await indexOfJob(jobId, requestedRange(q));
  if (q.anomalyScore >= SCORE_INDEX_FLOOR) {
    const inside = within(index.range);
    const hits: { doc: Doc; order: string }[] = await readScoreIndex<Doc>(jobId, 'bucket', q.anomalyScore, index.range);
    for (const b of index.interims) {
      if (!q.excludeInterim && b.anomaly_score >= q.anomalyScore && inside(b.timestamp)) hits.push({ doc: bucketDoc(b, false), order: String(b.timestamp).padStart(15, '0') });
    }
    const all = orderHits(hits, q.sort, q.desc);
    const page = all.slice(q.from, q.from + q.size);
    if (q.expand && page.length > 0) {
      const records = await recordsAt(
        index,
        page.map((b) => b.timestamp as number),
      );
      for (const b of page) b.records = records.get(b.timestamp as number) ?? [];
    }
    return { count: all.length, buckets: page };
  }
  const segments = bucketSegments(index, q, parsedForm(q.expand));
  if (q.sort === 'timestamp') {
    const { count, page } = await pageByTime(segments, q.from, q.size, q.desc);
    return { count, buckets: page };
  }
  // Another sort below the floor: every part of the range, ordered in memory. A run's buckets
  // share every field but the timestamp and no stored bucket lies inside a run, so ordering
  // segments by (sort key, first timestamp) orders every bucket.
  const sorted: SortSegment[] = [];
  const ordered = [...segments].sort((a, b) => a.first - b.first);
  const loaded = await Promise.all(ordered.map((s) => (s.kind === 'run' ? [] : s.loaded())));
  ordered.forEach((s, i) => {
    if (s.kind === 'run') sorted.push({ run: s.run, first: s.first, n: s.n, template: runBucket(s, 0) });
    else for (const doc of loaded[i] ?? []) sorted.push({ doc });
  });
  const byKey = compareBy(q.sort, q.desc);
  sorted.sort((a, b) => byKey('doc' in a ? a.doc : a.template, 'doc' in b ? b.doc : b.template));
  let count = 0;
  const page: Doc[] = [];
  let skip = q.from;
  for (const s of sorted) {
    const n = 'doc' in s ? 1 : s.n;
    count += n;
    if (page.length >= q.size) continue;
    if (skip >= n) {
      skip -= n;
      continue;
    }
    for (let i = skip; i < n && page.length < q.size; i++) page.push('doc' in s ? s.doc : { ...runBucket(s, q.desc ? n - 1 - i : i), ...(q.expand ? { records: [] } : {}) });
    skip = 0;
  }
  return { count, buckets: page };
}

/**
 * {@link getBuckets} answered as JSON text (`{"count":N,"buckets":[…]}`), the same value. A page
 * sorted by time without `expand` and below the score index floor (the common request: the
 * UI's swimlane, a client paging through the history) is spliced from the bucket documents'
 * text as the parts store it: no document is parsed or serialized, so a page of 10,000 costs
 * the parts' inflation and a join. Any other request is {@link getBuckets} serialized.
 * @throws 404 unknown job
 */
export async function getBucketsJson(jobId: string, q: BucketQuery): Promise<string> {
  if (q.sort !== 'timestamp' || q.expand || q.anomalyScore >= SCORE_INDEX_FLOOR) return JSON.stringify(await getBuckets(jobId, q));
  const index = await indexOfJob(jobId, requestedRange(q));
  const { count, page } = await pageByTime(bucketSegments(index, q, textForm), q.from, q.size, q.desc);
  return `{"count":${count},"buckets":[${page.join(',')}]}`;
}

/** GET records query (Elasticsearch `ml.get_records`). */
export interface RecordQuery {
  start?: number;
  end?: number;
  recordScore: number;
  excludeInterim: boolean;
  sort: string;
  desc: boolean;
  from: number;
  size: number;
}

/**
 * One kind of per-bucket result document a part stores beside its buckets (records in `zr`,
 * influencers in `zi`), as the results requests read it: which score index entries, summary
 * counts and part body hold it, and its documents' score field.
 */
interface DocKind<D extends { timestamp: number }> {
  /** The score index's kind and the documents' score field (`record_score`, `influencer_score`). */
  index: 'record' | 'influencer';
  scoreField: string;
  /** The part's count and highest score of this kind, from its summary. */
  count(p: PartRef): number;
  maxScore(p: PartRef): number;
  /** A reader of the parts' bodies of this kind (batched per request: see {@link partReader}). */
  reader(): (p: PartRef) => Promise<BucketPart>;
  /** The documents of a part read by that reader, per bucket. */
  ofPart(part: BucketPart): D[][];
  /** The documents of an interim bucket. */
  ofInterim(e: BucketEntry): readonly D[];
  /** Interim documents as score-index hits, ordered as the index orders its entries. */
  interimHits(entries: readonly BucketEntry[]): { doc: Doc; order: string }[];
}

const RECORDS: DocKind<RecordResult> = {
  index: 'record',
  scoreField: 'record_score',
  count: (p) => p.records,
  maxScore: (p) => p.maxRecordScore,
  reader: () => partReader(true),
  ofPart: (part) => part.records ?? [],
  ofInterim: (e) => e.records,
  interimHits: interimRecordHits,
};

const INFLUENCERS: DocKind<InfluencerResult> = {
  index: 'influencer',
  scoreField: 'influencer_score',
  count: (p) => p.influencers,
  maxScore: (p) => p.maxInfluencerScore,
  reader: () => partReader(false, true),
  ofPart: (part) => part.influencers ?? [],
  ofInterim: (e) => e.influencers ?? [],
  interimHits: (entries) =>
    entries.flatMap((e) => (e.influencers ?? []).map((i, n) => ({ doc: i as unknown as Doc, order: `${String(i.timestamp).padStart(15, '0')}#${String(n).padStart(4, '0')}` }))),
};

/** A query of one kind of per-bucket documents: records or influencers (times epoch ms). */
interface DocQuery {
  start?: number;
  end?: number;
  /** Only documents whose score field is ≥ this. */
  minScore: number;
  excludeInterim: boolean;
  sort: string;
  desc: boolean;
  from: number;
  size: number;
}

/** The segments (parts, interim buckets) of one kind of document of a range for a score threshold below the score index floor. */
function docSegments<D extends { timestamp: number }>(index: ResultsIndex, kind: DocKind<D>, q: DocQuery): (Segment<Doc> & { loaded(): Promise<Doc[]> })[] {
  const { range } = index;
  const inside = within(range);
  const keep = (d: D) => inside(d.timestamp) && ((d as unknown as Doc)[kind.scoreField] as number) >= q.minScore;
  const desc = (xs: Doc[]) => newestBucketFirst(xs as { timestamp: number }[]) as Doc[];
  const out: (Segment<Doc> & { loaded(): Promise<Doc[]> })[] = [];
  const read = kind.reader();
  for (const p of index.parts) {
    if (kind.count(p) === 0 || kind.maxScore(p) < q.minScore) continue;
    const known = q.minScore <= 0 && wholly(p, range) ? kind.count(p) : undefined;
    out.push(
      loadedSegment(
        p.t,
        known,
        async () => {
          const part = await read(p);
          return kind.ofPart(part).flatMap((xs) => xs.filter(keep)) as unknown as Doc[];
        },
        desc,
      ),
    );
  }
  for (const b of index.interims) {
    if (q.excludeInterim) continue;
    const docs = kind.ofInterim(b).filter(keep) as unknown as Doc[];
    if (docs.length > 0) out.push(loadedSegment(b.timestamp, docs.length, async () => docs, desc));
  }
  return out;
}

/**
 * A page of one kind of per-bucket documents (records, influencers) and their count. With a
 * minimum score ≥ the score index floor the score index alone is read; by time, the summaries
 * and the parts the page overlaps (only their bodies of this kind); sorted by the score field
 * descending (the default) with a lower threshold, the score index when the page lies in it
 * (plus the parts cut by the range's edges, to count), else every part of the range holding
 * documents of this kind.
 * @throws 404 unknown job
 */
async function getDocs<D extends { timestamp: number }>(jobId: string, kind: DocKind<D>, q: DocQuery): Promise<{ count: number; docs: unknown[] }> {
  const index = await indexOfJob(jobId, { startMs: q.start, endMs: q.end });
  const inside = within(index.range);
  const fromIndex = async (minScore: number) => {
    const hits: { doc: Doc; order: string }[] = await readScoreIndex<Doc>(jobId, kind.index, minScore, index.range);
    if (!q.excludeInterim) hits.push(...kind.interimHits(index.interims).filter((h) => inside(h.doc.timestamp as number) && (h.doc[kind.scoreField] as number) >= minScore));
    return orderHits(hits, q.sort, q.desc);
  };
  if (q.minScore >= SCORE_INDEX_FLOOR) {
    const all = await fromIndex(q.minScore);
    return { count: all.length, docs: all.slice(q.from, q.from + q.size) };
  }
  const segments = docSegments(index, kind, q);
  if (q.sort === 'timestamp') {
    const { count, page } = await pageByTime(segments, q.from, q.size, q.desc);
    return { count, docs: page };
  }
  if (q.sort === kind.scoreField && q.desc && q.minScore <= 0) {
    // The highest scores are all in the index: when it holds the whole page, the page is its
    // top, and the count comes from the summaries.
    const [top, counts] = await Promise.all([fromIndex(SCORE_INDEX_FLOOR), Promise.all(segments.map(async (s) => s.count ?? (await s.loaded()).length))]);
    if (top.length >= q.from + q.size) return { count: counts.reduce((a, b) => a + b, 0), docs: top.slice(q.from, q.from + q.size) };
  }
  const docs = (await Promise.all([...segments].sort((a, b) => a.first - b.first).map((s) => s.loaded()))).flat();
  docs.sort(compareBy(q.sort, q.desc));
  return { count: docs.length, docs: docs.slice(q.from, q.from + q.size) };
}

/**
 * GET _ml/anomaly_detectors/<id>/results/records: `{count, records}`, by default highest
 * `record_score` first, read as {@link getDocs} reads.
 * @throws 404 unknown job
 */
export async function getRecords(jobId: string, q: RecordQuery): Promise<{ count: number; records: unknown[] }> {
  const { count, docs } = await getDocs(jobId, RECORDS, { ...q, minScore: q.recordScore });
  return { count, records: docs };
}

/** GET influencers query (Elasticsearch `ml.get_influencers`, GetInfluencersAction.Request): times epoch ms. */
export interface InfluencerQuery {
  start?: number;
  end?: number;
  /** Only influencers with `influencer_score` ≥ this (Elasticsearch applies it when > 0). */
  influencerScore: number;
  excludeInterim: boolean;
  /** Sort field, default `influencer_score`. */
  sort: string;
  /** Default true. */
  desc: boolean;
  from: number;
  size: number;
}

/**
 * GET _ml/anomaly_detectors/<id>/results/influencers: `{count, influencers}`, by default highest
 * `influencer_score` first (Elasticsearch's GetInfluencersAction: `sort` any field, `desc` default
 * true, ties in time order, page `from` 0 `size` 100, `start` inclusive, `end` exclusive,
 * `influencer_score` a minimum, `exclude_interim`), read as {@link getDocs} reads.
 * @throws 404 unknown job
 */
export async function getInfluencers(jobId: string, q: InfluencerQuery): Promise<{ count: number; influencers: unknown[] }> {
  const { count, docs } = await getDocs(jobId, INFLUENCERS, { ...q, minScore: q.influencerScore });
  return { count, influencers: docs };
}

/**
 * GET _ml/anomaly_detectors/<id>/results/model_plot (an mlplane extension: Elasticsearch
 * serves these documents only through a search of `.ml-anomalies-*` with
 * `result_type:model_plot`): `{count, model_plot}` in timestamp order, optionally only the
 * series whose by/partition value is in `terms` (comma list).
 */
export async function getModelPlot(
  jobId: string,
  q: { start?: number; end?: number; terms?: string; from: number; size: number },
): Promise<{ count: number; model_plot: unknown[] }> {
  if (!(await getJobConfig(jobId))) throw new ResourceNotFoundError(Messages.unknownJob(jobId));
  let docs = await queryModelPlot(jobId, { startMs: q.start, endMs: q.end });
  if (q.terms) {
    const terms = new Set(q.terms.split(',').map((t) => t.trim()));
    docs = docs.filter((d) => terms.has(d.by_field_value as string) || terms.has(d.partition_field_value as string));
  }
  return { count: docs.length, model_plot: docs.slice(q.from, q.from + q.size) };
}

/**
 * GET _ml/anomaly_detectors/<id>/_notifications (an mlplane extension standing in for a
 * search of `.ml-notifications-*`): the job's audit messages, newest first:
 * `{count, notifications:[{job_id, message, level, timestamp, node_name, job_type}]}`.
 */
export async function getNotifications(jobId: string, from: number, size: number): Promise<{ count: number; notifications: unknown[] }> {
  if (!(await getJobConfig(jobId))) throw new ResourceNotFoundError(Messages.unknownJob(jobId));
  const all = (await listAudit(jobId)).reverse();
  return { count: all.length, notifications: all.slice(from, from + size) };
}
