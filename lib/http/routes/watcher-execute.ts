import { executeWatchRequest } from '../../app/execute-watch.ts';
import { setWatcherStopped, watcherStats } from '../../app/watcher-service.ts';
import type { HttpRequest, HttpResult, RouteHandler } from '../chain.ts';
import { refuseBody } from '../params.ts';
import { deprecationWarning, withWarning, xpackWatcherWarning } from '../warnings.ts';

/** 200 with the record, or 202 `{task}` when the execution outlived the gateway's wait (DESIGN §2.2). */
async function execute(req: HttpRequest): Promise<HttpResult> {
  const q = await executeWatchRequest(req.pathParams.id, req.body, req.query, req.receivedMs);
  return q.kind === 'done' ? { status: 200, body: q.response } : { status: 202, body: { task: q.taskId } };
}

/** `_execute`; on the 5.x `_xpack/watcher` paths with Elasticsearch 7's deprecation warning, errors included. */
const executeRoute: RouteHandler = {
  params: ['debug', 'record_execution', 'ignore_condition'],
  handle: (req) => withWarning(xpackWatcherWarning(req.route.method, req.route.path), () => execute(req)),
};

const statsRoute: RouteHandler = {
  params: ['metric', 'emit_stacktraces'],
  handle: (req) =>
    withWarning(xpackWatcherWarning(req.route.method, req.route.path), async () => {
      const warnings: string[] = [];
      const body = await watcherStats(req.pathParams.metric ?? req.query.metric, warnings);
      return { status: 200, body, ...(warnings[0] ? { headers: { warning: deprecationWarning(warnings[0]) } } : {}) };
    }),
};

const serviceRoute = (stopped: boolean): RouteHandler => ({
  params: ['master_timeout'],
  handle: (req) =>
    withWarning(xpackWatcherWarning(req.route.method, req.route.path), async () => {
      refuseBody(req.route.method, req.path, req.body);
      return { status: 200, body: await setWatcherStopped(stopped) };
    }),
});

/** Watch executions and the Watcher service (spec watcher-ack §4.3, §4.6). */
/** The `watcher-execute` routes (topology `fn: 'watcher-execute'`), by route key; served by `functions/http/watcher-execute.ts` and the command ingress. */
export const watcherExecuteRoutes: Record<string, RouteHandler> = {
  'PUT /_watcher/watch/{id}/_execute': executeRoute,
  'POST /_watcher/watch/{id}/_execute': executeRoute,
  'PUT /_watcher/watch/_execute': executeRoute,
  'POST /_watcher/watch/_execute': executeRoute,
  'PUT /_xpack/watcher/watch/{id}/_execute': executeRoute,
  'POST /_xpack/watcher/watch/{id}/_execute': executeRoute,
  'PUT /_xpack/watcher/watch/_execute': executeRoute,
  'POST /_xpack/watcher/watch/_execute': executeRoute,
  'GET /_watcher/stats': statsRoute,
  'GET /_watcher/stats/{metric}': statsRoute,
  'POST /_watcher/_start': serviceRoute(false),
  'POST /_watcher/_stop': serviceRoute(true),
  'GET /_xpack/watcher/stats': statsRoute,
  'GET /_xpack/watcher/stats/{metric}': statsRoute,
  'POST /_xpack/watcher/_start': serviceRoute(false),
  'POST /_xpack/watcher/_stop': serviceRoute(true),
};
