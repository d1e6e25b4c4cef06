import { httpFunction } from '../../lib/http/chain.ts';
import { tasksRoutes } from '../../lib/http/routes/tasks.ts';

/** The `tasks` HTTP function (API Gateway routes with `fn: 'tasks'` in `lib/runtime/topology.ts`). */
export const handler = httpFunction('tasks', tasksRoutes);
