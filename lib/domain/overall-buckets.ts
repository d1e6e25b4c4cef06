/**
 * Overall buckets (`GET _ml/anomaly_detectors/<ids>/results/overall_buckets`): one score per
 * time interval across several jobs, as Elasticsearch computes it (TransportGetOverallBucketsAction,
 * OverallBucketsProvider, OverallBucketsAggregator, OverallBucketsCollector). Pure: the use case
 * (`lib/app/overall-buckets.ts`) reads the jobs' buckets of {@link overallBucketsPlan}'s range
 * and hands them to {@link overallBuckets}.
 *
 * The algorithm:
 * 1. The histogram span is the largest `bucket_span` of the jobs; a requested `bucket_span`
 *    smaller than that is refused. With `top_n` 1 or a single job a requested span is the
 *    histogram span itself (the maximum of maxima needs no second pass).
 * 2. The jobs' buckets (interim ones unless `exclude_interim`) with a timestamp in
 *    [start rounded up to the span, end rounded down to it) fall into epoch-aligned intervals of
 *    the span. Per interval, each job that has a bucket there contributes the largest
 *    `anomaly_score` of its buckets; the interval's `overall_score` is the mean of the `top_n`
 *    largest of those (of all of them when fewer jobs have buckets there), and it is interim
 *    when any bucket in it is. Intervals scoring under `overall_score` are dropped.
 * 3. With a requested span larger than the histogram span (and `top_n` > 1 over several jobs),
 *    the intervals of step 2 are merged into intervals of the requested span (aligned down):
 *    the largest `overall_score`, per job the largest maximum, interim if any is. The
 *    `overall_score` filter was applied to the fine intervals, as in Elasticsearch.
 * 4. More than 10,000 overall buckets is a 400 asking for a narrower `start`/`end`.
 */
import { IllegalArgumentError, StatusError } from './errors.ts';

/** The most overall buckets one request returns (ChunkedBucketSearcher.MAX_RESULT_COUNT). */
export const MAX_OVERALL_BUCKETS = 10_000;

/** A job's bucket as the algorithm reads it (a bucket document, an empty run's bucket, an interim one). */
export interface OverallInputBucket {
  /** Bucket start, epoch ms. */
  timestamp: number;
  anomaly_score: number;
  is_interim: boolean;
}

/** A job and its buckets inside the plan's range (any order). */
export interface OverallJob {
  jobId: string;
  buckets: readonly OverallInputBucket[];
}

/** The request's parameters (Elasticsearch GetOverallBucketsAction.Request), times epoch ms. */
export interface OverallBucketsParams {
  /** > 0; default 1. */
  topN: number;
  /** Requested span, ms; undefined: the largest job span. */
  bucketSpanMs?: number;
  /** Minimum overall score; default 0. */
  overallScore: number;
  excludeInterim: boolean;
  start?: number;
  end?: number;
}

/** `overall_buckets` entry, Elasticsearch's OverallBucket document. */
export interface OverallBucket {
  /** Interval start, epoch ms. */
  timestamp: number;
  /** Seconds. */
  bucket_span: number;
  overall_score: number;
  /** By job id. */
  jobs: { job_id: string; max_anomaly_score: number }[];
  is_interim: boolean;
  result_type: 'overall_bucket';
}

/** What to read and how to group it. */
export interface OverallBucketsPlan {
  /** Span of the histogram of step 2, ms. */
  histogramSpanMs: number;
  /** Span of the merged intervals of step 3, ms; undefined when there is no merging. */
  aggregateSpanMs?: number;
  /** The bucket timestamps to read: [startMs, endMs), each bound absent when not requested. */
  startMs?: number;
  endMs?: number;
}

/**
 * `top_n` as GetOverallBucketsAction.Request.setTopN takes it.
 * @throws IllegalArgumentError 400 "[topN] parameter must be positive, found [<n>]"
 */
export function checkTopN(topN: number): number {
  if (topN <= 0) throw new IllegalArgumentError(`[topN] parameter must be positive, found [${topN}]`);
  return topN;
}

const alignFloor = (t: number, span: number): number => Math.floor(t / span) * span;
const alignCeil = (t: number, span: number): number => Math.ceil(t / span) * span;

/**
 * Step 1 and the range of step 2.
 * @param maxJobSpan the largest bucket_span of the jobs: ms and its string form (`"60m"`, as configured)
 * @throws StatusError 400 "Param [bucket_span] must be greater or equal to the max bucket_span [<max>]"
 */
export function overallBucketsPlan(maxJobSpan: { ms: number; rep: string }, jobCount: number, p: OverallBucketsParams): OverallBucketsPlan {
  if (p.bucketSpanMs !== undefined && p.bucketSpanMs < maxJobSpan.ms) {
    throw new StatusError(400, `Param [bucket_span] must be greater or equal to the max bucket_span [${maxJobSpan.rep}]`);
  }
  const direct = p.bucketSpanMs !== undefined && (p.topN === 1 || jobCount <= 1);
  const histogramSpanMs = direct ? (p.bucketSpanMs as number) : maxJobSpan.ms;
  const plan: OverallBucketsPlan = { histogramSpanMs };
  if (p.bucketSpanMs !== undefined && p.bucketSpanMs !== histogramSpanMs) plan.aggregateSpanMs = p.bucketSpanMs;
  if (p.start !== undefined) plan.startMs = alignCeil(p.start, histogramSpanMs);
  if (p.end !== undefined) plan.endMs = alignFloor(p.end, histogramSpanMs);
  return plan;
}

/** Mean of the `n` largest of `scores`. */
function meanOfTop(scores: number[], n: number): number {
  if (n <= 0) return 0;
  const top = [...scores].sort((a, b) => b - a).slice(0, n);
  return top.reduce((s, x) => s + x, 0) / top.length;
}

const byJobId = (a: { job_id: string; max_anomaly_score: number }, b: { job_id: string; max_anomaly_score: number }): number =>
  a.job_id < b.job_id ? -1 : a.job_id > b.job_id ? 1 : a.max_anomaly_score - b.max_anomaly_score;

/**
 * Steps 2 to 4 over the jobs' buckets.
 * @returns the overall buckets, oldest first
 * @throws StatusError 400 "Unable to return more than [10000] results; please use parameters [start] and [end] to limit the time range"
 */
export function overallBuckets(jobs: readonly OverallJob[], plan: OverallBucketsPlan, p: OverallBucketsParams): OverallBucket[] {
  const span = plan.histogramSpanMs;
  // interval start → job → its largest score there
  const intervals = new Map<number, Map<string, number>>();
  const interimAt = new Set<number>();
  for (const job of jobs) {
    for (const b of job.buckets) {
      if (p.excludeInterim && b.is_interim) continue;
      if ((plan.startMs !== undefined && b.timestamp < plan.startMs) || (plan.endMs !== undefined && b.timestamp >= plan.endMs)) continue;
      const at = alignFloor(b.timestamp, span);
      let perJob = intervals.get(at);
      if (perJob === undefined) {
        perJob = new Map();
        intervals.set(at, perJob);
      }
      const seen = perJob.get(job.jobId);
      if (seen === undefined || b.anomaly_score > seen) perJob.set(job.jobId, b.anomaly_score);
      if (b.is_interim) interimAt.add(at);
    }
  }
  const spanS = Math.floor(span / 1000);
  const fine: OverallBucket[] = [];
  for (const at of [...intervals.keys()].sort((a, b) => a - b)) {
    const perJob = intervals.get(at) as Map<string, number>;
    const scores = [...perJob.values()];
    const overall = meanOfTop(scores, Math.min(p.topN, scores.length));
    if (overall < p.overallScore) continue;
    fine.push({
      timestamp: at,
      bucket_span: spanS,
      overall_score: overall,
      jobs: [...perJob].map(([job_id, max_anomaly_score]) => ({ job_id, max_anomaly_score })).sort(byJobId),
      is_interim: interimAt.has(at),
      result_type: 'overall_bucket',
    });
  }
  const out = plan.aggregateSpanMs === undefined ? fine : merge(fine, plan.aggregateSpanMs);
  if (out.length > MAX_OVERALL_BUCKETS) {
    throw new StatusError(400, `Unable to return more than [${MAX_OVERALL_BUCKETS}] results; please use parameters [start] and [end] to limit the time range`);
  }
  return out;
}

/** Step 3 (OverallBucketsAggregator): consecutive overall buckets merged into intervals of `spanMs`, aligned down. */
function merge(fine: readonly OverallBucket[], spanMs: number): OverallBucket[] {
  const out: OverallBucket[] = [];
  let cur: OverallBucket | undefined;
  let maxByJob = new Map<string, number>();
  const flush = () => {
    if (cur === undefined) return;
    cur.jobs = [...maxByJob].map(([job_id, max_anomaly_score]) => ({ job_id, max_anomaly_score })).sort(byJobId);
    out.push(cur);
  };
  for (const b of fine) {
    const at = alignFloor(b.timestamp, spanMs);
    if (cur === undefined || at !== cur.timestamp) {
      flush();
      cur = { timestamp: at, bucket_span: Math.floor(spanMs / 1000), overall_score: 0, jobs: [], is_interim: false, result_type: 'overall_bucket' };
      maxByJob = new Map();
    }
    cur.overall_score = Math.max(cur.overall_score, b.overall_score);
    for (const j of b.jobs) maxByJob.set(j.job_id, Math.max(maxByJob.get(j.job_id) ?? 0, j.max_anomaly_score));
    cur.is_interim ||= b.is_interim;
  }
  flush();
  return out;
}
