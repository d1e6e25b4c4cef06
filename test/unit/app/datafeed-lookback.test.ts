import { describe, expect, it } from 'vitest';
import { AUTO_CHUNK_BUCKETS, chunkSpanMs, defaultFrequencyMs } from '../../../lib/app/datafeed-lookback.ts';
import type { DatafeedConfig } from '../../../lib/domain/datafeed/types.ts';

const HOUR = 3_600_000;
const feed = (chunking: DatafeedConfig['chunking_config']) => ({ chunking_config: chunking }) as DatafeedConfig;

describe('datafeed lookback windows', () => {
  it('the default frequency follows Elasticsearch: the span up to 2m, 1m up to 20m, 10m up to 12h, else 1h', () => {
    expect(defaultFrequencyMs(60_000)).toBe(60_000);
    expect(defaultFrequencyMs(120_000)).toBe(120_000);
    expect(defaultFrequencyMs(600_000)).toBe(60_000);
    expect(defaultFrequencyMs(1_200_000)).toBe(60_000);
    expect(defaultFrequencyMs(HOUR)).toBe(600_000);
    expect(defaultFrequencyMs(12 * HOUR)).toBe(600_000);
    expect(defaultFrequencyMs(24 * HOUR)).toBe(HOUR);
  });

  it('a manual chunking_config time_span sets the chunk; auto and off read a fixed number of buckets', () => {
    expect(chunkSpanMs(feed({ mode: 'manual', time_span: '1d' }), HOUR)).toBe(24 * HOUR);
    expect(chunkSpanMs(feed({ mode: 'manual', time_span: '90m' }), HOUR)).toBe(90 * 60_000);
    expect(chunkSpanMs(feed({ mode: 'auto' }), HOUR)).toBe(AUTO_CHUNK_BUCKETS * HOUR);
    expect(chunkSpanMs(feed({ mode: 'off' }), 600_000)).toBe(AUTO_CHUNK_BUCKETS * 600_000);
  });
});

describe('aggregation datafeed chunks', () => {
  it('an aggregation datafeed in auto mode chunks by 1000 histogram buckets, not job buckets', () => {
    const aggs = { buckets: { date_histogram: { field: 'time', fixed_interval: '5m' }, aggs: { time: { max: { field: 'time' } } } } };
    const config = { chunking_config: { mode: 'auto' }, aggregations: aggs } as unknown as DatafeedConfig;
    expect(chunkSpanMs(config, HOUR)).toBe(AUTO_CHUNK_BUCKETS * 300_000);
  });

  it('a manual time_span of an aggregation datafeed is rounded up to whole histogram intervals, so every chunk holds a bucket', () => {
    const aggs = { buckets: { date_histogram: { field: 'time', fixed_interval: '1h' }, aggs: { time: { max: { field: 'time' } } } } };
    const config = (time_span: string) => ({ chunking_config: { mode: 'manual', time_span }, aggregations: aggs }) as unknown as DatafeedConfig;
    expect(chunkSpanMs(config('30m'), HOUR)).toBe(HOUR);
    expect(chunkSpanMs(config('90m'), HOUR)).toBe(2 * HOUR);
    expect(chunkSpanMs(config('3h'), HOUR)).toBe(3 * HOUR);
  });
});
