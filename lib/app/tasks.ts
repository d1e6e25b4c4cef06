import { IllegalArgumentError, ResourceNotFoundError } from '../domain/errors.ts';
import { simpleMatch, tokenizeExpression } from '../domain/ids.ts';
import { config } from '../runtime/config.ts';
import { getClusterSettings } from '../store/cluster.ts';
import { getCommand, listUnfinishedCommands } from '../store/commands.ts';
import { listDatafeeds } from '../store/datafeeds.ts';
import { getJobRuntimes, listJobConfigs } from '../store/jobs.ts';
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

/** One task of `GET _tasks` (Elasticsearch's `TaskInfo`). */
export interface TaskInfo {
  node: string;
  id: number;
  type: 'persistent' | 'transport';
  action: string;
  description: string;
  start_time_in_millis: number;
  running_time_in_nanos: number;
  cancellable: boolean;
  cancelled: boolean;
  headers: Record<string, string>;
}

/** A stable task number for a persistent task id (Elasticsearch numbers local tasks; mlplane derives one from the id). */
function taskNumber(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return h;
}

/**
 * The tasks `GET _tasks` and `GET _cat/tasks` list: the ML persistent tasks' local tasks (an
 * open or closing job: `xpack/ml/job[c]`, description `job-<id>`; a running datafeed:
 * `xpack/ml/datafeed[c]`, `datafeed-<id>`), and the commands not yet finished, as the transport
 * tasks `GET _tasks/<id>` reads. While upgrade mode is on no ML task runs (spec C: `nodes: {}`),
 * so only the set_upgrade_mode request itself is listed. `actions` filters by Elasticsearch's
 * comma-separated wildcard patterns.
 */
export async function listTasks(actions: string | undefined, nowMs = Date.now()): Promise<TaskInfo[]> {
  const node = config().nodeName;
  const [settings, configs, datafeeds, commands] = await Promise.all([getClusterSettings(), listJobConfigs(), listDatafeeds(), listUnfinishedCommands()]);
  const tasks: TaskInfo[] = [];
  const task = (type: TaskInfo['type'], id: number, action: string, description: string, startMs: number): TaskInfo => ({
    node,
    id,
    type,
    action,
    description,
    start_time_in_millis: startMs,
    running_time_in_nanos: Math.max(0, nowMs - startMs) * 1_000_000,
    cancellable: type === 'persistent',
    cancelled: false,
    headers: {},
  });
  if (!settings.upgrade_mode) {
    const runtimes = await getJobRuntimes(configs.map((c) => c.job_id));
    for (const rt of runtimes.values()) {
      if ((rt.state === 'opened' || rt.state === 'closing') && rt.node)
        tasks.push(task('persistent', taskNumber(`job-${rt.job_id}`), 'xpack/ml/job[c]', `job-${rt.job_id}`, rt.open_time_ms ?? nowMs));
    }
    for (const d of datafeeds) {
      if (d.runtime.state === 'started' || d.runtime.state === 'stopping') {
        const id = `datafeed-${d.config.datafeed_id}`;
        tasks.push(task('persistent', taskNumber(id), 'xpack/ml/datafeed[c]', id, d.runtime.start_ms ?? nowMs));
      }
    }
  }
  for (const cmd of commands) {
    if (settings.upgrade_mode && cmd.action !== 'upgrade_mode') continue;
    tasks.push(task('transport', Number(cmd.command_id), cmd.es_action, cmd.description, cmd.created_ms));
  }
  const patterns = actions ? tokenizeExpression(actions) : [];
  return tasks
    .filter((t) => patterns.length === 0 || patterns.some((p) => simpleMatch(p, t.action)))
    .sort((a, b) => a.start_time_in_millis - b.start_time_in_millis || a.id - b.id);
}

/** GET _tasks (group_by `nodes`, Elasticsearch's default): `{nodes:{<node>:{name, …, tasks:{<node>:<id>: TaskInfo}}}}`, or `{nodes:{}}` when none runs. */
export async function listTasksByNode(actions: string | undefined, nowMs = Date.now()): Promise<Record<string, unknown>> {
  const tasks = await listTasks(actions, nowMs);
  if (tasks.length === 0) return { nodes: {} };
  const node = config().nodeName;
  return {
    nodes: {
      [node]: {
        name: node,
        transport_address: '127.0.0.1:9300',
        host: '127.0.0.1',
        ip: '127.0.0.1:9300',
        roles: ['ml'],
        tasks: Object.fromEntries(tasks.map((t) => [`${t.node}:${t.id}`, t])),
      },
    },
  };
}

/** GET _cat/tasks: one line per task, `action task_id parent_task_id type start_time timestamp running_time ip node`, with a header line when `v`. */
export async function catTasks(actions: string | undefined, verbose: boolean, nowMs = Date.now()): Promise<string> {
  const tasks = await listTasks(actions, nowMs);
  const rows = tasks.map((t) => [
    t.action,
    `${t.node}:${t.id}`,
    '-',
    t.type,
    String(t.start_time_in_millis),
    new Date(t.start_time_in_millis).toISOString().slice(11, 19),
    `${(t.running_time_in_nanos / 1e9).toFixed(1)}s`,
    '127.0.0.1',
    t.node,
  ]);
  if (verbose) rows.unshift(['action', 'task_id', 'parent_task_id', 'type', 'start_time', 'timestamp', 'running_time', 'ip', 'node']);
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join(' ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/**
 * GET _tasks with `group_by`: `nodes` (the default) and `parents` group by node (mlplane's tasks
 * have no parents), `none` answers `{tasks:[…]}`.
 * @throws IllegalArgumentError for another `group_by`, with the text of Elasticsearch's enum parse
 */
export async function listTasksGrouped(actions: string | undefined, groupBy: string): Promise<Record<string, unknown>> {
  if (groupBy === 'none') return { tasks: await listTasks(actions) };
  if (groupBy !== 'nodes' && groupBy !== 'parents') {
    throw new IllegalArgumentError(`No enum constant org.elasticsearch.rest.action.admin.cluster.RestListTasksAction.GroupBy.${groupBy.toUpperCase()}`);
  }
  return listTasksByNode(actions);
}
