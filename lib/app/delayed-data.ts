/**
 * The delayed-data check of a real-time datafeed (Elasticsearch's `DatafeedDelayedDataDetector`
 * and `DatafeedJob.checkForMissingDataIfNecessary`): documents that reached the indices after
 * the datafeed searched their time are counted per bucket and audited.
 */
import type { StoredDatafeed } from '../store/datafeeds.ts';
import { DatafeedMessages, EsError } from '../domain/errors.ts';
import { DELAYED_DATA_CHECK_FREQ_MS, delayedDataWindowMs, intervalStartMs } from '../domain/datafeed/realtime.ts';
import { parseTimeValue } from '../domain/units.ts';
import { queryBuckets } from '../store/results.ts';
import { audit } from './audit.ts';
import { loadJob } from './job-lookup.ts';
import { analysisSpec } from './live-model.ts';
import { search } from './search.ts';

/** One finalized bucket whose indexed document count exceeds the events the job processed in it. */
export interface BucketWithMissingData {
  /** Bucket start, epoch ms. */
  timestamp: number;
  missing: number;
}

/**
 * The finalized buckets (of `bucketSpanMs`) in `[floor(latestFinalized - window), floor(latestFinalized))` (bucket
 * aligned) whose documents in the datafeed's indices (its query, the job's time field) now
 * outnumber the bucket's `event_count`, in time order (`detectMissingData`). Buckets of an
 * empty run processed no events. Fewer documents than events (data deleted since) is not
 * missing data, as in Elasticsearch.
 */
export async function detectMissingData(
  d: StoredDatafeed,
  jobId: string,
  timeField: string,
  bucketSpanMs: number,
  windowMs: number,
  latestFinalizedMs: number,
): Promise<BucketWithMissingData[]> {
  const end = intervalStartMs(latestFinalizedMs, bucketSpanMs);
  const start = intervalStartMs(latestFinalizedMs - windowMs, bucketSpanMs);
  if (end <= start) return [];
  const body = {
    size: 0,
    query: { bool: { filter: [d.config.query, { range: { [timeField]: { gte: start, lt: end, format: 'epoch_millis' } } }] } },
    aggs: { date_buckets: { date_histogram: { field: timeField, fixed_interval: `${bucketSpanMs}ms` } } },
  };
  const ignoreUnavailable: Record<string, string> = d.config.indices_options.ignore_unavailable ? { ignore_unavailable: 'true' } : {};
  const out = (await search(d.config.indices.join(','), JSON.stringify(body), ignoreUnavailable)) as {
    aggregations?: { date_buckets?: { buckets: { key: number; doc_count: number }[] } };
  };
  const indexed = new Map((out.aggregations?.date_buckets?.buckets ?? []).map((b) => [b.key, b.doc_count]));
  const stored = await queryBuckets(jobId, { startMs: start, endMs: end });
  const events = new Map<number, number>();
  for (const run of stored.runs) {
    for (let t = Math.max(run.timestamp, start); t < Math.min(run.end, end); t += bucketSpanMs) events.set(t, 0);
  }
  for (const b of stored.buckets) if (!b.is_interim) events.set(b.timestamp, b.event_count);
  return [...events]
    .sort(([a], [b]) => a - b)
    .map(([timestamp, eventCount]) => ({ timestamp, missing: (indexed.get(timestamp) ?? 0) - eventCount }))
    .filter((b) => b.missing > 0);
}

/**
 * Runs the delayed-data check after a real-time search when it is enabled and due (more than
 * min(15m, check window) since the last one, `checkForMissingDataTriggered`), and audits a
 * finding as a warning: "Datafeed has missed <n> documents due to ingest latency, latest
 * bucket with missing data is [<iso>]. Consider increasing query_delay". A finding identical to
 * the last one (same message, same buckets) is not audited again. Elasticsearch also writes the
 * finding as an annotation; mlplane stores no annotations, so the audit is all there is.
 * A search error ends the check quietly (the datafeed's own search reports such errors).
 * @returns what to save on the datafeed: when the check ran and the finding it audited
 */
export async function checkDelayedData(
  d: StoredDatafeed,
  jobId: string,
  latestFinalizedMs: number | undefined,
  nowMs: number,
): Promise<{ lastDataCheckMs?: number; delayedDataFinding?: string }> {
  if (!d.config.delayed_data_check_config.enabled || latestFinalizedMs === undefined) return {};
  const { job } = await loadJob(jobId, true);
  const bucketSpanMs = analysisSpec(job).bucketSpanMs;
  const checkWindow = d.config.delayed_data_check_config.check_window;
  const windowMs = delayedDataWindowMs(checkWindow ? parseTimeValue(checkWindow, 'check_window').ms : undefined, bucketSpanMs);
  if (nowMs <= (d.runtime.last_data_check_ms ?? 0) + Math.min(DELAYED_DATA_CHECK_FREQ_MS, windowMs)) return {};
  let missing: BucketWithMissingData[];
  try {
    missing = await detectMissingData(d, jobId, job.data_description.time_field ?? 'time', bucketSpanMs, windowMs, latestFinalizedMs);
  } catch (err) {
    if (err instanceof EsError) return { lastDataCheckMs: nowMs };
    throw err;
  }
  const last = missing.at(-1);
  if (!last) return { lastDataCheckMs: nowMs };
  const total = missing.reduce((n, b) => n + b.missing, 0);
  const message = DatafeedMessages.missingData(total, new Date(last.timestamp).toISOString());
  const finding = JSON.stringify([message, missing[0]?.timestamp, last.timestamp + bucketSpanMs]);
  if (finding === d.runtime.delayed_data_finding) return { lastDataCheckMs: nowMs };
  await audit(jobId, message, 'warning', nowMs);
  return { lastDataCheckMs: nowMs, delayedDataFinding: finding };
}
