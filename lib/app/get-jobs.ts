import { jobConfigView } from '../domain/job/view.ts';
import { resolveJobs } from './job-lookup.ts';

/** GET _ml/anomaly_detectors[/<expr>]: `{count, jobs}` sorted by id. */
export async function getJobs(expression: string, allowNoMatch: boolean, excludeGenerated: boolean): Promise<{ count: number; jobs: unknown[] }> {
  const jobs = await resolveJobs(expression, allowNoMatch);
  return { count: jobs.length, jobs: jobs.map((j) => jobConfigView(j, { excludeGenerated })) };
}
