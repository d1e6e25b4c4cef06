import { describe, expect, it } from 'vitest';
import { newDatafeedRuntime, type DatafeedRuntime, type DatafeedState } from '../../../../lib/domain/datafeed/types.ts';
import { ConflictError, StaleStateError } from '../../../../lib/domain/errors.ts';
import { DATAFEED_STATES, DATAFEED_TASK_FIELDS, DATAFEED_TRANSITIONS, transitionDatafeed, type DatafeedEvent } from '../../../../lib/domain/lifecycle/datafeed.ts';

/** A datafeed in `state`, with every task field set when it has a task, so a test sees which ones a move clears. */
const feed = (state: DatafeedState): DatafeedRuntime => ({
  ...newDatafeedRuntime('d'),
  state,
  version: 7,
  ...(state === 'stopped' ? {} : { node: 'n', assignment_explanation: '', start_ms: 0, end_ms: 10, run_id: 'r0', lookback_ms: 5 }),
});

const events: { [K in DatafeedEvent['type']]: Extract<DatafeedEvent, { type: K }> } = {
  start_requested: { type: 'start_requested' },
  start: { type: 'start', node: 'node-1', startMs: 100, endMs: 200, runId: 'r1' },
  progress: { type: 'progress', lookbackMs: 150, timingStats: { search_count: 1, bucket_count: 0, total_search_time_ms: 2, exponential_average_search_time_per_hour_ms: 2 } },
  started: { type: 'started' },
  realtime: { type: 'realtime', nextSearchMs: 60_000, emptySearches: 1 },
  stop: { type: 'stop' },
  stopped: { type: 'stopped' },
  force_stop: { type: 'force_stop' },
  isolate: { type: 'isolate' },
  reassign: { type: 'reassign' },
  update: { type: 'update' },
  delete_requested: { type: 'delete_requested' },
};

/** The outcome of every (event, state) pair: the next state, `same` (nothing written), or the error. */
type Outcome = DatafeedState | 'same' | { conflict: string } | 'lost race';
const alreadyStarted = { conflict: 'cannot start datafeed [d] because it has already been started' };
const cannotUpdate = (s: string) => ({ conflict: `Cannot update datafeed [d] while its status is ${s}` });
const cannotDelete = (s: string) => ({ conflict: `Cannot delete datafeed [d] while its status is ${s}` });

const table: Record<DatafeedEvent['type'], Record<DatafeedState, Outcome>> = {
  start_requested: { stopped: 'same', starting: alreadyStarted, started: alreadyStarted, stopping: alreadyStarted },
  start: { stopped: 'starting', starting: alreadyStarted, started: alreadyStarted, stopping: alreadyStarted },
  started: { stopped: 'lost race', starting: 'started', started: 'same', stopping: 'lost race' },
  progress: { stopped: 'lost race', starting: 'lost race', started: 'started', stopping: 'stopping' },
  realtime: { stopped: 'lost race', starting: 'lost race', started: 'started', stopping: 'stopping' },
  stop: { stopped: 'same', starting: 'stopping', started: 'stopping', stopping: 'same' },
  stopped: { stopped: 'same', starting: 'stopped', started: 'stopped', stopping: 'stopped' },
  force_stop: { stopped: 'same', starting: 'stopped', started: 'stopped', stopping: 'stopped' },
  isolate: { stopped: 'same', starting: 'starting', started: 'started', stopping: 'stopping' },
  // A datafeed that is not isolated has nothing to undo (the isolated case is its own test).
  reassign: { stopped: 'same', starting: 'same', started: 'same', stopping: 'same' },
  update: { stopped: 'stopped', starting: cannotUpdate('starting'), started: cannotUpdate('started'), stopping: cannotUpdate('stopping') },
  delete_requested: { stopped: 'same', starting: cannotDelete('starting'), started: cannotDelete('started'), stopping: cannotDelete('stopping') },
};

describe('the datafeed transition table', () => {
  it('decides every (event, state) pair', () => {
    expect(Object.keys(DATAFEED_TRANSITIONS).sort()).toEqual(Object.keys(table).sort());
    for (const row of Object.values(DATAFEED_TRANSITIONS)) expect(Object.keys(row).sort()).toEqual([...DATAFEED_STATES].sort());
  });

  for (const [type, row] of Object.entries(table) as [DatafeedEvent['type'], Record<DatafeedState, Outcome>][]) {
    for (const state of DATAFEED_STATES) {
      const outcome = row[state];
      const label = typeof outcome === 'string' ? outcome : `409 ${outcome.conflict}`;
      it(`${type} on a ${state} datafeed: ${label}`, () => {
        const before = feed(state);
        const run = () => transitionDatafeed(before, events[type]);
        if (outcome === 'same') return expect(run()).toBe(before);
        if (outcome === 'lost race') return expect(run).toThrow(StaleStateError);
        if (typeof outcome === 'object') {
          expect(run).toThrow(ConflictError);
          return expect(run).toThrow(outcome.conflict);
        }
        const after = run();
        expect(after.state).toBe(outcome);
        expect(after.version).toBe(before.version + 1);
        expect(before.state).toBe(state);
      });
    }
  }
});

describe('what the datafeed transitions write', () => {
  it('a start records the node and the time range', () => {
    expect(transitionDatafeed(feed('stopped'), events.start)).toMatchObject({
      state: 'starting',
      node: 'node-1',
      assignment_explanation: '',
      start_ms: 100,
      end_ms: 200,
      version: 8,
    });
  });

  it('a real-time start has no end', () => {
    expect(transitionDatafeed(feed('stopped'), { type: 'start', node: 'n', startMs: 0, runId: 'r' })).not.toHaveProperty('end_ms');
  });

  it('a real-time run fixes its lookback end when it starts and goes on after the data the job already has', () => {
    const started = transitionDatafeed(feed('starting'), { type: 'started', lookbackEndMs: 9_000, resumeFromMs: 4_001 });
    expect(started).toMatchObject({ state: 'started', lookback_end_ms: 9_000, lookback_ms: 4_001 });
    expect(transitionDatafeed(feed('starting'), events.started)).toMatchObject({ lookback_ms: 5 });
  });

  it('a real-time step records the next due time, the empty searches and the delayed-data bookkeeping; progress records the window searched', () => {
    const step = transitionDatafeed(feed('started'), { type: 'realtime', nextSearchMs: 120_000, emptySearches: 3, lastDataCheckMs: 7, delayedDataFinding: 'f' });
    expect(step).toMatchObject({ next_search_ms: 120_000, empty_searches: 3, last_data_check_ms: 7, delayed_data_finding: 'f' });
    const progress = transitionDatafeed(step, { ...events.progress, searchInterval: { start_ms: 5, end_ms: 150 } });
    expect(progress).toMatchObject({ lookback_ms: 150, search_interval: { start_ms: 5, end_ms: 150 }, next_search_ms: 120_000 });
  });

  it('a real-time step records the extraction problem it hit, and one without a problem clears it', () => {
    const failing = transitionDatafeed(feed('started'), { type: 'realtime', nextSearchMs: 1, emptySearches: 0, problem: 'no such index [x]' });
    expect(failing.problem).toBe('no such index [x]');
    expect(transitionDatafeed(failing, { type: 'realtime', nextSearchMs: 2, emptySearches: 0 })).not.toHaveProperty('problem');
  });

  it('every move to stopped clears every task field, and only those', () => {
    for (const event of [events.stopped, events.force_stop]) {
      const before = {
        ...feed('started'),
        isolated: true,
        lookback_end_ms: 9,
        next_search_ms: 60_000,
        empty_searches: 2,
        search_interval: { start_ms: 0, end_ms: 1 },
        last_data_check_ms: 3,
        delayed_data_finding: 'f',
        problem: 'p',
      };
      const after = transitionDatafeed(before, event);
      for (const f of DATAFEED_TASK_FIELDS) expect(after).not.toHaveProperty(f);
      expect(after.timing_stats).toBe(before.timing_stats);
    }
  });

  it('isolating marks the datafeed once', () => {
    const isolated = transitionDatafeed(feed('started'), events.isolate);
    expect(isolated.isolated).toBe(true);
    expect(transitionDatafeed(isolated, events.isolate)).toBe(isolated);
  });

  it('reassigning after upgrade mode undoes the isolation of a running datafeed, and only that', () => {
    for (const state of ['starting', 'started', 'stopping'] as const) {
      const isolated = transitionDatafeed(feed(state), events.isolate);
      const reassigned = transitionDatafeed(isolated, events.reassign);
      expect(reassigned.isolated).toBe(false);
      expect(reassigned.state).toBe(state);
      expect(reassigned.version).toBe(isolated.version + 1);
    }
  });
});
