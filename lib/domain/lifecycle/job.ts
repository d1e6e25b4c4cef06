/**
 * The job's lifecycle (Elasticsearch's persistent task states, spec B.1): `closed` (no
 * task), `opening` (a lazy open waiting for ML capacity), `opened`, `closing` (the
 * checkpointed close steps of spec B.3) and `failed` (only a force close or a force
 * delete get it out). Pure: it decides the next runtime item or throws the error
 * Elasticsearch gives for the move; the use cases in `lib/app` write what it returns.
 */
import { ConflictError, Messages, StaleStateError } from '../errors.ts';
import type { CloseProgress, JobRuntime, JobState, OpenTimeSettings, RenormalizationState } from '../state.ts';
import { moved, refuse, stateMachine, unchanged, type TransitionTable } from './state-machine.ts';

/** Every job state, in lifecycle order (the rows of the transition table). */
export const JOB_STATES: readonly JobState[] = ['closed', 'opening', 'opened', 'closing', 'failed'];

/**
 * Runtime fields that exist only while the job has a task; a move to `closed` (graceful
 * or forced) removes them all, as Elasticsearch drops the persistent task.
 */
export const TASK_FIELDS = ['node', 'open_time_ms', 'assignment_explanation', 'close', 'reason', 'opened_with'] as const satisfies readonly (keyof JobRuntime)[];

/** What happens to a job; `*_requested` events are the checks an HTTP request makes before it queues a command. */
export type JobEvent =
  /** POST _open, HTTP side: only a closed job can be opened. */
  | { type: 'open_requested' }
  /** The open command, with a free slot: assigned to `node` at once. */
  | { type: 'open'; node: string; nowMs: number; openedWith: OpenTimeSettings; commandId: string }
  /** The open command of an `allow_lazy_open` job without a free slot: `opening`, unassigned. */
  | { type: 'wait_for_capacity'; explanation: string; nowMs: number; openedWith: OpenTimeSettings; commandId: string }
  /** A slot freed up: a waiting lazy job is assigned to `node`. */
  | { type: 'promote'; node: string }
  /** Post data, flush or background persist: the job must be opened. */
  | { type: 'require_open' }
  /** The close command starts (or resumes: a job already closing keeps its progress). */
  | { type: 'start_close'; commandId: string; next: number; snapshotId?: string }
  /** One close step is done: its runtime changes (`patch`, `closePatch`) and the next step. */
  | { type: 'close_step_done'; patch?: Partial<JobRuntime>; closePatch?: Partial<CloseProgress> }
  /** The last close step: the task goes. */
  | { type: 'finish_close' }
  /** Close with `force`: the task goes at once from any state. */
  | { type: 'force_close' }
  /** The job's "process" could not carry on (e.g. a close gave up): `failed` with a reason. */
  | { type: 'fail'; reason: string }
  /** DELETE without `force`: only a closed job can be deleted. */
  | { type: 'delete_requested' }
  /**
   * Work recorded on a job with a running task, state unchanged: a batch of data or a flush
   * (opened), a snapshot, a close step's results (closing). `patch` is the new counts,
   * pointers and progress.
   */
  | { type: 'progress'; patch: Partial<JobRuntime> }
  /**
   * The `renormalize` command saved its progress (a rescored chunk, a finished pass). It runs in
   * the job's command order whatever the state: a pass requested by a close's final results
   * runs after the close, on the closed job, as Elasticsearch's close waits for its renormalizer.
   */
  | { type: 'renormalization_progress'; renormalization: RenormalizationState };

const alreadyOpened = refuse<JobRuntime>((rt) => new ConflictError(Messages.alreadyOpened(rt.job_id)));
const notOpen = refuse<JobRuntime>((rt) => new ConflictError(Messages.jobNotOpen(rt.job_id)));
const closeFailed = refuse<JobRuntime>((rt) => new ConflictError(Messages.closeFailedOne(rt.job_id)));
const deleteOpen = refuse<JobRuntime>((rt) => new ConflictError(Messages.deleteOpen(rt.job_id, rt.state)));
/** A move the job's own commands never ask for unless another writer got there first (a lost race): the caller re-reads. */
const lostRace = (expected: string) => refuse<JobRuntime>((rt) => new StaleStateError(`job [${rt.job_id}] is ${rt.state}${rt.node ? '' : ' (unassigned)'}, not ${expected}`));

const toClosed = (rt: JobRuntime): JobRuntime => moved(rt, { state: 'closed' }, TASK_FIELDS);
const toFailed = (rt: JobRuntime, e: { reason: string }): JobRuntime => moved(rt, { state: 'failed', reason: e.reason });
const startClose = (rt: JobRuntime, e: { commandId: string; next: number; snapshotId?: string }): JobRuntime =>
  moved(rt, { state: 'closing', close: { command_id: e.commandId, next: e.next, ...(e.snapshotId ? { snapshot_id: e.snapshotId } : {}) } });
const progress = (rt: JobRuntime, e: { patch: Partial<JobRuntime> }): JobRuntime => moved(rt, { ...e.patch, state: rt.state });
const renormalized = (rt: JobRuntime, e: { renormalization: RenormalizationState }): JobRuntime => moved(rt, { renormalization: e.renormalization });
const stepDone = (rt: JobRuntime, e: { patch?: Partial<JobRuntime>; closePatch?: Partial<CloseProgress> }): JobRuntime => {
  if (!rt.close) throw new StaleStateError(`job [${rt.job_id}] has no close in progress`);
  return moved(rt, { ...e.patch, close: { ...rt.close, ...e.closePatch, next: rt.close.next + 1 } });
};

/**
 * The job's transition table: one cell per (event, state). Reading a row tells what an
 * event does in each state; the unit test lists every cell's outcome.
 */
export const JOB_TRANSITIONS: TransitionTable<JobState, JobRuntime, JobEvent> = {
  open_requested: { closed: unchanged, opening: alreadyOpened, opened: alreadyOpened, closing: alreadyOpened, failed: alreadyOpened },
  open: {
    closed: (rt, e) =>
      moved(rt, {
        opened_with: e.openedWith,
        state: 'opened',
        node: e.node,
        assignment_explanation: '',
        open_time_ms: e.nowMs,
        last_command: { id: e.commandId, response: { opened: true, node: e.node } },
      }),
    opening: alreadyOpened,
    opened: alreadyOpened,
    closing: alreadyOpened,
    failed: alreadyOpened,
  },
  wait_for_capacity: {
    closed: (rt, e) =>
      moved(
        rt,
        {
          opened_with: e.openedWith,
          state: 'opening',
          assignment_explanation: e.explanation,
          open_time_ms: e.nowMs,
          last_command: { id: e.commandId, response: { opened: true, node: '' } },
        },
        ['node'],
      ),
    opening: alreadyOpened,
    opened: alreadyOpened,
    closing: alreadyOpened,
    failed: alreadyOpened,
  },
  promote: {
    closed: lostRace('opening'),
    opening: (rt, e) => (rt.node ? lostRace('opening (unassigned)')(rt, e) : moved(rt, { state: 'opened', node: e.node, assignment_explanation: '' })),
    opened: lostRace('opening'),
    closing: lostRace('opening'),
    failed: lostRace('opening'),
  },
  require_open: { closed: notOpen, opening: notOpen, opened: unchanged, closing: notOpen, failed: notOpen },
  start_close: {
    closed: unchanged,
    opening: startClose,
    opened: startClose,
    // A redelivered close resumes the progress saved on the job; a closing job without progress starts it.
    closing: (rt, e) => (rt.close ? rt : startClose(rt, e)),
    failed: closeFailed,
  },
  close_step_done: { closed: lostRace('closing'), opening: lostRace('closing'), opened: lostRace('closing'), closing: stepDone, failed: lostRace('closing') },
  finish_close: { closed: lostRace('closing'), opening: lostRace('closing'), opened: lostRace('closing'), closing: toClosed, failed: lostRace('closing') },
  force_close: { closed: unchanged, opening: toClosed, opened: toClosed, closing: toClosed, failed: toClosed },
  fail: { closed: unchanged, opening: toFailed, opened: toFailed, closing: toFailed, failed: unchanged },
  delete_requested: { closed: unchanged, opening: deleteOpen, opened: deleteOpen, closing: deleteOpen, failed: deleteOpen },
  progress: { closed: lostRace('running'), opening: lostRace('running'), opened: progress, closing: progress, failed: lostRace('running') },
  renormalization_progress: { closed: renormalized, opening: renormalized, opened: renormalized, closing: renormalized, failed: renormalized },
};

/**
 * The job's next runtime item after `event`: version + 1 and the fields the move clears
 * removed; `rt` itself when the event changes nothing.
 * @throws ConflictError 409 `status_exception` for the moves Elasticsearch refuses:
 *   "Cannot open job [<id>] because it has already been opened", "Cannot perform requested
 *   action because job [<id>] is not open", "cannot close job [<id>] because it failed, use
 *   force close", "Cannot delete job [<id>] because the job is <state>"
 * @throws StaleStateError (transient) for a move that only a lost race can ask for (a close
 *   step on a job force-closed meanwhile, a promotion of a job no longer waiting)
 */
export const transitionJob = stateMachine(JOB_TRANSITIONS);
