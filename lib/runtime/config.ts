import * as z from 'zod';
import { LOG_FORMATS, LOG_LEVELS } from './log.ts';

/**
 * Runtime configuration, read once from the environment at cold start and validated.
 * A missing required variable fails fast with a message naming it.
 *
 * | variable | meaning |
 * |---|---|
 * | `TABLE_NAME` | the DynamoDB table (`lib/runtime/topology.ts#table`) |
 * | `COMMAND_QUEUE_URL` | the FIFO command queue URL |
 * | `NODE_NAME` | the node name shown in stats, task ids and `GET /` (default `mlplane-0`) |
 * | `CLUSTER_NAME` | `cluster_name` of `GET /` (default `mlplane`) |
 * | `HTTP_WAIT_CAP_MS` | how long an HTTP function waits for a command before answering 202 (default 28000, the API Gateway cap less a margin) |
 * | `COMMAND_POLL_MS` | pause between an HTTP function's polls of a command's outcome during the first 300 ms (default 15); the pauses then double up to 500 ms |
 * | `MAX_BODY_BYTES` | largest accepted request body, bytes (default 5 MiB: what the deployment can take, see {@link DEFAULT_MAX_BODY_BYTES}; Elasticsearch's `http.max_content_length` is 100 MiB) |
 * | `COMMAND_ROLES` | comma-separated roles the command ingress runs command events as (default `machine_learning_admin`; add `watcher_admin` for Watcher commands) |
 * | `LOG_LEVEL` | `debug`, `info` (default), `warn`, `error` or `silent`; anything else fails the start (`lib/runtime/log.ts`) |
 * | `LOG_FORMAT` | `json` or `text` (default: `text` on a terminal, else `json`) |
 * | `EVENT_BUS_NAME` | the EventBridge bus events out go to (name or ARN; default `default`, the account's default bus) |
 * | `EVENTS_FILE` | when set, events out are appended to this file as JSON lines (the EventBridge envelope) instead of sent to EventBridge (`npm start`) |
 *
 * AWS endpoints are never configured here: SDK clients use the default provider chain
 * (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SQS` locally).
 */
export interface RuntimeConfig {
  tableName: string;
  commandQueueUrl: string;
  nodeName: string;
  clusterName: string;
  httpWaitCapMs: number;
  commandPollMs: number;
  maxBodyBytes: number;
  /** Roles of the command ingress's principal `_command` (`COMMAND_ROLES`), never empty. */
  commandRoles: string[];
  eventBusName: string;
  eventsFile: string | undefined;
}

/**
 * The default body limit, 5 MiB: the largest body the deployment takes whole. API Gateway's
 * HTTP API refuses a payload over 10 MB with its own 413 (not Elasticsearch's), and the
 * function behind it is invoked synchronously, whose event may not exceed Lambda's 6 MB; the
 * body travels in that event as a JSON string (an NDJSON body's quotes and newlines escaped,
 * about 10–15% more) beside the request's other fields. 5 MiB leaves that room, so a body
 * over it gets Elasticsearch's 413 `content_too_long_exception` from the function (and from
 * the local server, which uses the same limit) rather than a gateway error. A 100,000-record
 * `_data` post of one series (~4.5 MB of NDJSON) fits. (Not checked on AWS: a body the gateway
 * passes base64-encoded is a third larger in the event, which would lower the ceiling to about
 * 4.5 MB.) Elasticsearch's own default
 * (`http.max_content_length`) is 100 MiB; set `MAX_BODY_BYTES` to use it locally.
 */
export const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024;

const schema = z.object({
  TABLE_NAME: z.string().min(1),
  COMMAND_QUEUE_URL: z.string().min(1),
  NODE_NAME: z.string().min(1).default('mlplane-0'),
  CLUSTER_NAME: z.string().min(1).default('mlplane'),
  HTTP_WAIT_CAP_MS: z.coerce.number().int().positive().default(28_000),
  COMMAND_POLL_MS: z.coerce.number().int().positive().default(15),
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_BODY_BYTES),
  COMMAND_ROLES: z
    .string()
    .default('machine_learning_admin')
    .transform((v) =>
      v
        .split(',')
        .map((r) => r.trim())
        .filter((r) => r !== ''),
    )
    .refine((roles) => roles.length > 0, 'must name at least one role'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  LOG_FORMAT: z.enum(LOG_FORMATS).optional(),
  EVENT_BUS_NAME: z.string().min(1).default('default'),
  EVENTS_FILE: z.string().optional(),
});

let cached: RuntimeConfig | undefined;

/** Parses the environment once; throws an Error naming every missing or invalid variable. */
export function config(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  if (cached && env === process.env) return cached;
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues
      .map((i) => (i.code === 'invalid_value' ? `${i.path.join('.')} (${i.message}, got ${JSON.stringify(env[String(i.path[0])])})` : i.path.join('.')))
      .join(', ');
    throw new Error(`mlplane configuration is invalid or incomplete: ${names}`);
  }
  const e = parsed.data;
  const out: RuntimeConfig = {
    tableName: e.TABLE_NAME,
    commandQueueUrl: e.COMMAND_QUEUE_URL,
    nodeName: e.NODE_NAME,
    clusterName: e.CLUSTER_NAME,
    httpWaitCapMs: e.HTTP_WAIT_CAP_MS,
    commandPollMs: e.COMMAND_POLL_MS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    commandRoles: e.COMMAND_ROLES,
    eventBusName: e.EVENT_BUS_NAME,
    eventsFile: e.EVENTS_FILE || undefined,
  };
  if (env === process.env) cached = out;
  return out;
}

/** Forgets the cached configuration (tests and the local runtime, after changing the environment). */
export function resetConfig(): void {
  cached = undefined;
}
