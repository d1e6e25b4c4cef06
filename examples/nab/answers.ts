/**
 * How the NAB demo reads the server's answers. A request that goes through the command
 * queue (open, post data, close, delete) waits for its outcome only up to the API Gateway
 * cap (about 28 s); when the cap comes first the answer is `202 {"task":"<node>:<id>"}` and
 * the command carries on. On a busy machine a 4,000-row `_data` post can take that long, so
 * every answer is settled here: a 202 task is followed with `GET _tasks/<id>` until it
 * completes, and its `response` (or `error`) is what the demo reports. No I/O here: the
 * demo passes the task lookup in.
 */

/** A server answer as the demo receives it: the HTTP status and the parsed JSON body. */
export interface Answer {
  statusCode: number;
  body: unknown;
}

/** The parts of a `GET _tasks/<id>` answer the demo reads (Elasticsearch's GetTaskResponse). */
export interface TaskAnswer {
  completed: boolean;
  /** The command's answer, once completed without error. */
  response?: unknown;
  /** Elasticsearch's error cause (`{type, reason, …}`), once completed with an error. */
  error?: unknown;
}

/** The final answer behind a request: its response, and the task followed to get it, if any. */
export interface Settled {
  response: unknown;
  /** Set when the request answered 202 and this task was followed to its end. */
  taskId?: string;
  /** How many `GET _tasks` calls it took (0 without a task). */
  polls: number;
}

/** A task the demo followed ended with an error: carries the task id and Elasticsearch's error cause. */
export class TaskFailedError extends Error {
  constructor(
    readonly taskId: string,
    readonly error: unknown,
  ) {
    super(`task ${taskId} failed: ${JSON.stringify(error)}`);
  }
}

/** A task still had not completed when the demo stopped waiting for it. */
export class TaskStillRunningError extends Error {
  constructor(
    readonly taskId: string,
    readonly waitedMs: number,
  ) {
    super(`task ${taskId} still running after ${Math.round(waitedMs / 1000)} s of GET _tasks`);
  }
}

/** Options of {@link settle}. */
export interface SettleOptions {
  /** Stop following a task after this long, in ms (default 30 min: a 4,000-row post takes well under a second on an idle machine). */
  maxWaitMs?: number;
  /** The clock, epoch ms (default `Date.now`; tests pass their own). */
  now?: () => number;
}

/** The task id of a `202 {"task": "<node>:<id>"}` answer, else undefined. */
export function taskIdOf(answer: Answer): string | undefined {
  if (answer.statusCode !== 202) return undefined;
  const task = (answer.body as { task?: unknown } | null)?.task;
  return typeof task === 'string' ? task : undefined;
}

/**
 * The final response behind `answer`. Any answer but a 202 with a task is final (errors
 * already reached the caller as exceptions). For a 202, calls `getTask(taskId)` (the demo's
 * `GET _tasks/<id>?wait_for_completion=true`, which itself answers `completed: false` when
 * the gateway cap passes first, so each call waits up to that cap) until the task
 * completes, or until `maxWaitMs` has passed since the first call.
 * @throws TaskFailedError when the task completed with an error
 * @throws TaskStillRunningError when it had not completed within `maxWaitMs`
 */
export async function settle(answer: Answer, getTask: (taskId: string) => Promise<TaskAnswer>, opts: SettleOptions = {}): Promise<Settled> {
  const taskId = taskIdOf(answer);
  if (taskId === undefined) return { response: answer.body, polls: 0 };
  const now = opts.now ?? Date.now;
  const maxWaitMs = opts.maxWaitMs ?? 30 * 60_000;
  const started = now();
  for (let polls = 1; ; polls++) {
    const task = await getTask(taskId);
    if (task.completed) {
      if (task.error !== undefined) throw new TaskFailedError(taskId, task.error);
      return { response: task.response, taskId, polls };
    }
    const waited = now() - started;
    if (waited >= maxWaitMs) throw new TaskStillRunningError(taskId, waited);
  }
}

/** The `data_counts` fields the demo prints of a `_data` answer. */
export interface PostedCounts {
  processed_record_count: number;
  invalid_date_count: number;
  missing_field_count: number;
  out_of_order_timestamp_count: number;
}

const COUNT_FIELDS = ['processed_record_count', 'invalid_date_count', 'missing_field_count', 'out_of_order_timestamp_count'] as const;

/**
 * The counts of a settled `_data` response (the job's running `data_counts`).
 * @throws Error quoting the response when it is not data_counts (say, a `{task}` body that was not followed)
 */
export function postedCounts(response: unknown): PostedCounts {
  const r = response as Record<string, unknown> | null;
  const missing = COUNT_FIELDS.filter((f) => typeof r?.[f] !== 'number');
  if (missing.length > 0) throw new Error(`the _data answer has no data_counts (${missing.join(', ')} missing): ${JSON.stringify(response)}`);
  return Object.fromEntries(COUNT_FIELDS.map((f) => [f, r![f]])) as unknown as PostedCounts;
}

/**
 * One line for a settled answer: `→ <status> <what the server said>`, with the task that
 * was followed, e.g. `→ 202 {"task":"mlplane-0:17"}, followed (2 GET _tasks): {"opened":true,"node":"mlplane-0"}`.
 */
export function describeAnswer(answer: Answer, settled: Settled, said: string = JSON.stringify(settled.response)): string {
  if (settled.taskId === undefined) return `→ ${answer.statusCode} ${said}`;
  return `→ ${answer.statusCode} ${JSON.stringify(answer.body)}, followed (${settled.polls} GET _tasks): ${said}`;
}
