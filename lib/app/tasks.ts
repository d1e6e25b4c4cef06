import { IllegalArgumentError, ResourceNotFoundError } from '../domain/errors.ts';
import { getCommand } from '../store/commands.ts';
import { awaitCommand } from './commands.ts';

/**
 * GET _tasks/<node>:<id> for a command (Elasticsearch's GetTaskResponse):
 * `{completed, task:{node,id,type,action,description,start_time_in_millis,running_time_in_nanos,cancellable,headers}, response?|error?}`.
 * `response` is the target's response for single-target commands, else `{results:{<target>:…}}`.
 * @throws 400 "malformed task id <id>"; 404 "task [<id>] isn't running and hasn't stored its results"
 */
export async function getTask(taskId: string, opts: { waitForCompletion: boolean; timeoutMs: number }): Promise<Record<string, unknown>> {
  const m = /^([^:]+):(\d+)$/.exec(taskId);
  if (!m) throw new IllegalArgumentError(`malformed task id ${taskId}`);
  const [, node, id] = m as unknown as [string, string, string];
  let cmd = await getCommand(id);
  if (!cmd || cmd.task_id !== taskId) throw new ResourceNotFoundError(`task [${taskId}] isn't running and hasn't stored its results`);
  if (opts.waitForCompletion && cmd.status !== 'done' && cmd.status !== 'failed') {
    const w = await awaitCommand(id, opts.timeoutMs);
    if (w.kind === 'finished') cmd = w.command;
  }
  const completed = cmd.status === 'done' || cmd.status === 'failed';
  const finished = Object.values(cmd.outcomes ?? {}).reduce((t, o) => Math.max(t, o.finished_ms), cmd.created_ms);
  const out: Record<string, unknown> = {
    completed,
    task: {
      node,
      id: Number(id),
      type: 'transport',
      action: cmd.es_action,
      description: cmd.description,
      start_time_in_millis: cmd.created_ms,
      running_time_in_nanos: ((completed ? finished : Date.now()) - cmd.created_ms) * 1_000_000,
      cancellable: false,
      cancelled: false,
      headers: {},
    },
  };
  if (completed) {
    const failed = Object.values(cmd.outcomes).find((o) => o.status === 'failed');
    if (failed?.error) out.error = failed.error.error;
    else if (cmd.targets.length === 1) out.response = cmd.outcomes[cmd.targets[0] as string]?.response;
    else out.response = { results: Object.fromEntries(cmd.targets.map((t) => [t, cmd.outcomes[t]?.response])) };
  }
  return out;
}
