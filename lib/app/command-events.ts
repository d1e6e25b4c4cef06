import { COMMAND_EVENT_TARGET, type Command } from '../domain/command.ts';
import type { CommandOrigin } from '../domain/command-event.ts';
import type { EsErrorBody } from '../domain/errors.ts';
import { recordOutcome } from '../store/commands.ts';
import { audit } from './audit.ts';
import { startUnqueuedCommand } from './commands.ts';
import { resolveDatafeeds } from './datafeed-lookup.ts';
import { resolveJobs } from './job-lookup.ts';

/*
 * The use-case side of a command event (lib/http/command.ts runs the request): its task
 * (`GET _tasks/<id>`) and its audit messages.
 */

/** Action shown for an event that names no route (malformed, unknown path): there is no Elasticsearch action to name. */
export const COMMAND_EVENT_NO_ROUTE_ACTION = 'cluster:admin/mlplane/command';

/**
 * How an origin is named in texts: `<kind> [<name>]`, an ARN shortened to its last segment
 * (`arn:aws:scheduler:…:schedule/default/close-nightly` → `close-nightly`), `npm run command`
 * as `cli [npm run command]`.
 */
export function originText(origin: CommandOrigin | undefined): string {
  if (!origin) return 'unnamed sender';
  const name = origin.name.startsWith('arn:') ? (origin.name.split(/[/:]/).pop() ?? origin.name) : origin.name;
  return `${origin.kind} [${name}]`;
}

/** What a command event's task records about it. */
export interface CommandEventTaskInput {
  /** Elasticsearch action of the route (`cluster:admin/xpack/ml/job/close`), or {@link COMMAND_EVENT_NO_ROUTE_ACTION}. */
  esAction: string;
  method: string;
  path: string;
  origin: CommandOrigin | undefined;
}

/**
 * Records the task of a command event, `running`, before the event is run, so `GET _tasks`
 * lists it while a long close runs. Description: `command from schedule [close-nightly]: POST
 * /_ml/anomaly_detectors/nightly-*\/_close`.
 * @returns the task's command (`task_id` `<node>:<n>`)
 */
export function startCommandEventTask(input: CommandEventTaskInput, nowMs = Date.now()): Promise<Command> {
  return startUnqueuedCommand(
    {
      action: 'command_event',
      es_action: input.esAction,
      description: `command from ${originText(input.origin)}: ${input.method} ${input.path}`,
      targets: [COMMAND_EVENT_TARGET],
      params: { method: input.method, path: input.path, ...(input.origin ? { origin: input.origin } : {}) },
    },
    nowMs,
  );
}

/**
 * Records a command event's outcome on its task: `response` = the route's body on 2xx, `error` =
 * the Elasticsearch error body otherwise (as `GET _tasks/<id>` reports a failed task).
 */
export async function finishCommandEventTask(task: Command, status: number, body: unknown, nowMs = Date.now()): Promise<void> {
  const ok = status >= 200 && status < 300;
  await recordOutcome(
    task,
    COMMAND_EVENT_TARGET,
    ok ? { status: 'done', response: body ?? {}, finished_ms: nowMs } : { status: 'failed', error: errorBodyOf(status, body), finished_ms: nowMs },
  );
}

/** An error body in Elasticsearch's `{error:{…},status}` shape; the REST layer's string errors (`no handler found`) are wrapped. */
function errorBodyOf(status: number, body: unknown): EsErrorBody {
  const b = body as { error?: unknown } | undefined;
  if (b && typeof b.error === 'object' && b.error !== null) return body as EsErrorBody;
  const reason = typeof b?.error === 'string' ? b.error : `status ${status}`;
  const cause = { type: status === 405 ? 'method_not_allowed' : 'illegal_argument_exception', reason };
  return { error: { root_cause: [cause], ...cause }, status };
}

/** The reason of an Elasticsearch error body (`error.reason`, or the REST layer's string `error`). */
export function reasonOf(body: unknown): string | undefined {
  const e = (body as { error?: unknown } | undefined)?.error;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && typeof (e as { reason?: unknown }).reason === 'string') return (e as { reason: string }).reason;
  return undefined;
}

/**
 * The jobs a request names through its path: `{job_id}` expanded over job ids, groups and
 * wildcards, or the jobs of the datafeeds `{datafeed_id}` expands to. An expression that
 * resolves to nothing (unknown id, `_all` on none, a deleted job) names none.
 */
export async function jobsNamedBy(pathParams: Record<string, string>): Promise<string[]> {
  try {
    if (pathParams.job_id !== undefined) return (await resolveJobs(pathParams.job_id, true)).map((j) => j.job_id);
    if (pathParams.datafeed_id !== undefined) return [...new Set((await resolveDatafeeds(pathParams.datafeed_id, true)).map((d) => d.config.job_id))];
  } catch {
    // An id expression the lookup refuses names no job: the outcome is logged instead.
  }
  return [];
}

/**
 * Writes the audit message of a command event's outcome to each job: `Command from schedule
 * [close-nightly] (POST /_ml/anomaly_detectors/nightly-*\/_close): done`, or `…: 429 Cannot
 * perform … action while upgrade mode is enabled` (level `warning` for 4xx, `error` for 5xx).
 */
export async function auditCommandEvent(jobIds: readonly string[], input: Omit<CommandEventTaskInput, 'esAction'>, status: number, body: unknown): Promise<void> {
  const ok = status >= 200 && status < 300;
  const head = `Command from ${originText(input.origin)} (${input.method} ${input.path})`;
  const text = ok ? `${head}: done` : `${head}: ${status} ${reasonOf(body) ?? 'failed'}`;
  const level = ok ? 'info' : status >= 500 ? 'error' : 'warning';
  for (const jobId of jobIds) await audit(jobId, text, level);
}
