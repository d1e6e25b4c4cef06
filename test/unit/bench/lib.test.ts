import { describe, expect, it } from 'vitest';
import { figuresOf, toFigure } from '../../../bench/lib.ts';

describe('benchmark figures', () => {
  it('computes met from the measured value and a minimum goal', () => {
    expect(toFigure({ figure: 'rate', measured: 50_000, unit: 'records/s', goal: { min: 50_000 } }).met).toBe(true);
    expect(toFigure({ figure: 'rate', measured: 49_999, unit: 'records/s', goal: { min: 50_000 } }).met).toBe(false);
  });

  it('computes met from the measured value and a maximum goal', () => {
    expect(toFigure({ figure: 'close', measured: 3000, unit: 'ms', goal: { max: 3000 } })).toEqual({
      figure: 'close',
      measured: 3000,
      unit: 'ms',
      goal: { max: 3000 },
      met: true,
    });
    expect(toFigure({ figure: 'close', measured: 3001, unit: 'ms', goal: { max: 3000 } }).met).toBe(false);
  });

  it('writes an unmeasured value as null, which never meets its goal', () => {
    expect(toFigure({ figure: 'x', measured: Number.NaN, unit: 'ms', goal: { max: 1 } })).toMatchObject({ measured: null, met: false });
    expect(toFigure({ figure: 'x', measured: undefined, unit: 'ms', goal: { min: 0 } })).toMatchObject({ measured: null, met: false });
  });

  it('gives a figure without a goal met null (informative)', () => {
    expect(toFigure({ figure: 'x', measured: 5, unit: 'ms' })).toMatchObject({ goal: null, met: null });
  });

  it('ignores a met set by hand in the old targets form and measures results[target]', () => {
    const figures = figuresOf({
      results: { recordsPerSecond: 10_000, other: 'x' },
      targets: { recordsPerSecond: { min: 20_000, unit: 'records/s' }, missing: { max: 1, unit: 'ms' } },
      met: { recordsPerSecond: true, missing: true },
    });
    expect(figures).toEqual([
      { figure: 'recordsPerSecond', measured: 10_000, unit: 'records/s', goal: { min: 20_000 }, met: false },
      { figure: 'missing', measured: null, unit: 'ms', goal: { max: 1 }, met: false },
    ]);
  });
});
