import { describe, expect, it } from 'vitest';
import { evalArrayCompare, evalCompare, evalPath, lenientCompare } from '../../../../lib/domain/watcher/compare.ts';

const NOW = Date.parse('2026-01-10T12:00:00.000Z');
const ctx = (payload: unknown) => ({ ctx: { payload, execution_time: new Date(NOW) } });

describe('lenientCompare', () => {
  it('compares numerically when the configured value is a number, parsing strings', () => {
    expect(lenientCompare(5, 3)).toBe(1);
    expect(lenientCompare('5', 7)).toBe(-1);
    expect(lenientCompare(' 2.5 ', 2.5)).toBe(0);
    expect(lenientCompare('abc', 1)).toBeUndefined();
    expect(lenientCompare(true, 1)).toBeUndefined();
  });

  it('compares as strings when the configured value is a string, stringifying the left side', () => {
    expect(lenientCompare(10, '10')).toBe(0);
    expect(lenientCompare(10, '9')).toBe(-1); // "10" < "9" as strings
    expect(lenientCompare(true, 'true')).toBe(0);
    expect(lenientCompare([1, 2], '[1, 2]')).toBe(0);
    expect(lenientCompare({ a: 1 }, '{a=1}')).toBe(0);
  });

  it('compares dates from date strings and epoch millis', () => {
    const d = new Date('2026-01-01T00:00:00.000Z');
    expect(lenientCompare('2026-01-02', d)).toBe(1);
    expect(lenientCompare(d.getTime() - 1, d)).toBe(-1);
    expect(lenientCompare('yesterday', d)).toBeUndefined();
    expect(lenientCompare(true, d)).toBeUndefined();
  });

  it('treats nulls as equal only to null, and NaN as not comparable', () => {
    expect(lenientCompare(null, null)).toBe(0);
    expect(lenientCompare(undefined, null)).toBe(0);
    expect(lenientCompare(null, 1)).toBeUndefined();
    expect(lenientCompare(1, null)).toBeUndefined();
    expect(lenientCompare(Number.NaN, 1)).toBeUndefined();
  });

  it('orders booleans, maps and lists only through equality', () => {
    expect(lenientCompare({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(0);
    expect(lenientCompare({ a: 1 }, { a: 2 })).toBeUndefined();
    expect(lenientCompare(false, true)).toBeUndefined();
  });
});

describe('evalPath', () => {
  it('walks maps and list indices, giving undefined for a missing step', () => {
    const m = { a: { b: [10, { c: 'x' }] } };
    expect(evalPath('a.b.1.c', m)).toBe('x');
    expect(evalPath('a.b.5', m)).toBeUndefined();
    expect(evalPath('a.b.x', m)).toBeUndefined();
    expect(evalPath('a.b.0.c', m)).toBeUndefined();
    expect(evalPath('', m)).toBe(m);
  });
});

describe('evalCompare', () => {
  it('gives the result shape with the resolved path value', () => {
    expect(evalCompare({ path: 'ctx.payload.match', op: 'eq', value: 'true' }, ctx({ match: 'true' }), NOW)).toEqual({
      type: 'compare',
      status: 'success',
      met: true,
      compare: { resolved_values: { 'ctx.payload.match': 'true' } },
    });
  });

  it('holds not_eq and fails every other operator on a missing path', () => {
    const model = ctx({});
    for (const op of ['eq', 'lt', 'lte', 'gt', 'gte'] as const) {
      expect(evalCompare({ path: 'ctx.payload.n', op, value: 1 }, model, NOW).met).toBe(false);
    }
    const r = evalCompare({ path: 'ctx.payload.n', op: 'not_eq', value: 1 }, model, NOW);
    expect(r.met).toBe(true);
    expect(r.compare?.resolved_values).toEqual({ 'ctx.payload.n': null });
  });

  it('resolves <{date math}> against the clock and records it formatted', () => {
    const r = evalCompare({ path: 'ctx.execution_time', op: 'gte', value: '<{now-5m}>' }, ctx({}), NOW);
    expect(r.met).toBe(true);
    expect(r.compare?.resolved_values).toEqual({ 'now-5m': '2026-01-10T11:55:00.000Z', 'ctx.execution_time': new Date(NOW) });
    expect(evalCompare({ path: 'ctx.payload.t', op: 'lt', value: '<{now/d}>' }, ctx({ t: '2026-01-09T23:59:59Z' }), NOW).met).toBe(true);
  });

  it('resolves {{ctx.path}} configured values from the model', () => {
    const r = evalCompare({ path: 'ctx.payload.a', op: 'gt', value: '{{ctx.payload.b}}' }, ctx({ a: 5, b: 3 }), NOW);
    expect(r.met).toBe(true);
    expect(r.compare?.resolved_values).toEqual({ 'ctx.payload.b': 3, 'ctx.payload.a': 5 });
  });

  it('compares objects and arrays with eq and not_eq', () => {
    const model = ctx({ o: { x: [1, 2] } });
    expect(evalCompare({ path: 'ctx.payload.o', op: 'eq', value: { x: [1, 2] } }, model, NOW).met).toBe(true);
    expect(evalCompare({ path: 'ctx.payload.o', op: 'not_eq', value: { x: [1] } }, model, NOW).met).toBe(true);
  });
});

describe('evalArrayCompare', () => {
  const hits = ctx({ hits: [{ v: 1 }, { v: 5 }, { v: 'x' }] });

  it('holds some when one element matches and all only when every element does', () => {
    expect(evalArrayCompare({ arrayPath: 'ctx.payload.hits', path: 'v', op: 'gte', value: 5, quantifier: 'some' }, hits, NOW).met).toBe(true);
    expect(evalArrayCompare({ arrayPath: 'ctx.payload.hits', path: 'v', op: 'gte', value: 0, quantifier: 'all' }, hits, NOW).met).toBe(false);
  });

  it('fails not_eq on a not-comparable element, unlike compare', () => {
    const one = ctx({ hits: [{ v: 'x' }] });
    expect(evalArrayCompare({ arrayPath: 'ctx.payload.hits', path: 'v', op: 'not_eq', value: 1, quantifier: 'some' }, one, NOW).met).toBe(false);
  });

  it('treats a missing array as empty and records the array under its path', () => {
    const r = evalArrayCompare({ arrayPath: 'ctx.payload.none', path: '', op: 'eq', value: 1, quantifier: 'all' }, ctx({}), NOW);
    expect(r).toEqual({ type: 'array_compare', status: 'success', met: true, array_compare: { resolved_values: { 'ctx.payload.none': [] } } });
  });

  it('refuses an array path that holds a non-list', () => {
    expect(() => evalArrayCompare({ arrayPath: 'ctx.payload', path: '', op: 'eq', value: 1, quantifier: 'some' }, ctx({ a: 1 }), NOW)).toThrow(
      'array path ctx.payload did not evaluate to array, was {a=1}',
    );
  });
});
