import { describe, expect, it } from 'vitest';
import { parseMappings } from '../../../../lib/domain/documents/mappings.ts';
import { type Candidate, filterSource, parseSearchRequest, runSearch } from '../../../../lib/domain/search/request.ts';
import { timeWindow } from '../../../../lib/domain/search/query.ts';
import { EsError } from '../../../../lib/domain/errors.ts';

const mappings = parseMappings({
  properties: { '@timestamp': { type: 'date' }, host: { type: 'keyword' }, total: { type: 'long' }, up: { type: 'boolean' }, 'a.b': { type: 'keyword' } },
});
const T0 = Date.UTC(2017, 0, 1);
const NOW = T0 + 10 * 3_600_000;
const docs: Candidate[] = Array.from({ length: 10 }, (_, h) => ({
  doc: { index: 'm', id: `d${h}`, source: { '@timestamp': T0 + h * 3_600_000, host: h % 2 ? 'b' : 'a', total: h, up: h < 5, ...(h === 3 ? { a: { b: 'x' } } : {}) } },
  mappings,
  order: h,
}));
const run = (body: unknown, params: Record<string, string> = {}) => runSearch(parseSearchRequest(JSON.stringify(body), params), docs, NOW);
const ids = (body: Record<string, unknown>) => run({ size: 100, ...body }).hits.hits.map((h) => (h as { _id: string })._id);
const error = (f: () => unknown): EsError => {
  try {
    f();
  } catch (e) {
    if (e instanceof EsError) return e;
    throw e;
  }
  throw new Error('no error');
};

describe('queries', () => {
  it('term, terms, ids, exists on a dotted object path', () => {
    expect(ids({ query: { term: { host: 'a' } } })).toEqual(['d0', 'd2', 'd4', 'd6', 'd8']);
    expect(ids({ query: { term: { total: { value: '3' } } } })).toEqual(['d3']);
    expect(ids({ query: { terms: { total: [1, 2] } } })).toEqual(['d1', 'd2']);
    expect(ids({ query: { ids: { values: ['d9'] } } })).toEqual(['d9']);
    expect(ids({ query: { exists: { field: 'a.b' } } })).toEqual(['d3']);
    expect(ids({ query: { term: { up: true } } })).toHaveLength(5);
    expect(ids({ query: { term: { unmapped: 'x' } } })).toEqual([]);
  });

  it('range with gt/gte/lt/lte, date math rounding and a format', () => {
    expect(ids({ query: { range: { total: { gt: 7 } } } })).toEqual(['d8', 'd9']);
    expect(ids({ query: { range: { '@timestamp': { gte: 'now-2h' } } } })).toEqual(['d8', 'd9']);
    // lte rounds up to the end of the unit, gt rounds up too: now/d is the whole day.
    expect(ids({ query: { range: { '@timestamp': { lte: '2017-01-01||/d' } } } })).toHaveLength(10);
    expect(ids({ query: { range: { '@timestamp': { gt: '2017-01-01||/d' } } } })).toEqual([]);
    expect(ids({ query: { range: { '@timestamp': { gte: T0 / 1000 + 3600 * 9, format: 'epoch_second' } } } })).toEqual(['d9']);
  });

  it('bool: filter, must, must_not, and should with its minimum_should_match default', () => {
    expect(ids({ query: { bool: { filter: { term: { host: 'a' } }, must_not: [{ range: { total: { lt: 6 } } }] } } })).toEqual(['d6', 'd8']);
    expect(ids({ query: { bool: { should: [{ term: { total: 1 } }, { term: { total: 2 } }] } } })).toEqual(['d1', 'd2']);
    // With a filter, should is optional (minimum_should_match 0), as in Elasticsearch.
    expect(ids({ query: { bool: { filter: [{ term: { host: 'b' } }], should: [{ term: { total: 1 } }] } } })).toHaveLength(5);
    expect(ids({ query: { bool: { should: [{ term: { host: 'a' } }, { term: { up: true } }], minimum_should_match: 2 } } })).toEqual(['d0', 'd2', 'd4']);
  });

  it('unknown, unsupported and malformed queries are 400s naming them', () => {
    const unknown = error(() => parseSearchRequest('{"query":{"foo":{}}}', {}));
    expect([unknown.type, unknown.message, unknown.metadata]).toEqual(['parsing_exception', 'unknown query [foo]', { line: 1, col: 11 }]);
    expect(error(() => parseSearchRequest('{"query":{"wildcard":{"host":"a*"}}}', {})).message).toBe('mlplane does not support the [wildcard] query yet');
    expect(error(() => parseSearchRequest('{"query":{"term":{"a":1,"b":2}}}', {})).message).toBe("[term] query doesn't support multiple fields, found [a] and [b]");
    expect(error(() => parseSearchRequest('{"foo":1}', {})).message).toBe('Unknown key for a VALUE_STRING in [foo].');
    expect(error(() => parseSearchRequest('{"highlight":{}}', {})).message).toBe('mlplane does not support the [highlight] search option yet');
    expect(error(() => parseSearchRequest('{"from":9995,"size":10}', {})).message).toMatch(
      /^Result window is too large, from \+ size must be less than or equal to: \[10000\] but was \[10005\]/,
    );
  });

  it('the time window of a query is the intersection of its ranges on the time field', () => {
    const q = parseSearchRequest(
      JSON.stringify({ query: { bool: { filter: [{ range: { '@timestamp': { gte: T0, lt: T0 + 1000 } } }, { range: { '@timestamp': { gt: T0 + 10 } } }] } } }),
      {},
    ).query;
    expect(timeWindow(q, '@timestamp', { mappings, nowMs: NOW }, 'strict_date_optional_time||epoch_millis')).toEqual({ from: T0 + 11, to: T0 + 999 });
    const should = parseSearchRequest(JSON.stringify({ query: { bool: { should: [{ range: { '@timestamp': { gte: T0 } } }] } } }), {}).query;
    expect(timeWindow(should, '@timestamp', { mappings, nowMs: NOW }, '')).toEqual({});
  });
});

describe('hits', () => {
  it('sort by fields with search_after and missing values last; _doc order; scores', () => {
    const r = run({ size: 2, sort: [{ host: 'desc' }, { total: { order: 'asc' } }] });
    expect(r.hits.hits.map((h) => (h as { sort: unknown }).sort)).toEqual([
      ['b', 1],
      ['b', 3],
    ]);
    expect(r.hits.max_score).toBeNull();
    expect(ids({ sort: [{ host: 'desc' }, { total: 'asc' }], search_after: ['b', 3], size: 2 })).toEqual(['d5', 'd7']);
    expect(ids({ sort: [{ 'a.b': 'asc' }], size: 2 })).toEqual(['d3', 'd0']);
    expect(run({ size: 1 }).hits).toMatchObject({ total: { value: 10, relation: 'eq' }, max_score: 1 });
    expect(run({ size: 1, query: { bool: { filter: { match_all: {} } } } }).hits.max_score).toBe(0);
    expect(error(() => parseSearchRequest('{"search_after":[1]}', {})).message).toBe('Sort must contain at least one field.');
  });

  it('_source includes and excludes with wildcards', () => {
    expect(filterSource({ a: { b: 1, c: 2 }, d: 3 }, ['a.*'], [])).toEqual({ a: { b: 1, c: 2 } });
    expect(filterSource({ a: { b: 1, c: 2 }, d: 3 }, [], ['a.c'])).toEqual({ a: { b: 1 }, d: 3 });
    expect(run({ size: 1, _source: false }).hits.hits[0]).not.toHaveProperty('_source');
  });

  it('track_total_hits: a bound gives gte, false gives none; size and from from the query string', () => {
    expect(run({ track_total_hits: 3 }).hits.total).toEqual({ value: 3, relation: 'gte' });
    expect(run({ track_total_hits: false }).hits.total).toBeUndefined();
    expect(run({}, { size: '1', from: '9' }).hits.hits).toHaveLength(1);
  });
});

describe('aggregations', () => {
  it('date_histogram fills empty buckets and nests max on the time field', () => {
    const r = run({
      size: 0,
      query: { terms: { total: [0, 1, 5] } },
      aggs: { h: { date_histogram: { field: '@timestamp', fixed_interval: '2h' }, aggs: { t: { max: { field: '@timestamp' } } } } },
    });
    expect(r.aggregations).toEqual({
      h: {
        buckets: [
          { key_as_string: '2017-01-01T00:00:00.000Z', key: T0, doc_count: 2, t: { value: T0 + 3_600_000, value_as_string: '2017-01-01T01:00:00.000Z' } },
          { key_as_string: '2017-01-01T02:00:00.000Z', key: T0 + 7_200_000, doc_count: 0, t: { value: null } },
          { key_as_string: '2017-01-01T04:00:00.000Z', key: T0 + 14_400_000, doc_count: 1, t: { value: T0 + 5 * 3_600_000, value_as_string: '2017-01-01T05:00:00.000Z' } },
        ],
      },
    });
  });

  it('terms by count then key, with size and order; metrics', () => {
    const r = run({
      size: 0,
      aggs: {
        hosts: { terms: { field: 'host', size: 1, order: { _key: 'desc' } }, aggs: { s: { sum: { field: 'total' } } } },
        up: { terms: { field: 'up' } },
        avg: { avg: { field: 'total' } },
        none: { avg: { field: 'unmapped' } },
        vc: { value_count: { field: 'host' } },
        card: { cardinality: { field: 'host' } },
      },
    });
    expect(r.aggregations).toEqual({
      hosts: { doc_count_error_upper_bound: 0, sum_other_doc_count: 5, buckets: [{ key: 'b', doc_count: 5, s: { value: 25 } }] },
      up: {
        doc_count_error_upper_bound: 0,
        sum_other_doc_count: 0,
        buckets: [
          { key: 0, key_as_string: 'false', doc_count: 5 },
          { key: 1, key_as_string: 'true', doc_count: 5 },
        ],
      },
      avg: { value: 4.5 },
      none: { value: null },
      vc: { value: 10 },
      card: { value: 2 },
    });
  });

  it('text fields refuse aggregations and sorting as Elasticsearch (no fielddata); their .keyword works', () => {
    const m = parseMappings({ properties: { msg: { type: 'text', fields: { keyword: { type: 'keyword' } } } } });
    const cands: Candidate[] = [{ doc: { index: 'i', id: '1', source: { msg: 'x' } }, mappings: m, order: 0 }];
    const go = (body: unknown) => runSearch(parseSearchRequest(JSON.stringify(body), {}), cands, NOW);
    expect(error(() => go({ aggs: { t: { terms: { field: 'msg' } } } })).message).toMatch(/^Fielddata is disabled on \[msg\] in \[i\]\. Text fields are not optimised/);
    expect(error(() => go({ sort: ['msg'] })).message).toMatch(/^Fielddata is disabled on \[msg\]/);
    expect(go({ aggs: { t: { terms: { field: 'msg.keyword' } } } }).aggregations).toMatchObject({ t: { buckets: [{ key: 'x', doc_count: 1 }] } });
  });

  it('unknown and unsupported aggregations, and calendar intervals that are not fixed', () => {
    const unknown = error(() => parseSearchRequest('{"aggs":{"x":{"foo":{}}}}', {}));
    expect([unknown.type, unknown.message, unknown.cause?.type, unknown.cause?.message]).toEqual([
      'x_content_parse_exception',
      '[1:15] Unknown aggregation type [foo]',
      'named_object_not_found_exception',
      '[1:15] unknown field [foo]',
    ]);
    expect(error(() => parseSearchRequest('{"aggs":{"x":{"stats":{"field":"total"}}}}', {})).message).toBe('mlplane does not support the [stats] aggregation yet');
    expect(error(() => parseSearchRequest('{"aggs":{"x":{"date_histogram":{"field":"t","calendar_interval":"1M"}}}}', {})).message).toBe(
      'mlplane does not support the [calendar_interval: 1M] date_histogram option yet',
    );
    expect(error(() => parseSearchRequest('{"aggs":{"x":{"max":{"field":"t"},"aggs":{"y":{"max":{"field":"t"}}}}}}', {})).message).toBe(
      'Aggregator [x] of type [max] cannot accept sub-aggregations',
    );
  });
});
