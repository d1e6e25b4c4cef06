import { describe, expect, it } from 'vitest';
import { validateDatafeedForJob } from '../../../../lib/domain/datafeed/job-validator.ts';
import {
  applyDatafeedUpdate,
  buildDatafeedConfig,
  defaultQueryDelayMs,
  indicesOptionsFromParams,
  parseDatafeedConfigBody,
  parseDatafeedUpdateBody,
} from '../../../../lib/domain/datafeed/parser.ts';
import type { DatafeedConfig } from '../../../../lib/domain/datafeed/types.ts';
import { datafeedStatsView, datafeedView } from '../../../../lib/domain/datafeed/view.ts';
import { newDatafeedRuntime } from '../../../../lib/domain/datafeed/types.ts';
import type { JobConfig } from '../../../../lib/domain/job/types.ts';
import { catchEs, expectEsError } from '../es-error.ts';

const ctx = { roles: ['superuser'] };
const build = (body: unknown, id = 'feed-1'): DatafeedConfig => buildDatafeedConfig(id, parseDatafeedConfigBody(JSON.stringify(body)), ctx);

const AGGS = {
  buckets: {
    date_histogram: { field: 'time', fixed_interval: '5m' },
    aggs: { time: { max: { field: 'time' } }, bytes: { avg: { field: 'bytes' } } },
  },
};

const job = (over: Partial<JobConfig['analysis_config']> = {}): JobConfig =>
  ({ job_id: 'j', analysis_config: { bucket_span: '1h', detectors: [], influencers: [], ...over }, data_description: { time_field: 'time' } }) as unknown as JobConfig;

describe('put datafeed: defaults (GET shape)', () => {
  it("fills Elasticsearch's defaults in its key order", () => {
    const d = build({ job_id: 'datafeeds-crud-1', indexes: ['index-foo'] });
    expect(datafeedView(d)).toEqual({
      datafeed_id: 'feed-1',
      job_id: 'datafeeds-crud-1',
      authorization: { roles: ['superuser'] },
      query_delay: '103324ms',
      chunking_config: { mode: 'auto' },
      indices_options: { expand_wildcards: ['open'], ignore_unavailable: false, allow_no_indices: true, ignore_throttled: false },
      query: { match_all: { boost: 1 } },
      indices: ['index-foo'],
      scroll_size: 1000,
      delayed_data_check_config: { enabled: true },
    });
    expect(Object.keys(datafeedView(d))).toEqual([
      'datafeed_id',
      'job_id',
      'authorization',
      'query_delay',
      'chunking_config',
      'indices_options',
      'query',
      'indices',
      'scroll_size',
      'delayed_data_check_config',
    ]);
  });

  it('picks the default query delay as Java does: new Random(jobId.hashCode()).longs(60000, 120000)', () => {
    // Values printed by a JDK 17 for these ids.
    expect(defaultQueryDelayMs('datafeeds-crud-1')).toBe(103324);
    expect(defaultQueryDelayMs('total-requests')).toBe(83474);
    expect(defaultQueryDelayMs('a')).toBe(62634);
    expect(defaultQueryDelayMs('')).toBe(84860);
    expect(defaultQueryDelayMs('x-very-long-job-id-000')).toBe(116460);
  });

  it('echoes the given values in their units and keeps the query as given', () => {
    const d = build({
      job_id: 'j',
      indices: ['a', 'b'],
      query: { bool: { filter: [{ term: { host: 'x' } }] } },
      query_delay: '30s',
      frequency: '2m',
      scroll_size: 2000,
      max_empty_searches: 42,
      chunking_config: { mode: 'manual', time_span: '1h' },
      delayed_data_check_config: { enabled: true, check_window: '2h' },
      runtime_mappings: { f: { type: 'keyword' } },
    });
    expect(datafeedView(d)).toMatchObject({
      query_delay: '30s',
      frequency: '2m',
      scroll_size: 2000,
      max_empty_searches: 42,
      chunking_config: { mode: 'manual', time_span: '1h' },
      delayed_data_check_config: { enabled: true, check_window: '2h' },
      query: { bool: { filter: [{ term: { host: 'x' } }] } },
      runtime_mappings: { f: { type: 'keyword' } },
    });
  });

  it('an aggregated datafeed chunks by 1,000 histogram buckets by default', () => {
    expect(build({ job_id: 'j', indices: ['i'], aggregations: AGGS }).chunking_config).toEqual({ mode: 'manual', time_span: '300000000ms' });
  });

  it('max_empty_searches -1 means unset', () => {
    expect(datafeedView(build({ job_id: 'j', indices: ['i'], max_empty_searches: -1 }))).not.toHaveProperty('max_empty_searches');
  });

  it('exclude_generated drops the generated and default-only fields', () => {
    const v = datafeedView(build({ job_id: 'j', indices: ['i'] }), { excludeGenerated: true });
    expect(v).not.toHaveProperty('authorization');
    expect(v).not.toHaveProperty('query_delay');
    expect(v).not.toHaveProperty('chunking_config');
    expect(v).not.toHaveProperty('indices_options');
    expect(datafeedView(build({ job_id: 'j', indices: ['i'], query_delay: '1m' }), { excludeGenerated: true })).toHaveProperty('query_delay', '1m');
  });
});

describe('put datafeed: errors', () => {
  it('refuses a headers field (strict parser)', () => {
    expectEsError(() => build({ job_id: 'j', indices: ['i'], headers: { a: 'b' } }), {
      type: 'x_content_parse_exception',
      reason: /\[datafeed_config\] unknown field \[headers\]/,
    });
  });

  it('an unknown query is "failed to parse field [query]" with the query error as its cause', () => {
    const e = expectEsError(() => build({ job_id: 'j', indices: ['i'], query: { match_all_misspelled: {} } }), {
      type: 'x_content_parse_exception',
      reason: /failed to parse field \[query\]/,
    });
    expect(e.toBody().error.caused_by).toMatchObject({
      type: 'status_exception',
      reason: 'Datafeed query is not parsable',
      caused_by: { type: 'parsing_exception', reason: 'unknown query [match_all_misspelled]' },
    });
  });

  it('a query that is not an object is refused by type', () => {
    expectEsError(() => build({ job_id: 'j', indices: ['i'], query: 'x' }), { type: 'x_content_parse_exception', reason: /query doesn't support values of type: VALUE_STRING/ });
  });

  it.each([
    [{ job_id: 'j' }, "Invalid indices value '[]' in datafeed configuration"],
    [{ job_id: 'j', indices: ['a', ''] }, "Invalid indices value '[a, ]' in datafeed configuration"],
    [{ job_id: 'j', indices: ['i'], aggregations: AGGS, script_fields: { s: { script: 'x' } } }, 'script_fields cannot be used in combination with aggregations'],
  ])('build refuses %j', (body, reason) => {
    expectEsError(() => build(body), { type: 'status_exception', status: 400, reason });
  });

  it('an invalid datafeed id', () => {
    expectEsError(() => build({ job_id: 'j', indices: ['i'] }, 'Bad'), { type: 'status_exception', reason: /^Invalid datafeed_id; 'Bad' can contain lowercase alphanumeric/ });
  });

  it('a missing job_id', () => {
    expectEsError(() => build({ indices: ['i'] }), { type: 'illegal_argument_exception', reason: '[job_id] must not be null.' });
  });

  it.each([
    [{ scroll_size: -1 }, "Invalid scroll_size value '-1' in datafeed configuration"],
    [{ max_empty_searches: 0 }, "Invalid max_empty_searches value '0' in datafeed configuration"],
    [{ frequency: '0s' }, 'frequency cannot be less or equal than 0. Value = 0s'],
    [{ frequency: '1500ms' }, "frequency has to be a multiple of 1s; actual was '1.5s'"],
    [{ chunking_config: { mode: 'manual' } }, 'when chunk mode is manual time_span is required'],
    [{ chunking_config: { mode: 'auto', time_span: '1h' } }, 'chunk time_span may only be set when mode is manual'],
    [{ aggs: AGGS, aggregations: AGGS }, 'Found two aggregation definitions: [aggs] and [aggregations]'],
  ])('a field-level error is wrapped as failed to parse field: %j', (extra, cause) => {
    const e = catchEs(() => build({ job_id: 'j', indices: ['i'], ...extra }));
    expect(e.type).toBe('x_content_parse_exception');
    expect(e.message).toMatch(/\[datafeed_config\] failed to parse field \[/);
    expect(e.cause?.message).toBe(cause);
  });

  it.each([
    [{ h: { date_histogram: { field: 'time', fixed_interval: '5m' } } }, 'Date histogram must have nested max aggregation for time_field [time]'],
    [{ h: { terms: { field: 'x' } } }, 'A date_histogram (or histogram) aggregation is required'],
    [{ h: { date_histogram: { field: 'time', fixed_interval: '0s' }, aggs: { time: { max: { field: 'time' } } } } }, 'Aggregation interval must be greater than 0'],
    [
      { h: { date_histogram: { field: 'time', fixed_interval: '5m' }, aggs: { time: { max: { field: 'time' } }, inner: { histogram: { field: 'x', interval: 5 } } } } },
      'Aggregations can only have 1 date_histogram or histogram aggregation',
    ],
  ])('aggregations %j: %s', (aggregations, reason) => {
    expectEsError(() => build({ job_id: 'j', indices: ['i'], aggregations }), { type: 'status_exception', status: 400, reason });
  });

  it('a histogram under a first terms aggregation is found', () => {
    const aggregations = { hosts: { terms: { field: 'h' }, aggs: { ...AGGS } } };
    expect(build({ job_id: 'j', indices: ['i'], aggregations }).chunking_config).toEqual({ mode: 'manual', time_span: '300000000ms' });
  });
});

describe('indices_options', () => {
  it('orders expand_wildcards open, closed, hidden and keeps the defaults of absent keys', () => {
    const d = build({ job_id: 'j', indices: ['i'], indices_options: { expand_wildcards: ['closed', 'open'], ignore_throttled: false } });
    expect(d.indices_options).toEqual({ expand_wildcards: ['open', 'closed'], ignore_unavailable: false, allow_no_indices: true, ignore_throttled: false });
  });

  it('comes from the query parameters when the body has none', () => {
    const fromParams = indicesOptionsFromParams({ ignore_throttled: 'false', allow_no_indices: 'false' });
    expect(buildDatafeedConfig('f', parseDatafeedConfigBody('{"job_id":"j","indices":["i"]}'), { ...ctx, indicesOptionsFromParams: fromParams! }).indices_options).toMatchObject({
      ignore_throttled: false,
      allow_no_indices: false,
    });
    expect(indicesOptionsFromParams({})).toBeUndefined();
  });
});

describe('update datafeed', () => {
  const current = build({ job_id: 'datafeeds-crud-1', indexes: ['index-foo'], scroll_size: 2000, frequency: '1m', query_delay: '30s', max_empty_searches: 42 });
  const update = (body: unknown) => applyDatafeedUpdate(current, parseDatafeedUpdateBody(JSON.stringify(body)), ctx);

  it('replaces the fields given and clears max_empty_searches with -1 (datafeeds_crud.yml)', () => {
    const next = update({ indexes: ['index-*'], scroll_size: 10000, frequency: '2m', query_delay: '0s', max_empty_searches: -1 });
    expect(next).toMatchObject({ indices: ['index-*'], scroll_size: 10000, frequency: '2m', query_delay: '0s', job_id: 'datafeeds-crud-1' });
    expect(next).not.toHaveProperty('max_empty_searches');
  });

  it('keeps what is not given', () => {
    expect(update({})).toEqual(current);
  });

  it('the same job_id is accepted, another one is refused', () => {
    expect(update({ job_id: 'datafeeds-crud-1' }).job_id).toBe('datafeeds-crud-1');
    expectEsError(() => update({ job_id: 'datafeeds-crud-2' }), { type: 'status_exception', status: 400, reason: "Datafeed's job_id cannot be changed." });
  });

  it('the update parser is strict and named datafeed_update', () => {
    expectEsError(() => update({ nope: 1 }), { type: 'x_content_parse_exception', reason: /\[datafeed_update\] unknown field \[nope\]/ });
  });
});

describe('datafeed against its job (DatafeedJobValidator)', () => {
  const aggregated = build({ job_id: 'j', indices: ['i'], aggregations: AGGS });

  it('aggregations need summary_count_field_name', () => {
    expectEsError(() => validateDatafeedForJob(aggregated, job()), {
      type: 'status_exception',
      reason: 'A job configured with a datafeed with aggregations must set summary_count_field_name; use doc_count or suitable alternative',
    });
    expect(() => validateDatafeedForJob(aggregated, job({ summary_count_field_name: 'doc_count' }))).not.toThrow();
  });

  it('the interval must divide the bucket span and not exceed it', () => {
    expectEsError(() => validateDatafeedForJob(aggregated, job({ summary_count_field_name: 'doc_count', bucket_span: '7m' })), {
      type: 'status_exception',
      reason: 'Aggregation interval [300000ms] must be a divisor of the bucket_span [7m]',
    });
    expectEsError(() => validateDatafeedForJob(aggregated, job({ summary_count_field_name: 'doc_count', bucket_span: '1m' })), {
      type: 'status_exception',
      reason: 'Aggregation interval [300000ms] must be less than or equal to the bucket_span [1m]',
    });
  });

  it('frequency must be a multiple of the interval', () => {
    const d = build({ job_id: 'j', indices: ['i'], aggregations: AGGS, frequency: '7m' });
    expectEsError(() => validateDatafeedForJob(d, job({ summary_count_field_name: 'doc_count' })), {
      type: 'status_exception',
      reason: 'Datafeed frequency [7m] must be a multiple of the aggregation interval [300000ms]',
    });
  });

  it('a job with latency cannot have a datafeed', () => {
    expectEsError(() => validateDatafeedForJob(build({ job_id: 'j', indices: ['i'] }), job({ latency: '1m' })), {
      type: 'status_exception',
      reason: 'A job configured with datafeed cannot support latency',
    });
  });

  it('the delayed data check window is between one and 10,000 bucket spans', () => {
    const small = build({ job_id: 'j', indices: ['i'], delayed_data_check_config: { enabled: true, check_window: '30m' } });
    expectEsError(() => validateDatafeedForJob(small, job()), {
      type: 'status_exception',
      reason: 'delayed_data_check_config: check_window [30m] must be greater than the bucket_span [1h]',
    });
    const big = build({ job_id: 'j', indices: ['i'], delayed_data_check_config: { enabled: true, check_window: '20000h' } });
    expectEsError(() => validateDatafeedForJob(big, job()), {
      type: 'status_exception',
      reason: 'delayed_data_check_config: check_window [20000h] must be less than 10,000x the bucket_span [1h]',
    });
  });
});

describe('datafeed stats view', () => {
  it('a stopped datafeed shows its state and zero timing stats, no node, explanation or running state', () => {
    const v = datafeedStatsView(build({ job_id: 'j', indices: ['i'] }), newDatafeedRuntime('feed-1'));
    expect(v).toEqual({
      datafeed_id: 'feed-1',
      state: 'stopped',
      timing_stats: {
        job_id: 'j',
        search_count: 0,
        bucket_count: 0,
        total_search_time_ms: 0,
        exponential_average_search_time_per_hour_ms: 0,
        exponential_average_calculation_context: { incremental_metric_value_ms: 0, previous_exponential_average_ms: 0 },
      },
    });
  });
});
