import type { BucketResult, RecordResult } from '../detect/index.ts';
import { batchWrite, keysWithPrefix, queryAll } from './batch.ts';
import { keys, ts } from './keys.ts';

/** A bucket as stored and served (the model's `records` and `model_plot` are stored as their own items). */
export type BucketDoc = Omit<BucketResult, 'records' | 'model_plot'>;

/**
 * Persists finalized bucket results and their records. Keys are deterministic (bucket
 * timestamp, detector, rank), so writing the same results again overwrites them: a
 * redelivered command never duplicates a result.
 */
export async function writeResults(jobId: string, buckets: BucketResult[]): Promise<void> {
  const puts: Record<string, unknown>[] = [];
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

/** Buckets in a time range, in timestamp order. */
export async function queryBuckets(jobId: string, range: TimeRange): Promise<BucketDoc[]> {
  const c = rangeCondition(keys.bucketPrefix, range);
  const items = (await queryAll<{ sk: string; doc: string }>({
    KeyConditionExpression: c.expr,
    ExpressionAttributeValues: { ':pk': keys.resultsPartition(jobId), ':lo': c.lo, ':hi': c.hi },
    // A flush followed at once by a results read must see the flushed buckets.
    ConsistentRead: true,
  })).map((i) => JSON.parse(i.doc) as BucketDoc);
  // BETWEEN is inclusive at both ends: drop the bucket starting exactly at the end.
  return items.filter((b) => range.endMs === undefined || b.timestamp < range.endMs);
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
  const found = await Promise.all(
    timestamps.flatMap((t) => [keysWithPrefix(pk, `${keys.recordPrefix}${ts(t)}#`), keysWithPrefix(pk, `${keys.modelPlotPrefix}${ts(t)}#`)]),
  );
  await batchWrite([], [...timestamps.map((t) => keys.bucket(jobId, t)), ...found.flat()]);
}
