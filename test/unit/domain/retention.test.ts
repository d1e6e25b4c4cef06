import { describe, expect, it } from 'vitest';
import {
  DAY_MS,
  effectiveRequestsPerSecond,
  expiredSnapshotIds,
  isIdleJob,
  isoOffsetDateTime,
  parseRequestsPerSecondParam,
  RetentionMessages,
  throttleDelayMs,
  validateRequestsPerSecond,
} from '../../../lib/domain/retention.ts';
import type { JobRuntime, ModelSnapshot } from '../../../lib/domain/state.ts';
import { TimeValue } from '../../../lib/domain/units.ts';
import { expectEsError } from './es-error.ts';

const NEWEST = Date.UTC(2026, 5, 30, 12);
const HOUR = 3_600_000;

const snap = (id: string, ageMs: number, extra: Partial<ModelSnapshot> = {}): ModelSnapshot => ({
  job_id: 'j',
  snapshot_id: id,
  timestamp: NEWEST - ageMs,
  snapshot_doc_count: 1,
  retain: false,
  min_version: '8.0.0',
  ...extra,
});

const job = (retention: number | undefined, daily?: number, current: string | null = 'newest') => ({
  model_snapshot_retention_days: retention,
  daily_model_snapshot_retention_after_days: daily,
  model_snapshot_id: current ?? undefined,
});

describe('expired model snapshots (ExpiredModelSnapshotsRemover)', () => {
  it('deletes nothing for a job without a current snapshot, whatever its age', () => {
    expect(expiredSnapshotIds(job(1, 1, null), [snap('newest', 0), snap('old', 30 * DAY_MS)])).toEqual([]);
  });

  it('counts back from the newest snapshot, not from now', () => {
    const snaps = [snap('newest', 0), snap('a', 10 * DAY_MS - 1), snap('b', 10 * DAY_MS + 1)];
    expect(expiredSnapshotIds(job(10), snaps)).toEqual(['b']);
  });

  it('keeps a snapshot exactly at the hard cutoff and deletes one a millisecond older', () => {
    const snaps = [snap('newest', 0), snap('at', 10 * DAY_MS), snap('older', 10 * DAY_MS + 1)];
    expect(expiredSnapshotIds(job(10, 1), snaps)).toEqual(['older']);
  });

  it('does not consider snapshots younger than daily_model_snapshot_retention_after_days, however many', () => {
    const snaps = [snap('newest', 0), ...Array.from({ length: 5 }, (_, i) => snap(`young${i}`, (i + 1) * HOUR))];
    expect(expiredSnapshotIds(job(10, 1), snaps)).toEqual([]);
  });

  it('thins to the first snapshot of each 24 h window anchored at the hard cutoff, not of each calendar day', () => {
    // Newest 2026-06-30T12:00Z; hard cutoff (− 10 d) 06-20T12:00Z, so windows run 12:00 → 12:00.
    // x (06-25T11:00), y (13:00) and z (14:00) share a calendar day; x and y are in different
    // windows and both stay, z shares y's window and goes.
    const snaps = [snap('newest', 0), snap('x', 5 * DAY_MS + HOUR), snap('y', 5 * DAY_MS - HOUR), snap('z', 5 * DAY_MS - 2 * HOUR)];
    expect(expiredSnapshotIds(job(10, 1), snaps)).toEqual(['z']);
  });

  it('moves the keep time past a kept snapshot by whole days, so a gap of days keeps the next one', () => {
    const base = 10 * DAY_MS;
    const snaps = [snap('newest', 0), snap('d0', base - HOUR), snap('d0b', base - 2 * HOUR), snap('d4', base - 4 * DAY_MS - HOUR), snap('d4b', base - 4 * DAY_MS - 2 * HOUR)];
    expect(expiredSnapshotIds(job(10, 1), snaps)).toEqual(['d0b', 'd4b']);
  });

  it('never deletes the current snapshot or a retained one, and neither uses up its window’s keep', () => {
    const base = 10 * DAY_MS;
    const snaps = [
      snap('latest', 0),
      snap('current', base - HOUR),
      snap('kept', base - 2 * HOUR, { retain: true }),
      snap('first', base - 3 * HOUR),
      snap('second', base - 4 * HOUR),
      snap('ancient', base + DAY_MS, { retain: true }),
    ];
    expect(expiredSnapshotIds(job(10, 1, 'current'), snaps)).toEqual(['second']);
  });

  it('without daily thinning considers and deletes only what is past model_snapshot_retention_days', () => {
    const snaps = [snap('newest', 0), snap('a', 2 * DAY_MS), snap('b', 2 * DAY_MS + HOUR), snap('c', 3 * DAY_MS)];
    expect(expiredSnapshotIds(job(2), snaps)).toEqual(['c', 'b']);
  });

  it('orders ties by snapshot id', () => {
    const snaps = [snap('newest', 0), snap('b', 20 * DAY_MS), snap('a', 20 * DAY_MS)];
    expect(expiredSnapshotIds(job(10, 1), snaps)).toEqual(['a', 'b']);
  });

  it('has nothing to delete without snapshots', () => {
    expect(expiredSnapshotIds(job(10, 1), [])).toEqual([]);
  });
});

describe('requests_per_second', () => {
  it('accepts -1 and positive values, refuses 0, other negatives and NaN with Elasticsearch’s validation error', () => {
    for (const ok of [undefined, -1, 0.5, 100000]) expect(() => validateRequestsPerSecond(ok)).not.toThrow();
    for (const bad of [0, -2, -0.5, Number.NaN]) {
      expectEsError(() => validateRequestsPerSecond(bad), {
        status: 400,
        type: 'action_request_validation_exception',
        reason: 'Validation Failed: 1: [requests_per_second] must either be -1 or greater than 0;',
      });
    }
  });

  it('reads a query value as Float.parseFloat does, and names the parameter when it is no float', () => {
    expect(parseRequestsPerSecondParam(' 100000.0 ')).toBe(100000);
    expect(parseRequestsPerSecondParam('1e3')).toBe(1000);
    expect(parseRequestsPerSecondParam('5f')).toBe(5);
    expect(parseRequestsPerSecondParam('0.1')).toBe(Math.fround(0.1));
    expectEsError(() => parseRequestsPerSecondParam('fast'), {
      status: 400,
      type: 'illegal_argument_exception',
      reason: 'Failed to parse float parameter [requests_per_second] with value [fast]',
    });
  });

  it('is unthrottled when absent and 200 items/s for -1 (one data node)', () => {
    expect(effectiveRequestsPerSecond(undefined)).toBe(Infinity);
    expect(effectiveRequestsPerSecond(null)).toBe(Infinity);
    expect(effectiveRequestsPerSecond(-1)).toBe(200);
    expect(effectiveRequestsPerSecond(50)).toBe(50);
  });

  it('pauses a batch for items / rps seconds less the time it took, never below zero', () => {
    expect(throttleDelayMs(1000, 200, 0)).toBe(5000);
    expect(throttleDelayMs(1000, 200, 1200)).toBe(3800);
    expect(throttleDelayMs(1000, 200, 9000)).toBe(0);
    expect(throttleDelayMs(1000, Infinity, 0)).toBe(0);
    expect(throttleDelayMs(0, 10, 0)).toBe(0);
  });
});

describe('idle jobs', () => {
  const rt = (state: JobRuntime['state'], lastData?: number, opened?: number) =>
    ({ state, open_time_ms: opened, data_counts: { last_data_time: lastData } }) as unknown as JobRuntime;
  const now = NEWEST;

  it('is an opened job with no started datafeed whose last data (or open) is older than the timeout', () => {
    expect(isIdleJob(rt('opened', now - 2 * HOUR, now - 3 * HOUR), false, now, HOUR)).toBe(true);
    expect(isIdleJob(rt('opened', undefined, now - 2 * HOUR), false, now, HOUR)).toBe(true);
  });

  it('is not idle with recent data, a recent open, a started datafeed, or in any state but opened', () => {
    expect(isIdleJob(rt('opened', now - 10 * 60_000, now - 3 * HOUR), false, now, HOUR)).toBe(false);
    expect(isIdleJob(rt('opened', undefined, now - 10 * 60_000), false, now, HOUR)).toBe(false);
    expect(isIdleJob(rt('opened', now - 2 * HOUR), true, now, HOUR)).toBe(false);
    for (const s of ['opening', 'closing', 'closed', 'failed'] as const) expect(isIdleJob(rt(s, now - 2 * HOUR), false, now, HOUR)).toBe(false);
    expect(isIdleJob(rt('opened', now - HOUR), false, now, HOUR)).toBe(false);
  });
});

describe('audit texts', () => {
  it('formats the results cutoff as ISO_OFFSET_DATE_TIME in UTC', () => {
    expect(isoOffsetDateTime(Date.UTC(2026, 10, 16))).toBe('2026-11-16T00:00:00Z');
    expect(isoOffsetDateTime(Date.UTC(2026, 10, 16, 1, 2, 3, 450))).toBe('2026-11-16T01:02:03.45Z');
    expect(RetentionMessages.oldResultsDeleted(Date.UTC(2026, 10, 16, 5))).toBe('Deleted results prior to 2026-11-16T05:00:00Z');
  });

  it('uses Elasticsearch’s snapshot and timeout texts and mlplane’s auto-close text', () => {
    expect(RetentionMessages.snapshotsDeleted(3)).toBe('[3] expired model snapshots deleted');
    expect(RetentionMessages.timedOut('8h')).toMatch(/^Deleting expired ML data was cancelled after the timeout period of \[8h\] was exceeded\. /);
    expect(RetentionMessages.autoClosed(TimeValue.ofMillis(90 * 60_000))).toMatch(/^Job closed automatically during maintenance: .*\[1\.5h\]/);
  });
});
