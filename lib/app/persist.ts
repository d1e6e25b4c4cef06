import { parseTimeValue } from '../domain/units.ts';
import { getJobRuntimes, listJobConfigs } from '../store/jobs.ts';
import { listSnapshots } from '../store/snapshots.ts';
import { submitCommand } from './commands.ts';
import { loadJob, upgradeModeHalts } from './job-lookup.ts';
import { effectiveConfig } from './live-model.ts';
import { persistSnapshot } from './model-snapshots.ts';

/**
 * Background persistence: every open job whose `background_persist_interval` (default 3h
 * to 4h in Elasticsearch; here 3h) has passed since its last snapshot gets a `persist`
 * command in its FIFO group, so the snapshot is taken between two batches of data. While
 * upgrade mode halts job work nothing is submitted (`persist` is one of its blocked actions).
 */
export async function runBackgroundPersist(nowMs = Date.now()): Promise<string[]> {
  if (await upgradeModeHalts()) return [];
  const jobs = await listJobConfigs();
  const runtimes = await getJobRuntimes(jobs.map((j) => j.job_id));
  const due: string[] = [];
  for (const job of jobs) {
    const rt = runtimes.get(job.job_id);
    if (!rt || rt.state !== 'opened' || !rt.model) continue;
    const effective = effectiveConfig(job, rt);
    const intervalMs = effective.background_persist_interval ? parseTimeValue(String(effective.background_persist_interval), 'background_persist_interval').ms : 3 * 3600_000;
    const snaps = await listSnapshots(job.job_id);
    const last = Math.max(rt.open_time_ms ?? 0, ...snaps.map((s) => s.timestamp));
    if (nowMs - last >= intervalMs) due.push(job.job_id);
  }
  if (due.length > 0) {
    await submitCommand({ action: 'persist', es_action: 'cluster:admin/xpack/ml/job/persist', description: 'background persist', targets: due });
  }
  return due;
}

/** Background persist of an open job: a snapshot of its live model (no-op when it is no longer open). */
export async function applyPersist(jobId: string, commandId: string): Promise<{ persisted: boolean }> {
  const { job, version, rt } = await loadJob(jobId, false);
  // A job closed or failed since the schedule picked it has nothing to persist (a closed job got its snapshot at close).
  if (rt.state !== 'opened' || !rt.model) return { persisted: false };
  const snapshotId = `${Math.floor(Number(commandId) / 1_000_000)}`;
  await persistSnapshot(job, version, rt, snapshotId, 'State persisted due to background persist', Date.now());
  return { persisted: true };
}
