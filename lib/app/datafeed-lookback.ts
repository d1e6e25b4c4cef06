/**
 * The datafeed runner (spec A.3/B.2, Elasticsearch's `DatafeedJob.runLookBack` and
 * `runRealtime`): the worker side of `_start` and of each real-time search the scheduled tick
 * submits (`datafeed-tick.ts`). It runs as a `datafeed` command in the job's FIFO group, so
 * data, flush, update and close of the job stay ordered around it.
 */
import type { Command, CommandParams } from '../domain/command.ts';
import type { DatafeedConfig, DatafeedTimingStats } from '../domain/datafeed/types.ts';
import { DatafeedMessages, EsError, LookbackDeferred, StaleStateError, WorkParked } from '../domain/errors.ts';
import type { JobConfig } from '../domain/job/types.ts';
import { transitionDatafeed } from '../domain/lifecycle/datafeed.ts';
import { parseTimeValue } from '../domain/units.ts';
import { getDatafeed, putDatafeed, type StoredDatafeed } from '../store/datafeeds.ts';
import { getJobRuntime } from '../store/jobs.ts';
import { audit } from './audit.ts';
import { closeJob, type CloseOptions } from './close.ts';
import { promoteLazyJobs } from './capacity.ts';
import { loadJob, upgradeModeHalts } from './job-lookup.ts';
import { analysisSpec } from './live-model.ts';
import { processData } from './post-data.ts';
import { CHUNK_MAX_HITS, extractChunk } from './datafeed-extractor.ts';
import { histogramIntervalMs } from '../domain/datafeed/aggregations.ts';
import { stopJobDatafeed } from './stop-datafeed.ts';
import { submitCommand } from './commands.ts';
import { checkDelayedData } from './delayed-data.ts';
import { processFlush } from './flush.ts';
import { EMPTY_DATA_WARN_COUNT, nextSearchMs } from '../domain/datafeed/realtime.ts';
import { datafeedStateChanged } from './events-out.ts';
import type { DatafeedStopReason } from '../domain/events.ts';
import type { JobState } from '../domain/state.ts';

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

/** A datafeed's `frequency` (default {@link defaultFrequencyMs} of the job's bucket span) and `query_delay`, in ms. */
export function datafeedTimings(config: DatafeedConfig, bucketSpanMs: number): { frequencyMs: number; queryDelayMs: number } {
  const frequencyMs = config.frequency ? parseTimeValue(config.frequency, 'frequency').ms : defaultFrequencyMs(bucketSpanMs);
  return { frequencyMs: Math.max(1, frequencyMs), queryDelayMs: parseTimeValue(config.query_delay, 'query_delay').ms };
}

/**
 * The worker side of a started datafeed (`datafeed` command, params `{datafeed_id, run_id}`,
 * plus `{due_ms, search_to_ms}` for a real-time search the tick submitted):
 *
 * 1. a message of another run (a datafeed stopped, or started again, since) does nothing, except
 *    to resume this run's close of the job if a crash interrupted it; a real-time search the
 *    datafeed is no longer due for (a tick that ran twice, a redelivery after the search was
 *    saved) does nothing either;
 * 2. `starting → started`, audit "Datafeed started (from: <start> to: <end>) with frequency [<ms>ms]"
 *    (`to: real-time` without `end`, whose lookback ends at `now - query_delay`, fixed here;
 *    "Datafeed started in real-time" when that is not after `start`). The lookback starts after
 *    the data the job already has, as Elasticsearch's `skipToStartTime` does;
 * 3. chunks from the saved `lookback_ms` (else `start`) to the end: search, post the records to
 *    the job through `_data`'s own processing ({@link processData}, keyed by run and chunk end, so
 *    a redelivery after the job took the chunk but before the datafeed saved it posts nothing
 *    twice), then save the chunk's end and the timing stats on the datafeed;
 * 4. with an `end`: audit "Datafeed lookback completed" and close the job (the checkpointed close,
 *    whose first step stops the datafeed: spec A.3 "a datafeed with an end closes its job");
 * 5. without: {@link finishRealtimeStep} (flush, empty-search count, delayed-data check, next due time).
 *
 * A stop request (`stopping`) takes effect at the next chunk boundary, or at once when the
 * message is the stop's own: a datafeed with an `end` closes its job, unless isolated (spec A.3
 * step 6). A run force-stopped meanwhile posts nothing more.
 *
 * A search error (an unknown index, a query the store does not support) is audited as
 * Elasticsearch audits extraction errors; a lookback to an `end` ends there, a real-time run
 * keeps its place and tries again at its next due time. With less than {@link CHUNK_MARGIN_MS}
 * left in the invocation it throws {@link LookbackDeferred}: the runner hands the command on to
 * a continuation message in the same FIFO group.
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
    if (rt?.state === 'closing' && rt.close?.command_id === cmd.command_id) return closeAndPromote(jobId, cmd.command_id, opts, 'end_reached');
    return {};
  }
  if (d.runtime.state === 'stopping') return finishStop(d, jobId, cmd.command_id, opts);
  const realtimeSearch = params.due_ms !== undefined && params.search_to_ms !== undefined;
  // Only the search due now runs; a start message redelivered once the run is in real time does nothing.
  if (realtimeSearch ? d.runtime.next_search_ms !== params.due_ms : d.runtime.next_search_ms !== undefined) return {};
  const { job, rt: jobRt } = await loadJob(jobId, true);
  const startMs = d.runtime.start_ms ?? 0;
  const spec = analysisSpec(job);
  const { frequencyMs, queryDelayMs } = datafeedTimings(d.config, spec.bucketSpanMs);
  if (d.runtime.state === 'starting') {
    const lookbackEndMs = d.runtime.end_ms === undefined ? Date.now() - queryDelayMs : undefined;
    // `skipToStartTime`: a job that already has data goes on after it instead of taking it again out of order.
    const lastEndMs = Math.max(jobRt.last_finalized_bucket_end ?? 0, jobRt.data_counts.latest_record_timestamp ?? 0);
    const resumeMs = lastEndMs > 0 && lastEndMs + 1 > startMs ? lastEndMs + 1 : undefined;
    const next = transitionDatafeed(d.runtime, { type: 'started', lookbackEndMs, resumeFromMs: resumeMs });
    try {
      await putDatafeed(d.config, next);
    } catch (err) {
      // Stopped before it ran: the next delivery (or the stop's own command) finds out how.
      if (err instanceof StaleStateError) return applyDatafeedLookback(cmd, jobId, params, opts);
      throw err;
    }
    await datafeedStateChanged(d.config, d.runtime, next);
    d = { config: d.config, runtime: next };
    const from = d.runtime.lookback_ms ?? startMs;
    // Nothing left before `end` (the job has data past it): Elasticsearch stops without a lookback audit.
    if (d.runtime.end_ms !== undefined && from >= d.runtime.end_ms) return closeAndPromote(jobId, cmd.command_id, opts, 'end_reached');
    if (lookbackEndMs !== undefined && lookbackEndMs <= from) await audit(jobId, DatafeedMessages.startedRealtime);
    else await audit(jobId, DatafeedMessages.started(iso(from), lookbackEndMs === undefined ? iso(d.runtime.end_ms as number) : 'real-time', `${frequencyMs}ms`));
  }
  const endMs = realtimeSearch ? (params.search_to_ms as number) : ((d.runtime.end_ms ?? d.runtime.lookback_end_ms) as number);
  const defaultSpan = chunkSpanMs(d.config, spec.bucketSpanMs);
  const view = datafeedJobView(job);
  const windowStartMs = d.runtime.lookback_ms ?? startMs;
  let posted = false;
  let records = 0;
  let problem: string | undefined;
  for (;;) {
    const cursor = d.runtime.lookback_ms ?? startMs;
    if (cursor >= endMs) break;
    if (remainingMs && remainingMs() < CHUNK_MARGIN_MS) throw new LookbackDeferred(d.config.datafeed_id);
    // Upgrade mode halts the lookback between two chunks; disabling it resumes after the last posted chunk.
    if (await upgradeModeHalts()) throw new WorkParked(`lookback of datafeed [${d.config.datafeed_id}]`);
    const started = Date.now();
    const span = d.runtime.chunk_span_ms ?? defaultSpan;
    const windowEnd = Math.min(endMs, cursor + span);
    let chunk: Awaited<ReturnType<typeof extractChunk>>;
    try {
      chunk = await extractChunk(d.config, job, cursor, windowEnd);
    } catch (err) {
      if (!(err instanceof EsError)) throw err;
      // A real-time run audits a problem once until it recovers (`ProblemTracker`); a lookback to an `end` ends here.
      problem = err.message;
      if (d.runtime.end_ms !== undefined) await audit(jobId, DatafeedMessages.extractionError(problem), 'error');
      break;
    }
    const searchMs = Date.now() - started;
    if (chunk.records > 0) {
      const { rt } = await loadJob(jobId, true);
      // A job closed or failed under the datafeed: the lookback ends (its close is a no-op then).
      if (rt.state !== 'opened' && rt.state !== 'opening') {
        if (d.runtime.end_ms === undefined) return stopWithJobGone(jobId, rt.state);
        break;
      }
      const counts = await processData(view, rt, `${params.run_id}:${chunk.toMs}`, chunk.ndjson);
      records += counts.processed_record_count - rt.data_counts.processed_record_count;
      posted = true;
    }
    // A window the page limit cut short shows how dense the data is: later windows are that long, so each search reads about one page (linear, not quadratic, in the data).
    // Where the data thins out again, the span doubles back towards the default.
    let nextSpan: number | undefined;
    if (d.config.aggregations === undefined && chunk.toMs < windowEnd) nextSpan = Math.max(1, chunk.toMs - cursor);
    else if (d.runtime.chunk_span_ms !== undefined && chunk.records < CHUNK_MAX_HITS / 2) nextSpan = Math.min(defaultSpan, span * 2);
    const saved = await saveProgress(params, chunk.toMs, chunk.searches, searchMs, { start_ms: cursor, end_ms: chunk.toMs }, nextSpan);
    // Force-stopped meanwhile (a force stop, a force close): this run is over and posts nothing more.
    if (!saved) return {};
    d = saved;
    // A stop asked for meanwhile takes effect at this chunk boundary (spec A.3: it waits for the chunk in flight).
    if (d.runtime.state === 'stopping') return finishStop(d, jobId, cmd.command_id, opts);
  }
  if (d.runtime.end_ms === undefined) {
    // A redelivery of a step whose chunks were all saved: its window was searched, its records are not known any more.
    const redelivered = endMs === windowStartMs && d.runtime.search_interval?.end_ms === endMs;
    return finishRealtimeStep(d, jobId, cmd.command_id, opts, {
      lookback: !realtimeSearch,
      searched: problem === undefined && (endMs > windowStartMs || redelivered),
      problem,
      searchToMs: endMs,
      records: redelivered ? undefined : records,
      frequencyMs,
    });
  }
  const rt = await getJobRuntime(jobId);
  if (!posted && (rt?.data_counts.processed_record_count ?? 0) === 0) await audit(jobId, DatafeedMessages.lookbackNoData, 'warning');
  else await audit(jobId, DatafeedMessages.lookbackCompleted);
  return closeAndPromote(jobId, cmd.command_id, opts, problem === undefined ? 'end_reached' : 'extraction_error');
}

/**
 * The end of one step of a run without `end` (its lookback or a real-time search), as
 * Elasticsearch's `DatafeedJob.run`/`runRealtime` and `DatafeedRunner` end theirs:
 *
 * - a window that was searched is flushed (`calc_interim`, and for a real-time search
 *   `advance_time` = the window's end), under an id of its own so a redelivery flushes once
 *   (`records` undefined: a redelivered step, whose records were counted by the first delivery);
 * - a lookback that posted records is audited "Datafeed lookback completed" then "Datafeed
 *   continued in real-time", and a background persist follows it (`sendPersistRequest`);
 * - a searched window without records counts one more empty search ("Datafeed has been
 *   retrieving no data for a while" at the 10th); a real-time one reaching `max_empty_searches`
 *   while the job has never seen data stops the datafeed and closes the job, as Elasticsearch's
 *   `holder.stop("no_data", …, autoCloseJob=true)`; records after 10 or more empty searches
 *   audit "Datafeed has started retrieving data again";
 * - a real-time search with records runs the delayed-data check when it is due ({@link checkDelayedData});
 * - a search error is audited "Datafeed is encountering errors extracting data: …" once, not at
 *   every search, and the next search that works audits "Datafeed has recovered data extraction
 *   and analysis" (`ProblemTracker`); the window is searched again, time does not advance;
 * - the next search is due at the next `frequency` boundary ({@link nextSearchMs}).
 *
 * A job no longer open (flush refused) stops the datafeed and leaves the job as it is, as a
 * conflict stops Elasticsearch's datafeed.
 */
async function finishRealtimeStep(
  d: StoredDatafeed,
  jobId: string,
  commandId: string,
  opts: CloseOptions,
  step: { lookback: boolean; searched: boolean; searchToMs: number; records?: number; frequencyMs: number; problem?: string },
): Promise<{ closed: true } | Record<string, never>> {
  const runId = d.runtime.run_id as string;
  let lastFinalizedMs: number | undefined;
  if (step.searched) {
    const { job, rt } = await loadJob(jobId, true);
    if (rt.state !== 'opened' && rt.state !== 'opening') return stopWithJobGone(jobId, rt.state);
    // A job still `opening` (waiting for capacity) has taken no data yet: nothing to flush.
    if (rt.state === 'opened') {
      const flushed = await processFlush(
        job,
        rt,
        `${runId}:flush:${step.searchToMs}`,
        step.lookback ? { calc_interim: true } : { calc_interim: true, advance_time: step.searchToMs },
      );
      lastFinalizedMs = flushed.last_finalized_bucket_end;
    }
  }
  if (step.problem !== undefined && step.problem !== d.runtime.problem) await audit(jobId, DatafeedMessages.extractionError(step.problem), 'error');
  if (step.problem === undefined && d.runtime.problem !== undefined) await audit(jobId, DatafeedMessages.recovered);
  const previousEmpty = d.runtime.empty_searches ?? 0;
  const records = step.records ?? 0;
  const empty = step.searched && step.records === 0;
  const emptySearches = empty ? previousEmpty + 1 : records > 0 ? 0 : previousEmpty;
  if (empty && emptySearches === EMPTY_DATA_WARN_COUNT) await audit(jobId, DatafeedMessages.noData, 'warning');
  if (records > 0 && previousEmpty >= EMPTY_DATA_WARN_COUNT) await audit(jobId, DatafeedMessages.dataSeenAgain);
  if (empty && !step.lookback && d.config.max_empty_searches !== undefined && d.config.max_empty_searches > 0 && emptySearches >= d.config.max_empty_searches) {
    const rt = await getJobRuntime(jobId);
    // Only a datafeed whose job has never seen data gives up (`haveEverSeenData`).
    if ((rt?.data_counts.processed_record_count ?? 0) === 0) {
      if (!d.runtime.isolated && rt?.state === 'opened') return closeAndPromote(jobId, commandId, opts, 'max_empty_searches');
      await stopJobDatafeed(jobId, Date.now(), 'max_empty_searches');
      return {};
    }
  }
  if (step.lookback && records > 0) {
    await audit(jobId, DatafeedMessages.lookbackCompleted);
    await audit(jobId, DatafeedMessages.continuedRealtime);
    await submitCommand({
      action: 'persist',
      es_action: 'cluster:admin/xpack/ml/job/persist',
      description: `persist job [${jobId}] after its datafeed's lookback`,
      targets: [jobId],
    });
  }
  let check: { lastDataCheckMs?: number; delayedDataFinding?: string } = {};
  if (!step.lookback && records > 0) check = await checkDelayedData(d, jobId, lastFinalizedMs, Date.now());
  const nowMs = Date.now();
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await getDatafeed(d.config.datafeed_id);
    if (!current || current.runtime.run_id !== runId || current.runtime.state === 'stopped') return {};
    const next = transitionDatafeed(current.runtime, {
      type: 'realtime',
      nextSearchMs: nextSearchMs(nowMs, step.frequencyMs),
      emptySearches,
      ...check,
      ...(step.problem !== undefined ? { problem: step.problem } : {}),
    });
    try {
      await putDatafeed(current.config, next);
    } catch (err) {
      if (err instanceof StaleStateError) continue;
      throw err;
    }
    if (next.state === 'stopping') return finishStop({ config: current.config, runtime: next }, jobId, commandId, opts);
    return {};
  }
  throw new StaleStateError(`datafeed [${d.config.datafeed_id}] changed concurrently`);
}

/** The job of a real-time datafeed is no longer open (closed or failed under it): the datafeed stops, the job stays as it is. */
async function stopWithJobGone(jobId: string, jobState: JobState): Promise<Record<string, never>> {
  await stopJobDatafeed(jobId, Date.now(), jobState === 'failed' ? 'job_failed' : 'job_closed');
  return {};
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
async function saveProgress(
  params: CommandParams<'datafeed'>,
  lookbackMs: number,
  searches: number,
  searchMs: number,
  searchInterval: { start_ms: number; end_ms: number },
  chunkSpanMs?: number,
): Promise<StoredDatafeed | undefined> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const d = await currentRun(params);
    if (!d) return undefined;
    const next = transitionDatafeed(d.runtime, {
      type: 'progress',
      lookbackMs,
      timingStats: addSearches(d.runtime.timing_stats, searches, searchMs),
      searchInterval,
      ...(chunkSpanMs !== undefined ? { chunkSpanMs } : {}),
    });
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
  if (d.runtime.end_ms !== undefined && !d.runtime.isolated && rt?.state === 'opened') return closeAndPromote(jobId, commandId, opts, 'stop_requested');
  await stopJobDatafeed(jobId, Date.now(), 'stop_requested');
  return {};
}

/** Closes the job (its first step stops the datafeed); a job already closed (force-closed under the lookback) only has its datafeed stopped. */
async function closeAndPromote(jobId: string, commandId: string, opts: CloseOptions, reason: DatafeedStopReason): Promise<{ closed: true }> {
  const out = await closeJob(jobId, commandId, opts.closeStepHook, Date.now(), opts.remainingMs, reason);
  await stopJobDatafeed(jobId, Date.now(), reason);
  await promoteLazyJobs();
  return out;
}
