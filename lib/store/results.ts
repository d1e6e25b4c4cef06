import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { BucketResult, EmptyRun, RecordResult } from '../detect/index.ts';
import { batchWrite, keysWithPrefix, queryAll } from './batch.ts';
import { db, tableName } from './db.ts';
import { keys, ts } from './keys.ts';

/** A bucket as stored and served (the model's `records` and `model_plot` are stored as their own items). */
export type BucketDoc = Omit<BucketResult, 'records' | 'model_plot'>;

/**
 * Sort key of an empty run: its first bucket's key plus `#run`. It sorts among the bucket
 * items by start time, so a bucket range query finds the runs starting in the range, the
 * item just before a range is the only run that can overlap its start (a run's buckets have
 * no items of their own), results retention (`sk < bucket#<cutoff>`) deletes old runs with
 * old buckets, and deleting a job's results partition deletes them.
 */
const RUN_SUFFIX = '#run';
const runKey = (jobId: string, startMs: number) => {
  const k = keys.bucket(jobId, startMs);
  return { pk: k.pk, sk: `${k.sk}${RUN_SUFFIX}` };
};

/**
 * Persists finalized bucket results and their records, and empty runs (one item each,
 * `{job_id, timestamp, end, bucket_span}`, whatever their length). Keys are deterministic
 * (bucket timestamp, detector, rank; a run's start), so writing the same results again
 * overwrites them: a redelivered command never duplicates a result.
 */
export async function writeResults(jobId: string, buckets: BucketResult[], runs: EmptyRun[] = []): Promise<void> {
  const puts: Record<string, unknown>[] = runs.map((r) => ({ ...runKey(jobId, r.timestamp), doc: JSON.stringify(r) }));
  for (const b of buckets) {
    const { records, model_plot: modelPlot, ...bucket } = b;
    puts.push({ ...keys.bucket(jobId, b.timestamp), doc: JSON.stringify(bucket) });
    (modelPlot ?? []).forEach((mp, n) => puts.push({ ...keys.modelPlot(jobId, mp.timestamp, mp.detector_index, n), doc: JSON.stringify(mp) }));
    const perDetector = new Map<number, number>();
    for (const r of records) {
      const n = perDetector.get(r.detector_index) ?? 0;
      perDetector.set(r.detector_index, n + 1);
      puts.push({ ...keys.record(jobId, r.timestamp, r.detector_index, n), doc: JSON.stringify(r) });
    }
  }
  await batchWrite(puts);
}

/** Time range in epoch ms, start inclusive, end exclusive (Elasticsearch's results range semantics). */
export interface TimeRange {
  startMs?: number;
  endMs?: number;
}

function rangeCondition(prefix: string, range: TimeRange) {
  const lo = `${prefix}${ts(range.startMs ?? 0)}`;
  const hi = `${prefix}${range.endMs === undefined ? '~' : ts(range.endMs)}`;
  return { expr: 'pk = :pk AND sk BETWEEN :lo AND :hi', lo, hi };
}

/**
 * Buckets stored one by one in a time range, in timestamp order, and the empty runs that
 * overlap the range (unclipped: a run may start before the range or end after it).
 */
export async function queryBuckets(jobId: string, range: TimeRange): Promise<{ buckets: BucketDoc[]; runs: EmptyRun[] }> {
  const c = rangeCondition(keys.bucketPrefix, range);
  const pk = keys.resultsPartition(jobId);
  const [items, before] = await Promise.all([
    queryAll<{ sk: string; doc: string }>({
      KeyConditionExpression: c.expr,
      ExpressionAttributeValues: { ':pk': pk, ':lo': c.lo, ':hi': c.hi },
      // A flush followed at once by a results read must see the flushed buckets.
      ConsistentRead: true,
    }),
    // The item just before the range: a run that started earlier and may reach into it.
    range.startMs === undefined || range.startMs <= 0
      ? Promise.resolve([])
      : db()
          .send(
            new QueryCommand({
              TableName: tableName(),
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :p AND :lo',
              ExpressionAttributeValues: { ':pk': pk, ':p': keys.bucketPrefix, ':lo': c.lo },
              ScanIndexForward: false,
              Limit: 2,
              ConsistentRead: true,
            }),
          )
          .then((out) => ((out.Items ?? []) as { sk: string; doc: string }[]).filter((i) => i.sk < c.lo).slice(0, 1)),
  ]);
  const buckets: BucketDoc[] = [];
  const runs: EmptyRun[] = [];
  for (const i of before) {
    if (!i.sk.endsWith(RUN_SUFFIX)) continue;
    const run = JSON.parse(i.doc) as EmptyRun;
    if (range.startMs === undefined || run.end > range.startMs) runs.push(run);
  }
  for (const i of items) {
    if (i.sk.endsWith(RUN_SUFFIX)) {
      const run = JSON.parse(i.doc) as EmptyRun;
      if (range.endMs === undefined || run.timestamp < range.endMs) runs.push(run);
      continue;
    }
    const b = JSON.parse(i.doc) as BucketDoc;
    // BETWEEN is inclusive at both ends: drop the bucket starting exactly at the end.
    if (range.endMs === undefined || b.timestamp < range.endMs) buckets.push(b);
  }
  return { buckets, runs };
}

/** Records in a time range, in timestamp order. */
export async function queryRecords(jobId: string, range: TimeRange): Promise<RecordResult[]> {
  const c = rangeCondition(keys.recordPrefix, range);
  const items = await queryAll<{ doc: string }>({
    KeyConditionExpression: c.expr,
    ExpressionAttributeValues: { ':pk': keys.resultsPartition(jobId), ':lo': c.lo, ':hi': c.hi },
    // A flush followed at once by a results read must see the flushed buckets.
    ConsistentRead: true,
  });
  return items.map((i) => JSON.parse(i.doc) as RecordResult).filter((r) => range.endMs === undefined || r.timestamp < range.endMs);
}

/** Model plot results in a time range, in timestamp order. */
export async function queryModelPlot(jobId: string, range: TimeRange): Promise<Record<string, unknown>[]> {
  const c = rangeCondition(keys.modelPlotPrefix, range);
  const items = await queryAll<{ doc: string }>({
    KeyConditionExpression: c.expr,
    ExpressionAttributeValues: { ':pk': keys.resultsPartition(jobId), ':lo': c.lo, ':hi': c.hi },
    // A flush followed at once by a results read must see the flushed buckets.
    ConsistentRead: true,
  });
  return items.map((i) => JSON.parse(i.doc) as Record<string, unknown>).filter((r) => range.endMs === undefined || (r.timestamp as number) < range.endMs);
}

/**
 * Deletes every result (bucket, records, model plot) at the given bucket timestamps: the
 * interim results of an earlier flush, which final results replace (Elasticsearch deletes
 * interim results whenever it persists new ones).
 */
export async function deleteResultsAt(jobId: string, timestamps: number[]): Promise<void> {
  const pk = keys.resultsPartition(jobId);
  const found = await Promise.all(timestamps.flatMap((t) => [keysWithPrefix(pk, `${keys.recordPrefix}${ts(t)}#`), keysWithPrefix(pk, `${keys.modelPlotPrefix}${ts(t)}#`)]));
  await batchWrite([], [...timestamps.map((t) => keys.bucket(jobId, t)), ...found.flat()]);
}

/** The stored document of the newest bucket item: a bucket, or an empty run (`end` set); times epoch ms, `bucket_span` in s. */
export interface NewestBucketItem {
  timestamp: number;
  end?: number;
  bucket_span: number;
}

/**
 * The newest bucket item of a job (one Query page of one item, newest first: never a walk
 * over the whole history), or undefined when the job has no results.
 */
export async function newestBucketItem(jobId: string): Promise<NewestBucketItem | undefined> {
  const last = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': keys.resultsPartition(jobId), ':p': keys.bucketPrefix },
      ScanIndexForward: false,
      Limit: 1,
    }),
  );
  const doc = last.Items?.[0]?.doc as string | undefined;
  return doc ? (JSON.parse(doc) as NewestBucketItem) : undefined;
}

/** The key of a stored item. */
export type ItemKey = { pk: string; sk: string };

/**
 * Keys of a job's results (buckets and empty runs, records, model plot) older than `cutoffMs`
 * (by their bucket timestamp; epoch ms), as results retention selects them. Buckets first, so a
 * deletion in batches removes the oldest buckets before their records.
 */
export async function expiredResultKeys(jobId: string, cutoffMs: number): Promise<ItemKey[]> {
  const pk = keys.resultsPartition(jobId);
  const [old, oldRecords, oldPlots] = await Promise.all([
    // Bucket items sort first in the partition (`bucket#` < `modelplot#` < `record#`); a bucket
    // starting at the cutoff and its run (`bucket#<cutoff>#run`) sort at or after the bound and stay.
    queryAll<ItemKey>({
      KeyConditionExpression: 'pk = :pk AND sk < :b',
      ExpressionAttributeValues: { ':pk': pk, ':b': `${keys.bucketPrefix}${ts(cutoffMs)}` },
      ProjectionExpression: 'pk, sk',
    }),
    // `record#<cutoff>#…` sorts after the bound `record#<cutoff>`: records of the cutoff bucket stay.
    queryAll<ItemKey>({
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':pk': pk, ':lo': keys.recordPrefix, ':hi': `${keys.recordPrefix}${ts(cutoffMs)}` },
      ProjectionExpression: 'pk, sk',
    }),
    queryAll<ItemKey>({
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':pk': pk, ':lo': keys.modelPlotPrefix, ':hi': `${keys.modelPlotPrefix}${ts(cutoffMs)}` },
      ProjectionExpression: 'pk, sk',
    }),
  ]);
  return [...old, ...oldRecords, ...oldPlots];
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
  const items = await expiredResultKeys(jobId, cutoffMs);
  await deleteResultItems(items);
  return items.length;
}
