import type { JobRuntime } from '../domain/state.ts';
import { newJobRuntime } from '../domain/state.ts';
import { config } from '../runtime/config.ts';
import { Messages } from '../domain/errors.ts';
import { getClusterSettings } from '../store/cluster.ts';
import { getJobRuntimes } from '../store/jobs.ts';
import { resolveJobs } from './job-lookup.ts';

/**
 * GET _ml/anomaly_detectors[/<expr>]/_stats: `{count, jobs:[JobStats]}` sorted by id (spec A.5.3).
 * While upgrade mode is on, a job with a task keeps its state but has no node and the
 * explanation "persistent task cannot be assigned while upgrade mode is enabled." (spec C).
 */
export async function getJobStats(expression: string, allowNoMatch: boolean, nowMs = Date.now()): Promise<{ count: number; jobs: unknown[] }> {
  const jobs = await resolveJobs(expression, allowNoMatch);
  const [runtimes, settings] = await Promise.all([getJobRuntimes(jobs.map((j) => j.job_id)), getClusterSettings()]);
  const stats = jobs.map((j) => {
    const rt = runtimes.get(j.job_id) ?? newJobRuntime(j.job_id, nowMs);
    return jobStatsView(settings.upgrade_mode ? awaitingUpgrade(rt) : rt, nowMs);
  });
  return { count: stats.length, jobs: stats };
}

/** A job's runtime as its stats show it while upgrade mode is on: a task, unassigned (`MlTasks.AWAITING_UPGRADE`). */
function awaitingUpgrade(rt: JobRuntime): JobRuntime {
  if (rt.state === 'closed') return rt;
  const { node: _, ...rest } = rt;
  return { ...rest, assignment_explanation: Messages.awaitingUpgrade };
}

/** The `node` object of job stats for this deployment's (single, logical) ML node. */
export function nodeView(): Record<string, unknown> {
  const name = config().nodeName;
  return {
    id: name,
    name,
    ephemeral_id: name,
    transport_address: '127.0.0.1:9300',
    attributes: { 'ml.machine_memory': '25769803776', 'ml.max_jvm_size': '1073741824', 'ml.config_version': '12.0.0' },
    roles: ['ml'],
  };
}

/**
 * One JobStats entry (spec A.5.3): `node`, `open_time` and `assignment_explanation` only
 * while a task exists; timing min/max/avg only once there are buckets.
 */
export function jobStatsView(rt: JobRuntime, nowMs: number): Record<string, unknown> {
  const open = rt.state !== 'closed';
  const out: Record<string, unknown> = {
    job_id: rt.job_id,
    data_counts: rt.data_counts,
    model_size_stats: rt.model_size_stats,
    forecasts_stats: { total: 0, forecasted_jobs: 0 },
    state: rt.state,
    timing_stats: rt.timing_stats,
  };
  if (open && rt.node) out.node = nodeView();
  if (open) out.assignment_explanation = rt.assignment_explanation ?? '';
  if (open && rt.open_time_ms !== undefined) out.open_time = `${Math.max(0, Math.floor((nowMs - rt.open_time_ms) / 1000))}s`;
  if (rt.state === 'failed' && rt.reason) out.reason = rt.reason;
  return out;
}
