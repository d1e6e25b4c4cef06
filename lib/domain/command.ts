import * as z from 'zod';
import type { EsErrorBody } from './errors.ts';

/**
 * What a command does to each of its targets (one job, or the cluster). `command_event` is
 * the task of one command event (lib/http/command.ts): the ingress runs it where it records
 * it and records its outcome itself; it is never sent to the command queue.
 */
export const commandActions = [
  'open',
  'data',
  'flush',
  'close',
  'delete',
  'persist',
  'update',
  'datafeed',
  'upgrade_mode',
  'watch',
  'command_event',
  'maintenance',
  'renormalize',
] as const;
export type CommandAction = (typeof commandActions)[number];

/** The per-target outcome a worker records; `response` is the Elasticsearch body for that target. */
export interface TargetOutcome {
  status: 'done' | 'failed';
  response?: unknown;
  error?: EsErrorBody;
  finished_ms: number;
}

/**
 * A command: one request of a client, carried out by workers target by target, in the
 * FIFO group of each target (`job/<id>`). `status` is `queued` until every target has an
 * outcome, then `done` (all done) or `failed` (one failed).
 */
export interface Command {
  command_id: string;
  /** Elasticsearch task id `<node>:<n>` reported by 202 answers and `GET _tasks/<id>`. */
  task_id: string;
  action: CommandAction;
  /** Transport action name, e.g. `cluster:admin/xpack/ml/job/close` (shown by `_tasks`). */
  es_action: string;
  description: string;
  targets: string[];
  params: Record<string, unknown>;
  /** Number of payload chunks stored beside the command (post data bodies). */
  payload_chunks?: number;
  /** Random tag of this command's payload chunk keys, so a colliding id can never overwrite another command's payload. */
  payload_nonce?: string;
  /**
   * How the payload bytes are stored: `br` (Brotli of the UTF-8 body, what is written now),
   * `deflate-raw` (raw DEFLATE, commands written before Brotli); absent for the plain bytes of
   * commands written before either.
   */
  payload_encoding?: 'br' | 'deflate-raw';
  status: 'queued' | 'running' | 'done' | 'failed';
  outcomes: Record<string, TargetOutcome>;
  created_ms: number;
  /** Epoch seconds, DynamoDB TTL. */
  expires_at: number;
}

/** The body of a command queue message: which command, and which of its targets. */
export const commandMessageSchema = z.strictObject({
  command_id: z.string().regex(/^\d+$/),
  target: z.string().min(1),
  /** Set on a message re-queued when upgrade mode ends: it runs ahead of newer messages of its group that were parked behind it. */
  resumed: z.literal(true).optional(),
});
export type CommandMessage = z.infer<typeof commandMessageSchema>;

/**
 * The params each action's command carries from the request side to the worker, one
 * schema per action (what `lib/app` puts in `submitCommand({params})`): `data` the reset
 * range of the query (`reset_start`/`reset_end`, as sent), `flush` the checked flush
 * parameters (epoch ms; `calc_interim`), `delete` `force` and the deleted job's
 * `create_time` (so a redelivery never deletes a job re-created since), `datafeed` the datafeed
 * whose lookback it runs and the run it belongs to (and, for a real-time search, the due
 * time and the window's end). The other actions
 * carry nothing in params (`update` and `data` bodies travel as the command's payload).
 * Strict: a key no action knows is a writer/reader mismatch, caught where it is read.
 */
export const commandParamsSchemas = {
  open: z.strictObject({}),
  data: z.strictObject({ reset_start: z.string().optional(), reset_end: z.string().optional() }),
  flush: z.strictObject({
    calc_interim: z.boolean().optional(),
    start: z.number().optional(),
    end: z.number().optional(),
    advance_time: z.number().optional(),
    skip_time: z.number().optional(),
  }),
  close: z.strictObject({}),
  delete: z.strictObject({ force: z.boolean().optional(), create_time: z.number().optional() }),
  persist: z.strictObject({}),
  update: z.strictObject({}),
  // `due_ms`/`search_to_ms`: a real-time search the tick submitted (the due time it found, the window's end).
  datafeed: z.strictObject({ datafeed_id: z.string(), run_id: z.string(), due_ms: z.number().optional(), search_to_ms: z.number().optional() }),
  upgrade_mode: z.strictObject({ enabled: z.boolean(), timeout_ms: z.number().int().nonnegative() }),
  // One watch execution (target `watch:<id>`): `_execute` (manual) or a scheduled trigger.
  watch: z.strictObject({
    trigger: z.enum(['manual', 'schedule']),
    triggered_ms: z.number(),
    scheduled_ms: z.number(),
    record_execution: z.boolean(),
    ignore_condition: z.boolean().optional(),
    alternative_input: z.record(z.string(), z.unknown()).optional(),
    action_modes: z.record(z.string(), z.enum(['simulate', 'force_simulate', 'execute', 'force_execute', 'skip'])).optional(),
    debug: z.boolean().optional(),
  }),
  // The request a command event stands for, and who sent it (the task's description says it in words).
  command_event: z.strictObject({
    method: z.string(),
    path: z.string(),
    origin: z.strictObject({ kind: z.string(), name: z.string(), id: z.string().optional(), scheduled_time: z.string().optional() }).optional(),
  }),
  // Expired-data deletion (target `_cluster`): `DELETE _ml/_delete_expired_data` or the nightly
  // maintenance. `job_id` is the request's expression (absent: every job), re-expanded by each
  // invocation so the command stays small whatever it matches; `requests_per_second` as given
  // (null: unthrottled, -1: Elasticsearch's default rate); `deadline_ms` the end of its
  // `timeout` (epoch ms) and `timeout` that TimeValue's text, for the audit when it runs out.
  maintenance: z.strictObject({
    job_id: z.string().optional(),
    requests_per_second: z.number().nullable(),
    deadline_ms: z.number(),
    timeout: z.string(),
    trigger: z.enum(['api', 'nightly']),
  }),
  // Rescoring a job's stored results (lib/app/renormalize.ts): queued by a commit; the window is on the job.
  renormalize: z.strictObject({}),
} as const satisfies Record<CommandAction, z.ZodType>;

/** The params of one action's command. */
export type CommandParams<A extends CommandAction> = z.infer<(typeof commandParamsSchemas)[A]>;

const paramsOf = <A extends CommandAction>(action: A) => z.strictObject({ action: z.literal(action), params: commandParamsSchemas[action] });

/**
 * A command's action with its params, as a discriminated union on `action`: what the
 * command runner switches on, so each branch gets its own params typed and checked
 * instead of cast. Parse with {@link parseCommandParams}.
 */
export const commandParamsSchema = z.discriminatedUnion('action', [
  paramsOf('open'),
  paramsOf('data'),
  paramsOf('flush'),
  paramsOf('close'),
  paramsOf('delete'),
  paramsOf('persist'),
  paramsOf('update'),
  paramsOf('datafeed'),
  paramsOf('upgrade_mode'),
  paramsOf('watch'),
  paramsOf('command_event'),
  paramsOf('maintenance'),
  paramsOf('renormalize'),
]);
export type ActionParams = z.infer<typeof commandParamsSchema>;

/**
 * Checks a command's params against its action's schema.
 * @returns `{action, params}`, narrowed by `action`
 * @throws ZodError for an unknown action or params of the wrong shape (a permanent failure: the
 *   same command fails the same way on every delivery)
 */
export function parseCommandParams(cmd: Pick<Command, 'action' | 'params'>): ActionParams {
  return commandParamsSchema.parse({ action: cmd.action, params: cmd.params });
}

/**
 * A command item as read back from the store, outcomes aside (they are stored encoded and
 * decoded by `lib/store/commands.ts`): the fields the runner and the task APIs rely on,
 * typed; unknown attributes pass through (a newer writer may add one). Params are checked
 * per action by {@link commandParamsSchema} on the same read.
 */
export const storedCommandSchema = z.looseObject({
  command_id: z.string().regex(/^\d+$/),
  task_id: z.string(),
  action: z.enum(commandActions),
  es_action: z.string(),
  description: z.string(),
  targets: z.array(z.string()),
  params: z.record(z.string(), z.unknown()),
  payload_chunks: z.number().int().nonnegative().optional(),
  payload_nonce: z.string().optional(),
  payload_encoding: z.enum(['br', 'deflate-raw']).optional(),
  status: z.enum(['queued', 'running', 'done', 'failed']),
  created_ms: z.number(),
  expires_at: z.number(),
});

/** The one target of a `command_event` task (never a job, cluster or watch target: it is never queued). */
export const COMMAND_EVENT_TARGET = '_command_event';

/**
 * The target of cluster-wide commands (set upgrade mode). A job id cannot start with `_`
 * (spec A.5.1), so it never names a job.
 */
export const CLUSTER_TARGET = '_cluster';

/**
 * Prefix of a watch target (`watch:<id>`). Job ids cannot contain `:` (spec A.5.1), so a
 * watch target never names a job.
 */
export const WATCH_TARGET_PREFIX = 'watch:';

/** The command target of a watch: its executions and acks run in order in its group. */
export const watchTarget = (watchId: string): string => `${WATCH_TARGET_PREFIX}${watchId}`;

/** The watch id of a `watch:<id>` target, or undefined for a job or cluster target. */
export const watchIdOf = (target: string): string | undefined => (target.startsWith(WATCH_TARGET_PREFIX) ? target.slice(WATCH_TARGET_PREFIX.length) : undefined);

/**
 * FIFO message group of a target: everything about one job runs in order (`job/<id>`),
 * everything about one watch in `watch/<id>` (an ack never overlaps an execution);
 * cluster-wide commands run in order in `cluster`.
 */
export const messageGroupId = (target: string): string => {
  if (target === CLUSTER_TARGET) return 'cluster';
  const watchId = watchIdOf(target);
  return watchId !== undefined ? `watch/${watchId}` : `job/${target}`;
};
