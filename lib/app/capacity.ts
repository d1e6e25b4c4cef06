import { transitionJob } from '../domain/lifecycle/job.ts';
import { StaleStateError } from '../domain/errors.ts';
import { config } from '../runtime/config.ts';
import { getJobRuntimes, listJobConfigs, putJobRuntime } from '../store/jobs.ts';
import { deleteLazyOpen, listLazyOpen } from '../store/lazy-open.ts';
import { getClusterSettings } from '../store/cluster.ts';
import { audit } from './audit.ts';
import { maxOpenJobs } from './cluster.ts';

/** Jobs holding capacity (assigned: opened, closing, or opening on a node) against `xpack.ml.max_open_jobs`. */
export async function openCapacity(): Promise<{ open: number; max: number; free: number }> {
  const [configs, settings] = await Promise.all([listJobConfigs(), getClusterSettings()]);
  const max = maxOpenJobs(settings);
  // Fewer jobs than slots: capacity cannot be short, so the runtimes need not be read.
  if (configs.length < max) return { open: 0, max, free: max - configs.length };
  const runtimes = [...(await getJobRuntimes(configs.map((c) => c.job_id))).values()];
  const open = runtimes.filter((r) => r.state === 'opened' || r.state === 'closing' || (r.state === 'opening' && r.node)).length;
  return { open, max, free: max - open };
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
  let free = waiting.length > 0 ? (await openCapacity()).free : 0;
  for (const m of waiting) {
    if (free <= 0) break;
    const rt = runtimes.get(m.jobId);
    if (!rt) continue;
    try {
      await putJobRuntime(transitionJob(rt, { type: 'promote', node: config().nodeName }));
      await audit(rt.job_id, `Opening job on node [${config().nodeName}]`);
      promoted.push(rt.job_id);
      stale.push(m);
      free--;
    } catch (err) {
      if (!(err instanceof StaleStateError)) throw err;
    }
  }
  await deleteLazyOpen(stale.map((m) => m.jobId));
  return promoted;
}
