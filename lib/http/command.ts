/**
 * The command ingress (issue 11): a command event (`lib/domain/command-event.ts`) run as the
 * HTTP request it stands for. It goes through the same route matching (`router.ts`), the same
 * checks and route handlers (`admitRequest`, `runRoute` in `chain.ts`) and the same error
 * rendering (`errorResult`) as HTTP; only the sender differs: not an `Authorization` header
 * but the internal principal `_command` with the roles of `COMMAND_ROLES`.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ZodError } from 'zod';
import { auditCommandEvent, COMMAND_EVENT_NO_ROUTE_ACTION, finishCommandEventTask, jobsNamedBy, originText, reasonOf, startCommandEventTask } from '../app/command-events.ts';
import type { Principal } from '../app/security.ts';
import { type CommandEvent, type CommandOrigin, commandBodyText, commandEventSchema, commandQueryText } from '../domain/command-event.ts';
import { IllegalArgumentError } from '../domain/errors.ts';
import { config } from '../runtime/config.ts';
import { lambdaContext, logger } from '../runtime/log.ts';
import { countRejectedCommandEvent } from '../runtime/metrics.ts';
import { routes } from '../runtime/topology.ts';
import { withWaitCap } from '../runtime/wait-cap.ts';
import { admitRequest, errorResult, resultBody, type RouteHandler, runRoute } from './chain.ts';
import { createRouteMatcher } from './router.ts';

/**
 * The user command events run as. Elasticsearch's internal users are named with a leading
 * underscore (`_system`, `_xpack`, `_async_search`), a name its realms refuse for real users,
 * and mlplane's user store has no API to create one: no HTTP request can ever act as it.
 */
export const COMMAND_USER = '_command';

/** What the ingress answers for one event (and `npm run command` prints): the task, the HTTP status and the Elasticsearch body. */
export interface CommandResult {
  /** Task id `<node>:<n>`, readable with `GET _tasks/<id>`. */
  task: string;
  status: number;
  body: unknown;
}

/** A command event as delivered, once read: the event, or why it cannot be run (an Elasticsearch 400). */
export type CommandDelivery = { ok: true; event: CommandEvent } | { ok: false; error: IllegalArgumentError; method: string; path: string; origin: CommandOrigin | undefined };

/** How long before the function's own timeout the ingress stops waiting for a command (answering with its task, 202), ms. */
export const COMMAND_WAIT_MARGIN_MS = 60_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const jsonType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/**
 * An EventBridge event envelope (`{version:"0", id, "detail-type", source, time, resources,
 * detail}`), as a rule delivers an event to a Lambda target without an input transformer.
 */
function isEnvelope(v: Record<string, unknown>): boolean {
  return 'detail-type' in v && 'detail' in v;
}

/** The value at a zod issue's path, for the message. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path) v = isObject(v) ? v[String(k)] : undefined;
  return v;
}

/**
 * One refusal text naming the field, in the words of Elasticsearch's `ObjectParser`
 * (`[command_event] unknown field [x]`, `[command_event] failed to parse field [method]: …`).
 */
function issueText(err: ZodError, root: unknown, prefix: string): string {
  const issue = err.issues[0];
  if (!issue) return '[command_event] failed to parse';
  if (issue.code === 'unrecognized_keys') {
    const at = issue.path.length > 0 ? `${prefix}${issue.path.join('.')}.` : prefix;
    return `[command_event] unknown field [${at}${issue.keys[0]}]`;
  }
  const field = `${prefix}${issue.path.join('.')}`;
  const value = valueAt(root, issue.path);
  let why: string;
  if (value === undefined && issue.code !== 'custom') why = 'is required';
  else if (issue.code === 'invalid_value') why = `must be one of [${issue.values.map(String).join(', ')}], got [${String(value)}]`;
  else if (issue.code === 'invalid_type') why = `expected ${issue.expected}, got [${jsonType(value)}]`;
  else if (issue.code === 'invalid_union') why = `expected a string, number or boolean, got [${jsonType(value)}]`;
  else why = issue.message;
  return `[command_event] failed to parse field [${field}]: ${why}`;
}

/** Best-effort facts of an event that cannot be run, for its task description and log line. */
function sketch(raw: unknown): { method: string; path: string; origin: CommandOrigin | undefined } {
  const o = isObject(raw) ? raw : {};
  const origin = isObject(o.origin) && typeof o.origin.name === 'string' && typeof o.origin.kind === 'string' ? (o.origin as CommandOrigin) : undefined;
  return { method: typeof o.method === 'string' ? o.method.slice(0, 16) : '-', path: typeof o.path === 'string' ? o.path.slice(0, 256) : '-', origin };
}

/**
 * Reads a delivery: a bare command event (a Scheduler target's input, a rule's constant input or
 * input transformer, `npm run command`), or an EventBridge event envelope whose `detail` is a
 * command event (a rule forwarding `aws events put-events` entries as they are). For an envelope
 * the origin defaults to `{kind: 'rule', name: <source>, id: <event id>}` unless `detail.origin`
 * is set. Never throws.
 * @returns the event, or a 400 `illegal_argument_exception` naming the field: not an object,
 *   unknown field, bad method, a path with `?`, `command_version` other than 1, …
 */
export function readCommandDelivery(input: unknown): CommandDelivery {
  const refuse = (reason: string, raw: unknown): CommandDelivery => ({ ok: false, error: new IllegalArgumentError(reason), ...sketch(raw) });
  if (!isObject(input)) return refuse(`[command_event] must be a JSON object, got [${jsonType(input)}]`, input);
  let raw: unknown = input;
  let prefix = '';
  let envelopeOrigin: CommandOrigin | undefined;
  if (isEnvelope(input)) {
    raw = input.detail;
    prefix = 'detail.';
    if (!isObject(raw)) return refuse(`[command_event] failed to parse field [detail]: an EventBridge event's detail must be a command event object, got [${jsonType(raw)}]`, raw);
    const source = typeof input.source === 'string' && input.source !== '' ? input.source.slice(0, 512) : 'unknown';
    const id = typeof input.id === 'string' && input.id !== '' ? input.id.slice(0, 512) : undefined;
    envelopeOrigin = { kind: 'rule', name: source, ...(id ? { id } : {}) };
  }
  const parsed = commandEventSchema.safeParse(raw);
  if (!parsed.success) {
    const failed = refuse(issueText(parsed.error, raw, prefix), raw);
    if (!failed.ok && !failed.origin) failed.origin = envelopeOrigin;
    return failed;
  }
  const event = parsed.data;
  if (!event.origin && envelopeOrigin) event.origin = envelopeOrigin;
  return { ok: true, event };
}

/** The URI as HTTP would show it in "no handler found" answers: the path and its query string. */
function uriOf(event: CommandEvent): string {
  const query = new URLSearchParams(commandQueryText(event.query)).toString();
  return query === '' ? event.path : `${event.path}?${query}`;
}

/** Options of {@link runCommandEvent}. */
export interface RunCommandOptions {
  /** How long the request may wait for its command, ms (default `HTTP_WAIT_CAP_MS`). */
  waitCapMs?: number;
}

/**
 * Runs one delivery and records it: a task (`GET _tasks/<id>`, recorded `running` before the
 * request runs, its outcome after), an audit message on each job the path names that resolves
 * (`jobsNamedBy`), a log line naming the origin, status and reason, and for a 4xx outcome the
 * `CommandEventsRejected` metric. Steps, as HTTP: route matching (400 "no handler found", 405),
 * body size and media type, the `_command` principal's roles against the route's privilege
 * (403 `security_exception`), unknown parameters (400), the route's handler, errors rendered by
 * `errorResult`.
 * @returns `{task, status, body}`; every outcome is returned, 5xx included (the handler decides to throw)
 * @throws only when recording fails (the store is unreachable): the invocation is retried
 */
export async function runCommandEvent(handlers: Record<string, RouteHandler>, input: unknown, opts: RunCommandOptions = {}): Promise<CommandResult> {
  const receivedMs = Date.now();
  const delivery = readCommandDelivery(input);
  const facts = delivery.ok ? { method: delivery.event.method, path: delivery.event.path, origin: delivery.event.origin } : delivery;
  // The query only shows in the refusals' quoted URI, as HTTP quotes it; matching is by path.
  const match = delivery.ok ? matcher().match(delivery.event.method, uriOf(delivery.event)) : undefined;
  const esAction = match?.kind === 'route' ? match.route.action : COMMAND_EVENT_NO_ROUTE_ACTION;
  const task = await startCommandEventTask({ esAction, method: facts.method, path: facts.path, origin: facts.origin }, receivedMs);

  let status: number;
  let body: unknown;
  if (!delivery.ok) {
    ({ status, body } = errorResult(delivery.error));
  } else if (match?.kind !== 'route') {
    // The schema admits no OPTIONS, so a miss is always the REST layer's 400 or 405.
    ({ status, body } = match?.kind === 'error' ? match : errorResult(new IllegalArgumentError('unroutable command event')));
  } else {
    const event = delivery.event;
    const query = commandQueryText(event.query);
    const text = commandBodyText(event.body);
    const principal: Principal = { username: COMMAND_USER, roles: config().commandRoles };
    const run = async () => {
      try {
        const req = await admitRequest({
          route: match.route,
          handlers,
          path: event.path,
          pathParams: match.pathParameters,
          query,
          // A JSON body is sent as `application/json`; text (NDJSON for `_data`, `_bulk`) as `application/x-ndjson`.
          headers: text === undefined ? {} : { 'content-type': typeof event.body === 'string' ? 'application/x-ndjson' : 'application/json' },
          body: text,
          receivedMs,
          authenticate: async () => principal,
        });
        const result = await runRoute(handlers, req);
        return { status: result.status, body: resultBody(result, query) };
      } catch (err) {
        const result = errorResult(err);
        return { status: result.status, body: result.body };
      }
    };
    ({ status, body } = opts.waitCapMs === undefined ? await run() : await withWaitCap(opts.waitCapMs, run));
  }

  await finishCommandEventTask(task, status, body);
  const jobs = match?.kind === 'route' ? await jobsNamedBy(match.pathParameters) : [];
  await auditCommandEvent(jobs, facts, status, body);
  const fields = {
    task: task.task_id,
    origin: originText(facts.origin),
    origin_id: facts.origin?.id,
    method: facts.method,
    path: facts.path,
    status,
    reason: reasonOf(body),
    jobs,
  };
  if (status >= 500) logger.error('command event failed; an asynchronous invocation is retried, then dead-lettered', fields);
  else if (status >= 400) {
    logger.warn('command event rejected', fields);
    countRejectedCommandEvent();
  } else logger.info('command event done', fields);
  return { task: task.task_id, status, body };
}

let cachedMatcher: ReturnType<typeof createRouteMatcher> | undefined;
const matcher = () => (cachedMatcher ??= createRouteMatcher(routes));

/** A 5xx outcome, thrown so Lambda's retry policy, then the dead-letter queue, take the event. */
export class CommandEventFailed extends Error {
  constructor(readonly result: CommandResult) {
    super(`command event failed with status ${result.status} (task ${result.task}): ${reasonOf(result.body) ?? 'internal error'}`);
    this.name = 'CommandEventFailed';
  }
}

/**
 * Builds the command-ingress Lambda handler over every route table (`handlers`: the
 * `lib/http/routes/*` tables merged). Invoked by EventBridge Scheduler, EventBridge rules (both
 * asynchronous: the function's retry policy and DLQ apply), `aws lambda invoke` and
 * `npm run command`. It waits for queued commands until {@link COMMAND_WAIT_MARGIN_MS} before
 * its own timeout (840 s of 900 s), so a scheduled close records the close's real outcome.
 * A 2xx or 4xx outcome returns `{task, status, body}` (a 4xx is final: the same event would
 * fail the same way, so it is never retried); a 5xx throws {@link CommandEventFailed}.
 */
export function commandIngressFunction(handlers: Record<string, RouteHandler>) {
  for (const r of routes) if (!handlers[`${r.method} ${r.path}`]) throw new Error(`the command ingress has no handler for route ${r.method} ${r.path}`);
  const core = async (event: unknown, context: Context): Promise<CommandResult> => {
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
    // Lambda's own clock bounds the wait: the stack's HTTP_WAIT_CAP_MS for this function says the same (timeout − 60 s),
    // and the local runtime, which serves HTTP with a 28 s cap in the same process, gives the ingress its 900 s context.
    const waitCapMs = remaining !== undefined && remaining > COMMAND_WAIT_MARGIN_MS ? remaining - COMMAND_WAIT_MARGIN_MS : undefined;
    const result = await runCommandEvent(handlers, event, { waitCapMs });
    if (result.status >= 500) throw new CommandEventFailed(result);
    return result;
  };
  return middy<unknown, CommandResult, Error, Context>(core).use(lambdaContext());
}
