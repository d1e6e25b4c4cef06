import { describe, expect, it, vi } from 'vitest';
import { describeAnswer, postedCounts, settle, TaskFailedError, TaskStillRunningError, taskIdOf, type TaskAnswer } from '../../../examples/nab/answers.ts';

const TASK = 'mlplane-0:1767571200000123';
const DATA_COUNTS = {
  job_id: 'nab-x',
  processed_record_count: 4032,
  processed_field_count: 4032,
  input_record_count: 4032,
  invalid_date_count: 0,
  missing_field_count: 1,
  out_of_order_timestamp_count: 2,
};

/** A GET _tasks stub answering `answers` in turn. */
function tasks(...answers: TaskAnswer[]) {
  return vi.fn(async (_taskId: string): Promise<TaskAnswer> => {
    const next = answers.shift();
    if (!next) throw new Error('GET _tasks called more often than expected');
    return next;
  });
}

describe('settle', () => {
  it('takes a 200 answer as final and asks for no task', async () => {
    const getTask = tasks();
    expect(await settle({ statusCode: 200, body: DATA_COUNTS }, getTask)).toEqual({ response: DATA_COUNTS, polls: 0 });
    expect(getTask).not.toHaveBeenCalled();
  });

  it('does not follow a 200 {task} answer (wait_for_completion=false asked not to wait)', async () => {
    const getTask = tasks();
    expect(await settle({ statusCode: 200, body: { task: TASK } }, getTask)).toEqual({ response: { task: TASK }, polls: 0 });
    expect(getTask).not.toHaveBeenCalled();
  });

  it('follows a 202 task through unfinished answers to its response', async () => {
    const getTask = tasks({ completed: false }, { completed: false }, { completed: true, response: DATA_COUNTS });
    expect(await settle({ statusCode: 202, body: { task: TASK } }, getTask)).toEqual({ response: DATA_COUNTS, taskId: TASK, polls: 3 });
    expect(getTask.mock.calls).toEqual([[TASK], [TASK], [TASK]]);
  });

  it('throws the error of a task that completed with one', async () => {
    const cause = { type: 'status_exception', reason: 'Cannot perform requested action because job [nab-x] is not open' };
    const err = await settle({ statusCode: 202, body: { task: TASK } }, tasks({ completed: true, error: cause })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(err).toMatchObject({ taskId: TASK, error: cause });
    expect((err as Error).message).toContain('Cannot perform requested action because job [nab-x] is not open');
  });

  it('gives up on a task still running after maxWaitMs, by the clock it is given', async () => {
    let t = 0;
    const now = () => t;
    const getTask = vi.fn(async (): Promise<TaskAnswer> => {
      t += 28_000; // each GET _tasks waits up to the gateway cap
      return { completed: false };
    });
    const err = await settle({ statusCode: 202, body: { task: TASK } }, getTask, { now, maxWaitMs: 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskStillRunningError);
    expect(err).toMatchObject({ taskId: TASK, waitedMs: 84_000 });
    expect(getTask).toHaveBeenCalledTimes(3);
  });
});

describe('taskIdOf', () => {
  it('reads the task of a 202 answer only', () => {
    expect(taskIdOf({ statusCode: 202, body: { task: TASK } })).toBe(TASK);
    expect(taskIdOf({ statusCode: 202, body: { task: 17 } })).toBeUndefined();
    expect(taskIdOf({ statusCode: 202, body: null })).toBeUndefined();
    expect(taskIdOf({ statusCode: 200, body: { task: TASK } })).toBeUndefined();
  });
});

describe('postedCounts', () => {
  it('reads the counts of a _data answer', () => {
    expect(postedCounts(DATA_COUNTS)).toEqual({
      processed_record_count: 4032,
      invalid_date_count: 0,
      missing_field_count: 1,
      out_of_order_timestamp_count: 2,
    });
  });

  it('refuses an answer that is not data_counts, quoting it, rather than reporting "undefined processed"', () => {
    expect(() => postedCounts({ task: TASK })).toThrow(
      `the _data answer has no data_counts (processed_record_count, invalid_date_count, missing_field_count, out_of_order_timestamp_count missing): {"task":"${TASK}"}`,
    );
    expect(() => postedCounts(undefined)).toThrow(/no data_counts/);
  });
});

describe('describeAnswer', () => {
  it('prints the status and the answer', () => {
    expect(describeAnswer({ statusCode: 200, body: { closed: true } }, { response: { closed: true }, polls: 0 })).toBe('→ 200 {"closed":true}');
  });

  it('prints the 202, the task followed and its response, or what the caller made of it', () => {
    const answer = { statusCode: 202, body: { task: TASK } };
    const settled = { response: { opened: true, node: 'mlplane-0' }, taskId: TASK, polls: 2 };
    expect(describeAnswer(answer, settled)).toBe(`→ 202 {"task":"${TASK}"}, followed (2 GET _tasks): {"opened":true,"node":"mlplane-0"}`);
    expect(describeAnswer(answer, settled, 'opened')).toBe(`→ 202 {"task":"${TASK}"}, followed (2 GET _tasks): opened`);
  });
});
