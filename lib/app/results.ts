import { emptyBucketResult, type EmptyRun } from '../detect/index.ts';
import { ResourceNotFoundError, Messages } from '../domain/errors.ts';
import { getJobConfig } from '../store/jobs.ts';
import { queryBuckets, queryModelPlot, queryRecords } from '../store/results.ts';
import { listAudit } from '../store/audit.ts';

/** GET buckets query (Elasticsearch `ml.get_buckets`): times epoch ms. */
export interface BucketQuery {
  timestamp?: number;
  start?: number;
  end?: number;
  anomalyScore: number;
  excludeInterim: boolean;
  expand: boolean;
  sort: string;
  desc: boolean;
  from: number;
  size: number;
}

function compare(key: string, desc: boolean) {
  return (a: Record<string, unknown>, b: Record<string, unknown>) => {
    const x = a[key] as number;
    const y = b[key] as number;
    const c = x < y ? -1 : x > y ? 1 : (a.timestamp as number) - (b.timestamp as number);
    return desc ? -c : c;
  };
}

type Doc = Record<string, unknown>;

/** A stored bucket, or the buckets of an empty run inside the query range (`n` of them from `first`). */
type Segment = { doc: Doc } | { run: EmptyRun; first: number; n: number; template: Doc };

/** The bucket document of bucket `i` of a run segment. */
function runBucket(s: { run: EmptyRun; first: number }, i: number): Doc {
  const { records: _records, ...doc } = emptyBucketResult(s.run.job_id, s.first + i * s.run.bucket_span * 1000, s.run.bucket_span);
  return doc as Doc;
}

/** The part of a run inside [startMs, endMs): its first bucket start and bucket count. */
function clip(run: EmptyRun, startMs: number | undefined, endMs: number | undefined): { first: number; n: number } {
  const span = run.bucket_span * 1000;
  const first = startMs === undefined || startMs <= run.timestamp ? run.timestamp : run.timestamp + Math.ceil((startMs - run.timestamp) / span) * span;
  const end = endMs === undefined || endMs >= run.end ? run.end : endMs;
  return { first, n: end > first ? Math.ceil((end - first) / span) : 0 };
}

/**
 * GET _ml/anomaly_detectors/<id>/results/buckets[/<timestamp>]: `{count, buckets}` where
 * `count` is the total matches and `buckets` one page; `expand` embeds the bucket's records.
 * Every final bucket is there, as in Elasticsearch, empty ones included: the buckets of an
 * empty run (a long gap, stored as one item) are built for the requested page only, so a
 * page over a gap of millions of buckets costs what any page costs.
 * @throws 404 unknown job; 404 "No known bucket with timestamp ..." is not raised (ES answers count 0)
 */
export async function getBuckets(jobId: string, q: BucketQuery): Promise<{ count: number; buckets: unknown[] }> {
  if (!(await getJobConfig(jobId))) throw new ResourceNotFoundError(Messages.unknownJob(jobId));
  const range = q.timestamp !== undefined ? { startMs: q.timestamp, endMs: q.timestamp + 1 } : { startMs: q.start, endMs: q.end };
  const stored = await queryBuckets(jobId, range);
  const keep = (b: Doc) => (b.anomaly_score as number) >= q.anomalyScore && !(q.excludeInterim && b.is_interim);
  const segments: Segment[] = stored.buckets.map((b) => ({ doc: b as unknown as Doc })).filter((s) => keep(s.doc));
  for (const run of stored.runs) {
    const { first, n } = clip(run, range.startMs, range.endMs);
    const template = runBucket({ run, first }, 0);
    if (n > 0 && keep(template)) segments.push({ run, first, n, template });
  }
  // A run's buckets share every field but the timestamp and no stored bucket lies inside a
  // run, so ordering segments by (sort key, first timestamp) orders every bucket.
  const byKey = compare(q.sort, q.desc);
  segments.sort((a, b) => byKey('doc' in a ? a.doc : a.template, 'doc' in b ? b.doc : b.template));
  let count = 0;
  const page: Doc[] = [];
  let skip = q.from;
  for (const s of segments) {
    const n = 'doc' in s ? 1 : s.n;
    count += n;
    if (page.length >= q.size) continue;
    if (skip >= n) {
      skip -= n;
      continue;
    }
    for (let i = skip; i < n && page.length < q.size; i++) page.push('doc' in s ? s.doc : runBucket(s, q.desc ? n - 1 - i : i));
    skip = 0;
  }
  if (q.expand && page.length > 0) {
    const records = await queryRecords(jobId, { startMs: Math.min(...page.map((b) => b.timestamp as number)), endMs: Math.max(...page.map((b) => b.timestamp as number)) + 1 });
    for (const b of page) b.records = records.filter((r) => r.timestamp === b.timestamp);
  }
  return { count, buckets: page };
}

/** GET records query (Elasticsearch `ml.get_records`). */
export interface RecordQuery {
  start?: number;
  end?: number;
  recordScore: number;
  excludeInterim: boolean;
  sort: string;
  desc: boolean;
  from: number;
  size: number;
}

/** GET _ml/anomaly_detectors/<id>/results/records: `{count, records}`, by default highest `record_score` first. */
export async function getRecords(jobId: string, q: RecordQuery): Promise<{ count: number; records: unknown[] }> {
  if (!(await getJobConfig(jobId))) throw new ResourceNotFoundError(Messages.unknownJob(jobId));
  let records = (await queryRecords(jobId, { startMs: q.start, endMs: q.end })) as unknown as Record<string, unknown>[];
  records = records.filter((r) => (r.record_score as number) >= q.recordScore && !(q.excludeInterim && r.is_interim));
  records.sort(compare(q.sort, q.desc));
  return { count: records.length, records: records.slice(q.from, q.from + q.size) };
}

/**
 * GET _ml/anomaly_detectors/<id>/results/model_plot (an mlplane extension: Elasticsearch
 * serves these documents only through a search of `.ml-anomalies-*` with
 * `result_type:model_plot`): `{count, model_plot}` in timestamp order, optionally only the
 * series whose by/partition value is in `terms` (comma list).
 */
export async function getModelPlot(
  jobId: string,
  q: { start?: number; end?: number; terms?: string; from: number; size: number },
): Promise<{ count: number; model_plot: unknown[] }> {
  if (!(await getJobConfig(jobId))) throw new ResourceNotFoundError(Messages.unknownJob(jobId));
  let docs = await queryModelPlot(jobId, { startMs: q.start, endMs: q.end });
  if (q.terms) {
    const terms = new Set(q.terms.split(',').map((t) => t.trim()));
    docs = docs.filter((d) => terms.has(d.by_field_value as string) || terms.has(d.partition_field_value as string));
  }
  return { count: docs.length, model_plot: docs.slice(q.from, q.from + q.size) };
}

/**
 * GET _ml/anomaly_detectors/<id>/_notifications (an mlplane extension standing in for a
 * search of `.ml-notifications-*`): the job's audit messages, newest first:
 * `{count, notifications:[{job_id, message, level, timestamp, node_name, job_type}]}`.
 */
export async function getNotifications(jobId: string, from: number, size: number): Promise<{ count: number; notifications: unknown[] }> {
  if (!(await getJobConfig(jobId))) throw new ResourceNotFoundError(Messages.unknownJob(jobId));
  const all = (await listAudit(jobId)).reverse();
  return { count: all.length, notifications: all.slice(from, from + size) };
}
