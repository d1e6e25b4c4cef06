import { transitionJob } from '../domain/lifecycle/job.ts';
import { StaleStateError } from '../domain/errors.ts';
import { config } from '../runtime/config.ts';
import { getJobRuntimes, listJobConfigs, putJobRuntime } from '../store/jobs.ts';
import { deleteLazyOpen, listLazyOpen } from '../store/lazy-open.ts';
import { getClusterSettings } from '../store/cluster.ts';
import { audit } from './audit.ts';
import { maxOpenJobs } from './cluster.ts';
import { TOTAL_ML_MEMORY_MIB } from './ml-info.ts';
import { DEFAULT_MODEL_MEMORY_LIMIT_MIB } from '../domain/job/constants.ts';
import type { JobConfig } from '../domain/job/types.ts';
import { jobStateChanged } from './events-out.ts';
import { bytesToMiB, humanMiB, parseByteSize } from '../domain/units.ts';

/** Elasticsearch's `Job.PROCESS_MEMORY_OVERHEAD`: what a job's process needs beyond its `model_memory_limit`, MiB. */
export const JOB_PROCESS_OVERHEAD_MIB = 10;

/** ML capacity in use: jobs holding a slot against `xpack.ml.max_open_jobs`, and their memory against the node's ML memory. */
export interface OpenCapacity {
  /** Jobs assigned (opened, closing, or opening on a node). */
  open: number;
  /** `xpack.ml.max_open_jobs`. */
  max: number;
  /** Job slots left. */
  free: number;
  /** Memory the assigned jobs need (`model_memory_limit` + {@link JOB_PROCESS_OVERHEAD_MIB} each), MiB. */
  usedMiB: number;
  /** The node's ML memory (`total_ml_memory` of `_ml/info`), MiB. */
  totalMiB: number;
}

/** The memory a job needs on the node: its `model_memory_limit` plus the process overhead, MiB (Elasticsearch's estimated memory footprint). */
export function jobMemoryMiB(job: Pick<JobConfig, 'analysis_limits'>): number {
  const mml = job.analysis_limits?.model_memory_limit;
  const mib = mml === undefined ? DEFAULT_MODEL_MEMORY_LIMIT_MIB : bytesToMiB(parseByteSize(String(mml), 'model_memory_limit').bytes);
  return mib + JOB_PROCESS_OVERHEAD_MIB;
}

/**
 * ML capacity in use (Elasticsearch's `JobNodeSelector` rules on mlplane's one logical node):
 * assigned jobs (opened, closing, or opening on a node) against `xpack.ml.max_open_jobs`, and
 * their memory against the node's ML memory. When every job together fits both rules, the
 * runtimes need not be read.
 */
export async function openCapacity(): Promise<OpenCapacity> {
  const [configs, settings] = await Promise.all([listJobConfigs(), getClusterSettings()]);
  const max = maxOpenJobs(settings);
  const totalMiB = TOTAL_ML_MEMORY_MIB;
  const memory = new Map(configs.map((c) => [c.job_id, jobMemoryMiB(c)]));
  const allMiB = [...memory.values()].reduce((a, b) => a + b, 0);
  if (configs.length < max && allMiB <= totalMiB) return { open: 0, max, free: max - configs.length, usedMiB: allMiB, totalMiB };
  const runtimes = [...(await getJobRuntimes(configs.map((c) => c.job_id))).values()];
  const assigned = runtimes.filter((r) => r.state === 'opened' || r.state === 'closing' || (r.state === 'opening' && r.node));
  const usedMiB = assigned.reduce((a, r) => a + (memory.get(r.job_id) ?? 0), 0);
  return { open: assigned.length, max, free: max - assigned.length, usedMiB, totalMiB };
}

/**
 * Why a job cannot be assigned now (Elasticsearch's allocation explanation), or undefined when
 * it fits: no job slot left, or not enough ML memory left for its `model_memory_limit`.
 */
export function capacityExplanation(jobId: string, jobMiB: number, capacity: OpenCapacity): string | undefined {
  if (capacity.free <= 0) return `Not opening job [${jobId}] because not enough ML capacity: number of opened jobs [${capacity.open}], xpack.ml.max_open_jobs [${capacity.max}]`;
  if (capacity.usedMiB + jobMiB > capacity.totalMiB) {
    return (
      `Not opening job [${jobId}] on node [${config().nodeName}], because this node has insufficient available memory. ` +
      `Available memory for ML [${humanMiB(capacity.totalMiB)}], memory required by existing jobs [${humanMiB(capacity.usedMiB)}], ` +
      `estimated memory required for this job [${humanMiB(jobMiB)}]`
    );
  }
  return undefined;
}

/**
 * Assigns lazily opening jobs (state `opening`, no node) while capacity allows, oldest
 * first, as Elasticsearch reassigns an unassigned persistent task when a node frees up.
 * A lost race (another writer moved the job) just skips that job.
 */
export async function promoteLazyJobs(): Promise<string[]> {
  const markers = await listLazyOpen();
  if (markers.length === 0) return [];
  const runtimes = await getJobRuntimes(markers.map((m) => m.jobId));
  const stale = markers.filter((m) => {
    const r = runtimes.get(m.jobId);
    return !r || r.state !== 'opening' || r.node;
  });
  const waiting = markers.filter((m) => !stale.includes(m)).sort((a, b) => a.sinceMs - b.sinceMs);
  const promoted: string[] = [];
  const capacity = waiting.length > 0 ? await openCapacity() : undefined;
  const configs = waiting.length > 0 ? new Map((await listJobConfigs()).map((c) => [c.job_id, c])) : new Map<string, JobConfig>();
  for (const m of waiting) {
    if (!capacity || capacity.free <= 0) break;
    const rt = runtimes.get(m.jobId);
    const job = configs.get(m.jobId);
    if (!rt || !job) continue;
    // A job too big for the memory left keeps waiting; a smaller one behind it may fit.
    const needMiB = jobMemoryMiB(job);
    if (capacityExplanation(m.jobId, needMiB, capacity)) continue;
    try {
      const promotedRt = transitionJob(rt, { type: 'promote', node: config().nodeName });
      await putJobRuntime(promotedRt);
      await audit(rt.job_id, `Opening job on node [${config().nodeName}]`);
      await jobStateChanged(rt, promotedRt);
      promoted.push(rt.job_id);
      stale.push(m);
      capacity.free--;
      capacity.open++;
      capacity.usedMiB += needMiB;
    } catch (err) {
      if (!(err instanceof StaleStateError)) throw err;
    }
  }
  await deleteLazyOpen(stale.map((m) => m.jobId));
  return promoted;
}
