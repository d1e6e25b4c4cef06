/**
 * The results store: buckets, records, model plot and empty runs of a job, packed for the
 * access pattern (layout and reasoning in `keys.ts`, packing in `result-parts.ts`). Writers
 * (`writeResults`, `deleteResultsAt`) keep the signatures the worker calls; readers hand the
 * use cases the group summaries of a time range (`readIndex`) so that they count and page from
 * the summaries and read only the parts a page needs (`readParts`), or the score index
 * (`readScoreIndex`) when a request filters or sorts on a score.
 */
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { BucketResult, EmptyRun, InfluencerResult, ModelPlotResult, RecordResult } from '../detect/index.ts';
import { IllegalStateError, TransientError } from '../domain/errors.ts';
import { batchWrite, keysWithPrefix } from './batch.ts';
import { db, isConditionFailure, tableName } from './db.ts';
import { keys, monthKey, scoreHex, ts } from './keys.ts';
import {
  type BucketEntry,
  type BucketPart,
  bucketDocOf,
  decodeBucketPart,
  decodePart,
  EMPTY_PART,
  entriesOfPart,
  entryOf,
  groupOf,
  monthStart,
  type PartSummary,
  type PlotPartSummary,
  packBuckets,
  scoreItems,
} from './result-parts.ts';

export type { BucketEntry, BucketPart } from './result-parts.ts';

/** A bucket as stored and served (the model's `records`, `influencers` and `model_plot` are served on their own). */
export type BucketDoc = Omit<BucketResult, 'records' | 'influencers' | 'model_plot'>;

/**
 * Lowest score the score index holds. Requests filtering at or above it (the UI's 25, 50, 75
 * severities; `record_score=75`) read the index alone; a lower threshold reads the time range's
 * parts. Results below it are most of a job's results (a normal bucket scores 0 to a few), so
 * the index stays a small fraction of the writes.
 */
export const SCORE_INDEX_FLOOR = 10;

/** Items read by this module since the process started (a Query's scanned items, BatchGet's and GetItem's items): the benchmark's read counter. */
export const resultReads = { items: 0, requests: 0 };

/** Time range in epoch ms, start inclusive, end exclusive (Elasticsearch's results range semantics). */
export interface TimeRange {
  startMs?: number;
  endMs?: number;
}

/** A bucket part of a range: its item key, first timestamp, inclusive upper bound (`last`, ms) and its counts and highest scores (-1: none). */
export interface PartRef {
  pk: string;
  sk: string;
  t: number;
  last: number;
  buckets: number;
  records: number;
  maxBucketScore: number;
  maxRecordScore: number;
  /** Influencers of the part (0 for parts written before influencers existed) and their highest score (-1: none). */
  influencers: number;
  maxInfluencerScore: number;
}

/** A model plot part of a range (`last`: inclusive upper bound of its timestamps, ms). */
export interface PlotPartRef {
  pk: string;
  sk: string;
  t: number;
  last: number;
  docs: number;
}

/** What the summaries say about a time range, retention applied (`range`: the requested range clamped to what retention keeps). */
export interface ResultsIndex {
  range: TimeRange;
  parts: PartRef[];
  plots: PlotPartRef[];
  runs: EmptyRun[];
  /** Interim buckets (with their records) in the range, oldest first. */
  interims: BucketEntry[];
}

/** Every item a Query matches (all its pages), counted in {@link resultReads}. */
export async function queryResults(input: Omit<QueryCommandInput, 'TableName'>): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await db().send(new QueryCommand({ ...input, TableName: tableName(), ExclusiveStartKey }));
    resultReads.requests++;
    resultReads.items += out.ScannedCount ?? out.Items?.length ?? 0;
    items.push(...(out.Items ?? []));
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/** The items writing these results puts: parts and score index entries first (`parts`), then the summaries that point at them (`summaries`). */
export function resultItems(jobId: string, buckets: BucketResult[], runs: EmptyRun[] = []): { parts: Record<string, unknown>[]; summaries: Record<string, unknown>[] } {
  const finals = buckets.filter((b) => !b.is_interim);
  const packed = packBuckets(jobId, finals);
  const summaries: Record<string, unknown>[] = [...packed.summaries, ...runs.map((r) => ({ ...keys.resultRun(jobId, r.timestamp), doc: JSON.stringify(r) }))];
  for (const b of buckets) {
    if (!b.is_interim) continue;
    summaries.push({ ...keys.resultInterim(jobId, b.timestamp), doc: JSON.stringify(entryOf(b)) });
  }
  return { parts: [...packed.parts, ...scoreItems(jobId, finals, SCORE_INDEX_FLOOR)], summaries };
}

/**
 * Persists bucket results (final ones packed into parts, interim ones one item each) and empty
 * runs (one item each, `{job_id, timestamp, end, bucket_span}`, whatever their length). Parts
 * are written before the summaries that list them, so a reader never meets a summary whose
 * parts are missing. Keys depend only on the results given, so writing the same results again
 * (a redelivered command) overwrites them: never a duplicate.
 */
export async function writeResults(jobId: string, buckets: BucketResult[], runs: EmptyRun[] = []): Promise<void> {
  const { parts, summaries } = resultItems(jobId, buckets, runs);
  await batchWrite(parts);
  await batchWrite(summaries);
}

/** The retention floor of a job's results (epoch ms; 0 when nothing was ever deleted by retention). */
export async function retainedFrom(jobId: string): Promise<number> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.resultsRetention(jobId), ConsistentRead: true }));
  resultReads.requests++;
  if (out.Item) resultReads.items++;
  return (out.Item?.from as number | undefined) ?? 0;
}

/** The summary item just before `sk` (not the retention floor), if any. */
async function itemBefore(pk: string, sk: string): Promise<Record<string, unknown>[]> {
  const out = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':pk': pk, ':lo': ts(0), ':hi': sk },
      ScanIndexForward: false,
      Limit: 2,
      ConsistentRead: true,
    }),
  );
  resultReads.requests++;
  resultReads.items += out.ScannedCount ?? 0;
  return (out.Items ?? []).filter((i) => (i.sk as string) < sk).slice(0, 1);
}

/**
 * Refuses to answer for a job whose results were written by the one-item-per-result layout of
 * an older `DATA_DIR` (they are not read by this one): an empty answer would look like a job
 * without results. Checked only when the job's summary partition has nothing for the range.
 * @throws IllegalStateError (500 `illegal_state_exception`) naming the job and the way out
 */
async function refuseLegacyResults(jobId: string): Promise<void> {
  const out = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.legacyResultsPartition(jobId) },
      ProjectionExpression: 'pk, sk',
      Limit: 1,
    }),
  );
  resultReads.requests++;
  resultReads.items += out.ScannedCount ?? 0;
  if ((out.Items ?? []).length > 0) {
    throw new IllegalStateError(
      `results of job [${jobId}] were stored by an earlier results layout (one item per result) that this version does not read; delete the job and run it again to rebuild them`,
    );
  }
}

/**
 * The summaries of a time range: the parts that may hold results of the range, the empty runs
 * overlapping it (unclipped) and its interim buckets. Reads the job's summary items from the
 * start of the range's first UTC month (a group never spans months) to its end, and the one
 * item before that (only a run can reach into the range from further back: no other result
 * lies inside a run). Results before the retention floor are left out (the range is clamped).
 */
export async function readIndex(jobId: string, requested: TimeRange): Promise<ResultsIndex> {
  const pk = keys.resultsIndexPartition(jobId);
  // The summaries are read from the requested start in parallel with the retention floor (one
  // round trip, not two): retention deletes the groups wholly before its floor, so reading from
  // below the floor reads at most the few items that straddle it, which the range then drops.
  const from = (requested.startMs ?? 0) > 0 ? monthStart(requested.startMs as number) : 0;
  const hi = requested.endMs === undefined ? '~' : ts(requested.endMs);
  const [floor, items, before] = await Promise.all([
    retainedFrom(jobId),
    queryResults({ KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi', ExpressionAttributeValues: { ':pk': pk, ':lo': ts(from), ':hi': hi }, ConsistentRead: true }),
    from <= 0 ? Promise.resolve([]) : itemBefore(pk, ts(from)),
  ]);
  const startMs = Math.max(requested.startMs ?? 0, floor);
  const range: TimeRange = { startMs: startMs > 0 ? startMs : undefined, endMs: requested.endMs };
  if (items.length === 0 && before.length === 0) await refuseLegacyResults(jobId);
  const inRange = (t: number, last: number) => last >= startMs && (requested.endMs === undefined || t < requested.endMs);
  const out: ResultsIndex = { range, parts: [], plots: [], runs: [], interims: [] };
  for (const item of [...before, ...items]) {
    const sk = item.sk as string;
    if (sk.endsWith('#run')) {
      const run = JSON.parse(item.doc as string) as EmptyRun;
      if (inRange(run.timestamp, run.end - 1)) out.runs.push(run);
    } else if (sk.endsWith('#interim')) {
      const b = JSON.parse(item.doc as string) as BucketEntry;
      if (inRange(b.timestamp, b.timestamp)) out.interims.push(b);
    } else {
      const g = groupOf(item as { sk: string; last: number; span: number; parts: string; plots?: string });
      if (!inRange(g.first, g.last)) continue;
      g.parts.forEach(([t, buckets, records, maxBucketScore, maxRecordScore, influencers = 0, maxInfluencerScore = -1], n) => {
        const last = n + 1 < g.parts.length ? (g.parts[n + 1] as PartSummary)[0] - 1 : g.last;
        if (inRange(t, last)) out.parts.push({ ...keys.resultBucketPart(jobId, t), t, last, buckets, records, maxBucketScore, maxRecordScore, influencers, maxInfluencerScore });
      });
      g.plots.forEach(([t, docs], n) => {
        const last = n + 1 < g.plots.length ? (g.plots[n + 1] as PlotPartSummary)[0] - 1 : g.last;
        if (inRange(t, last)) out.plots.push({ ...keys.resultPlotPart(jobId, t), t, last, docs });
      });
    }
  }
  return out;
}

/**
 * The items of parts by key, in the order of `refs` (undefined for a part that is gone: deleted
 * by retention meanwhile). BatchGetItem of 100 keys at a time, unprocessed keys retried;
 * `projection` names the attributes to read (all when undefined).
 */
export async function readItems(refs: readonly { pk: string; sk: string }[], projection?: readonly string[]): Promise<(Record<string, unknown> | undefined)[]> {
  const byKey = new Map<string, Record<string, unknown>>();
  const table = tableName();
  const names = projection ? Object.fromEntries(projection.map((a, i) => [`#a${i}`, a])) : undefined;
  const calls: Promise<void>[] = [];
  for (let i = 0; i < refs.length; i += 100) {
    let pending: { pk: string; sk: string }[] = refs.slice(i, i + 100).map(({ pk, sk }) => ({ pk, sk }));
    calls.push(
      (async () => {
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt >= 8) throw new TransientError(`BatchGetItem left ${pending.length} result parts unprocessed`);
          if (attempt > 0) await new Promise((r) => setTimeout(r, 2 ** attempt * 10));
          const request = names
            ? { Keys: pending, ConsistentRead: true, ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names }
            : { Keys: pending, ConsistentRead: true };
          const out = await db().send(new BatchGetCommand({ RequestItems: { [table]: request } }));
          resultReads.requests++;
          for (const item of out.Responses?.[table] ?? []) {
            resultReads.items++;
            byKey.set(`${item.pk}\u0000${item.sk}`, item);
          }
          pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as typeof pending;
        }
      })(),
    );
  }
  await Promise.all(calls);
  return refs.map((r) => byKey.get(`${r.pk}\u0000${r.sk}`));
}

/**
 * Bucket parts by key, in the order of `refs` (a part that is gone reads as empty). Besides the
 * bucket documents' body (`zb`, or the whole `z` of a part of the first packed format) only the
 * bodies asked for are fetched and inflated: records (`zr`) with `withRecords`, influencers
 * (`zi`) with `withInfluencers`; a page of buckets reads neither.
 */
export async function readBucketParts(refs: readonly { pk: string; sk: string }[], withRecords: boolean, withInfluencers = withRecords): Promise<BucketPart[]> {
  const projection = ['pk', 'sk', 'f', 'zb', 'z', ...(withRecords ? ['zr'] : []), ...(withInfluencers ? ['zi'] : [])];
  const items = await readItems(refs, withRecords && withInfluencers ? undefined : projection);
  return items.map((item) => (item ? decodeBucketPart(item, withRecords, withInfluencers) : EMPTY_PART));
}

/** Bucket entries (documents with their records) of parts, in the order of `refs`. */
export async function readBucketEntries(refs: readonly { pk: string; sk: string }[]): Promise<BucketEntry[][]> {
  return (await readBucketParts(refs, true)).map(entriesOfPart);
}

/** A score index hit: the document and its place in the time order (`<timestamp>` or `<timestamp>#<detector>#<rank>`, string order). */
export interface ScoreHit<T> {
  doc: T;
  order: string;
}

/** The score index's sort key prefix of each result kind (`keys.ts`). */
const SCORE_PREFIX = { bucket: 'b#', record: 'r#', influencer: 'i#' } as const;

/**
 * Final buckets, records or influencers (`kind`) with a score ≥ `minScore` (≥
 * {@link SCORE_INDEX_FLOOR}) in a time range, from the score index: reads only the entries at or
 * above the threshold (the range is a filter on them). Highest score first; each hit with its
 * place in time order.
 */
export async function readScoreIndex<T>(jobId: string, kind: 'bucket' | 'record' | 'influencer', minScore: number, range: TimeRange): Promise<ScoreHit<T>[]> {
  const p = SCORE_PREFIX[kind];
  const filters: string[] = [];
  const values: Record<string, unknown> = { ':pk': keys.resultScorePartition(jobId), ':lo': `${p}${scoreHex(minScore)}`, ':hi': `${p}~` };
  if (range.startMs !== undefined) {
    filters.push('t >= :start');
    values[':start'] = range.startMs;
  }
  if (range.endMs !== undefined) {
    filters.push('t < :end');
    values[':end'] = range.endMs;
  }
  const items = await queryResults({
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
    ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
    ExpressionAttributeValues: values,
    ScanIndexForward: false,
    ConsistentRead: true,
  });
  // `<kind>#<score, 16 hex>#<order>`
  return items.map((i) => ({ doc: JSON.parse(i.doc as string) as T, order: (i.sk as string).slice(p.length + 17) }));
}

/** Bucket entries (with records) of a range, oldest first: every part of the range read, interims merged in. */
async function entriesIn(jobId: string, requested: TimeRange): Promise<{ entries: BucketEntry[]; index: ResultsIndex }> {
  const index = await readIndex(jobId, requested);
  const { startMs, endMs } = index.range;
  const inside = (t: number) => (startMs === undefined || t >= startMs) && (endMs === undefined || t < endMs);
  const entries = (await readBucketEntries(index.parts)).flat().filter((e) => inside(e.timestamp));
  if (index.interims.length > 0) {
    entries.push(...index.interims);
    entries.sort((a, b) => a.timestamp - b.timestamp);
  }
  return { entries, index };
}

/**
 * Buckets in a time range, in timestamp order (interim ones included), and the empty runs that
 * overlap the range (unclipped: a run may start before the range or end after it). Reads every
 * part of the range: for whole-range consumers (`.ml-anomalies-*` search, delayed data); the
 * results APIs page with `readIndex` and `readParts` instead.
 */
export async function queryBuckets(jobId: string, range: TimeRange): Promise<{ buckets: BucketDoc[]; runs: EmptyRun[] }> {
  const { entries, index } = await entriesIn(jobId, range);
  return { buckets: entries.map(bucketDocOf), runs: index.runs };
}

/** Records in a time range, in timestamp order (then detector, then the model's order). */
export async function queryRecords(jobId: string, range: TimeRange): Promise<RecordResult[]> {
  const { entries } = await entriesIn(jobId, range);
  return entries.flatMap((e) => e.records);
}

/** Influencers in a time range, in timestamp order (then in stored order within a bucket). */
export async function queryInfluencers(jobId: string, range: TimeRange): Promise<InfluencerResult[]> {
  const { entries } = await entriesIn(jobId, range);
  return entries.flatMap((e) => e.influencers ?? []);
}

/** Model plot results in a time range, in timestamp order. */
export async function queryModelPlot(jobId: string, range: TimeRange): Promise<Record<string, unknown>[]> {
  const index = await readIndex(jobId, range);
  const { startMs, endMs } = index.range;
  const docs = (await readItems(index.plots)).flatMap((item) => (item ? decodePart<ModelPlotResult>(item.z as Uint8Array) : []));
  return docs.filter((d) => (startMs === undefined || d.timestamp >= startMs) && (endMs === undefined || d.timestamp < endMs)) as unknown as Record<string, unknown>[];
}

/**
 * Deletes the interim results (bucket and its records, one item each) at the given bucket
 * timestamps: those of an earlier flush, which final results replace (Elasticsearch deletes
 * interim results whenever it persists new ones). Final results are never interim items, so
 * a final bucket at the same timestamp is untouched.
 */
export async function deleteResultsAt(jobId: string, timestamps: number[]): Promise<void> {
  await batchWrite(
    [],
    timestamps.map((t) => keys.resultInterim(jobId, t)),
  );
}

/** The stored document of the newest bucket item: a bucket, or an empty run (`end` set); times epoch ms, `bucket_span` in s. */
export interface NewestBucketItem {
  timestamp: number;
  end?: number;
  bucket_span: number;
}

/**
 * The newest bucket item of a job (one Query page of one item, newest first: never a walk
 * over the whole history): a group's last bucket, an interim bucket or a run; undefined when
 * the job has no results.
 */
export async function newestBucketItem(jobId: string): Promise<NewestBucketItem | undefined> {
  const last = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':pk': keys.resultsIndexPartition(jobId), ':lo': ts(0), ':hi': '~' },
      ScanIndexForward: false,
      Limit: 1,
    }),
  );
  const item = last.Items?.[0];
  if (!item) return undefined;
  if (typeof item.doc === 'string') {
    const doc = JSON.parse(item.doc) as NewestBucketItem;
    return doc.end === undefined ? { timestamp: doc.timestamp, bucket_span: doc.bucket_span } : { timestamp: doc.timestamp, end: doc.end, bucket_span: doc.bucket_span };
  }
  return { timestamp: item.last as number, bucket_span: item.span as number };
}

/** The key of a stored item. */
export type ItemKey = { pk: string; sk: string };

/**
 * Hides a job's results older than `cutoffMs` (epoch ms) from every reader at once, by raising
 * the job's retention floor (never lowering it). Results retention does this first, then deletes
 * the items wholly before the cutoff: a part or run straddling the cutoff stays, its older
 * results hidden, until a later cutoff passes it whole.
 * @returns whether the floor rose (false when it was already at or above `cutoffMs`, or no result starts before it)
 */
export async function hideResultsBefore(jobId: string, cutoffMs: number): Promise<boolean> {
  // No result starts before the cutoff: nothing to hide.
  if ((await itemBefore(keys.resultsIndexPartition(jobId), ts(cutoffMs))).length === 0) return false;
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...keys.resultsRetention(jobId), from: cutoffMs },
        ConditionExpression: 'attribute_not_exists(#f) OR #f < :f',
        ExpressionAttributeNames: { '#f': 'from' },
        ExpressionAttributeValues: { ':f': cutoffMs },
      }),
    );
    return true;
  } catch (err) {
    // The floor is already at or above this cutoff: nothing to raise.
    if (!isConditionFailure(err)) throw err;
    return false;
  }
}

/**
 * Keys of a job's result items wholly older than `cutoffMs` (epoch ms), as results retention
 * selects them: parts and score index entries first, then the summaries listing them, so a
 * deletion in batches never leaves a summary whose parts are gone behind it unhidden (the
 * retention floor hides them anyway).
 */
export async function expiredResultKeys(jobId: string, cutoffMs: number): Promise<ItemKey[]> {
  const [summaries, scores] = await Promise.all([
    queryResults({
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':pk': keys.resultsIndexPartition(jobId), ':lo': ts(0), ':hi': ts(cutoffMs) },
    }),
    queryResults({
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: 't < :c',
      ExpressionAttributeValues: { ':pk': keys.resultScorePartition(jobId), ':c': cutoffMs },
      ProjectionExpression: 'pk, sk',
    }),
  ]);
  const parts: ItemKey[] = [];
  const gone: ItemKey[] = [];
  for (const item of summaries) {
    const sk = item.sk as string;
    const key = { pk: item.pk as string, sk };
    if (sk.endsWith('#run')) {
      if ((JSON.parse(item.doc as string) as EmptyRun).end <= cutoffMs) gone.push(key);
    } else if (sk.endsWith('#interim')) {
      if (Number(sk.slice(0, 15)) < cutoffMs) gone.push(key);
    } else if (sk < ts(cutoffMs)) {
      const g = groupOf(item as { sk: string; last: number; span: number; parts: string; plots?: string });
      if (g.last >= cutoffMs) continue;
      for (const [t] of g.parts) parts.push(keys.resultBucketPart(jobId, t));
      for (const [t] of g.plots) parts.push(keys.resultPlotPart(jobId, t));
      gone.push(key);
    }
  }
  return [...parts, ...(scores as ItemKey[]).map(({ pk, sk }) => ({ pk, sk })), ...gone];
}

/** Deletes result items by key (idempotent: a key already gone is no error). */
export async function deleteResultItems(items: ItemKey[]): Promise<void> {
  await batchWrite([], items);
}

/**
 * Deletes a job's results (buckets and empty runs, records, model plot) older than
 * `cutoffMs` (by their bucket timestamp; epoch ms), as results retention does.
 * @returns the number of items deleted
 */
export async function deleteResultsBefore(jobId: string, cutoffMs: number): Promise<number> {
  await hideResultsBefore(jobId, cutoffMs);
  const items = await expiredResultKeys(jobId, cutoffMs);
  await deleteResultItems(items);
  return items.length;
}

/**
 * Keys of every result item of a job (summaries, parts of every month, score index, and the
 * partition of the layout before issue 12), for deleting the job.
 */
export async function resultItemKeys(jobId: string): Promise<ItemKey[]> {
  const [summaries, scores, legacy] = await Promise.all([
    queryResults({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.resultsIndexPartition(jobId) }, ConsistentRead: true }),
    keysWithPrefix(keys.resultScorePartition(jobId), ''),
    keysWithPrefix(keys.legacyResultsPartition(jobId), ''),
  ]);
  const months = new Set<string>();
  for (const item of summaries) {
    const sk = item.sk as string;
    if (/^\d{15}$/.test(sk)) months.add(monthKey(Number(sk)));
  }
  // Every part lives in the month of a group's first bucket; read the month partitions' keys
  // rather than trust the summaries alone, so parts whose summary a crash never wrote go too.
  const parts = await Promise.all([...months].map((m) => keysWithPrefix(keys.resultsPeriodPartition(jobId, m), '')));
  return [...parts.flat(), ...scores, ...legacy, ...summaries.map((i) => ({ pk: i.pk as string, sk: i.sk as string }))];
}
