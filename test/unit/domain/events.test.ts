import { describe, expect, it } from 'vitest';
import { IllegalArgumentError } from '../../../lib/domain/errors.ts';
import {
  anomalyRecordEvents,
  commandFailedEvent,
  datafeedStateChangeEvent,
  datafeedStateChangeSchema,
  EVENT_DETAIL_SCHEMAS,
  EVENT_DETAIL_TYPES,
  factId,
  jobStateChangeEvent,
  recordScoreThreshold,
  type RecordLike,
  upgradeModeChangeEvent,
} from '../../../lib/domain/events.ts';
import { buildJobConfig } from '../../../lib/domain/job/put-job.ts';
import { applyJobUpdate, parseJobUpdate } from '../../../lib/domain/update.ts';

const origin = { clusterName: 'mlplane', nodeName: 'mlplane-0' };

const record = (over: Partial<RecordLike> = {}): RecordLike => ({
  job_id: 'web',
  timestamp: 1_700_000_000_000,
  detector_index: 0,
  is_interim: false,
  record_score: 91.5,
  initial_record_score: 91.5,
  probability: 1e-9,
  function: 'mean',
  bucket_span: 3600,
  actual: [250],
  typical: [100],
  field_name: 'latency',
  partition_field_name: 'host',
  partition_field_value: 'a',
  ...over,
});

describe('the events-out schema', () => {
  it('gives the same fact the same event id, and another fact another one', () => {
    expect(factId('job', 'a', 'opened', 3)).toBe(factId('job', 'a', 'opened', 3));
    expect(factId('job', 'a', 'opened', 3)).not.toBe(factId('job', 'a', 'opened', 4));
    // Parts are separated, so ('ab','c') and ('a','bc') differ.
    expect(factId('ab', 'c')).not.toBe(factId('a', 'bc'));
    expect(factId('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('builds a job state change with the previous state and the failure reason, keyed by the version written', () => {
    const e = jobStateChangeEvent(origin, { jobId: 'web', previous: 'opened', state: 'failed', version: 7, nowMs: 5, reason: 'Exception closing autodetect process' });
    expect(e).toEqual({
      detailType: 'ML Job State Change',
      detail: {
        event_id: factId('job', 'web', 'failed', 7),
        cluster_name: 'mlplane',
        node_name: 'mlplane-0',
        timestamp: 5,
        job_id: 'web',
        state: 'failed',
        previous_state: 'opened',
        reason: 'Exception closing autodetect process',
      },
    });
    expect(jobStateChangeEvent(origin, { jobId: 'web', previous: 'opened', state: 'opened', version: 8, nowMs: 5 })).toBeUndefined();
  });

  it('gives a stopped datafeed its reason, and no other state one', () => {
    const stopped = datafeedStateChangeEvent(origin, { datafeedId: 'df', jobId: 'web', previous: 'started', state: 'stopped', version: 4, nowMs: 1, reason: 'end_reached' });
    expect(stopped?.detail).toMatchObject({ datafeed_id: 'df', job_id: 'web', state: 'stopped', previous_state: 'started', reason: 'end_reached' });
    const starting = datafeedStateChangeEvent(origin, { datafeedId: 'df', jobId: 'web', previous: 'stopped', state: 'starting', version: 2, nowMs: 1, reason: 'end_reached' });
    expect(starting?.detail).not.toHaveProperty('reason');
    const bad = { ...(stopped?.detail as object), state: 'started' };
    expect(datafeedStateChangeSchema.safeParse(bad).success).toBe(false);
  });

  it('names the command, its task and the Elasticsearch error of a failed command, one event id per target', () => {
    const failure = {
      commandId: '12',
      taskId: 'mlplane-0:12',
      action: 'close',
      esAction: 'cluster:admin/xpack/ml/job/close',
      target: 'web',
      jobId: 'web',
      error: { type: 'exception', reason: 'Exception closing autodetect process', status: 500 },
      nowMs: 9,
    };
    const e = commandFailedEvent(origin, failure);
    expect(e.detailType).toBe('ML Command Failed');
    expect(e.detail).toMatchObject({ action: 'close', job_id: 'web', task_id: 'mlplane-0:12', error: failure.error });
    expect(commandFailedEvent(origin, { ...failure, target: 'other' }).detail.event_id).not.toBe(e.detail.event_id);
  });

  it('shows when an enabled upgrade mode expires', () => {
    const e = upgradeModeChangeEvent(origin, { enabled: true, previous: false, expiresMs: Date.UTC(2026, 0, 1, 2), version: 3, nowMs: 1 });
    expect(e.detail).toMatchObject({ enabled: true, previous: false, expires_at: '2026-01-01T02:00:00.000Z' });
    expect(upgradeModeChangeEvent(origin, { enabled: false, previous: true, version: 4, nowMs: 1 }).detail).not.toHaveProperty('expires_at');
  });

  it('publishes final records at or above the threshold only, with their fields and a per-series id', () => {
    const events = anomalyRecordEvents(
      origin,
      [
        record(),
        record({ record_score: 90, partition_field_value: 'b' }),
        record({ record_score: 89.99, partition_field_value: 'c' }),
        record({ is_interim: true, partition_field_value: 'd' }),
      ],
      90,
    );
    expect(events.map((e) => e.detail).map((d) => (d as { partition_field_value: string }).partition_field_value)).toEqual(['a', 'b']);
    expect(events[0]).toEqual({
      detailType: 'ML Anomaly Record',
      detail: expect.objectContaining({
        job_id: 'web',
        result_type: 'record',
        timestamp: 1_700_000_000_000,
        record_score: 91.5,
        initial_record_score: 91.5,
        probability: 1e-9,
        function: 'mean',
        field_name: 'latency',
        partition_field_name: 'host',
        actual: [250],
        typical: [100],
        bucket_span: 3600,
        record_score_threshold: 90,
      }),
    });
    expect(events[0]?.detail.event_id).not.toBe(events[1]?.detail.event_id);
    expect(anomalyRecordEvents(origin, [record()], 90)[0]?.detail.event_id).toBe(events[0]?.detail.event_id);
  });

  it('has a detail schema for every detail-type', () => {
    expect(Object.keys(EVENT_DETAIL_SCHEMAS).sort()).toEqual(Object.values(EVENT_DETAIL_TYPES).sort());
  });
});

describe('custom_settings.event_record_score_threshold', () => {
  it('is absent (no anomaly events) or a number from 0 to 100', () => {
    expect(recordScoreThreshold(undefined)).toBeUndefined();
    expect(recordScoreThreshold({ other: 1 })).toBeUndefined();
    expect(recordScoreThreshold({ event_record_score_threshold: 0 })).toBe(0);
    expect(recordScoreThreshold({ event_record_score_threshold: 75.5 })).toBe(75.5);
    for (const bad of [-1, 100.1, '90', null, true, [90]]) {
      expect(() => recordScoreThreshold({ event_record_score_threshold: bad }), JSON.stringify(bad)).toThrow(IllegalArgumentError);
    }
    expect(() => recordScoreThreshold({ event_record_score_threshold: '90' })).toThrow(
      '[custom_settings.event_record_score_threshold] must be a number between 0 and 100, found ["90"]',
    );
  });

  it('is checked by put job and by job update', () => {
    const body = (threshold: unknown) => ({
      analysis_config: { detectors: [{ function: 'count' }] },
      data_description: {},
      custom_settings: { event_record_score_threshold: threshold },
    });
    expect(() => buildJobConfig('web', body(101), { nowMs: 0 })).toThrow(IllegalArgumentError);
    const job = buildJobConfig('web', body(50), { nowMs: 0 });
    expect(job.custom_settings).toEqual({ event_record_score_threshold: 50 });
    const ctx = { jobState: 'closed' as const, otherJobIds: [] };
    expect(() => applyJobUpdate(job, parseJobUpdate('{"custom_settings":{"event_record_score_threshold":"high"}}'), ctx)).toThrow(IllegalArgumentError);
    expect(applyJobUpdate(job, parseJobUpdate('{"custom_settings":{"event_record_score_threshold":80}}'), ctx).custom_settings).toEqual({
      event_record_score_threshold: 80,
    });
  });
});
