/**
 * Events out (issue 11 item 4), read from the local events file the system appends to
 * (`EVENTS_FILE`, provided by globalSetup): one EventBridge envelope a line.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { esClient, esError, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);

interface Envelope {
  version: string;
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: unknown[];
  detail: Record<string, any>;
}

function readEvents(): Envelope[] {
  const text = readFileSync(inject('eventsFile'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Envelope);
}

/** Polls the events file until `done` holds for the events `select` picks, with a deadline; returns them in file order. */
async function eventsUntil(select: (e: Envelope) => boolean, done: (es: Envelope[]) => boolean, what: string): Promise<Envelope[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const picked = readEvents().filter(select);
    if (done(picked)) return picked;
    if (Date.now() > deadline) throw new Error(`events out: no ${what} in time; got ${JSON.stringify(picked.map((e) => [e['detail-type'], e.detail]))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ofJob = (jobId: string) => (e: Envelope) => e.detail.job_id === jobId;
const stateOf = (e: Envelope) => (e['detail-type'] === 'ML Job State Change' ? `${e.detail.previous_state}->${e.detail.state}` : e['detail-type']);

describe('events out', () => {
  it('a job with a threshold: opened, its anomaly records at or above it, closing and closed, in order', async () => {
    const id = uniqueId('events-job');
    const bad = await esError(
      es.ml.putJob({
        job_id: id,
        analysis_config: { bucket_span: '1h', detectors: [{ function: 'mean', field_name: 'cpu', by_field_name: 'host' }] },
        data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
        custom_settings: { event_record_score_threshold: 150 },
      }),
    );
    expect(bad).toMatchObject({
      status: 400,
      type: 'illegal_argument_exception',
      reason: '[custom_settings.event_record_score_threshold] must be a number between 0 and 100, found [150]',
    });

    const threshold = 75;
    await es.ml.putJob({
      job_id: id,
      analysis_config: { bucket_span: '1h', detectors: [{ function: 'mean', field_name: 'cpu', by_field_name: 'host' }] },
      data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
      custom_settings: { event_record_score_threshold: threshold },
    });
    await es.ml.openJob({ job_id: id });
    const data = [];
    // Two weeks of history: a score is ranked among the scores seen so far (as Elasticsearch does), so a
    // young job's first anomaly stays below critical.
    for (let h = 0; h < 336; h++) for (const host of ['a', 'b', 'c']) data.push({ timestamp: T0 + h * HOUR + 60_000, host, cpu: h === 300 && host === 'b' ? 95 : 20 + (h % 5) });
    await es.ml.postData({ job_id: id, data });
    await es.ml.closeJob({ job_id: id });

    const events = await eventsUntil(ofJob(id), (l) => l.some((e) => e.detail.state === 'closed'), `closed event of ${id}`);
    for (const e of events) {
      expect(e).toMatchObject({ version: '0', source: 'mlplane', resources: [] });
      expect(e.detail).toMatchObject({ cluster_name: expect.any(String), node_name: expect.any(String), event_id: expect.any(String), timestamp: expect.any(Number) });
    }
    const kinds = events.map(stateOf);
    const anomalies = events.filter((e) => e['detail-type'] === 'ML Anomaly Record');
    expect(anomalies.length).toBeGreaterThan(0);
    expect(kinds).toEqual(['closed->opened', ...anomalies.map(() => 'ML Anomaly Record'), 'opened->closing', 'closing->closed']);

    // Exactly the final records whose score, when written, reached the threshold.
    const records = (await es.ml.getRecords({ job_id: id, page: { size: 10_000 } })).records;
    const expected = records.filter((r) => r.initial_record_score >= threshold).map((r) => `${r.timestamp}/${r.by_field_value}`);
    expect(anomalies.map((e) => `${e.detail.timestamp}/${e.detail.by_field_value}`).sort()).toEqual(expected.sort());
    const top = anomalies.find((e) => e.detail.timestamp === T0 + 300 * HOUR)!;
    expect(top.detail).toMatchObject({
      job_id: id,
      result_type: 'record',
      function: 'mean',
      field_name: 'cpu',
      by_field_name: 'host',
      by_field_value: 'b',
      bucket_span: 3600,
      actual: [95],
      record_score_threshold: threshold,
    });
    expect(top.detail.record_score).toBeGreaterThanOrEqual(threshold);
    expect(new Set(events.map((e) => e.detail.event_id)).size).toBe(events.length);
  });

  it('a datafeed started with an end stops with end_reached; a real-time one stopped by request with stop_requested', async () => {
    const index = uniqueId('events-metrics');
    await es.indices.create({ index, mappings: { properties: { '@timestamp': { type: 'date' }, total: { type: 'long' } } } });
    const operations: unknown[] = [];
    for (let i = 0; i < 48; i++) operations.push({ index: { _index: index } }, { '@timestamp': new Date(T0 + i * HOUR).toISOString(), total: 100 + (i % 7) });
    expect((await es.bulk({ operations, refresh: true })).errors).toBe(false);

    const withEnd = uniqueId('events-df-end');
    const realtime = uniqueId('events-df-rt');
    for (const job of [withEnd, realtime]) {
      await es.ml.putJob({
        job_id: job,
        analysis_config: { bucket_span: '1h', detectors: [{ function: 'sum', field_name: 'total' }] },
        data_description: { time_field: '@timestamp' },
      });
      await es.ml.putDatafeed({ datafeed_id: `datafeed-${job}`, job_id: job, indices: [index], query: { match_all: {} } });
      await es.ml.openJob({ job_id: job });
    }

    await es.ml.startDatafeed({ datafeed_id: `datafeed-${withEnd}`, start: new Date(T0).toISOString(), end: new Date(T0 + 48 * HOUR).toISOString() });
    const endEvents = await eventsUntil(
      (e) => e.detail.datafeed_id === `datafeed-${withEnd}`,
      (l) => l.some((e) => e.detail.state === 'stopped'),
      `stopped event of datafeed-${withEnd}`,
    );
    expect(endEvents.map((e) => [e['detail-type'], e.detail.previous_state, e.detail.state, e.detail.reason])).toEqual([
      ['ML Datafeed State Change', 'stopped', 'starting', undefined],
      ['ML Datafeed State Change', 'starting', 'started', undefined],
      ['ML Datafeed State Change', 'started', 'stopped', 'end_reached'],
    ]);
    expect(endEvents[2]?.detail.job_id).toBe(withEnd);
    // The datafeed's end closes its job.
    const closedByFeed = await eventsUntil(
      (e) => ofJob(withEnd)(e) && e['detail-type'] === 'ML Job State Change',
      (l) => l.some((e) => e.detail.state === 'closed'),
      `closed event of ${withEnd}`,
    );
    expect(closedByFeed.map((e) => [e.detail.state, e.detail.reason])).toEqual([
      ['opened', undefined],
      ['closing', 'datafeed_end_reached'],
      ['closed', 'datafeed_end_reached'],
    ]);

    await es.ml.startDatafeed({ datafeed_id: `datafeed-${realtime}`, start: new Date(T0).toISOString() });
    await eventsUntil(
      (e) => e.detail.datafeed_id === `datafeed-${realtime}`,
      (l) => l.some((e) => e.detail.state === 'started'),
      `started event of datafeed-${realtime}`,
    );
    await es.ml.stopDatafeed({ datafeed_id: `datafeed-${realtime}` });
    const stopped = await eventsUntil(
      (e) => e.detail.datafeed_id === `datafeed-${realtime}` && e.detail.state === 'stopped',
      (l) => l.length > 0,
      `stopped event of datafeed-${realtime}`,
    );
    expect(stopped).toHaveLength(1);
    expect(stopped[0]?.detail).toMatchObject({ previous_state: 'stopping', reason: 'stop_requested', job_id: realtime });
    await es.ml.closeJob({ job_id: realtime });
  });

  it('upgrade mode on and off: two events', async () => {
    const isUpgrade = (e: Envelope) => e['detail-type'] === 'ML Upgrade Mode Change';
    const before = readEvents().filter(isUpgrade).length;
    try {
      await es.ml.setUpgradeMode({ enabled: true, timeout: '30s' });
    } finally {
      await es.ml.setUpgradeMode({ enabled: false, timeout: '30s' });
    }
    const changes = await eventsUntil(isUpgrade, (l) => l.length >= before + 2, 'upgrade mode events');
    expect(changes).toHaveLength(before + 2);
    const mine = changes.slice(-2);
    expect(mine.map((e) => [e.detail.enabled, e.detail.previous])).toEqual([
      [true, false],
      [false, true],
    ]);
  });

  it('a close that fails in the worker: ML Command Failed with the task and the Elasticsearch error', async () => {
    const id = uniqueId('events-fail');
    await es.ml.putJob({ job_id: id, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' } });
    await es.ml.openJob({ job_id: id });
    // The job's process fails under it; a close queued before the HTTP side could see it then fails in the worker (409).
    const { markJobFailed } = await direct(() => import('../../lib/app/close.ts'));
    const { submitCommand, awaitCommand } = await direct(() => import('../../lib/app/commands.ts'));
    await markJobFailed(id, 'simulated process failure');
    const cmd = await submitCommand({ action: 'close', es_action: 'cluster:admin/xpack/ml/job/close', description: `close job [${id}]`, targets: [id] });
    const out = await awaitCommand(cmd.command_id, undefined);
    expect(out.kind).toBe('finished');

    const failed = await eventsUntil(
      (e) => e['detail-type'] === 'ML Command Failed' && e.detail.job_id === id,
      (l) => l.length > 0,
      `ML Command Failed of ${id}`,
    );
    expect(failed).toHaveLength(1);
    expect(failed[0]?.detail).toMatchObject({
      action: 'close',
      es_action: 'cluster:admin/xpack/ml/job/close',
      target: id,
      job_id: id,
      task_id: cmd.task_id,
      command_id: cmd.command_id,
      error: { type: 'status_exception', status: 409, reason: `cannot close job [${id}] because it failed, use force close` },
    });
    const states = readEvents()
      .filter(ofJob(id))
      .filter((e) => e['detail-type'] === 'ML Job State Change')
      .map(stateOf);
    expect(states).toEqual(['closed->opened', 'opened->failed']);
    await es.ml.closeJob({ job_id: id, force: true });
    await eventsUntil(ofJob(id), (l) => l.some((e) => e.detail.reason === 'force_close' && e.detail.state === 'closed'), `force close event of ${id}`);
  });
});
