import { describe, expect, it } from 'vitest';
import { flattenAggregations, type FlattenContext } from '../../../../lib/domain/datafeed/aggregation-records.ts';
import { expectEsError } from '../es-error.ts';

const ctx = (over: Partial<FlattenContext> = {}): FlattenContext => ({
  timeField: 'time',
  fields: new Set(['airline', 'responsetime']),
  includeDocCount: true,
  startMs: 0,
  ...over,
});

const HISTO = {
  buckets: {
    date_histogram: { field: 'time', fixed_interval: '1h' },
    aggs: { time: { max: { field: 'time' } }, responsetime: { avg: { field: 'responsetime' } } },
  },
};

const NESTED = {
  buckets: {
    date_histogram: { field: 'time', fixed_interval: '1h' },
    aggs: {
      time: { max: { field: 'time' } },
      airline: { terms: { field: 'airline' }, aggs: { responsetime: { avg: { field: 'responsetime' } } } },
    },
  },
};

const bucket = (key: number, doc_count: number, rest: Record<string, unknown>) => ({ key_as_string: new Date(key).toISOString(), key, doc_count, ...rest });

describe('aggregation datafeed records (AggregationToJsonProcessor)', () => {
  it('each histogram bucket is one record: the max of the time field, the metrics, doc_count', () => {
    const aggs = {
      buckets: {
        buckets: [bucket(0, 2, { time: { value: 1_800_000 }, responsetime: { value: 12.5 } }), bucket(3_600_000, 1, { time: { value: 3_600_000 }, responsetime: { value: 4 } })],
      },
    };
    const out = flattenAggregations(HISTO, aggs, ctx());
    expect(out).toEqual([
      { time: 1_800_000, responsetime: 12.5, doc_count: 2 },
      { time: 3_600_000, responsetime: 4, doc_count: 1 },
    ]);
    expect(Object.keys(out[0] as object)).toEqual(['time', 'responsetime', 'doc_count']);
  });

  it('terms buckets under a histogram bucket are one record each, with the term key; empty buckets are skipped', () => {
    const aggs = {
      buckets: {
        buckets: [
          bucket(0, 3, {
            time: { value: 1000 },
            airline: {
              doc_count_error_upper_bound: 0,
              sum_other_doc_count: 0,
              buckets: [
                { key: 'AAL', doc_count: 2, responsetime: { value: 10 } },
                { key: 'JZA', doc_count: 1, responsetime: { value: 20 } },
              ],
            },
          }),
          bucket(3_600_000, 0, { time: { value: null }, airline: { buckets: [] } }),
          bucket(7_200_000, 1, { time: { value: 7_200_500 }, airline: { buckets: [{ key: 'AAL', doc_count: 1, responsetime: { value: 30 } }] } }),
        ],
      },
    };
    const out = flattenAggregations(NESTED, aggs, ctx());
    expect(out).toEqual([
      { time: 1000, airline: 'AAL', responsetime: 10, doc_count: 2 },
      { time: 1000, airline: 'JZA', responsetime: 20, doc_count: 1 },
      { time: 7_200_500, airline: 'AAL', responsetime: 30, doc_count: 1 },
    ]);
    expect(Object.keys(out[0] as object)).toEqual(['time', 'airline', 'responsetime', 'doc_count']);
  });

  it('buckets keyed before the start are dropped (the search reads one bucket early)', () => {
    const aggs = { buckets: { buckets: [bucket(0, 1, { time: { value: 10 } }), bucket(3_600_000, 1, { time: { value: 3_600_010 } })] } };
    expect(flattenAggregations(HISTO, aggs, ctx({ startMs: 3_600_000 }))).toEqual([{ time: 3_600_010, doc_count: 1 }]);
  });

  it('doc_count is only written when summary_count_field_name is doc_count; non-finite metrics and unused names are left out', () => {
    const defs = {
      buckets: {
        date_histogram: { field: 'time', fixed_interval: '1h' },
        aggs: { time: { max: { field: 'time' } }, responsetime: { avg: { field: 'responsetime' } }, other: { sum: { field: 'x' } } },
      },
    };
    const aggs = { buckets: { buckets: [bucket(0, 2, { time: { value: 5 }, responsetime: { value: null }, other: { value: 3 } })] } };
    expect(flattenAggregations(defs, aggs, ctx({ includeDocCount: false }))).toEqual([{ time: 5 }]);
  });

  it('records are written in time order', () => {
    const defs = {
      airline: { terms: { field: 'airline' }, aggs: { buckets: HISTO.buckets } },
    };
    const aggs = {
      airline: {
        buckets: [
          { key: 'B', doc_count: 1, buckets: { buckets: [bucket(3_600_000, 1, { time: { value: 3_600_000 } })] } },
          { key: 'A', doc_count: 1, buckets: { buckets: [bucket(0, 1, { time: { value: 0 } })] } },
        ],
      },
    };
    expect(flattenAggregations(defs, aggs, ctx()).map((r) => r.airline)).toEqual(['A', 'B']);
  });

  it('no aggregations in the response is no data', () => {
    expect(flattenAggregations(HISTO, undefined, ctx())).toEqual([]);
  });

  it("Elasticsearch's errors: no max on the time field, several top-level or same-level bucket aggregations, two histograms", () => {
    const noMax = {
      buckets: { date_histogram: { field: 'time', fixed_interval: '1h' }, aggs: { responsetime: { avg: { field: 'responsetime' } } } },
    };
    expectEsError(() => flattenAggregations(noMax, { buckets: { buckets: [bucket(0, 1, { responsetime: { value: 1 } })] } }, ctx()), {
      type: 'illegal_argument_exception',
      status: 400,
      reason: 'Missing max aggregation for time_field [time]',
    });
    const minTime = { buckets: { date_histogram: { field: 'time', fixed_interval: '1h' }, aggs: { time: { min: { field: 'time' } } } } };
    expectEsError(() => flattenAggregations(minTime, { buckets: { buckets: [bucket(0, 1, { time: { value: 1 } })] } }, ctx()), {
      type: 'illegal_argument_exception',
      reason: 'Missing max aggregation for time_field [time]',
    });
    expectEsError(() => flattenAggregations({ ...HISTO, more: HISTO.buckets }, { buckets: { buckets: [] }, more: { buckets: [] } }, ctx()), {
      type: 'illegal_argument_exception',
      reason: 'Multiple top level aggregations not supported; found: [buckets, more]',
    });
    const twoLevel = {
      buckets: {
        date_histogram: { field: 'time', fixed_interval: '1h' },
        aggs: { time: { max: { field: 'time' } }, airline: { terms: { field: 'airline' } }, host: { terms: { field: 'host' } } },
      },
    };
    expectEsError(() => flattenAggregations(twoLevel, { buckets: { buckets: [bucket(0, 1, { time: { value: 1 }, airline: { buckets: [] }, host: { buckets: [] } })] } }, ctx()), {
      type: 'illegal_argument_exception',
      reason: 'Multiple bucket aggregations at the same level are not supported',
    });
    const twoHisto = {
      buckets: {
        date_histogram: { field: 'time', fixed_interval: '1h' },
        aggs: { time: { max: { field: 'time' } }, inner: { date_histogram: { field: 'time', fixed_interval: '1m' } } },
      },
    };
    expectEsError(() => flattenAggregations(twoHisto, { buckets: { buckets: [bucket(0, 1, { time: { value: 1 }, inner: { buckets: [] } })] } }, ctx()), {
      type: 'illegal_argument_exception',
      reason: 'More than one composite or date_histogram cannot be used in the aggregation. [inner] is another instance of a composite or date_histogram aggregation',
    });
  });
});
