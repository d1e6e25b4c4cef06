import { catTasks, getTask, listTasks, listTasksGrouped } from '../../app/tasks.ts';
import type { RouteHandler } from '../chain.ts';
import { booleanParam, timeParam } from '../params.ts';

/** The wait in ms: 30 s by default (GetTaskRequest), and none at all for `-1` (Elasticsearch's "no timeout"). */
const waitMs = (ms: number | undefined): number => (ms === undefined ? 30_000 : ms < 0 ? Infinity : ms);

/** `GET _tasks` parameters mlplane reads (`actions`) and those it accepts with one node and no task tree. */
const LIST_PARAMS = ['actions', 'detailed', 'nodes', 'parent_task_id', 'wait_for_completion', 'timeout', 'group_by'];

/** The `tasks` routes (topology `fn: 'tasks'`), by route key; served by `functions/http/tasks.ts` and the command ingress. */
export const tasksRoutes: Record<string, RouteHandler> = {
  'GET /_tasks': {
    params: LIST_PARAMS,
    handle: async (req) => ({ status: 200, body: await listTasksGrouped(req.query.actions, req.query.group_by ?? 'nodes') }),
  },
  'GET /_cat/tasks': {
    params: ['actions', 'detailed', 'nodes', 'parent_task_id', 'format', 'h', 'help', 's', 'v', 'time'],
    handle: async (req) => {
      if (req.query.format === 'json') {
        const tasks = await listTasks(req.query.actions);
        return {
          status: 200,
          body: tasks.map((t) => ({ action: t.action, task_id: `${t.node}:${t.id}`, parent_task_id: '-', type: t.type, start_time: String(t.start_time_in_millis), node: t.node })),
        };
      }
      return { status: 200, text: await catTasks(req.query.actions, booleanParam(req.query.v, false)) };
    },
  },
  // The command behind a 202 answer, in Elasticsearch's task shape.
  'GET /_tasks/{task_id}': {
    params: ['wait_for_completion', 'timeout'],
    handle: async (req) => ({
      status: 200,
      body: await getTask(req.pathParams.task_id ?? '', {
        waitForCompletion: booleanParam(req.query.wait_for_completion, false),
        timeoutMs: waitMs(timeParam(req.query.timeout, 'timeout')?.ms),
      }),
    }),
  },
};
