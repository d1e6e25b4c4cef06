import { getTask } from '../../lib/app/tasks.ts';
import { httpFunction } from '../../lib/http/chain.ts';
import { booleanParam, timeParam } from '../../lib/http/params.ts';

/** GET _tasks/<task_id>: the command behind a 202 answer, in Elasticsearch's task shape. */
export const handler = httpFunction('tasks', {
  'GET /_tasks/{task_id}': {
    params: ['wait_for_completion', 'timeout'],
    handle: async (req) => ({
      status: 200,
      body: await getTask(req.pathParams.task_id ?? '', {
        waitForCompletion: booleanParam(req.query.wait_for_completion, false),
        timeoutMs: timeParam(req.query.timeout, 'timeout')?.ms ?? 30_000,
      }),
    }),
  },
});
