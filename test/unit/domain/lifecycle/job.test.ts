import { describe, expect, it } from 'vitest';
import { ConflictError, StaleStateError } from '../../../../lib/domain/errors.ts';
import { JOB_STATES, JOB_TRANSITIONS, TASK_FIELDS, transitionJob, type JobEvent } from '../../../../lib/domain/lifecycle/job.ts';
import { newJobRuntime, type JobRuntime, type JobState } from '../../../../lib/domain/state.ts';

/** A job in `state` with every task field set, so a test sees which ones a move clears. */
const job = (state: JobState): JobRuntime => ({
  ...newJobRuntime('j', 0),
  state,
  version: 7,
  node: 'n',
  open_time_ms: 5,
  assignment_explanation: 'x',
  opened_with: {},
  ...(state === 'closing' ? { close: { command_id: 'c0', next: 2 } } : {}),
  ...(state === 'failed' ? { reason: 'r' } : {}),
});

const events: { [K in JobEvent['type']]: Extract<JobEvent, { type: K }> } = {
  open_requested: { type: 'open_requested' },
  open: { type: 'open', node: 'node-1', nowMs: 100, openedWith: { renormalization_window_days: 3 }, commandId: 'c1' },
  wait_for_capacity: { type: 'wait_for_capacity', explanation: 'no slot', nowMs: 100, openedWith: {}, commandId: 'c1' },
  promote: { type: 'promote', node: 'node-1' },
  require_open: { type: 'require_open' },
  start_close: { type: 'start_close', commandId: 'c1', next: 0, snapshotId: '9' },
  close_step_done: { type: 'close_step_done', patch: { last_finalized_bucket_end: 50 }, closePatch: { snapshot_id: '9' } },
  finish_close: { type: 'finish_close' },
  force_close: { type: 'force_close' },
  fail: { type: 'fail', reason: 'boom' },
  delete_requested: { type: 'delete_requested' },
  progress: { type: 'progress', patch: { last_finalized_bucket_end: 60 } },
  renormalization_progress: { type: 'renormalization_progress', renormalization: { generation: 3, requested: 2, done: 1, start: 0, end: 60, cursor: 30 } },
};

/** The outcome of every (event, state) pair: the next state, `same` (nothing written), or the error. */
type Outcome = JobState | 'same' | { conflict: string } | 'lost race';
const alreadyOpened = { conflict: 'Cannot open job [j] because it has already been opened' };
const notOpen = { conflict: 'Cannot perform requested action because job [j] is not open' };
const deleteOpen = (s: string) => ({ conflict: `Cannot delete job [j] because the job is ${s}` });

const table: Record<JobEvent['type'], Record<JobState, Outcome>> = {
  //                  closed        opening         opened          closing          failed
  open_requested: { closed: 'same', opening: alreadyOpened, opened: alreadyOpened, closing: alreadyOpened, failed: alreadyOpened },
  open: { closed: 'opened', opening: alreadyOpened, opened: alreadyOpened, closing: alreadyOpened, failed: alreadyOpened },
  wait_for_capacity: { closed: 'opening', opening: alreadyOpened, opened: alreadyOpened, closing: alreadyOpened, failed: alreadyOpened },
  // The fixture's opening job has a node (assigned), so it is not waiting: see the unassigned case below.
  promote: { closed: 'lost race', opening: 'lost race', opened: 'lost race', closing: 'lost race', failed: 'lost race' },
  require_open: { closed: notOpen, opening: notOpen, opened: 'same', closing: notOpen, failed: notOpen },
  start_close: { closed: 'same', opening: 'closing', opened: 'closing', closing: 'same', failed: { conflict: 'cannot close job [j] because it failed, use force close' } },
  close_step_done: { closed: 'lost race', opening: 'lost race', opened: 'lost race', closing: 'closing', failed: 'lost race' },
  finish_close: { closed: 'lost race', opening: 'lost race', opened: 'lost race', closing: 'closed', failed: 'lost race' },
  force_close: { closed: 'same', opening: 'closed', opened: 'closed', closing: 'closed', failed: 'closed' },
  fail: { closed: 'same', opening: 'failed', opened: 'failed', closing: 'failed', failed: 'same' },
  delete_requested: { closed: 'same', opening: deleteOpen('opening'), opened: deleteOpen('opened'), closing: deleteOpen('closing'), failed: deleteOpen('failed') },
  progress: { closed: 'lost race', opening: 'lost race', opened: 'opened', closing: 'closing', failed: 'lost race' },
  // The renormalize command runs in the job's order whatever the state (after a close, too).
  renormalization_progress: { closed: 'closed', opening: 'opening', opened: 'opened', closing: 'closing', failed: 'failed' },
};

describe('the job transition table', () => {
  it('decides every (event, state) pair', () => {
    expect(Object.keys(JOB_TRANSITIONS).sort()).toEqual(Object.keys(table).sort());
    for (const row of Object.values(JOB_TRANSITIONS)) expect(Object.keys(row).sort()).toEqual([...JOB_STATES].sort());
  });

  for (const [type, row] of Object.entries(table) as [JobEvent['type'], Record<JobState, Outcome>][]) {
    for (const state of JOB_STATES) {
      const outcome = row[state];
      const label = typeof outcome === 'string' ? outcome : `409 ${outcome.conflict}`;
      it(`${type} on a ${state} job: ${label}`, () => {
        const before = job(state);
        const run = () => transitionJob(before, events[type]);
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

describe('what the job transitions write', () => {
  it('a graceful and a forced close clear every task field, and only those', () => {
    const closing = job('closing');
    for (const after of [transitionJob(closing, { type: 'finish_close' }), transitionJob(closing, { type: 'force_close' })]) {
      for (const f of TASK_FIELDS) expect(after).not.toHaveProperty(f);
      expect(after.data_counts).toBe(closing.data_counts);
    }
  });

  it('an open assigns the node and remembers the command and the open-time settings', () => {
    const after = transitionJob({ ...newJobRuntime('j', 0), version: 3 }, events.open);
    expect(after).toMatchObject({ state: 'opened', node: 'node-1', assignment_explanation: '', open_time_ms: 100, opened_with: { renormalization_window_days: 3 }, version: 4 });
    expect(after.last_command).toEqual({ id: 'c1', response: { opened: true, node: 'node-1' } });
  });

  it('a lazy open waits unassigned, and a promotion assigns it', () => {
    const waiting = transitionJob({ ...newJobRuntime('j', 0), node: 'stale' }, events.wait_for_capacity);
    expect(waiting).toMatchObject({ state: 'opening', assignment_explanation: 'no slot' });
    expect(waiting).not.toHaveProperty('node');
    expect(waiting.last_command?.response).toEqual({ opened: true, node: '' });
    expect(transitionJob(waiting, events.promote)).toMatchObject({ state: 'opened', node: 'node-1', assignment_explanation: '', version: waiting.version + 1 });
  });

  it('a close starts with its progress and each step moves it to the next step', () => {
    const closing = transitionJob(job('opened'), events.start_close);
    expect(closing.close).toEqual({ command_id: 'c1', next: 0, snapshot_id: '9' });
    const stepped = transitionJob(closing, events.close_step_done);
    expect(stepped.close).toEqual({ command_id: 'c1', next: 1, snapshot_id: '9' });
    expect(stepped.last_finalized_bucket_end).toBe(50);
  });

  it('a closing job without saved progress starts it; with progress it resumes', () => {
    const bare: JobRuntime = { ...job('closing') };
    delete bare.close;
    expect(transitionJob(bare, events.start_close).close?.command_id).toBe('c1');
    const resumed = job('closing');
    expect(transitionJob(resumed, events.start_close)).toBe(resumed);
  });

  it('progress keeps the state and the close progress, whatever the patch carries, and bumps the version once', () => {
    const closing = job('closing');
    const after = transitionJob(closing, { type: 'progress', patch: { state: 'opened', version: 99, last_finalized_bucket_end: 60 } });
    expect(after).toMatchObject({ state: 'closing', version: closing.version + 1, last_finalized_bucket_end: 60, close: closing.close });
  });

  it('a failure keeps its reason', () => {
    expect(transitionJob(job('opened'), events.fail)).toMatchObject({ state: 'failed', reason: 'boom' });
  });
});
