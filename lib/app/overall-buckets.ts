/**
 * GET _ml/anomaly_detectors/<job_id>/results/overall_buckets: the use case around the
 * algorithm of `lib/domain/overall-buckets.ts` (documented there). It expands the job
 * expression (ids, groups, wildcards, `_all`), reads each job's bucket timestamps and scores of
 * the range from the header lines of its parts (`zb` only: never a bucket document, record or
 * influencer), its interim buckets and its empty runs (one zero-score bucket per interval a run
 * touches, which is all the algorithm can see of it), and computes the overall buckets.
 */
import { parseTimeValue } from '../domain/units.ts';
import { type OverallBucket, type OverallBucketsParams, type OverallInputBucket, overallBuckets, overallBucketsPlan } from '../domain/overall-buckets.ts';
import { readBucketParts, readIndex, type TimeRange } from '../store/results.ts';
import { resolveJobs } from './job-lookup.ts';

/** One job's buckets in `range` at the resolution the algorithm needs (`histogramSpanMs`). */
async function jobBuckets(jobId: string, range: TimeRange, histogramSpanMs: number): Promise<OverallInputBucket[]> {
  const index = await readIndex(jobId, range);
  const { startMs, endMs } = index.range;
  const inside = (t: number) => (startMs === undefined || t >= startMs) && (endMs === undefined || t < endMs);
  const out: OverallInputBucket[] = [];
  const parts = await readBucketParts(index.parts, false, false);
  for (const part of parts) {
    part.t.forEach((t, i) => {
      if (inside(t)) out.push({ timestamp: t, anomaly_score: part.s[i] as number, is_interim: false });
    });
  }
  for (const b of index.interims) if (inside(b.timestamp)) out.push({ timestamp: b.timestamp, anomaly_score: b.anomaly_score, is_interim: true });
  for (const run of index.runs) {
    const span = run.bucket_span * 1000;
    const first = startMs === undefined || startMs <= run.timestamp ? run.timestamp : run.timestamp + Math.ceil((startMs - run.timestamp) / span) * span;
    const end = endMs === undefined ? run.end : Math.min(run.end, endMs);
    // Every bucket of a run scores 0: one per histogram interval it touches says all of it.
    for (let t = first; t < end; ) {
      out.push({ timestamp: t, anomaly_score: 0, is_interim: false });
      const next = (Math.floor(t / histogramSpanMs) + 1) * histogramSpanMs;
      t = first + Math.ceil((next - first) / span) * span;
    }
  }
  return out;
}

/**
 * Overall buckets of the jobs `expression` names (Elasticsearch GetOverallBucketsAction).
 * @returns `{count, overall_buckets}`; count 0 when no job matches and `allowNoMatch`
 * @throws 404 resource_not_found_exception for a missing job id (or, without `allowNoMatch`, a
 *   wildcard matching none); 400 status_exception for a `bucket_span` below the largest job
 *   span or more than 10,000 overall buckets
 */
export async function getOverallBuckets(expression: string, params: OverallBucketsParams, allowNoMatch: boolean): Promise<{ count: number; overall_buckets: OverallBucket[] }> {
  const jobs = await resolveJobs(expression, allowNoMatch);
  if (jobs.length === 0) return { count: 0, overall_buckets: [] };
  let max = { ms: 0, rep: '0s' };
  for (const j of jobs) {
    const tv = parseTimeValue(j.analysis_config.bucket_span, 'bucket_span');
    if (tv.ms > max.ms) max = { ms: tv.ms, rep: tv.rep };
  }
  const plan = overallBucketsPlan(max, jobs.length, params);
  const range: TimeRange = { startMs: plan.startMs, endMs: plan.endMs };
  const inputs = await Promise.all(jobs.map(async (j) => ({ jobId: j.job_id, buckets: await jobBuckets(j.job_id, range, plan.histogramSpanMs) })));
  const out = overallBuckets(inputs, plan, params);
  return { count: out.length, overall_buckets: out };
}
