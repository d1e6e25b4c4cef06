import { commandIngressFunction } from '../../lib/http/command.ts';
import { clusterRoutes } from '../../lib/http/routes/cluster.ts';
import { datafeedsRoutes } from '../../lib/http/routes/datafeeds.ts';
import { documentsRoutes } from '../../lib/http/routes/documents.ts';
import { filtersRoutes } from '../../lib/http/routes/filters.ts';
import { jobsRoutes } from '../../lib/http/routes/jobs.ts';
import { rootRoutes } from '../../lib/http/routes/root.ts';
import { tasksRoutes } from '../../lib/http/routes/tasks.ts';
import { watcherExecuteRoutes } from '../../lib/http/routes/watcher-execute.ts';
import { watcherRoutes } from '../../lib/http/routes/watcher.ts';

/**
 * The command-ingress function (`topology.commandIngress`): runs a command event as the HTTP
 * request it stands for, over every route of every HTTP family (`lib/http/command.ts`).
 */
export const handler = commandIngressFunction({
  ...rootRoutes,
  ...tasksRoutes,
  ...clusterRoutes,
  ...jobsRoutes,
  ...filtersRoutes,
  ...datafeedsRoutes,
  ...documentsRoutes,
  ...watcherRoutes,
  ...watcherExecuteRoutes,
});
