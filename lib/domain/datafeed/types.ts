/**
 * A datafeed as mlplane stores it: the configuration of `PUT _ml/datafeeds/<id>` with
 * Elasticsearch's defaults applied (spec A.5.8), and its runtime state (spec B.2). Both live
 * on one table item (`lib/store/datafeeds.ts`).
 */

/** `ChunkingConfig`: how a lookback splits its time range into searches. */
export interface ChunkingConfig {
  mode: 'auto' | 'manual' | 'off';
  /** `TimeValue.getStringRep()` of the span; only with `manual`. */
  time_span?: string;
}

/** `DelayedDataCheckConfig`. */
export interface DelayedDataCheckConfig {
  enabled: boolean;
  /** `TimeValue.getStringRep()`. */
  check_window?: string;
}

/** `IndicesOptions` as `toXContent` writes it (`expand_wildcards` in `open, closed, hidden` order). */
export interface IndicesOptions {
  expand_wildcards: string[];
  ignore_unavailable: boolean;
  allow_no_indices: boolean;
  ignore_throttled: boolean;
}

/** A stored datafeed configuration, field for field what `GET _ml/datafeeds` shows. */
export interface DatafeedConfig {
  datafeed_id: string;
  job_id: string;
  /** Roles of the user that created (or last updated) it, shown as `authorization.roles`. */
  authorization_roles: string[];
  /** `getStringRep()`; when not given, Elasticsearch's random 60–120 s per job id, in ms. */
  query_delay: string;
  chunking_config: ChunkingConfig;
  indices_options: IndicesOptions;
  /** The query as given (insertion order kept); `{"match_all":{"boost":1.0}}` by default. */
  query: Record<string, unknown>;
  frequency?: string;
  indices: string[];
  aggregations?: Record<string, unknown>;
  script_fields?: Record<string, unknown>;
  scroll_size: number;
  delayed_data_check_config: DelayedDataCheckConfig;
  max_empty_searches?: number;
  runtime_mappings?: Record<string, unknown>;
}

/** `DatafeedState` (spec B.2), rendered lower-case. */
export type DatafeedState = 'stopped' | 'starting' | 'started' | 'stopping';

/** `DatafeedTimingStats`. */
export interface DatafeedTimingStats {
  search_count: number;
  bucket_count: number;
  total_search_time_ms: number;
  exponential_average_search_time_per_hour_ms: number;
}

/**
 * A datafeed's runtime state: its lifecycle state and what exists only while it has a task
 * (the `start`/`end` it was started with, its node, whether it was isolated).
 */
export interface DatafeedRuntime {
  datafeed_id: string;
  state: DatafeedState;
  /** Optimistic-concurrency version of the item (config and state change together). */
  version: number;
  node?: string;
  assignment_explanation?: string;
  /** `start` of `_start`, epoch ms. */
  start_ms?: number;
  /** `end` of `_start`, epoch ms; a lookback-only datafeed. */
  end_ms?: number;
  /** Set by `isolate` (a force-closed job's datafeed): its stop does not close the job. */
  isolated?: boolean;
  /** Id of the run started by this task: the lookback command carries it, so a stale message of an earlier run does nothing. */
  run_id?: string;
  /** End (epoch ms, exclusive) of the last lookback chunk posted to the job: where a resumed lookback goes on. */
  lookback_ms?: number;
  /**
   * Span (ms) of the next lookback chunk, saved with the progress: shortened when a chunk held
   * more documents than one search returns, so each later search reads about one page. Saved
   * rather than recomputed so a redelivered chunk reads exactly the window it read before.
   */
  chunk_span_ms?: number;
  /** End (epoch ms, exclusive) of the lookback of a real-time run, fixed when it starts (`now - query_delay` then), so a resumed lookback reads the same chunks. */
  lookback_end_ms?: number;
  /** When the next real-time search is due, epoch ms; set once the lookback of a run without `end` is done (`real_time_running`). */
  next_search_ms?: number;
  /** Consecutive searches that found no data (`ProblemTracker`'s empty data count). */
  empty_searches?: number;
  /** The last search's window, epoch ms (`running_state.search_interval`). */
  search_interval?: { start_ms: number; end_ms: number };
  /** When the delayed-data check last ran, epoch ms. */
  last_data_check_ms?: number;
  /** The extraction problem last audited (`ProblemTracker`): the same problem is not audited again until a search succeeds. */
  problem?: string;
  /** The last delayed-data audit's message and bucket range, so an unchanged finding is not audited again (`DatafeedJob`'s annotation comparison). */
  delayed_data_finding?: string;
  timing_stats: DatafeedTimingStats;
}

/** A new datafeed's runtime: stopped, version 1, zero timing stats. */
export function newDatafeedRuntime(datafeedId: string): DatafeedRuntime {
  return {
    datafeed_id: datafeedId,
    state: 'stopped',
    version: 1,
    timing_stats: { search_count: 0, bucket_count: 0, total_search_time_ms: 0, exponential_average_search_time_per_hour_ms: 0 },
  };
}
