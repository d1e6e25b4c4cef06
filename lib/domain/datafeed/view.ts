/**
 * A datafeed as `GET _ml/datafeeds` and `GET _ml/datafeeds/_stats` show it
 * (`DatafeedConfig.toXContent`, `GetDatafeedsStatsAction.Response.DatafeedStats`), keys in
 * Elasticsearch's order.
 */
import { TimeValue } from '../units.ts';
import { histogramIntervalMs } from './aggregations.ts';
import { DEFAULT_INDICES_OPTIONS, defaultQueryDelayMs } from './parser.ts';
import type { DatafeedConfig, DatafeedRuntime } from './types.ts';

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * `DatafeedConfig.toXContent`. With `excludeGenerated` (export) the authorization, and the
 * `query_delay`, `indices_options` and `chunking_config` that are only Elasticsearch's
 * defaults, are left out.
 */
export function datafeedView(d: DatafeedConfig, opts: { excludeGenerated?: boolean } = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { datafeed_id: d.datafeed_id, job_id: d.job_id };
  if (!opts.excludeGenerated) {
    out.authorization = { roles: [...d.authorization_roles] };
    out.query_delay = d.query_delay;
    out.chunking_config = { ...d.chunking_config };
    out.indices_options = structuredClone(d.indices_options);
  } else {
    if (d.query_delay !== TimeValue.ofMillis(defaultQueryDelayMs(d.job_id)).rep) out.query_delay = d.query_delay;
    if (!sameJson(d.indices_options, DEFAULT_INDICES_OPTIONS)) out.indices_options = structuredClone(d.indices_options);
    const defaultChunking = d.aggregations === undefined ? { mode: 'auto' } : { mode: 'manual', time_span: TimeValue.ofMillis(1000 * histogramIntervalMs(d.aggregations)).rep };
    if (!sameJson(d.chunking_config, defaultChunking)) out.chunking_config = { ...d.chunking_config };
  }
  out.query = structuredClone(d.query);
  if (d.frequency !== undefined) out.frequency = d.frequency;
  out.indices = [...d.indices];
  if (d.aggregations !== undefined) out.aggregations = structuredClone(d.aggregations);
  if (d.script_fields !== undefined) out.script_fields = structuredClone(d.script_fields);
  out.scroll_size = d.scroll_size;
  out.delayed_data_check_config = { ...d.delayed_data_check_config };
  if (d.max_empty_searches !== undefined) out.max_empty_searches = d.max_empty_searches;
  if (d.runtime_mappings !== undefined) out.runtime_mappings = structuredClone(d.runtime_mappings);
  return out;
}

/**
 * One entry of `_stats`: `datafeed_id`, `state`, `node` and `assignment_explanation` only
 * while the datafeed has a task (Elasticsearch omits them for a stopped datafeed), the timing
 * stats, and `running_state` only while it runs.
 */
export function datafeedStatsView(d: DatafeedConfig, rt: DatafeedRuntime): Record<string, unknown> {
  const out: Record<string, unknown> = { datafeed_id: d.datafeed_id, state: rt.state };
  if (rt.state !== 'stopped') {
    if (rt.node) out.node = { id: rt.node, name: rt.node, ephemeral_id: rt.node, transport_address: '127.0.0.1:9300', attributes: {} };
    if (rt.assignment_explanation !== undefined) out.assignment_explanation = rt.assignment_explanation;
  }
  const ts = rt.timing_stats;
  const timing: Record<string, unknown> = {
    job_id: d.job_id,
    search_count: ts.search_count,
    bucket_count: ts.bucket_count,
    total_search_time_ms: ts.total_search_time_ms,
  };
  if (ts.bucket_count > 0) timing.average_search_time_per_bucket_ms = ts.total_search_time_ms / ts.bucket_count;
  timing.exponential_average_search_time_per_hour_ms = ts.exponential_average_search_time_per_hour_ms;
  timing.exponential_average_calculation_context = { incremental_metric_value_ms: 0, previous_exponential_average_ms: 0 };
  out.timing_stats = timing;
  if (rt.state === 'started' || rt.state === 'starting') {
    // `real_time_running`: past its lookback, searching every `frequency` (Elasticsearch's `DatafeedRunner.finishedLookBack`).
    const running: Record<string, unknown> = { real_time_configured: rt.end_ms === undefined, real_time_running: rt.next_search_ms !== undefined };
    if (rt.search_interval) running.search_interval = rt.search_interval;
    out.running_state = running;
  }
  return out;
}
