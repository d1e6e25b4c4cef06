import { describe, expect, it } from 'vitest';
import { AnomalyModel, type AnalysisSpec, type BucketResult, type DetectorSpec, type InputRecord, type ModelPlotResult } from '../../../lib/detect/index.ts';
import { MINUTE, T0, bucketsOf, gaussian, makeSpec, rng, stable } from './helpers.ts';

const SPAN = 10 * MINUTE;
const HOSTS = ['web-1', 'web-2', 'db-1'];

/** Mean by host ~N(100, 5²), two records per host and bucket; web-1 has 300 in bucket 150. */
function hostRecords(buckets: number, seed = 3): InputRecord[] {
  const g = gaussian(rng(seed));
  return bucketsOf(buckets, SPAN, (b) =>
    HOSTS.flatMap((host) => [0, 1].map(() => ({ host, dc: host.startsWith('web') ? 'eu' : 'us', v: b === 150 && host === 'web-1' ? 300 : 100 + 5 * g() }))),
  );
}

function run(detector: Partial<DetectorSpec>, over: Partial<AnalysisSpec>, recs: InputRecord[]): BucketResult[] {
  const m = AnomalyModel.create(makeSpec(detector, { bucketSpanMs: SPAN, ...over }));
  return [...m.ingest(recs).buckets, ...m.finalizeAll()];
}

const meanByHost: Partial<DetectorSpec> = { function: 'mean', field_name: 'v', by_field_name: 'host' };
const plots = (out: BucketResult[]): ModelPlotResult[] => out.flatMap((b) => b.model_plot ?? []);

describe('model plot', () => {
  const recs = hostRecords(200);
  const out = run(meanByHost, { modelPlot: { enabled: true } }, recs);

  it('writes one Elasticsearch model_plot document per series on each final bucket after the warm-up', () => {
    expect(out).toHaveLength(200);
    expect(out.every((b) => Array.isArray(b.model_plot))).toBe(true);
    const b = out[100]!;
    expect(b.model_plot!.map((p) => p.by_field_value).sort()).toEqual([...HOSTS].sort());
    expect(b.model_plot![0]).toMatchObject({
      job_id: 'job-1',
      result_type: 'model_plot',
      bucket_span: 600,
      detector_index: 0,
      timestamp: b.timestamp,
      model_feature: 'mean',
      by_field_name: 'host',
    });
    expect(b.model_plot![0]).not.toHaveProperty('partition_field_name');
    expect(b.model_plot![0]).not.toHaveProperty('is_interim');
  });

  it('skips series in their warm-up', () => {
    expect(out.slice(0, 8).every((b) => b.model_plot!.length === 0)).toBe(true);
    expect(out[8]!.model_plot).toHaveLength(3);
  });

  it('gives bounds with lower ≤ median ≤ upper that cover ordinary values and not the anomaly', () => {
    const all = plots(out);
    expect(all.length).toBe(3 * 192);
    expect(all.every((p) => p.model_lower <= p.model_median && p.model_median <= p.model_upper && p.model_lower < p.model_upper)).toBe(true);
    const ordinary = all.filter((p) => p.timestamp >= T0 + 50 * SPAN && !(p.timestamp === T0 + 150 * SPAN && p.by_field_value === 'web-1'));
    const inside = ordinary.filter((p) => p.actual >= p.model_lower && p.actual <= p.model_upper).length / ordinary.length;
    expect(inside).toBeGreaterThan(0.9);
    // The mean of two N(100, 5²) values: a 95% interval about ±7 wide around 100, give or take the model's caution.
    const mid = out[120]!.model_plot![0]!;
    expect(mid.model_median).toBeGreaterThan(95);
    expect(mid.model_median).toBeLessThan(105);
    expect(mid.model_upper - mid.model_lower).toBeGreaterThan(8);
    expect(mid.model_upper - mid.model_lower).toBeLessThan(40);
    const spike = out[150]!.model_plot!.find((p) => p.by_field_value === 'web-1')!;
    expect(spike.actual).toBe(300);
    expect(spike.actual).toBeGreaterThan(spike.model_upper);
    // The median is the record's typical, the actual its actual.
    const rec = out[150]!.records.find((r) => r.by_field_value === 'web-1')!;
    expect(rec.typical[0]).toBe(spike.model_median);
    expect(rec.actual[0]).toBe(spike.actual);
  });

  it('restricts the series to the comma-separated terms, by or partition value', () => {
    const byTerms = run(meanByHost, { modelPlot: { enabled: true, terms: 'web-1, db-1,nothing' } }, recs);
    expect(new Set(plots(byTerms).map((p) => p.by_field_value))).toEqual(new Set(['web-1', 'db-1']));
    const partTerms = run({ ...meanByHost, partition_field_name: 'dc' }, { modelPlot: { enabled: true, terms: 'us' } }, recs);
    const parts = plots(partTerms);
    expect(parts.length).toBeGreaterThan(0);
    expect(parts.every((p) => p.partition_field_name === 'dc' && p.partition_field_value === 'us' && p.by_field_value === 'db-1')).toBe(true);
  });

  it('leaves the other results unchanged, and adds no model_plot key when disabled or absent', () => {
    const off = run(meanByHost, { modelPlot: { enabled: false, terms: 'web-1' } }, recs);
    const none = run(meanByHost, {}, recs);
    expect(off.every((b) => !('model_plot' in b))).toBe(true);
    expect(stable(off)).toEqual(stable(none));
    expect(stable(out.map(({ model_plot: _p, ...b }) => b))).toEqual(stable(none));
  });

  it('plots each feature of a metric detector', () => {
    const metric = run({ function: 'metric', field_name: 'v', by_field_name: 'host' }, { modelPlot: { enabled: true, terms: 'web-2' } }, recs);
    expect(metric[100]!.model_plot!.map((p) => p.model_feature)).toEqual(['min', 'mean', 'max']);
    expect(metric[100]!.model_plot!.every((p) => p.model_lower <= p.model_median && p.model_median <= p.model_upper)).toBe(true);
  });

  it('keeps count bounds at or above zero and plots empty buckets of a count series with actual 0', () => {
    const g = gaussian(rng(9));
    const sparse = bucketsOf(120, SPAN, (b) => (b === 100 ? [] : Array.from({ length: Math.max(0, Math.round(1 + g())) }, () => ({}))));
    const cnt = run({ function: 'count' }, { modelPlot: { enabled: true } }, sparse);
    const all = plots(cnt);
    expect(all.length).toBeGreaterThan(100);
    expect(all.every((p) => p.model_lower >= 0 && p.model_lower <= p.model_median && p.model_median <= p.model_upper)).toBe(true);
    expect(all.every((p) => p.model_feature === 'count' && !('by_field_name' in p))).toBe(true);
    expect(cnt[100]!.model_plot![0]!.actual).toBe(0);
    // With terms set, a detector without by/partition fields has no series to plot.
    expect(plots(run({ function: 'count' }, { modelPlot: { enabled: true, terms: 'x' } }, sparse))).toEqual([]);
  });

  it('writes no model plot for interim results', () => {
    const m = AnomalyModel.create(makeSpec(meanByHost, { bucketSpanMs: SPAN, modelPlot: { enabled: true } }));
    m.ingest(recs.filter((r) => r.timeMs < T0 + 100 * SPAN + SPAN / 2));
    const { interim } = m.flush({ calcInterim: true });
    expect(interim).toHaveLength(1);
    expect(interim[0]).not.toHaveProperty('model_plot');
  });
});
