/**
 * The datafeed's lifecycle (Elasticsearch's `DatafeedState`, spec B.2): `stopped` (no task),
 * `starting` (the task exists, not yet running), `started`, `stopping`. Pure: it decides the
 * next runtime value or throws the error Elasticsearch gives for the move; the use cases in
 * `lib/app` write what it returns with one conditional write.
 */
import { ConflictError, StaleStateError } from '../errors.ts';
import type { DatafeedRuntime, DatafeedState } from '../datafeed/types.ts';
import { moved, refuse, stateMachine, unchanged, type TransitionTable } from './state-machine.ts';

/** Every datafeed state, in lifecycle order (the rows of the transition table). */
export const DATAFEED_STATES: readonly DatafeedState[] = ['stopped', 'starting', 'started', 'stopping'];

/** Runtime fields that exist only while the datafeed has a task; a move to `stopped` removes them. */
export const DATAFEED_TASK_FIELDS = [
  'node',
  'assignment_explanation',
  'start_ms',
  'end_ms',
  'isolated',
  'run_id',
  'lookback_ms',
  'chunk_span_ms',
  'lookback_end_ms',
  'next_search_ms',
  'empty_searches',
  'search_interval',
  'last_data_check_ms',
  'delayed_data_finding',
  'problem',
] as const satisfies readonly (keyof DatafeedRuntime)[];

/** What happens to a datafeed; `*_requested` events are the checks a request makes before it changes anything. */
export type DatafeedEvent =
  /** POST _start, request side: only a stopped datafeed can be started. */
  | { type: 'start_requested' }
  /** The start is accepted: a task exists, assigned to `node`, for `[start, end)`. */
  | { type: 'start'; node: string; startMs: number; endMs?: number; runId: string }
  /**
   * The runner began its lookback; a run without `end` fixes where its lookback ends
   * (`now - query_delay`); `resumeFromMs` is where it starts when the job already has data after `start`.
   */
  | { type: 'started'; lookbackEndMs?: number; resumeFromMs?: number }
  /** The runner posted a chunk: its end, the window searched and the timing stats after its search. */
  | { type: 'progress'; lookbackMs: number; timingStats: DatafeedRuntime['timing_stats']; searchInterval?: { start_ms: number; end_ms: number }; chunkSpanMs?: number }
  /**
   * A run without `end` finished its lookback or a real-time search: when the next search is
   * due, the consecutive empty searches, the delayed-data check's bookkeeping, and the
   * extraction problem it hit (none: the problem is cleared).
   */
  | { type: 'realtime'; nextSearchMs: number; emptySearches: number; lastDataCheckMs?: number; delayedDataFinding?: string; problem?: string }
  /** POST _stop without force: a running datafeed finishes its current chunk first. */
  | { type: 'stop' }
  /** The runner stopped (after a stop, at `end`, on a lookback error, or after `max_empty_searches`): the task goes. */
  | { type: 'stopped' }
  /** POST _stop with `force` (or a force close/delete of its job): the task goes at once. */
  | { type: 'force_stop' }
  /** The job was force-closed, or upgrade mode was enabled: the datafeed is cut off from its job, so it posts nothing and its stop will not close the job. */
  | { type: 'isolate' }
  /** Upgrade mode was disabled: the task is assigned again (a fresh task in Elasticsearch), no longer isolated. */
  | { type: 'reassign' }
  /**
   * POST _update: only a stopped datafeed can be updated. The config shares the item with
   * the state, so a config change bumps the version too (concurrent updates conflict).
   */
  | { type: 'update' }
  /** DELETE without force: only a stopped datafeed can be deleted. */
  | { type: 'delete_requested' };

const alreadyStarted = refuse<DatafeedRuntime>((rt) => new ConflictError(`cannot start datafeed [${rt.datafeed_id}] because it has already been started`));
const cannotUpdate = refuse<DatafeedRuntime>((rt) => new ConflictError(`Cannot update datafeed [${rt.datafeed_id}] while its status is ${rt.state}`));
const cannotDelete = refuse<DatafeedRuntime>((rt) => new ConflictError(`Cannot delete datafeed [${rt.datafeed_id}] while its status is ${rt.state}`));
/** A move only another writer's win can ask for (a runner reporting on a datafeed stopped meanwhile): the caller re-reads. */
const lostRace = (expected: string) => refuse<DatafeedRuntime>((rt) => new StaleStateError(`datafeed [${rt.datafeed_id}] is ${rt.state}, not ${expected}`));

const progressPatch = (e: Extract<DatafeedEvent, { type: 'progress' }>): Partial<DatafeedRuntime> => ({
  lookback_ms: e.lookbackMs,
  timing_stats: e.timingStats,
  ...(e.searchInterval ? { search_interval: e.searchInterval } : {}),
  ...(e.chunkSpanMs !== undefined ? { chunk_span_ms: e.chunkSpanMs } : {}),
});
const realtimePatch = (e: Extract<DatafeedEvent, { type: 'realtime' }>): Partial<DatafeedRuntime> => ({
  next_search_ms: e.nextSearchMs,
  empty_searches: e.emptySearches,
  ...(e.lastDataCheckMs !== undefined ? { last_data_check_ms: e.lastDataCheckMs } : {}),
  ...(e.delayedDataFinding !== undefined ? { delayed_data_finding: e.delayedDataFinding } : {}),
  ...(e.problem !== undefined ? { problem: e.problem } : {}),
});

const toStopped = (rt: DatafeedRuntime): DatafeedRuntime => moved(rt, { state: 'stopped' }, DATAFEED_TASK_FIELDS);

/** The datafeed's transition table: one cell per (event, state). */
export const DATAFEED_TRANSITIONS: TransitionTable<DatafeedState, DatafeedRuntime, DatafeedEvent> = {
  start_requested: { stopped: unchanged, starting: alreadyStarted, started: alreadyStarted, stopping: alreadyStarted },
  start: {
    stopped: (rt, e) =>
      moved(rt, { state: 'starting', node: e.node, assignment_explanation: '', start_ms: e.startMs, run_id: e.runId, ...(e.endMs !== undefined ? { end_ms: e.endMs } : {}) }),
    starting: alreadyStarted,
    started: alreadyStarted,
    stopping: alreadyStarted,
  },
  started: {
    stopped: lostRace('starting'),
    starting: (rt, e) =>
      moved(rt, {
        state: 'started',
        ...(e.lookbackEndMs !== undefined ? { lookback_end_ms: e.lookbackEndMs } : {}),
        ...(e.resumeFromMs !== undefined ? { lookback_ms: e.resumeFromMs } : {}),
      }),
    started: unchanged,
    stopping: lostRace('starting'),
  },
  progress: {
    stopped: lostRace('started'),
    starting: lostRace('started'),
    started: (rt, e) => moved(rt, progressPatch(e)),
    stopping: (rt, e) => moved(rt, progressPatch(e)),
  },
  realtime: {
    stopped: lostRace('started'),
    starting: lostRace('started'),
    started: (rt, e) => moved(rt, realtimePatch(e), e.problem === undefined ? ['problem'] : []),
    // A stop asked for meanwhile is finished by the runner right after; the bookkeeping is kept until then.
    stopping: (rt, e) => moved(rt, realtimePatch(e), e.problem === undefined ? ['problem'] : []),
  },
  // Stopping a stopped datafeed is not an error (start_stop_datafeed.yml); `starting` counts as started (spec B.2).
  stop: { stopped: unchanged, starting: (rt) => moved(rt, { state: 'stopping' }), started: (rt) => moved(rt, { state: 'stopping' }), stopping: unchanged },
  stopped: { stopped: unchanged, starting: toStopped, started: toStopped, stopping: toStopped },
  force_stop: { stopped: unchanged, starting: toStopped, started: toStopped, stopping: toStopped },
  isolate: {
    stopped: unchanged,
    starting: (rt) => (rt.isolated ? rt : moved(rt, { isolated: true })),
    started: (rt) => (rt.isolated ? rt : moved(rt, { isolated: true })),
    stopping: (rt) => (rt.isolated ? rt : moved(rt, { isolated: true })),
  },
  reassign: {
    stopped: unchanged,
    starting: (rt) => (rt.isolated ? moved(rt, { isolated: false }) : rt),
    started: (rt) => (rt.isolated ? moved(rt, { isolated: false }) : rt),
    stopping: (rt) => (rt.isolated ? moved(rt, { isolated: false }) : rt),
  },
  update: { stopped: (rt) => moved(rt, {}), starting: cannotUpdate, started: cannotUpdate, stopping: cannotUpdate },
  delete_requested: { stopped: unchanged, starting: cannotDelete, started: cannotDelete, stopping: cannotDelete },
};

/**
 * The datafeed's next runtime value after `event`: version + 1 and the task fields cleared on
 * a move to `stopped`; `rt` itself when the event changes nothing.
 * @throws ConflictError 409 `status_exception`: "cannot start datafeed [<id>] because it has already been started",
 *   "Cannot update datafeed [<id>] while its status is <state>", "Cannot delete datafeed [<id>] while its status is <state>"
 * @throws StaleStateError (transient) for `started` reported on a datafeed no longer starting
 */
export const transitionDatafeed = stateMachine(DATAFEED_TRANSITIONS);
