import { datafeedView } from '../domain/datafeed/view.ts';
import { jobConfigView } from '../domain/job/view.ts';
import { listDatafeeds } from '../store/datafeeds.ts';
import { resolveJobs } from './job-lookup.ts';

/**
 * GET _ml/anomaly_detectors[/<expr>]: `{count, jobs}` sorted by id. A job with a datafeed
 * shows it as `datafeed_config` (spec A.5.2), except with `exclude_generated`.
 */
export async function getJobs(expression: string, allowNoMatch: boolean, excludeGenerated: boolean): Promise<{ count: number; jobs: unknown[] }> {
  const jobs = await resolveJobs(expression, allowNoMatch);
  const datafeeds = excludeGenerated || jobs.length === 0 ? [] : await listDatafeeds();
  const byJob = new Map(datafeeds.map((d) => [d.config.job_id, d.config]));
  return {
    count: jobs.length,
    jobs: jobs.map((j) => {
      const d = byJob.get(j.job_id);
      return jobConfigView(j, { excludeGenerated, ...(d ? { datafeedConfig: datafeedView(d) } : {}) });
    }),
  };
}
