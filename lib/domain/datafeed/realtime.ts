/**
 * When a real-time datafeed searches, and what (Elasticsearch's `DatafeedJob.runRealtime`,
 * `nextRealtimeTimestamp`, `ProblemTracker`): pure time arithmetic on epoch ms, shared by the
 * EventBridge tick that finds due datafeeds and the runner that searches them.
 */
import type { DatafeedRuntime } from './types.ts';

/** How often the scheduled tick looks for due datafeeds (`rate(1 minute)` in the topology), ms. */
export const TICK_INTERVAL_MS = 60_000;

/** `ProblemTracker.EMPTY_DATA_WARN_COUNT`: consecutive empty searches before "Datafeed has been retrieving no data for a while". */
export const EMPTY_DATA_WARN_COUNT = 10;

/** Elasticsearch's `xpack.ml.delayed_data_check_freq` default: at most one delayed-data check every 15 minutes, ms. */
export const DELAYED_DATA_CHECK_FREQ_MS = 900_000;

/** `DelayedDataDetectorFactory`: without a `check_window`, max(2h, 8 buckets), ms. */
export function delayedDataWindowMs(checkWindowMs: number | undefined, bucketSpanMs: number): number {
  return checkWindowMs ?? Math.max(7_200_000, 8 * bucketSpanMs);
}

/** The start of the `frequency` interval holding `epochMs` (`DatafeedJob.toIntervalStartEpochMs`). */
export function intervalStartMs(epochMs: number, frequencyMs: number): number {
  return Math.floor(epochMs / frequencyMs) * frequencyMs;
}

/**
 * The exclusive end of a real-time search run at `nowMs`: `now - query_delay`, floored to the
 * `frequency` interval, as `DatafeedJob.runRealtime` computes it.
 */
export function realtimeSearchEndMs(nowMs: number, queryDelayMs: number, frequencyMs: number): number {
  return intervalStartMs(nowMs - queryDelayMs, frequencyMs);
}

/**
 * When the next real-time search is due after one that ran at `nowMs`: the start of the next
 * `frequency` interval. Elasticsearch adds `query_delay % frequency` + 100 ms to run just after
 * new data is complete; mlplane's searches start on a one-minute tick, and that offset would
 * push every due time just past a tick, so a 1m frequency would search only every other
 * minute. Without it, a due time falls on a tick whenever the frequency is a whole number of
 * minutes, and the window searched (floored by {@link realtimeSearchEndMs}) is the same.
 */
export function nextSearchMs(nowMs: number, frequencyMs: number): number {
  return intervalStartMs(nowMs + frequencyMs, frequencyMs);
}

/**
 * Whether the tick at `nowMs` should submit a real-time search for this datafeed: it is
 * `started`, without an `end` (a datafeed with an `end` is lookback only, as in Elasticsearch),
 * past its lookback (it has a due time) and that time has come. A frequency under a minute
 * is searched on each tick (the tick's granularity).
 */
export function isRealtimeSearchDue(rt: DatafeedRuntime, nowMs: number): boolean {
  return rt.state === 'started' && rt.end_ms === undefined && rt.next_search_ms !== undefined && rt.next_search_ms <= nowMs;
}
