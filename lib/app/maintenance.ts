import type { JobConfig } from '../domain/job/types.ts';
import { parseTimeValue } from '../domain/units.ts';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { batchWrite, queryAll } from '../store/batch.ts';
import { db, tableName } from '../store/db.ts';
import { getJobRuntimes, listJobConfigs } from '../store/jobs.ts';
import { keys, ts } from '../store/keys.ts';
import { deleteSnapshots, listSnapshots } from '../store/snapshots.ts';
import { audit } from './audit.ts';
import { effectiveConfig } from './analysis.ts';
import { expiredSnapshots } from './close.ts';
import { submitCommand } from './commands.ts';

const DAY_MS = 86_400_000;

/**
 * Nightly maintenance (Elasticsearch's `delete_expired_data` at 00:30): for every job,
 * deletes model snapshots beyond the retention settings and, when
 * `results_retention_days` is set, results older than that many days before the job's
 * latest bucket. Returns what it removed per job.
 */
export async function runMaintenance(): Promise<{ job_id: string; snapshots: number; results: number }[]> {
  const jobs = await listJobConfigs();
  const report = [];
  for (const job of jobs) {
    const expired = expiredSnapshots(job, await listSnapshots(job.job_id));
    await deleteSnapshots(job.job_id, expired);
    const results = await deleteExpiredResults(job);
    if (expired.length > 0 || results > 0) await audit(job.job_id, `Deleted [${expired.length}] expired model snapshots and [${results}] expired results`);
    report.push({ job_id: job.job_id, snapshots: expired.length, results });
  }
  return report;
}

/** The stored document of a bucket item: a bucket, or an empty run (`end` set; times in epoch ms, `bucket_span` in s). */
export interface BucketItemDoc {
  timestamp: number;
  end?: number;
  bucket_span: number;
}

/**
 * Start (epoch ms) of the newest bucket a bucket item stands for. An empty run's item is
 * keyed by its first bucket, so its newest bucket starts one bucket_span before its end;
 * results retention counts back from there, as Elasticsearch counts from the newest bucket.
 */
export function newestBucketStart(doc: BucketItemDoc): number {
  return doc.end !== undefined ? doc.end - doc.bucket_span * 1000 : doc.timestamp;
}

async function deleteExpiredResults(job: JobConfig): Promise<number> {
  if (job.results_retention_days === undefined || job.results_retention_days === null) return 0;
  const pk = keys.resultsPartition(job.job_id);
  // One item: the newest bucket (a single page, not queryAll, which would walk the whole history).
  const last = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': pk, ':p': keys.bucketPrefix },
      ScanIndexForward: false,
      Limit: 1,
    }),
  );
  const newestDoc = last.Items?.[0]?.doc as string | undefined;
  const newest = newestDoc ? newestBucketStart(JSON.parse(newestDoc) as BucketItemDoc) : undefined;
  if (newest === undefined) return 0;
  const cutoff = newest - job.results_retention_days * DAY_MS;
  const old = await queryAll<{ pk: string; sk: string }>({
    KeyConditionExpression: 'pk = :pk AND sk < :b',
    ExpressionAttributeValues: { ':pk': pk, ':b': `${keys.bucketPrefix}${ts(cutoff)}` },
    ProjectionExpression: 'pk, sk',
  });
  const oldRecords = await queryAll<{ pk: string; sk: string }>({
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
    ExpressionAttributeValues: { ':pk': pk, ':lo': keys.recordPrefix, ':hi': `${keys.recordPrefix}${ts(cutoff)}` },
    ProjectionExpression: 'pk, sk',
  });
  const oldPlots = await queryAll<{ pk: string; sk: string }>({
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
    ExpressionAttributeValues: { ':pk': pk, ':lo': keys.modelPlotPrefix, ':hi': `${keys.modelPlotPrefix}${ts(cutoff)}` },
    ProjectionExpression: 'pk, sk',
  });
  await batchWrite([], [...old, ...oldRecords, ...oldPlots]);
  return old.length + oldRecords.length + oldPlots.length;
}

/**
 * Background persistence: every open job whose `background_persist_interval` (default 3h
 * to 4h in Elasticsearch; here 3h) has passed since its last snapshot gets a `persist`
 * command in its FIFO group, so the snapshot is taken between two batches of data.
 */
export async function runBackgroundPersist(nowMs = Date.now()): Promise<string[]> {
  const jobs = await listJobConfigs();
  const runtimes = await getJobRuntimes(jobs.map((j) => j.job_id));
  const due: string[] = [];
  for (const job of jobs) {
    const rt = runtimes.get(job.job_id);
    if (!rt || rt.state !== 'opened' || !rt.model) continue;
    const effective = effectiveConfig(job, rt);
    const intervalMs = effective.background_persist_interval
      ? parseTimeValue(String(effective.background_persist_interval), 'background_persist_interval').ms
      : 3 * 3600_000;
    const snaps = await listSnapshots(job.job_id);
    const last = Math.max(rt.open_time_ms ?? 0, ...snaps.map((s) => s.timestamp));
    if (nowMs - last >= intervalMs) due.push(job.job_id);
  }
  if (due.length > 0) {
    await submitCommand({ action: 'persist', es_action: 'cluster:admin/xpack/ml/job/persist', description: 'background persist', targets: due });
  }
  return due;
}
