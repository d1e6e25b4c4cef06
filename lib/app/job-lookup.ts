import { Messages, ConflictError, ResourceNotFoundError, TooManyRequestsError } from '../domain/errors.ts';
import { expandIds, unknownJobError } from '../domain/ids.ts';
import type { JobConfig } from '../domain/job/types.ts';
import type { JobRuntime } from '../domain/state.ts';
import { getJobConfig, getJobRuntime, listJobConfigs } from '../store/jobs.ts';
import { getClusterSettings } from '../store/cluster.ts';

/**
 * Refuses an ML action while upgrade mode is on, as Elasticsearch does for every task action.
 * @throws TooManyRequestsError 429 "Cannot perform <action> action while upgrade mode is enabled"
 */
export async function refuseInUpgradeMode(action: string): Promise<void> {
  if ((await getClusterSettings()).upgrade_mode) throw new TooManyRequestsError(Messages.upgradeMode(action));
}

/**
 * True while upgrade mode halts job and datafeed work: on, and not being disabled (while it is
 * disabled the parked work is re-queued and must run). Long work (a close, a lookback) asks
 * between two of its steps and stops there ({@link WorkParked}).
 */
export async function upgradeModeHalts(): Promise<boolean> {
  const s = await getClusterSettings();
  return s.upgrade_mode && s.upgrade_mode_change?.to !== false;
}

/**
 * Expands an id expression over job ids and group names (spec A.0).
 * @throws 404 resource_not_found_exception "No known job with id '<tokens>'"
 */
export async function resolveJobs(expression: string, allowNoMatch: boolean): Promise<JobConfig[]> {
  const all = await listJobConfigs();
  const { ids, missing } = expandIds(
    expression,
    all.map((j) => ({ id: j.job_id, groups: j.groups ?? [] })),
    { allowNoMatch },
  );
  if (missing.length > 0) throw unknownJobError(missing);
  const byId = new Map(all.map((j) => [j.job_id, j]));
  return ids.map((id) => byId.get(id)).filter((j): j is JobConfig => j !== undefined);
}

/** A job's config (with its version) and runtime item. */
export interface LoadedJob {
  job: JobConfig;
  version: number;
  rt: JobRuntime;
}

/**
 * A job by exact id.
 * @throws ResourceNotFoundError 404 "No known job with id '<id>'"
 */
export async function requireJob(jobId: string): Promise<LoadedJob> {
  const stored = await getJobConfig(jobId);
  const rt = stored && (await getJobRuntime(jobId));
  if (!stored || !rt) throw new ResourceNotFoundError(Messages.unknownJob(jobId));
  return { job: stored.config, version: stored.version, rt };
}

/**
 * A job for a worker's command. A job gone by then is 409 "… is not open" for the commands
 * that need an open job (data, flush: Elasticsearch finds no task), otherwise 404.
 */
export async function loadJob(jobId: string, requireOpen: boolean): Promise<LoadedJob> {
  // Two independent reads: one round trip instead of two on every command's path.
  const [stored, rt] = await Promise.all([getJobConfig(jobId), getJobRuntime(jobId)]);
  if (!stored || !rt) throw requireOpen ? new ConflictError(Messages.jobNotOpen(jobId)) : new ResourceNotFoundError(Messages.unknownJob(jobId));
  return { job: stored.config, version: stored.version, rt };
}
