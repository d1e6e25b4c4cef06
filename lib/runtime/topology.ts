/**
 * The one description of mlplane's resources: the table, the queues, the HTTP routes
 * and the schedules. The CDK stack (`infra/`) and the local runtime (`lib/local/`) are
 * both built from this module, so a route or a schedule cannot exist in one and not in
 * the other.
 */

/** Cluster privileges of Elasticsearch's security model that routes require. */
export type ClusterPrivilege = 'monitor' | 'monitor_ml' | 'manage_ml' | 'monitor_watcher' | 'manage_watcher' | 'manage' | 'all';

/** The HTTP function families; one Lambda function (and one file in `functions/http/`) each. */
export type HttpFunctionName = 'root' | 'jobs' | 'tasks' | 'cluster' | 'filters' | 'datafeeds' | 'documents' | 'watcher' | 'watcher-execute';

/** One HTTP route, in API Gateway v2 form (`{param}` path segments). */
export interface RouteDefinition {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  fn: HttpFunctionName;
  /** The cluster privilege the caller needs (Elasticsearch's privilege for the action). */
  privilege: ClusterPrivilege;
  /** Elasticsearch transport action name (403 messages, upgrade-mode errors, `_tasks`). */
  action: string;
}

/** `"METHOD /path"`, API Gateway's `routeKey`. */
export const routeKey = (r: Pick<RouteDefinition, 'method' | 'path'>): string => `${r.method} ${r.path}`;

const JOB = '/_ml/anomaly_detectors/{job_id}';
const DATAFEED = '/_ml/datafeeds/{datafeed_id}';

/** The datafeed APIs (spec A.5.8, A.3), one function; Elasticsearch's action names and privileges. */
const datafeedRoutes: readonly RouteDefinition[] = [
  { method: 'GET', path: '/_ml/datafeeds', fn: 'datafeeds', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/datafeeds/get' },
  { method: 'GET', path: DATAFEED, fn: 'datafeeds', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/datafeeds/get' },
  { method: 'GET', path: '/_ml/datafeeds/_stats', fn: 'datafeeds', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/datafeeds/stats/get' },
  { method: 'GET', path: `${DATAFEED}/_stats`, fn: 'datafeeds', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/datafeeds/stats/get' },
  { method: 'PUT', path: DATAFEED, fn: 'datafeeds', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/datafeeds/put' },
  { method: 'POST', path: `${DATAFEED}/_update`, fn: 'datafeeds', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/datafeeds/update' },
  { method: 'DELETE', path: DATAFEED, fn: 'datafeeds', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/datafeeds/delete' },
  { method: 'POST', path: `${DATAFEED}/_start`, fn: 'datafeeds', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/datafeed/start' },
  { method: 'POST', path: `${DATAFEED}/_stop`, fn: 'datafeeds', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/datafeed/stop' },
  { method: 'GET', path: `${DATAFEED}/_preview`, fn: 'datafeeds', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/datafeeds/preview' },
  { method: 'POST', path: `${DATAFEED}/_preview`, fn: 'datafeeds', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/datafeeds/preview' },
  { method: 'GET', path: '/_ml/datafeeds/_preview', fn: 'datafeeds', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/datafeeds/preview' },
  { method: 'POST', path: '/_ml/datafeeds/_preview', fn: 'datafeeds', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/datafeeds/preview' },
];

const INDEX = '/{index}';

/**
 * The document store (functions/http/documents.ts): indices, documents, `_bulk`, `_search`,
 * `_count`, `_refresh` and the cluster health. `/{index}` routes never shadow the static
 * `_ml`, `_cluster`, `_tasks` routes (static segments win); a request that reaches them with a
 * name starting with `_` (e.g. `GET /_ml`) is Elasticsearch's "no handler found" 400.
 * Index privileges are approximated by the cluster privilege `manage` (mlplane has only
 * cluster privileges).
 */
const documentRoutes: readonly RouteDefinition[] = [
  { method: 'GET', path: '/_cluster/health', fn: 'documents', privilege: 'monitor', action: 'cluster:monitor/health' },
  { method: 'GET', path: '/_cluster/health/{index}', fn: 'documents', privilege: 'monitor', action: 'cluster:monitor/health' },
  { method: 'PUT', path: INDEX, fn: 'documents', privilege: 'manage', action: 'indices:admin/create' },
  { method: 'GET', path: INDEX, fn: 'documents', privilege: 'manage', action: 'indices:admin/get' },
  { method: 'HEAD', path: INDEX, fn: 'documents', privilege: 'manage', action: 'indices:admin/get' },
  { method: 'DELETE', path: INDEX, fn: 'documents', privilege: 'manage', action: 'indices:admin/delete' },
  { method: 'PUT', path: `${INDEX}/_doc/{id}`, fn: 'documents', privilege: 'manage', action: 'indices:data/write/index' },
  { method: 'POST', path: `${INDEX}/_doc/{id}`, fn: 'documents', privilege: 'manage', action: 'indices:data/write/index' },
  { method: 'POST', path: `${INDEX}/_doc`, fn: 'documents', privilege: 'manage', action: 'indices:data/write/index' },
  { method: 'PUT', path: `${INDEX}/_create/{id}`, fn: 'documents', privilege: 'manage', action: 'indices:data/write/index' },
  { method: 'POST', path: `${INDEX}/_create/{id}`, fn: 'documents', privilege: 'manage', action: 'indices:data/write/index' },
  { method: 'GET', path: `${INDEX}/_doc/{id}`, fn: 'documents', privilege: 'manage', action: 'indices:data/read/get' },
  { method: 'HEAD', path: `${INDEX}/_doc/{id}`, fn: 'documents', privilege: 'manage', action: 'indices:data/read/get' },
  { method: 'DELETE', path: `${INDEX}/_doc/{id}`, fn: 'documents', privilege: 'manage', action: 'indices:data/write/delete' },
  { method: 'POST', path: '/_bulk', fn: 'documents', privilege: 'manage', action: 'indices:data/write/bulk' },
  { method: 'PUT', path: '/_bulk', fn: 'documents', privilege: 'manage', action: 'indices:data/write/bulk' },
  { method: 'POST', path: `${INDEX}/_bulk`, fn: 'documents', privilege: 'manage', action: 'indices:data/write/bulk' },
  { method: 'PUT', path: `${INDEX}/_bulk`, fn: 'documents', privilege: 'manage', action: 'indices:data/write/bulk' },
  { method: 'GET', path: '/_search', fn: 'documents', privilege: 'manage', action: 'indices:data/read/search' },
  { method: 'POST', path: '/_search', fn: 'documents', privilege: 'manage', action: 'indices:data/read/search' },
  { method: 'GET', path: `${INDEX}/_search`, fn: 'documents', privilege: 'manage', action: 'indices:data/read/search' },
  { method: 'POST', path: `${INDEX}/_search`, fn: 'documents', privilege: 'manage', action: 'indices:data/read/search' },
  { method: 'GET', path: '/_count', fn: 'documents', privilege: 'manage', action: 'indices:data/read/search' },
  { method: 'POST', path: '/_count', fn: 'documents', privilege: 'manage', action: 'indices:data/read/search' },
  { method: 'GET', path: `${INDEX}/_count`, fn: 'documents', privilege: 'manage', action: 'indices:data/read/search' },
  { method: 'POST', path: `${INDEX}/_count`, fn: 'documents', privilege: 'manage', action: 'indices:data/read/search' },
  { method: 'GET', path: '/_refresh', fn: 'documents', privilege: 'manage', action: 'indices:admin/refresh' },
  { method: 'POST', path: '/_refresh', fn: 'documents', privilege: 'manage', action: 'indices:admin/refresh' },
  { method: 'GET', path: `${INDEX}/_refresh`, fn: 'documents', privilege: 'manage', action: 'indices:admin/refresh' },
  { method: 'POST', path: `${INDEX}/_refresh`, fn: 'documents', privilege: 'manage', action: 'indices:admin/refresh' },
];

/**
 * The Watcher core (functions/http/watcher.ts): put, get, delete, ack, activate/deactivate,
 * on the current `_watcher` paths and on the 5.x `_xpack/watcher` paths, which Elasticsearch 7
 * still serves (with a deprecation warning) and mlplane serves without compatibility headers.
 * Elasticsearch's path parameter names (`{id}`, `{actions}`), so the deprecation warning can
 * quote the route patterns as Elasticsearch does. Elasticsearch's action names and privileges:
 * `manage_watcher` for changes, `monitor_watcher` for reads.
 */
const watcherCrudRoutes = (prefix: '/_watcher' | '/_xpack/watcher'): RouteDefinition[] => {
  const watch = `${prefix}/watch/{id}`;
  const admin = (method: RouteDefinition['method'], path: string, action: string): RouteDefinition => ({
    method,
    path,
    fn: 'watcher',
    privilege: 'manage_watcher',
    action: `cluster:admin/xpack/watcher/watch/${action}`,
  });
  return [
    admin('PUT', watch, 'put'),
    admin('POST', watch, 'put'),
    { method: 'GET', path: watch, fn: 'watcher', privilege: 'monitor_watcher', action: 'cluster:monitor/xpack/watcher/watch/get' },
    admin('DELETE', watch, 'delete'),
    admin('PUT', `${watch}/_ack`, 'ack'),
    admin('POST', `${watch}/_ack`, 'ack'),
    admin('PUT', `${watch}/_ack/{actions}`, 'ack'),
    admin('POST', `${watch}/_ack/{actions}`, 'ack'),
    admin('PUT', `${watch}/_activate`, 'activate'),
    admin('POST', `${watch}/_activate`, 'activate'),
    admin('PUT', `${watch}/_deactivate`, 'activate'),
    admin('POST', `${watch}/_deactivate`, 'activate'),
    // The 2.x/5.x ack form (deprecated in 5.x, removed in 6.0), once: it has no `_xpack` variant.
    ...(prefix === '/_watcher' ? [admin('PUT', `${watch}/{actions}/_ack`, 'ack'), admin('POST', `${watch}/{actions}/_ack`, 'ack')] : []),
    // Query watches is Elasticsearch 8's (no `_xpack` form).
    ...(prefix === '/_watcher'
      ? (['GET', 'POST'] as const).map(
          (method): RouteDefinition => ({
            method,
            path: '/_watcher/_query/watches',
            fn: 'watcher',
            privilege: 'monitor_watcher',
            action: 'cluster:monitor/xpack/watcher/watch/query',
          }),
        )
      : []),
  ];
};

/**
 * Watch executions and the Watcher service (functions/http/watcher-execute.ts): `_execute`
 * (stored and inline), stats, start and stop, also on the 5.x `_xpack/watcher` paths with
 * Elasticsearch 7's deprecation warning, as the CRUD routes.
 */
const watcherExecuteRoutes: readonly RouteDefinition[] = [
  ...(['PUT', 'POST'] as const).flatMap((method): RouteDefinition[] =>
    ['/_watcher', '/_xpack/watcher'].flatMap((prefix): RouteDefinition[] => [
      { method, path: `${prefix}/watch/{id}/_execute`, fn: 'watcher-execute', privilege: 'manage_watcher', action: 'cluster:admin/xpack/watcher/watch/execute' },
      { method, path: `${prefix}/watch/_execute`, fn: 'watcher-execute', privilege: 'manage_watcher', action: 'cluster:admin/xpack/watcher/watch/execute' },
    ]),
  ),
  ...['/_watcher', '/_xpack/watcher'].flatMap((prefix): RouteDefinition[] => [
    { method: 'GET', path: `${prefix}/stats`, fn: 'watcher-execute', privilege: 'monitor_watcher', action: 'cluster:monitor/xpack/watcher/stats/dist' },
    { method: 'GET', path: `${prefix}/stats/{metric}`, fn: 'watcher-execute', privilege: 'monitor_watcher', action: 'cluster:monitor/xpack/watcher/stats/dist' },
    { method: 'POST', path: `${prefix}/_start`, fn: 'watcher-execute', privilege: 'manage_watcher', action: 'cluster:admin/xpack/watcher/service' },
    { method: 'POST', path: `${prefix}/_stop`, fn: 'watcher-execute', privilege: 'manage_watcher', action: 'cluster:admin/xpack/watcher/service' },
  ]),
];

/** Every route served. Order does not matter: static segments win over parameters, as in API Gateway. */
export const routes: readonly RouteDefinition[] = [
  { method: 'GET', path: '/', fn: 'root', privilege: 'monitor', action: 'cluster:monitor/main' },
  { method: 'HEAD', path: '/', fn: 'root', privilege: 'monitor', action: 'cluster:monitor/main' },
  { method: 'GET', path: '/_ml/info', fn: 'root', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/info/get' },
  { method: 'POST', path: '/_ml/set_upgrade_mode', fn: 'root', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/upgrade_mode' },
  { method: 'GET', path: '/_tasks/{task_id}', fn: 'tasks', privilege: 'monitor', action: 'cluster:monitor/task/get' },
  { method: 'GET', path: '/_tasks', fn: 'tasks', privilege: 'monitor', action: 'cluster:monitor/tasks/lists' },
  { method: 'GET', path: '/_cat/tasks', fn: 'tasks', privilege: 'monitor', action: 'cluster:monitor/tasks/lists' },
  { method: 'GET', path: '/_cluster/settings', fn: 'cluster', privilege: 'monitor', action: 'cluster:monitor/settings' },
  { method: 'PUT', path: '/_cluster/settings', fn: 'cluster', privilege: 'manage', action: 'cluster:admin/settings/update' },

  { method: 'GET', path: '/_ml/anomaly_detectors', fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/get' },
  { method: 'GET', path: '/_ml/anomaly_detectors/_stats', fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/stats/get' },
  { method: 'PUT', path: JOB, fn: 'jobs', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/job/put' },
  { method: 'GET', path: JOB, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/get' },
  { method: 'DELETE', path: JOB, fn: 'jobs', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/job/delete' },
  { method: 'GET', path: `${JOB}/_stats`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/stats/get' },
  { method: 'POST', path: `${JOB}/_open`, fn: 'jobs', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/job/open' },
  { method: 'POST', path: `${JOB}/_data`, fn: 'jobs', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/job/data/post' },
  { method: 'POST', path: `${JOB}/_flush`, fn: 'jobs', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/job/flush' },
  { method: 'POST', path: `${JOB}/_close`, fn: 'jobs', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/job/close' },
  { method: 'GET', path: `${JOB}/model_snapshots`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/model_snapshots/get' },
  { method: 'POST', path: `${JOB}/model_snapshots`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/model_snapshots/get' },
  { method: 'GET', path: `${JOB}/model_snapshots/{snapshot_id}`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/model_snapshots/get' },
  { method: 'POST', path: `${JOB}/model_snapshots/{snapshot_id}`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/model_snapshots/get' },
  { method: 'GET', path: `${JOB}/results/buckets`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/results/buckets/get' },
  { method: 'POST', path: `${JOB}/results/buckets`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/results/buckets/get' },
  { method: 'GET', path: `${JOB}/results/buckets/{timestamp}`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/results/buckets/get' },
  { method: 'POST', path: `${JOB}/results/buckets/{timestamp}`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/results/buckets/get' },
  { method: 'POST', path: `${JOB}/_update`, fn: 'jobs', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/job/update' },
  { method: 'GET', path: `${JOB}/_notifications`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/notifications/get' },
  { method: 'GET', path: `${JOB}/results/model_plot`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/results/model_plot/get' },
  { method: 'DELETE', path: '/_ml/_delete_expired_data', fn: 'jobs', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/delete_expired_data' },
  { method: 'DELETE', path: '/_ml/_delete_expired_data/{job_id}', fn: 'jobs', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/delete_expired_data' },

  { method: 'GET', path: '/_ml/filters', fn: 'filters', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/filters/get' },
  { method: 'GET', path: '/_ml/filters/{filter_id}', fn: 'filters', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/filters/get' },
  { method: 'PUT', path: '/_ml/filters/{filter_id}', fn: 'filters', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/filters/put' },
  { method: 'POST', path: '/_ml/filters/{filter_id}/_update', fn: 'filters', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/filters/update' },
  { method: 'DELETE', path: '/_ml/filters/{filter_id}', fn: 'filters', privilege: 'manage_ml', action: 'cluster:admin/xpack/ml/filters/delete' },
  { method: 'GET', path: `${JOB}/results/records`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/results/records/get' },
  { method: 'POST', path: `${JOB}/results/records`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/results/records/get' },
  { method: 'GET', path: `${JOB}/results/influencers`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/results/influencers/get' },
  { method: 'POST', path: `${JOB}/results/influencers`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/results/influencers/get' },
  { method: 'GET', path: `${JOB}/results/overall_buckets`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/results/overall_buckets/get' },
  { method: 'POST', path: `${JOB}/results/overall_buckets`, fn: 'jobs', privilege: 'monitor_ml', action: 'cluster:monitor/xpack/ml/job/results/overall_buckets/get' },

  ...datafeedRoutes,
  ...documentRoutes,
  ...watcherCrudRoutes('/_watcher'),
  ...watcherCrudRoutes('/_xpack/watcher'),
  ...watcherExecuteRoutes,
];

/** The single DynamoDB table (key layout in `lib/store/keys.ts`). */
export const table = {
  logicalName: 'state',
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB TTL removes commands and command payloads after it. */
  ttlAttribute: 'expires_at',
} as const;

/** The FIFO command queue and its dead-letter queue. */
export const commandQueue = {
  logicalName: 'commands',
  fifo: true,
  /** Seconds a received message stays hidden; ≥ 6 × the worker timeout, as AWS advises for event source mappings. */
  visibilityTimeoutSeconds: 360,
  /** Receives before a message is moved to the DLQ. */
  maxReceiveCount: 5,
  /** Event source mapping batch size. */
  batchSize: 10,
  dlqLogicalName: 'commands-dlq',
} as const;

/** Worker functions (SQS consumers). */
export const workers = {
  commands: { timeoutSeconds: 60, memoryMiB: 1024 },
} as const;

/**
 * The command-ingress function (`functions/commands/ingress.ts`): EventBridge Scheduler
 * schedules, EventBridge rules and `npm run command` invoke it with a command event
 * (`lib/domain/command-event.ts`), which it runs as the HTTP request it stands for. Its
 * asynchronous invocations retry `retryAttempts` times, then go to the dead-letter queue
 * `dlqLogicalName`. The timeout lets a command wait for a long close.
 */
export const commandIngress = {
  name: 'ingress',
  timeoutSeconds: 900,
  memoryMiB: 1024,
  /** Retries of a failed invocation (EventBridge targets and Lambda async), before the DLQ. */
  retryAttempts: 2,
  /** An event older than this is dropped to the DLQ instead of run late, in s. */
  maxEventAgeSeconds: 3600,
  dlqLogicalName: 'command-events-dlq',
} as const;

/** Names of the EventBridge-scheduled functions. */
export type ScheduleFunctionName = 'maintenance' | 'persist' | 'datafeeds';

/** One EventBridge schedule (rate or cron, in EventBridge syntax; UTC). */
export interface ScheduleDefinition {
  name: string;
  fn: ScheduleFunctionName;
  /** EventBridge schedule expression: `rate(15 minutes)` or `cron(30 0 * * ? *)`. */
  expression: string;
  /** 5-field cron for the local runner (croner), equivalent to `expression`. */
  localCron: string;
  description: string;
}

export const schedules: readonly ScheduleDefinition[] = [
  {
    name: 'nightly-maintenance',
    fn: 'maintenance',
    expression: 'cron(30 0 * * ? *)',
    localCron: '30 0 * * *',
    description: 'Nightly ML maintenance at 00:30 UTC: submits the expired-data deletion (results and snapshot retention, idle-job auto-close)',
  },
  {
    name: 'background-persist',
    fn: 'persist',
    expression: 'rate(15 minutes)',
    localCron: '*/15 * * * *',
    description: 'Snapshot open jobs whose background_persist_interval has passed',
  },
  {
    name: 'datafeeds-realtime',
    fn: 'datafeeds',
    expression: 'rate(1 minute)',
    localCron: '* * * * *',
    description: 'Submit the real-time search of every started datafeed whose frequency has come round; expire upgrade mode; publish how long it has been on',
  },
];
