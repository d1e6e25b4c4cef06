/**
 * The datafeed runner's lookback (spec A.3/B.2, Elasticsearch's `DatafeedJob.runLookBack`):
 * the worker side of `_start`. It runs as a `datafeed` command in the job's FIFO group, so
 * data, flush, update and close of the job stay ordered around it.
 */
import type { Command, CommandParams } from '../domain/command.ts';
import type { DatafeedConfig, DatafeedTimingStats } from '../domain/datafeed/types.ts';
import { DatafeedMessages, EsError, LookbackDeferred, StaleStateError } from '../domain/errors.ts';
import type { JobConfig } from '../domain/job/types.ts';
import { transitionDatafeed } from '../domain/lifecycle/datafeed.ts';
import { parseTimeValue } from '../domain/units.ts';
import { getDatafeed, putDatafeed, type StoredDatafeed } from '../store/datafeeds.ts';
import { getJobRuntime } from '../store/jobs.ts';
import { audit } from './audit.ts';
import { closeJob, type CloseOptions } from './close.ts';
import { promoteLazyJobs } from './capacity.ts';
import { loadJob } from './job-lookup.ts';
import { analysisSpec } from './live-model.ts';
import { processData } from './post-data.ts';
import { CHUNK_MAX_HITS, extractChunk } from './datafeed-extractor.ts';
import { histogramIntervalMs } from '../domain/datafeed/aggregations.ts';
import { stopJobDatafeed } from './stop-datafeed.ts';

/** Buckets in one lookback chunk when `chunking_config` is `auto` (a fixed window: simple, and a search never holds more than {@link CHUNK_MAX_HITS} hits). */
export const AUTO_CHUNK_BUCKETS = 1000;
/** Time a chunk may need at most; with less left in the invocation the lookback hands itself on. */
export const CHUNK_MARGIN_MS = 30_000;

/**
 * Elasticsearch's default `frequency` for a bucket span (`DefaultFrequency.ofBucketSpan`):
 * the span itself up to 2m, 1m up to 20m, 10m up to 12h, else 1h. In ms.
 */
export function defaultFrequencyMs(bucketSpanMs: number): number {
  if (bucketSpanMs <= 120_000) return bucketSpanMs;
  if (bucketSpanMs <= 1_200_000) return 60_000;
  if (bucketSpanMs <= 43_200_000) return 600_000;
  return 3_600_000;
}

/**
 * The time span of one lookback chunk in ms: `chunking_config.time_span` when manual, else
 * {@link AUTO_CHUNK_BUCKETS} buckets: histogram buckets for an aggregation datafeed (as
 * Elasticsearch's aggregated data summary chunks), else job buckets. An aggregation
 * datafeed's span is whole histogram intervals (rounded up).
 */
export function chunkSpanMs(config: DatafeedConfig, bucketSpanMs: number): number {
  const manual = config.chunking_config.mode === 'manual' && config.chunking_config.time_span ? parseTimeValue(config.chunking_config.time_span, 'time_span').ms : undefined;
  if (config.aggregations !== undefined) {
    // An aggregation chunk reads whole histogram buckets only, so a span is rounded up to whole intervals: a shorter one would never hold a bucket.
    const interval = histogramIntervalMs(config.aggregations);
    return Math.max(1, Math.ceil((manual ?? interval * AUTO_CHUNK_BUCKETS) / interval)) * interval;
  }
  if (manual !== undefined) return Math.max(1, manual);
  return bucketSpanMs * AUTO_CHUNK_BUCKETS;
}

/** The ISO form Elasticsearch's audit messages print instants in (`2017-01-01T00:00:00.000Z`). */
const iso = (ms: number): string => new Date(ms).toISOString();

/** The job as the datafeed posts to it: time format `epoch_ms`, as Elasticsearch's datafeeds post. */
const datafeedJobView = (job: JobConfig): JobConfig => ({ ...job, data_description: { ...job.data_description, time_format: 'epoch_ms' } });

/** Timing stats after one chunk's searches (`DatafeedTimingStatsReporter`: the average is over the searches so far). */
function addSearches(t: DatafeedTimingStats, searches: number, elapsedMs: number): DatafeedTimingStats {
  const count = t.search_count + searches;
  const total = t.total_search_time_ms + elapsedMs;
  return { ...t, search_count: count, total_search_time_ms: total, exponential_average_search_time_per_hour_ms: count > 0 ? total / count : 0 };
}

/**
 * The worker side of a started datafeed (`datafeed` command, params `{datafeed_id, run_id}`):
 *
 * 1. a message of another run (a datafeed stopped, or started again, since) does nothing, except
 *    to resume this run's close of the job if a crash interrupted it;
 * 2. `starting → started`, audit "Datafeed started (from: <start> to: <end>) with frequency [<ms>ms]";
 * 3. chunks from the saved `lookback_ms` (else `start`) to `end`: search, post the records to the
 *    job through `_data`'s own processing ({@link processData}, keyed by run and chunk end, so a
 *    redelivery after the job took the chunk but before the datafeed saved it posts nothing
 *    twice), then save the chunk's end and the timing stats on the datafeed;
 * 4. at `end`: audit "Datafeed lookback completed" and close the job (the checkpointed close,
 *    whose first step stops the datafeed: spec A.3 "a datafeed with an end closes its job").
 *
 * A stop request (`stopping`) takes effect at the next chunk boundary, or at once when the
 * message is the stop's own: a datafeed with an `end` closes its job, unless isolated (spec A.3
 * step 6). A run force-stopped meanwhile posts nothing more.
 *
 * A search error (an unknown index, a query the store does not support) is audited as
 * Elasticsearch audits extraction errors and ends the lookback the same way. With less than
 * {@link CHUNK_MARGIN_MS} left in the invocation it throws {@link LookbackDeferred}: the runner
 * hands the command on to a continuation message in the same FIFO group.
 */
export async function applyDatafeedLookback(
  cmd: Command,
  jobId: string,
  params: CommandParams<'datafeed'>,
  opts: CloseOptions = {},
): Promise<{ closed: true } | Record<string, never>> {
  const remainingMs = opts.remainingMs;
  let d = await currentRun(params);
  if (!d) {
    const rt = await getJobRuntime(jobId);
    if (rt?.state === 'closing' && rt.close?.command_id === cmd.command_id) return closeAndPromote(jobId, cmd.command_id, opts);
    return {};
  }
  if (d.runtime.state === 'stopping') return finishStop(d, jobId, cmd.command_id, opts);
  const { job } = await loadJob(jobId, true);
  const endMs = d.runtime.end_ms as number;
  const startMs = d.runtime.start_ms ?? 0;
  const spec = analysisSpec(job);
  if (d.runtime.state === 'starting') {
    const next = transitionDatafeed(d.runtime, { type: 'started' });
    try {
      await putDatafeed(d.config, next);
    } catch (err) {
      // Stopped before it ran: the next delivery (or the stop's own command) finds out how.
      if (err instanceof StaleStateError) return applyDatafeedLookback(cmd, jobId, params, opts);
      throw err;
    }
    d = { config: d.config, runtime: next };
    const frequencyMs = d.config.frequency ? parseTimeValue(d.config.frequency, 'frequency').ms : defaultFrequencyMs(spec.bucketSpanMs);
    await audit(jobId, DatafeedMessages.started(iso(startMs), iso(endMs), `${frequencyMs}ms`));
  }
  const span = chunkSpanMs(d.config, spec.bucketSpanMs);
  const view = datafeedJobView(job);
  let posted = false;
  for (;;) {
    const cursor = d.runtime.lookback_ms ?? startMs;
    if (cursor >= endMs) break;
    if (remainingMs && remainingMs() < CHUNK_MARGIN_MS) throw new LookbackDeferred(d.config.datafeed_id);
    const started = Date.now();
    let chunk: Awaited<ReturnType<typeof extractChunk>>;
    try {
      chunk = await extractChunk(d.config, job, cursor, Math.min(endMs, cursor + span));
    } catch (err) {
      if (!(err instanceof EsError)) throw err;
      await audit(jobId, DatafeedMessages.extractionError(err.message), 'error');
      break;
    }
    const searchMs = Date.now() - started;
    if (chunk.records > 0) {
      const { rt } = await loadJob(jobId, true);
      // A job closed or failed under the datafeed: the lookback ends (its close is a no-op then).
      if (rt.state !== 'opened' && rt.state !== 'opening') break;
      await processData(view, rt, `${params.run_id}:${chunk.toMs}`, chunk.ndjson);
      posted = true;
    }
    const saved = await saveProgress(params, chunk.toMs, chunk.searches, searchMs);
    // Force-stopped meanwhile (a force stop, a force close): this run is over and posts nothing more.
    if (!saved) return {};
    d = saved;
    // A stop asked for meanwhile takes effect at this chunk boundary (spec A.3: it waits for the chunk in flight).
    if (d.runtime.state === 'stopping') return finishStop(d, jobId, cmd.command_id, opts);
  }
  const rt = await getJobRuntime(jobId);
  if (!posted && (rt?.data_counts.processed_record_count ?? 0) === 0) await audit(jobId, 'Datafeed lookback retrieved no data', 'warning');
  else await audit(jobId, DatafeedMessages.lookbackCompleted);
  return closeAndPromote(jobId, cmd.command_id, opts);
}

/** The datafeed if it is still running the run `params` names (not stopped, not started again since), else undefined. */
async function currentRun(params: CommandParams<'datafeed'>): Promise<StoredDatafeed | undefined> {
  const d = await getDatafeed(params.datafeed_id);
  return d && d.runtime.run_id === params.run_id && d.runtime.state !== 'stopped' ? d : undefined;
}

/**
 * Saves a posted chunk's end and the search timing on the datafeed (the lifecycle's
 * `progress`), re-reading on a lost race with a stop request (`started → stopping` keeps the run).
 * @returns the datafeed as saved, or undefined when the run is over (force-stopped, deleted)
 */
async function saveProgress(params: CommandParams<'datafeed'>, lookbackMs: number, searches: number, searchMs: number): Promise<StoredDatafeed | undefined> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const d = await currentRun(params);
    if (!d) return undefined;
    const next = transitionDatafeed(d.runtime, { type: 'progress', lookbackMs, timingStats: addSearches(d.runtime.timing_stats, searches, searchMs) });
    try {
      await putDatafeed(d.config, next);
      return { config: d.config, runtime: next };
    } catch (err) {
      if (!(err instanceof StaleStateError)) throw err;
    }
  }
  throw new StaleStateError(`datafeed [${params.datafeed_id}] changed concurrently`);
}

/**
 * The end of a stopped run (spec A.3 step 6): a datafeed started with an `end` closes its job
 * (the close's first step stops the datafeed), unless isolated or the job is no longer
 * opened; otherwise the datafeed only stops.
 */
async function finishStop(d: StoredDatafeed, jobId: string, commandId: string, opts: CloseOptions): Promise<{ closed: true } | Record<string, never>> {
  const rt = await getJobRuntime(jobId);
  if (d.runtime.end_ms !== undefined && !d.runtime.isolated && rt?.state === 'opened') return closeAndPromote(jobId, commandId, opts);
  await stopJobDatafeed(jobId);
  return {};
}

/** Closes the job (its first step stops the datafeed); a job already closed (force-closed under the lookback) only has its datafeed stopped. */
async function closeAndPromote(jobId: string, commandId: string, opts: CloseOptions): Promise<{ closed: true }> {
  const out = await closeJob(jobId, commandId, opts.closeStepHook, Date.now(), opts.remainingMs);
  await stopJobDatafeed(jobId);
  await promoteLazyJobs();
  return out;
}
