import { describe, expect, it } from 'vitest';
import { esClient, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();
const T0 = Date.UTC(2026, 0, 5);
const HOUR = 3_600_000;
const update = (job_id: string, body: Record<string, unknown>) => es.transport.request<any>({ method: 'POST', path: `/_ml/anomaly_detectors/${job_id}/_update`, body });
const byHostJob = (job_id: string, extra: Record<string, unknown> = {}) =>
  es.ml.putJob({
    job_id,
    analysis_config: { bucket_span: '1h', detectors: [{ function: 'mean', field_name: 'cpu', by_field_name: 'host' }] },
    data_description: { time_field: 'timestamp' },
    ...extra,
  });

describe('update job effects', () => {
  it('model_prune_window prunes idle series at close, with the window the job was opened with', async () => {
    const id = uniqueId('prune');
    await byHostJob(id);
    await es.ml.openJob({ job_id: id });
    // host b stops after 10 hours, host a goes on to 40.
    const data = [];
    for (let h = 0; h < 40; h++) for (const host of h < 10 ? ['a', 'b'] : ['a']) data.push({ timestamp: T0 + h * HOUR, host, cpu: 10 + (h % 3) });
    await es.ml.postData({ job_id: id, data });
    // Set while open: takes effect at the next open, so this close keeps both series (default window 30d).
    await update(id, { model_prune_window: '2h' });
    await es.ml.closeJob({ job_id: id });
    expect((await es.ml.getJobStats({ job_id: id })).jobs[0]!.model_size_stats.total_by_field_count).toBe(2);
    await es.ml.openJob({ job_id: id });
    await es.ml.postData({ job_id: id, data: [{ timestamp: T0 + 40 * HOUR, host: 'a', cpu: 11 }] });
    await es.ml.closeJob({ job_id: id });
    expect((await es.ml.getJobStats({ job_id: id })).jobs[0]!.model_size_stats.total_by_field_count).toBe(1);
    const notes = await es.transport.request<any>({ method: 'GET', path: `/_ml/anomaly_detectors/${id}/_notifications` });
    expect(notes.notifications.some((n: any) => /Pruned \[1\] model series/.test(n.message))).toBe(true);
  });

  it('model_memory_limit is enforced: hard_limit refuses new series and says so in model_size_stats', async () => {
    const id = uniqueId('mem');
    await byHostJob(id, { analysis_limits: { model_memory_limit: '2mb' } });
    await update(id, { analysis_limits: { model_memory_limit: '1mb' } });
    await es.ml.openJob({ job_id: id });
    const data = Array.from({ length: 30_000 }, (_, i) => ({ timestamp: T0 + Math.floor(i / 15_000) * HOUR, host: `h${i}`, cpu: 1 }));
    await es.ml.postData({ job_id: id, data });
    const mss = (await es.ml.getJobStats({ job_id: id })).jobs[0]!.model_size_stats;
    expect(mss.memory_status).toBe('hard_limit');
    expect(mss.bucket_allocation_failures_count).toBeGreaterThan(0);
    expect(mss.total_by_field_count).toBeLessThan(30_000);
    expect(mss.peak_model_bytes).toBeLessThanOrEqual(1024 * 1024);
    await es.ml.closeJob({ job_id: id, force: true });
  });

  it('background_persist_interval: the schedule snapshots an open job once the interval has passed', async () => {
    const { runBackgroundPersist } = await direct(() => import('../../lib/app/persist.ts'));
    const id = uniqueId('persist');
    await byHostJob(id, { background_persist_interval: '2h' });
    await es.ml.openJob({ job_id: id });
    await es.ml.postData({ job_id: id, data: [{ timestamp: T0, host: 'a', cpu: 1 }] });
    expect(await runBackgroundPersist(Date.now() + HOUR)).not.toContain(id);
    expect(await runBackgroundPersist(Date.now() + 2 * HOUR + 60_000)).toContain(id);
    const deadline = Date.now() + 20_000;
    while ((await es.ml.getModelSnapshots({ job_id: id })).count === 0) {
      if (Date.now() > deadline) throw new Error('no background snapshot');
      await new Promise((r) => setTimeout(r, 50));
    }
    const snap = (await es.ml.getModelSnapshots({ job_id: id })).model_snapshots[0]!;
    expect(snap.description).toBe('State persisted due to background persist');
    await es.ml.closeJob({ job_id: id });
  });
});

describe('filters and lazy open through updates', () => {
  it('updating a filter used by an open job changes what the job reports on its next data', async () => {
    const f = uniqueId('mute');
    await es.ml.putFilter({ filter_id: f, items: [] });
    const id = uniqueId('filtered');
    await es.ml.putJob({
      job_id: id,
      analysis_config: {
        bucket_span: '1h',
        detectors: [{ function: 'high_mean', field_name: 'cpu', by_field_name: 'host', custom_rules: [{ actions: ['skip_result'], scope: { host: { filter_id: f } } }] }],
      },
      data_description: { time_field: 'timestamp' },
    });
    await es.ml.openJob({ job_id: id });
    const rows = (from: number, to: number, spike: number) => {
      const out = [];
      for (let h = from; h < to; h++) for (const host of ['a', 'b']) out.push({ timestamp: T0 + h * HOUR, host, cpu: h === spike ? 99 : 20 + (h % 3) });
      return out;
    };
    await es.ml.postData({ job_id: id, data: rows(0, 60, 50) });
    await es.ml.flushJob({ job_id: id, advance_time: String(T0 + 60 * HOUR) });
    expect((await es.ml.getRecords({ job_id: id, record_score: 1 })).records.some((r) => r.by_field_value === 'b')).toBe(true);
    await es.ml.updateFilter({ filter_id: f, add_items: ['b'] });
    await es.ml.postData({ job_id: id, data: rows(60, 100, 90) });
    await es.ml.closeJob({ job_id: id });
    const later = await es.ml.getRecords({ job_id: id, start: String(T0 + 60 * HOUR), record_score: 1 });
    expect(later.records.some((r) => r.by_field_value === 'a')).toBe(true);
    expect(later.records.some((r) => r.by_field_value === 'b')).toBe(false);
    const notes = await es.transport.request<any>({ method: 'GET', path: `/_ml/anomaly_detectors/${id}/_notifications` });
    expect(notes.notifications.some((n: any) => n.message === `Filter [${f}] has been modified; added items: [b]`)).toBe(true);
  });

  it('allow_lazy_open set by update makes the next open wait instead of failing', async () => {
    await es.ml.closeJob({ job_id: '_all', force: true });
    const p = uniqueId('lazyupd');
    await byHostJob(`${p}-busy`);
    await byHostJob(`${p}-later`);
    await es.cluster.putSettings({ persistent: { 'xpack.ml.max_open_jobs': 1 } });
    try {
      await es.ml.openJob({ job_id: `${p}-busy` });
      expect((await update(`${p}-later`, { allow_lazy_open: true })).allow_lazy_open).toBe(true);
      expect(await es.ml.openJob({ job_id: `${p}-later` })).toEqual({ opened: true, node: '' });
      await es.ml.closeJob({ job_id: `${p}-busy` });
      expect((await es.ml.getJobStats({ job_id: `${p}-later` })).jobs[0]!.state).toBe('opened');
      await es.ml.closeJob({ job_id: `${p}-later` });
    } finally {
      await es.cluster.putSettings({ persistent: { 'xpack.ml.max_open_jobs': null } });
    }
  });
});
