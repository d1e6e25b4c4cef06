import { describe, expect, it } from 'vitest';
import { expiredSnapshots } from '../../../lib/app/model-snapshots.ts';
import { newestBucketStart } from '../../../lib/app/maintenance.ts';
import type { JobConfig } from '../../../lib/domain/job/types.ts';
import type { ModelSnapshot } from '../../../lib/domain/state.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 30, 12);

const snap = (id: string, ageDays: number, extra: Partial<ModelSnapshot> = {}): ModelSnapshot => ({
  job_id: 'j',
  snapshot_id: id,
  timestamp: NOW - ageDays * DAY,
  snapshot_doc_count: 1,
  retain: false,
  min_version: '8.0.0',
  ...extra,
});

// A job always has a current snapshot here: without one Elasticsearch deletes none (tested in test/unit/domain/retention.test.ts).
const job = (retention: number, daily?: number, current = 'cur') =>
  ({ job_id: 'j', model_snapshot_retention_days: retention, daily_model_snapshot_retention_after_days: daily, model_snapshot_id: current }) as unknown as JobConfig;

describe('model snapshot retention', () => {
  it('deletes snapshots older than model_snapshot_retention_days, counted from the newest', () => {
    const snaps = [snap('new', 0), snap('mid', 5), snap('old', 11)];
    expect(expiredSnapshots(job(10), snaps)).toEqual(['old']);
  });

  it('keeps only the first snapshot of each day-long window past daily_model_snapshot_retention_after_days', () => {
    const snaps = [snap('a', 3.9), snap('b', 3.8), snap('c', 3.7), snap('d', 0.5), snap('e', 0.4)];
    // a, b, c fall in one 24 h window, older than 1 day: b and c go; d and e are within 1 day and stay.
    expect(expiredSnapshots(job(10, 1), snaps).sort()).toEqual(['b', 'c']);
  });

  it('never deletes the current snapshot or one marked retain', () => {
    const snaps = [snap('new', 0), snap('current', 20), snap('kept', 30, { retain: true }), snap('gone', 40)];
    expect(expiredSnapshots(job(10, 1, 'current'), snaps)).toEqual(['gone']);
  });

  it('keeps everything when there is nothing old', () => {
    expect(expiredSnapshots(job(10, 1), [snap('x', 0)])).toEqual([]);
    expect(expiredSnapshots(job(10, 1), [])).toEqual([]);
  });
});

describe('results retention', () => {
  it('counts back from the newest bucket of an empty run, not from the run start', () => {
    const hour = 3_600_000;
    expect(newestBucketStart({ timestamp: 10 * hour, end: 20 * hour, bucket_span: 3600 })).toBe(19 * hour);
  });

  it('counts back from a stored bucket by its own timestamp', () => {
    expect(newestBucketStart({ timestamp: 5_000, bucket_span: 60 })).toBe(5_000);
  });
});
