import { getTask } from '../../lib/app/tasks.ts';
import { httpFunction } from '../../lib/http/chain.ts';
import { booleanParam, timeParam } from '../../lib/http/params.ts';

/** The wait in ms: 30 s by default (GetTaskRequest), and none at all for `-1` (Elasticsearch's "no timeout"). */
const waitMs = (ms: number | undefined): number => (ms === undefined ? 30_000 : ms < 0 ? Infinity : ms);

/** GET _tasks/<task_id>: the command behind a 202 answer, in Elasticsearch's task shape. */
export const handler = httpFunction('tasks', {
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
});
