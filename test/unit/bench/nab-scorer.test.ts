import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNabTimestamp } from '../../../examples/nab/nab.ts';
import { optimizeThreshold, PROFILES, probationRows, type ScoredFile, scaledSigmoid, scoreFile, scoreProfile } from '../../../bench/nab/scorer.ts';

const MIN = 60_000;
const STD = PROFILES.standard;

/** A file of `n` one-minute rows with one window over rows [a, b] and the given detections. */
function file(n: number, windows: [number, number][], detections: number[], name = 'f'): ScoredFile {
  const times = Array.from({ length: n }, (_, i) => i * MIN);
  const scores = times.map(() => 0);
  for (const i of detections) scores[i] = 1;
  return { name, times, scores, windows: windows.map(([a, b]) => ({ start: a * MIN, end: b * MIN })) };
}

describe('NAB scorer', () => {
  it('has the probationary period of NAB (15% of the rows, at most 750)', () => {
    expect(probationRows(100)).toBe(15);
    expect(probationRows(4032)).toBe(604);
    expect(probationRows(1127)).toBe(169);
    expect(probationRows(15_902)).toBe(750);
  });

  it('weighs a detection inside a window by the scaled sigmoid of its position, exactly tp at the first row', () => {
    // 1000 rows (probation 150), one window of 201 rows at [400, 600].
    expect(scoreFile(file(1000, [[400, 600]], [400]), 1, STD).raw).toBeCloseTo(1, 12);
    // NAB's published TP at offset 101 of a 201-row window (numenta, ec2_cpu_utilization_24ae8d).
    expect(scoreFile(file(1000, [[400, 600]], [501]), 1, STD).raw).toBeCloseTo(0.8580156828312717, 12);
    expect(scoreFile(file(1000, [[400, 600]], [600]), 1, STD).raw).toBeCloseTo(0.01260590854538776, 12);
    // Only the earliest detection counts; later ones neither add nor cost.
    expect(scoreFile(file(1000, [[400, 600]], [501, 550, 599]), 1, STD).raw).toBeCloseTo(0.8580156828312717, 12);
  });

  it('charges a missed window fn and a false positive fp, less just after a window', () => {
    expect(scoreFile(file(1000, [[400, 600]], []), 1, STD)).toMatchObject({ raw: -1, tp: 0, fn: 1, fp: 0 });
    expect(scoreFile(file(1000, [[400, 600]], [], 'x'), 1, PROFILES.reward_low_FN_rate).raw).toBe(-2);
    // Before any window: −fp. One row after a 201-row window: σ(1/200)·fp.
    expect(scoreFile(file(1000, [[400, 600]], [200, 400]), 1, STD).raw).toBeCloseTo(1 - 0.11, 12);
    expect(scoreFile(file(1000, [[400, 600]], [400, 601]), 1, STD).raw).toBeCloseTo(1 + 0.11 * scaledSigmoid(1 / 200), 12);
    expect(0.11 * scaledSigmoid(1 / 200)).toBeCloseTo(-0.00137493, 8);
    // More than three window lengths after it: −fp again.
    expect(scoreFile(file(2000, [[400, 600]], [400, 1300]), 1, STD).raw).toBeCloseTo(1 - 0.11, 12);
  });

  it('ignores detections in the probationary period', () => {
    expect(scoreFile(file(1000, [[400, 600]], [10, 100, 149]), 1, STD)).toMatchObject({ raw: -1, fp: 0 });
    expect(scoreFile(file(1000, [[400, 600]], [150]), 1, STD)).toMatchObject({ fp: 1 });
  });

  it('normalizes between the null detector (0) and the perfect one (100)', () => {
    const files = [
      file(1000, [[400, 600]], [], 'a'),
      file(
        1000,
        [
          [300, 350],
          [700, 800],
        ],
        [],
        'b',
      ),
    ];
    expect(scoreProfile(files, 'standard', STD).score).toBe(0);
    const perfect = [
      file(1000, [[400, 600]], [400], 'a'),
      file(
        1000,
        [
          [300, 350],
          [700, 800],
        ],
        [300, 700],
        'b',
      ),
    ];
    const r = scoreProfile(perfect, 'standard', STD);
    expect(r.score).toBeCloseTo(100, 10);
    expect([r.nullRaw, r.perfectRaw]).toEqual([-3, 3]);
  });

  it('optimizes one threshold over all files, trying every distinct score (the higher one on ties)', () => {
    const a = file(1000, [[400, 600]], [], 'a');
    const scores = a.scores.slice();
    scores[450] = 0.9; // a TP
    scores[200] = 0.8; // an FP: costs 0.11, not worth detecting alone
    scores[300] = 0.95; // an FP above the TP: 1 − 0.11·... still worth it
    const f = { ...a, scores };
    const best = optimizeThreshold([f], STD);
    expect(best.threshold).toBe(0.9);
    expect(best.raw).toBeCloseTo(scoreFile(f, 0.9, STD).raw, 12);
    expect(scoreFile(f, 0.8, STD).raw).toBeLessThan(best.raw);
    // Nothing worth detecting: the sweep's start, 1.1.
    const g = { ...a, scores: a.scores.map((_, i) => (i === 200 ? 0.5 : 0)) };
    expect(optimizeThreshold([g], STD).threshold).toBe(1.1);
  });

  // NAB's published per-file results of its windowedGaussian detector (a deterministic one), at
  // its published threshold 1.0, against the per-file scores NAB published for them.
  const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'nab');
  const published: [string, string, number][] = [
    ['realTraffic', 'speed_7578', 3.47059145681],
    ['realAdExchange', 'exchange-4_cpm_results', 1.27471036268],
    ['realTraffic', 'TravelTime_387', -1.79598133079],
  ];
  const windows = JSON.parse(readFileSync(join(fixtures, 'combined_windows.json'), 'utf8')) as Record<string, [string, string][]>;
  for (const [category, name, expected] of published) {
    it(`reproduces NAB's published standard score of windowedGaussian on ${name} (${expected})`, () => {
      const rows = readFileSync(join(fixtures, `windowedGaussian_${name}.csv`), 'utf8')
        .trim()
        .split('\n')
        .slice(1);
      const times = rows.map((r) => parseNabTimestamp(r.split(',')[0] as string));
      const scores = rows.map((r) => Number(r.split(',')[1]));
      const w = (windows[`${category}/${name}.csv`] ?? []).map(([s, e]) => ({ start: parseNabTimestamp(s), end: parseNabTimestamp(e) }));
      const r = scoreFile({ name, times, scores, windows: w }, 1.0, STD);
      expect(r.raw).toBeCloseTo(expected, 9);
    });
  }
});
