import type { JobConfig } from '../domain/job/types.ts';
import { listJobConfigs } from '../store/jobs.ts';
import { deleteResultsBefore, newestBucketItem } from '../store/results.ts';
import { deleteSnapshots, listSnapshots } from '../store/snapshots.ts';
import { audit } from './audit.ts';
import { expiredSnapshots } from './model-snapshots.ts';
import { upgradeModeHalts } from './job-lookup.ts';

const DAY_MS = 86_400_000;

/**
 * Nightly maintenance (Elasticsearch's `delete_expired_data` at 00:30): for every job,
 * deletes model snapshots beyond the retention settings and, when
 * `results_retention_days` is set, results older than that many days before the job's
 * latest bucket. Returns what it removed per job. While upgrade mode is on it does nothing
 * (`delete_expired_data` is one of its blocked actions): the next night catches up.
 */
export async function runMaintenance(): Promise<{ job_id: string; snapshots: number; results: number }[]> {
  if (await upgradeModeHalts()) return [];
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
  const newestDoc = await newestBucketItem(job.job_id);
  if (newestDoc === undefined) return 0;
  return deleteResultsBefore(job.job_id, newestBucketStart(newestDoc) - job.results_retention_days * DAY_MS);
}
