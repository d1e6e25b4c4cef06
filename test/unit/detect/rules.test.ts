import { describe, expect, it } from 'vitest';
import { AnomalyModel, ModelStateError, type AnalysisSpec, type BucketResult, type DetectionRule, type DetectorSpec, type InputRecord } from '../../../lib/detect/index.ts';
import { MINUTE, T0, bucketsOf, gaussian, makeSpec, rng, stable } from './helpers.ts';

const SPAN = 10 * MINUTE;
/** Bucket start of bucket b, epoch seconds (what a `time` condition compares). */
const bucketS = (b: number) => (T0 + b * SPAN) / 1000;

/** A mean series ~N(100, 5²), one record per bucket, with `spikes` (bucket → value). */
function meanRecords(buckets: number, spikes: Record<number, number>, seed = 31): InputRecord[] {
  const g = gaussian(rng(seed));
  return bucketsOf(buckets, SPAN, (b) => [{ v: spikes[b] ?? 100 + 5 * g() }]);
}

function runAll(spec: AnalysisSpec, recs: InputRecord[]): BucketResult[] {
  const m = AnomalyModel.create(spec);
  return [...m.ingest(recs).buckets, ...m.finalizeAll()];
}

const meanSpec = (rules?: DetectionRule[], over: Partial<AnalysisSpec> = {}) =>
  makeSpec({ function: 'mean', field_name: 'v', ...(rules ? { custom_rules: rules } : {}) }, { bucketSpanMs: SPAN, ...over });

/** Hosts with ~N(40, 4²) events a bucket each; every host spikes to 120 in the `spikes` buckets. */
function hostCounts(hosts: string[], buckets: number, spikes: number[], field = 'host', extra: (h: string) => Record<string, unknown> = () => ({})) {
  const g = gaussian(rng(5));
  return bucketsOf(buckets, SPAN, (b) =>
    hosts.flatMap((h) => Array.from({ length: spikes.includes(b) ? 120 : Math.max(1, Math.round(40 + 4 * g())) }, () => ({ [field]: h, ...extra(h) }))),
  );
}

const countBy = (rules: DetectionRule[] | undefined, filters?: Record<string, string[]>, detector: Partial<DetectorSpec> = {}) =>
  makeSpec({ function: 'count', by_field_name: 'host', ...(rules ? { custom_rules: rules } : {}), ...detector }, { bucketSpanMs: SPAN, ...(filters ? { filters } : {}) });

/** by_field_values of the records of bucket b. */
const flagged = (out: BucketResult[], b: number) => (out[b]?.records ?? []).map((r) => r.by_field_value ?? '').sort();

/** The serialized series section of a model: from the first series named `first` to the end (no open buckets). */
function seriesSection(m: AnomalyModel, first: string): Buffer {
  const buf = Buffer.from(m.serialize());
  const name = Buffer.from(first, 'utf8');
  const tag = Buffer.alloc(4 + name.length);
  tag.writeUInt32LE(name.length, 0);
  name.copy(tag, 4);
  const i = buf.indexOf(tag);
  expect(i).toBeGreaterThan(0);
  return buf.subarray(i);
}

describe('custom rules: skip_result', () => {
  it('suppresses the record of a spike whose actual is above the condition value and keeps the model learning from it', () => {
    const recs = meanRecords(300, { 200: 500, 250: 140 });
    const plain = runAll(meanSpec(), recs);
    const skip = runAll(meanSpec([{ actions: ['skip_result'], conditions: [{ applies_to: 'actual', operator: 'gt', value: 400 }] }]), recs);
    const frozen = runAll(meanSpec([{ actions: ['skip_model_update'], conditions: [{ applies_to: 'actual', operator: 'gt', value: 400 }] }]), recs);
    expect(plain[200]!.records).toHaveLength(1);
    // Minor or above after 200 buckets of history (the normaliser ranks a score among those seen so far).
    expect(plain[200]!.anomaly_score).toBeGreaterThan(25);
    expect(skip[200]!.records).toEqual([]);
    expect(skip[200]!.anomaly_score).toBe(0);
    expect(skip[200]!.bucket_influencers[0]!.probability).toBe(1);
    // The later, smaller anomaly is still reported, with the typical of a model that learnt the spike.
    const later = skip[250]!.records[0]!;
    expect(later.actual).toEqual([140]);
    expect(later.typical).toEqual(plain[250]!.records[0]!.typical);
    expect(later.typical).not.toEqual(frozen[250]!.records[0]!.typical);
  });

  it('applies diff_from_typical and typical conditions against the model prediction', () => {
    const g = gaussian(rng(8));
    // Host "big" ~N(1000, 20²), host "small" ~N(100, 5²); both shift by +50% in bucket 200.
    const recs = bucketsOf(300, SPAN, (b) => [
      { host: 'big', v: (b === 200 ? 1500 : 1000) + 20 * g() },
      { host: 'small', v: (b === 200 ? 150 : 100) + 5 * g() },
    ]);
    const spec = (rules: DetectionRule[]) => makeSpec({ function: 'mean', field_name: 'v', by_field_name: 'host', custom_rules: rules }, { bucketSpanMs: SPAN });
    const diff = runAll(spec([{ actions: ['skip_result'], conditions: [{ applies_to: 'diff_from_typical', operator: 'lt', value: 100 }] }]), recs);
    expect(flagged(diff, 200)).toEqual(['big']);
    const typical = runAll(spec([{ actions: ['skip_result'], conditions: [{ applies_to: 'typical', operator: 'gte', value: 500 }] }]), recs);
    expect(flagged(typical, 200)).toEqual(['small']);
    const both = runAll(
      spec([
        {
          actions: ['skip_result'],
          conditions: [
            { applies_to: 'typical', operator: 'gte', value: 500 },
            { applies_to: 'actual', operator: 'lt', value: 1200 },
          ],
        },
      ]),
      recs,
    );
    // ALL conditions must hold: big's actual (~1500) is not < 1200, so big is still reported.
    expect(flagged(both, 200)).toEqual(['big', 'small']);
  });
});

describe('custom rules: skip_model_update', () => {
  it('leaves the series statistics byte-identical to a model that never saw the bucket, while still reporting it', () => {
    const rule: DetectionRule = { actions: ['skip_model_update'], conditions: [{ applies_to: 'actual', operator: 'gt', value: 500 }] };
    const spec = (rules?: DetectionRule[]) =>
      makeSpec({ function: 'mean', field_name: 'v', by_field_name: 'host', ...(rules ? { custom_rules: rules } : {}) }, { bucketSpanMs: SPAN });
    /** 60 buckets of host-a and host-b ~N(100, 5²); in bucket 40 host-a has 1000 (withSpike) or no record. */
    const seeded = (rules: DetectionRule[] | undefined, withSpike: boolean) => {
      const g = gaussian(rng(12));
      const m = AnomalyModel.create(spec(rules));
      const recs = bucketsOf(60, SPAN, (b) => {
        const out: Record<string, unknown>[] = [{ host: 'host-b', v: 100 + 5 * g() }];
        const a = 100 + 5 * g();
        if (b !== 40) out.unshift({ host: 'host-a', v: a });
        else if (withSpike) out.unshift({ host: 'host-a', v: 1000 });
        return out;
      });
      const out = m.ingest(recs).buckets;
      out.push(...m.flush({ advanceTimeMs: T0 + 60 * SPAN }).buckets);
      return { m, out };
    };
    const ruled = seeded([rule], true);
    const never = seeded(undefined, false);
    const learnt = seeded(undefined, true);
    expect(ruled.out).toHaveLength(60);
    // The result is still reported (no skip_result).
    expect(flagged(ruled.out, 40)).toEqual(['host-a']);
    expect(ruled.out[40]!.records[0]!.actual).toEqual([1000]);
    // Every series' state (host-a first, then host-b) equals that of the model that never saw the spike…
    expect(seriesSection(ruled.m, 'host-a').equals(seriesSection(never.m, 'host-a'))).toBe(true);
    // …and differs from a model that learnt it.
    expect(seriesSection(learnt.m, 'host-a').equals(seriesSection(never.m, 'host-a'))).toBe(false);
    // Later results agree too.
    expect(ruled.out.slice(41).map((b) => b.records.map((r) => r.typical))).toEqual(never.out.slice(41).map((b) => b.records.map((r) => r.typical)));
  });
});

describe('custom rules: conditions before the model has learnt', () => {
  it('never holds a typical condition for a series that has learnt nothing, so it starts learning', () => {
    const recs = meanRecords(100, { 80: 300 });
    const rule: DetectionRule = { actions: ['skip_model_update'], conditions: [{ applies_to: 'typical', operator: 'lt', value: 50 }] };
    // Before the first bucket there is no typical (not 0): the first value is learnt, typical is ~100 afterwards.
    expect(stable(runAll(meanSpec([rule]), recs))).toEqual(stable(runAll(meanSpec(), recs)));
  });
});

describe('custom rules: time conditions', () => {
  it('skips results of buckets inside a time window and reports those outside it', () => {
    const recs = meanRecords(300, { 150: 300, 250: 300 });
    const rule: DetectionRule = {
      actions: ['skip_result'],
      conditions: [
        { applies_to: 'time', operator: 'gte', value: bucketS(140) },
        { applies_to: 'time', operator: 'lt', value: bucketS(160) },
      ],
    };
    const out = runAll(meanSpec([rule]), recs);
    expect(out[150]!.records).toEqual([]);
    expect(out[150]!.anomaly_score).toBe(0);
    expect(out[250]!.records).toHaveLength(1);
    expect(out[250]!.anomaly_score).toBeGreaterThan(25);
    // The boundary is the bucket start in seconds: a rule ending at bucket 150's start does not cover it.
    const before = runAll(meanSpec([{ ...rule, conditions: [{ applies_to: 'time', operator: 'lt', value: bucketS(150) }] }]), recs);
    expect(before[150]!.records).toHaveLength(1);
  });

  it('applies during the warm-up: skip_model_update before a time learns nothing from those buckets', () => {
    const hosts = ['a'];
    const all = hostCounts(hosts, 30, []);
    const spec = countBy([{ actions: ['skip_model_update'], conditions: [{ applies_to: 'time', operator: 'lt', value: bucketS(5) }] }]);
    const ruled = AnomalyModel.create(spec);
    ruled.ingest(all);
    ruled.flush({ advanceTimeMs: T0 + 30 * SPAN });
    const late = AnomalyModel.create(countBy(undefined));
    late.ingest(all.filter((r) => r.timeMs >= T0 + 5 * SPAN));
    late.flush({ advanceTimeMs: T0 + 30 * SPAN });
    const plain = AnomalyModel.create(countBy(undefined));
    plain.ingest(all);
    plain.flush({ advanceTimeMs: T0 + 30 * SPAN });
    expect(seriesSection(ruled, 'a').equals(seriesSection(late, 'a'))).toBe(true);
    expect(seriesSection(plain, 'a').equals(seriesSection(late, 'a'))).toBe(false);
  });
});

describe('custom rules: scope and filters', () => {
  const hosts = ['web-1', 'web-2', 'db-1'];
  const recs = hostCounts(hosts, 220, [200]);

  it('with an include filter skips only the series whose by value is in the filter', () => {
    const out = runAll(countBy([{ actions: ['skip_result'], scope: { host: { filter_id: 'quiet', filter_type: 'include' } } }], { quiet: ['web-1'] }), recs);
    expect(flagged(out, 200)).toEqual(['db-1', 'web-2']);
  });

  it('with an exclude filter skips only the series whose by value is not in the filter', () => {
    const out = runAll(countBy([{ actions: ['skip_result'], scope: { host: { filter_id: 'quiet', filter_type: 'exclude' } } }], { quiet: ['web-1'] }), recs);
    expect(flagged(out, 200)).toEqual(['web-1']);
  });

  it('combines scope and conditions: both must hold', () => {
    const rule: DetectionRule = {
      actions: ['skip_result'],
      scope: { host: { filter_id: 'quiet', filter_type: 'include' } },
      conditions: [{ applies_to: 'actual', operator: 'lt', value: 100 }],
    };
    // web-1 is in scope but its spike (120) fails the condition.
    expect(flagged(runAll(countBy([rule], { quiet: ['web-1'] }), recs), 200)).toEqual(['db-1', 'web-1', 'web-2']);
  });

  it('matches wildcard filter items at the start, end or both ends, and exact items exactly', () => {
    const names = ['web-1', 'web-2', 'x-db', 'lab-3', 'web', 'webby', 'other'];
    const many = hostCounts(names, 220, [200]);
    const skipIn = (items: string[]) =>
      flagged(runAll(countBy([{ actions: ['skip_result'], scope: { host: { filter_id: 'f', filter_type: 'include' } } }], { f: items }), many), 200);
    expect(skipIn([])).toEqual([...names].sort());
    expect(skipIn(['web-*'])).toEqual(['lab-3', 'other', 'web', 'webby', 'x-db']);
    expect(skipIn(['*-db'])).toEqual(['lab-3', 'other', 'web', 'web-1', 'web-2', 'webby']);
    expect(skipIn(['*ab*'])).toEqual(['other', 'web', 'web-1', 'web-2', 'webby', 'x-db']);
    expect(skipIn(['web'])).toEqual(['lab-3', 'other', 'web-1', 'web-2', 'webby', 'x-db']);
    expect(skipIn(['*'])).toEqual([]);
  });

  it('scopes on the partition field value', () => {
    const both = hostCounts(hosts, 220, [200], 'host', (h) => ({ dc: h.startsWith('web') ? 'eu' : 'us' }));
    const spec = countBy([{ actions: ['skip_result'], scope: { dc: { filter_id: 'dcs', filter_type: 'include' } } }], { dcs: ['eu'] }, { partition_field_name: 'dc' });
    expect(flagged(runAll(spec, both), 200)).toEqual(['db-1']);
  });

  it('does nothing when the scope matches no series, names a missing include filter or a field the detector does not split by', () => {
    const expected = stable(runAll(countBy(undefined), recs));
    expect(expected[200]).toBeDefined();
    const noMatch = runAll(
      countBy([{ actions: ['skip_result', 'skip_model_update'], scope: { host: { filter_id: 'f', filter_type: 'include' } } }], { f: ['mail-*', 'web'] }),
      recs,
    );
    expect(stable(noMatch)).toEqual(expected);
    const missing = runAll(countBy([{ actions: ['skip_result'], scope: { host: { filter_id: 'nope', filter_type: 'include' } } }]), recs);
    expect(stable(missing)).toEqual(expected);
    const otherField = runAll(countBy([{ actions: ['skip_result'], scope: { user: { filter_id: 'f', filter_type: 'exclude' } } }], { f: [] }), recs);
    expect(stable(otherField)).toEqual(expected);
  });

  it('treats a missing exclude filter as empty: every series is in scope', () => {
    const out = runAll(countBy([{ actions: ['skip_result'], scope: { host: { filter_id: 'nope', filter_type: 'exclude' } } }]), recs);
    expect(out.every((b) => b.records.length === 0 && b.anomaly_score === 0)).toBe(true);
  });

  it('changes behaviour when the filter items change between restores', () => {
    const rules: DetectionRule[] = [{ actions: ['skip_result'], scope: { host: { filter_id: 'quiet', filter_type: 'include' } } }];
    const m = AnomalyModel.create(countBy(rules, { quiet: ['web-1'] }));
    const cut = recs.findIndex((r) => r.timeMs >= T0 + 150 * SPAN);
    m.ingest(recs.slice(0, cut));
    const state = m.serialize();
    const rest = recs.slice(cut);
    const finish = (filters: Record<string, string[]>) => {
      const r = AnomalyModel.restore(countBy(rules, filters), state);
      return [...r.ingest(rest).buckets, ...r.finalizeAll()];
    };
    const same = finish({ quiet: ['web-1'] });
    const changed = finish({ quiet: ['web-2', 'db-*'] });
    const at200 = (out: BucketResult[]) => flagged([out.find((b) => b.timestamp === T0 + 200 * SPAN)!], 0);
    expect(at200(same)).toEqual(['db-1', 'web-2']);
    expect(at200(changed)).toEqual(['web-1']);
  });
});

describe('config changes between restores', () => {
  const richSpec = (over: Partial<AnalysisSpec> = {}, rules?: DetectionRule[]): AnalysisSpec => ({
    ...makeSpec({}, { bucketSpanMs: SPAN, influencers: ['host'], ...over }),
    detectors: [
      { detector_index: 0, function: 'count', by_field_name: 'host', ...(rules ? { custom_rules: rules } : {}) },
      { detector_index: 1, function: 'mean', field_name: 'v', by_field_name: 'host' },
    ],
  });
  const hosts = ['web-1', 'web-2', 'db-1'];
  const g = gaussian(rng(44));
  const recs = bucketsOf(220, SPAN, (b) =>
    hosts.flatMap((h) => Array.from({ length: b === 200 ? 120 : Math.max(1, Math.round(40 + 4 * g())) }, () => ({ host: h, v: 100 + 5 * g() }))),
  );
  const cut = recs.findIndex((r) => r.timeMs >= T0 + 150 * SPAN);

  it('accepts changed custom rules, filters, model plot, memory limit and renormalization window, and carries on', () => {
    const a = AnomalyModel.create(richSpec());
    a.ingest(recs.slice(0, cut));
    const state = a.serialize();
    const changed = richSpec(
      { modelPlot: { enabled: true, terms: 'web-1' }, modelMemoryLimitBytes: 32 * 1024 * 1024, renormalizationWindowMs: 10 * 86_400_000, filters: { f: ['db-*'] } },
      [{ actions: ['skip_result'], scope: { host: { filter_id: 'f', filter_type: 'include' } } }],
    );
    const b = AnomalyModel.restore(changed, state);
    expect(Buffer.from(b.serialize()).equals(Buffer.from(state))).toBe(true);
    const out = [...b.ingest(recs.slice(cut)).buckets, ...b.finalizeAll()];
    const spike = out.find((x) => x.timestamp === T0 + 200 * SPAN)!;
    expect(
      spike.records
        .filter((r) => r.detector_index === 0)
        .map((r) => r.by_field_value)
        .sort(),
    ).toEqual(['web-1', 'web-2']);
    expect(spike.model_plot?.length).toBeGreaterThan(0);
    expect(new Set(spike.model_plot?.map((p) => p.by_field_value))).toEqual(new Set(['web-1']));
    // And back to the original config: no rules, no model plot.
    const c = AnomalyModel.restore(richSpec(), b.serialize());
    const more = c.ingest(bucketsOf(3, SPAN, () => [{ host: 'web-1', v: 100 }], T0 + 220 * SPAN)).buckets;
    expect(more.length).toBeGreaterThan(0);
    expect(more.every((x) => x.model_plot === undefined)).toBe(true);
  });

  it('reflects a memory limit lowered below the state size: hard_limit, new series refused, idle series pruned', () => {
    const a = AnomalyModel.create(richSpec());
    a.ingest(recs.slice(0, cut));
    a.flush({ advanceTimeMs: T0 + 150 * SPAN });
    expect(a.modelSizeStats().memory_status).toBe('ok');
    const size = a.modelBytes();
    const b = AnomalyModel.restore(richSpec({ modelMemoryLimitBytes: size - 100 }), a.serialize());
    expect(b.modelSizeStats().memory_status).toBe('hard_limit');
    // Next bucket: web-1 (known) and a new host; then a bucket to finalise it.
    b.ingest([
      { timeMs: T0 + 150 * SPAN + 1, fields: { host: 'web-1', v: 100 } },
      { timeMs: T0 + 150 * SPAN + 2, fields: { host: 'new-host', v: 100 } },
      { timeMs: T0 + 151 * SPAN, fields: { host: 'web-1', v: 100 } },
    ]);
    const stats = b.modelSizeStats();
    expect(stats.bucket_allocation_failures_count).toBe(1);
    expect(Buffer.from(b.serialize()).toString('latin1')).not.toContain('new-host');
    // Idle series (web-2, db-1 of either detector) were pruned to get back under the soft limit.
    const counts = b.seriesCounts();
    expect(counts[0]! + counts[1]!).toBeLessThan(6);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
    expect(b.modelBytes()).toBeLessThan(0.9 * (size - 100));
    // The same state restored with the old limit accepts the new host.
    const c = AnomalyModel.restore(richSpec(), a.serialize());
    c.ingest([
      { timeMs: T0 + 150 * SPAN + 2, fields: { host: 'new-host', v: 100 } },
      { timeMs: T0 + 151 * SPAN, fields: { host: 'web-1', v: 100 } },
    ]);
    expect(c.modelSizeStats()).toMatchObject({ memory_status: 'ok', bucket_allocation_failures_count: 0 });
    expect(c.seriesCounts()).toEqual([4, 4]);
  });

  it('still rejects a state written for another number of detectors', () => {
    const a = AnomalyModel.create(richSpec());
    a.ingest(recs.slice(0, cut));
    const state = a.serialize();
    const one = { ...richSpec(), detectors: [{ detector_index: 0, function: 'count' as const, by_field_name: 'host' }] };
    expect(() => AnomalyModel.restore(one, state)).toThrow(ModelStateError);
    const three = { ...richSpec(), detectors: [...richSpec().detectors, { detector_index: 2, function: 'count' as const }] };
    expect(() => AnomalyModel.restore(three, state)).toThrow(ModelStateError);
  });

  it('rejects a rule with an unknown operator at create and restore', () => {
    const bad = [{ actions: ['skip_result'], conditions: [{ applies_to: 'actual', operator: 'ne', value: 1 }] }] as unknown as DetectionRule[];
    expect(() => AnomalyModel.create(richSpec({}, bad))).toThrow(RangeError);
    expect(() => AnomalyModel.restore(richSpec({}, bad), AnomalyModel.create(richSpec()).serialize())).toThrow(RangeError);
  });
});
