import type { JobConfig } from '../domain/job/types.ts';
import type { ModelSnapshot, JobRuntime } from '../domain/state.ts';
import { expiredSnapshotIds } from '../domain/retention.ts';
import { ES_VERSION } from '../domain/version.ts';
import { transitionJob } from '../domain/lifecycle/job.ts';
import { putJobRuntimeAndConfig } from '../store/jobs.ts';
import { readModelState } from '../store/model.ts';
import { listSnapshots, writeSnapshot } from '../store/snapshots.ts';
import { requireJob } from './job-lookup.ts';

/** Snapshot query of GET model_snapshots (spec A.5.9); times epoch ms. */
export interface SnapshotQuery {
  snapshotId?: string;
  start?: number;
  end?: number;
  sort: string;
  desc: boolean;
  from: number;
  size: number;
}

/** GET _ml/anomaly_detectors/<id>/model_snapshots[/<snapshot_id>]: `{count, model_snapshots}`, newest first by default. */
export async function getModelSnapshots(jobId: string, q: SnapshotQuery): Promise<{ count: number; model_snapshots: unknown[] }> {
  await requireJob(jobId);
  let snaps = await listSnapshots(jobId);
  if (q.snapshotId && q.snapshotId !== '_all' && q.snapshotId !== '*') snaps = snaps.filter((s) => s.snapshot_id === q.snapshotId);
  if (q.start !== undefined) snaps = snaps.filter((s) => s.timestamp >= (q.start as number));
  if (q.end !== undefined) snaps = snaps.filter((s) => s.timestamp < (q.end as number));
  const key = q.sort as keyof (typeof snaps)[number];
  snaps.sort((a, b) => {
    const x = a[key] as number | string;
    const y = b[key] as number | string;
    const c = x < y ? -1 : x > y ? 1 : a.snapshot_id.localeCompare(b.snapshot_id);
    return q.desc ? -c : c;
  });
  return { count: snaps.length, model_snapshots: snaps.slice(q.from, q.from + q.size) };
}

/**
 * Writes a model snapshot of the job's live model state and makes it the job's
 * `model_snapshot_id`; `next` (when given) is the runtime item to write in the same
 * transaction (close's step progress). Re-running with the same id rewrites the same items.
 */
export async function persistSnapshot(
  job: JobConfig,
  configVersion: number,
  rt: JobRuntime,
  snapshotId: string,
  description: string,
  nowMs: number,
  next?: JobRuntime,
): Promise<void> {
  if (!rt.model) return;
  const state = await readModelState(job.job_id, rt.model);
  const meta: ModelSnapshot = {
    job_id: job.job_id,
    snapshot_id: snapshotId,
    timestamp: nowMs,
    description,
    snapshot_doc_count: Math.max(1, rt.model.chunks),
    model_size_stats: rt.model_size_stats,
    retain: false,
    min_version: ES_VERSION.minimum_index_compatibility_version,
  };
  if (rt.data_counts.latest_record_timestamp !== undefined) meta.latest_record_time_stamp = rt.data_counts.latest_record_timestamp;
  if (rt.data_counts.latest_bucket_timestamp !== undefined) meta.latest_result_time_stamp = rt.data_counts.latest_bucket_timestamp;
  await writeSnapshot(meta, state);
  await putJobRuntimeAndConfig(next ?? transitionJob(rt, { type: 'progress', patch: {} }), { ...job, model_snapshot_id: snapshotId }, configVersion);
}

/**
 * Snapshots to delete under the retention settings: Elasticsearch's `ExpiredModelSnapshotsRemover`
 * rule ({@link expiredSnapshotIds}), shared by close's pruning step and the expired-data deletion.
 */
export function expiredSnapshots(job: JobConfig, snapshots: ModelSnapshot[]): string[] {
  return expiredSnapshotIds(job, snapshots);
}
