import { describe, expect, it } from 'vitest';
import { esClient, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();
const T0 = Date.UTC(2026, 0, 5);
const HOUR = 3_600_000;

/** Mean by host over 3 days, with `latency` holding buckets back so flush_buffers has work to do. */
async function jobWithData(id: string): Promise<void> {
  await es.ml.putJob({
    job_id: id,
    analysis_config: { bucket_span: '1h', latency: '2h', detectors: [{ function: 'mean', field_name: 'cpu', by_field_name: 'host' }] },
    data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
  });
  await es.ml.openJob({ job_id: id });
  const data = [];
  for (let h = 0; h < 72; h++) for (const host of ['a', 'b', 'c']) data.push({ timestamp: T0 + h * HOUR + 60_000, host, cpu: h === 60 && host === 'b' ? 95 : 20 + (h % 5) });
  await es.ml.postData({ job_id: id, data });
  // The post's renormalization runs in the job's command order; these tests call the close directly, so they wait for it.
  await es.ml.flushJob({ job_id: id });
}

async function observe(id: string) {
  const [stats, buckets, records, snaps, job] = await Promise.all([
    es.ml.getJobStats({ job_id: id }),
    es.ml.getBuckets({ job_id: id, size: 10_000 }),
    es.ml.getRecords({ job_id: id, size: 10_000 }),
    es.ml.getModelSnapshots({ job_id: id }),
    es.ml.getJobs({ job_id: id }),
  ]);
  const s = stats.jobs[0]!;
  return {
    state: s.state,
    data_counts: { ...s.data_counts, job_id: undefined, last_data_time: undefined, log_time: undefined },
    model_bytes: s.model_size_stats.model_bytes,
    buckets: buckets.buckets.map((b) => [b.timestamp, b.event_count, b.anomaly_score]),
    records: records.records.map((r) => [r.timestamp, r.by_field_value, r.actual]).sort(),
    snapshots: snaps.count,
    snapshotIsCurrent: snaps.model_snapshots[0]?.snapshot_id === job.jobs[0]!.model_snapshot_id,
    finished: typeof job.jobs[0]!.finished_time === 'number',
  };
}

class Crash extends Error {}

describe('close housekeeping survives a crash at every step boundary', async () => {
  const { CLOSE_STEPS } = await direct(() => import('../../lib/domain/state.ts'));

  it('a close without crash is the reference', async () => {
    const { closeJob } = await direct(() => import('../../lib/app/close.ts'));
    const id = uniqueId('ref');
    await jobWithData(id);
    await closeJob(id, '1');
    const ref = await observe(id);
    expect(ref.state).toBe('closed');
    expect(ref.snapshots).toBe(1);
    expect(ref.snapshotIsCurrent).toBe(true);
    expect(ref.finished).toBe(true);
    expect(ref.buckets.length).toBe(72);
  });

  for (const [i, step] of CLOSE_STEPS.entries()) {
    it(`a crash right after ${step} resumes at the next step and ends as if nothing happened`, async () => {
      const { closeJob } = await direct(() => import('../../lib/app/close.ts'));
      const { getJobRuntime } = await direct(() => import('../../lib/store/jobs.ts'));
      const ref = uniqueId(`ref-${i}`);
      const id = uniqueId(`crash-${i}`);
      await jobWithData(ref);
      await jobWithData(id);
      await closeJob(ref, '1');
      await expect(
        closeJob(id, '2', (done) => {
          if (done === step) throw new Crash(`crash after ${step}`);
        }),
      ).rejects.toBeInstanceOf(Crash);
      const mid = (await getJobRuntime(id))!;
      if (step !== 'finalize') {
        expect(mid.state).toBe('closing');
        expect(mid.close?.next).toBe(i + 1);
      }
      // The redelivery: the same command again, twice for good measure.
      await closeJob(id, '2');
      await closeJob(id, '2');
      const a = await observe(ref);
      const b = await observe(id);
      expect(b).toEqual(a);
    });
  }
});
