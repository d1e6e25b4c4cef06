import { describe, expect, it } from 'vitest';
import { delayedDataWindowMs, isRealtimeSearchDue, nextSearchMs, realtimeSearchEndMs, TICK_INTERVAL_MS } from '../../../../lib/domain/datafeed/realtime.ts';
import { newDatafeedRuntime, type DatafeedRuntime } from '../../../../lib/domain/datafeed/types.ts';

const MIN = 60_000;
const T = Date.UTC(2026, 10, 26, 12, 0, 0);

const running = (patch: Partial<DatafeedRuntime>): DatafeedRuntime => ({ ...newDatafeedRuntime('d'), state: 'started', version: 3, run_id: 'r', start_ms: 0, ...patch });

describe('real-time search times', () => {
  it('a search ends at now - query_delay floored to the frequency, as runRealtime computes it', () => {
    expect(realtimeSearchEndMs(T + 42_000, 90_000, MIN)).toBe(T - MIN);
    expect(realtimeSearchEndMs(T + 42_000, 0, 10 * MIN)).toBe(T);
    expect(realtimeSearchEndMs(T + 10 * MIN, 1_000, 10 * MIN)).toBe(T);
  });

  it('the next search is due at the next frequency boundary, so a 1m frequency is searched on every one-minute tick', () => {
    // A search that ran anywhere in the minute after a tick is due again on the following tick.
    for (const ranAt of [T + 300, T + 30_000, T + 59_999]) expect(nextSearchMs(ranAt, MIN)).toBe(T + TICK_INTERVAL_MS);
    expect(nextSearchMs(T + 5_000, 10 * MIN)).toBe(T + 10 * MIN);
  });

  it('a sub-minute frequency comes round before the next tick, which then runs it (the tick granularity)', () => {
    const due = nextSearchMs(T + 1_000, 15_000);
    expect(due).toBe(T + 15_000);
    expect(isRealtimeSearchDue(running({ next_search_ms: due }), T + TICK_INTERVAL_MS)).toBe(true);
  });

  it('only a started datafeed without end, past its lookback, whose due time has come is due', () => {
    expect(isRealtimeSearchDue(running({ next_search_ms: T }), T)).toBe(true);
    expect(isRealtimeSearchDue(running({ next_search_ms: T + 1 }), T)).toBe(false);
    // Still in its lookback: the lookback's own command is running it.
    expect(isRealtimeSearchDue(running({}), T)).toBe(false);
    // A lookback-only datafeed never searches in real time.
    expect(isRealtimeSearchDue(running({ next_search_ms: T, end_ms: T }), T)).toBe(false);
    for (const state of ['stopping', 'starting', 'stopped'] as const) expect(isRealtimeSearchDue(running({ next_search_ms: T, state }), T)).toBe(false);
  });

  it('the delayed-data window defaults to max(2h, 8 buckets), as DelayedDataDetectorFactory', () => {
    expect(delayedDataWindowMs(undefined, 5 * MIN)).toBe(120 * MIN);
    expect(delayedDataWindowMs(undefined, 60 * MIN)).toBe(480 * MIN);
    expect(delayedDataWindowMs(30 * MIN, 5 * MIN)).toBe(30 * MIN);
  });
});
