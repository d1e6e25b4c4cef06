import { randomInt } from 'node:crypto';
import type { Command, CommandAction } from '../domain/command.ts';
import { IllegalStateError, InternalError, StoredEsError } from '../domain/errors.ts';
import { enqueueCommand } from '../queue/commands.ts';
import { config } from '../runtime/config.ts';
import { waitCapMs } from '../runtime/wait-cap.ts';
import { getCommand, putCommand, recordOutcome } from '../store/commands.ts';
import { timed } from '../runtime/step-timing.ts';

/** Commands and their payloads are kept 24 h (DynamoDB TTL), like Elasticsearch's `.tasks` results for a while. */
const COMMAND_TTL_S = 24 * 3600;

export interface SubmitCommand {
  action: CommandAction;
  es_action: string;
  description: string;
  targets: string[];
  params?: Record<string, unknown>;
  /** Request body to carry to the worker (post data). */
  payload?: string;
}

/**
 * Records a Command (status `queued`) and sends one FIFO message per target. The command
 * id is numeric so the task id `<node>:<id>` has Elasticsearch's form.
 */
export async function submitCommand(input: SubmitCommand, nowMs = Date.now()): Promise<Command> {
  for (let attempt = 0; ; attempt++) {
    const cmd = newCommand(input, String(nowMs * 1000 + randomInt(1000)), nowMs);
    if (await putCommand(cmd, input.payload)) return timed('http.sqs_send', () => enqueue(cmd));
    // Two commands drew the same id in the same millisecond: draw again.
    if (attempt >= 20) throw new Error('could not allocate a command id');
  }
}

/**
 * Records a command carried out by its recorder, never queued (the task of a command event,
 * `action: 'command_event'`): status `running` at once, so `GET _tasks` lists it while it
 * runs; its outcome is recorded with `recordOutcome` on its one target, which finishes it.
 * @returns the command (its `task_id` is `<node>:<command_id>`)
 */
export async function startUnqueuedCommand(input: Omit<SubmitCommand, 'payload'>, nowMs = Date.now()): Promise<Command> {
  for (let attempt = 0; ; attempt++) {
    const cmd = { ...newCommand(input, String(nowMs * 1000 + randomInt(1000)), nowMs), status: 'running' as const };
    if (await putCommand(cmd)) return cmd;
    if (attempt >= 20) throw new Error('could not allocate a command id');
  }
}

function newCommand(input: SubmitCommand, commandId: string, nowMs: number): Command {
  return {
    command_id: commandId,
    task_id: `${config().nodeName}:${commandId}`,
    action: input.action,
    es_action: input.es_action,
    description: input.description,
    targets: input.targets,
    params: input.params ?? {},
    status: 'queued',
    outcomes: {},
    created_ms: nowMs,
    expires_at: Math.floor(nowMs / 1000) + COMMAND_TTL_S,
  };
}

async function enqueue(cmd: Command): Promise<Command> {
  try {
    await enqueueCommand(cmd.command_id, cmd.targets);
  } catch (err) {
    // Never queued: close the command as failed, so neither a task lookup nor the local
    // runtime's restart recovery ever runs what the client was told had failed.
    const error = new InternalError(`failed to queue ${cmd.es_action}`).toBody();
    for (const target of cmd.targets) await recordOutcome(cmd, target, { status: 'failed', error, finished_ms: Date.now() });
    throw err;
  }
  return cmd;
}

/** Outcome of waiting: the finished command, or the reason the wait ended first. */
export type WaitOutcome = { kind: 'finished'; command: Command } | { kind: 'request_timeout' } | { kind: 'gateway_cap' };

/** Longest pause between two polls of a command, ms: a long close is seen done within half a second. */
export const MAX_POLL_INTERVAL_MS = 500;

/**
 * How long the wait keeps polling every `COMMAND_POLL_MS` before it backs off, ms: most
 * commands (an idle close, an update, a small post) finish within it and are answered within
 * one poll interval of finishing; only longer ones move to the doubling pauses.
 */
export const FAST_POLL_WINDOW_MS = 300;

/**
 * Polls a command until it is `done` or `failed`, or the budget ends:
 * min(request timeout, the gateway cap `HTTP_WAIT_CAP_MS`, or the command ingress's longer cap: `lib/runtime/wait-cap.ts`). Which one ended first decides
 * the answer: Elasticsearch's timeout error, or a 202 with the task id (DESIGN §2.2).
 * Either way the command carries on.
 *
 * The first read is at once; for the first {@link FAST_POLL_WINDOW_MS} the pauses are
 * `COMMAND_POLL_MS` (15 ms), then they double up to {@link MAX_POLL_INTERVAL_MS}, never past
 * the end of the budget, so a quick command is answered within 15 ms of finishing and a 20 s
 * close costs about 65 strongly consistent reads instead of one every 15 ms (~1,300).
 */
export async function awaitCommand(commandId: string, requestTimeoutMs: number | undefined, startedMs = Date.now()): Promise<WaitOutcome> {
  const { commandPollMs } = config();
  const capAt = startedMs + waitCapMs();
  const timeoutAt = requestTimeoutMs === undefined ? Infinity : startedMs + requestTimeoutMs;
  let delay = commandPollMs;
  for (;;) {
    const cmd = await getCommand(commandId);
    if (cmd && (cmd.status === 'done' || cmd.status === 'failed')) return { kind: 'finished', command: cmd };
    const now = Date.now();
    if (now >= timeoutAt) return { kind: 'request_timeout' };
    if (now >= capAt) return { kind: 'gateway_cap' };
    await new Promise((r) => setTimeout(r, Math.min(delay, timeoutAt - now, capAt - now)));
    if (Date.now() - startedMs >= FAST_POLL_WINDOW_MS) delay = Math.min(delay * 2, Math.max(MAX_POLL_INTERVAL_MS, commandPollMs));
  }
}

/** Result of an HTTP-side use case that went through the queue. */
export type Queued<T> = { kind: 'done'; response: T } | { kind: 'accepted'; taskId: string; requested?: boolean };

/**
 * Turns the outcome of waiting for a command into a response, Elasticsearch's timeout
 * error, or an "accepted" task (the gateway cap ran out first). A failed target rethrows
 * the worker's Elasticsearch error unchanged.
 */
export function settle<T>(taskId: string, outcome: WaitOutcome, onTimeout: () => Error, combine: (responses: unknown[]) => T): Queued<T> {
  if (outcome.kind === 'request_timeout') throw onTimeout();
  if (outcome.kind === 'gateway_cap') return { kind: 'accepted', taskId };
  const cmd = outcome.command;
  const outcomes = cmd.targets.map((t) => cmd.outcomes[t]);
  const failed = outcomes.find((o) => o?.status === 'failed');
  if (failed?.error) throw new StoredEsError(failed.error);
  return { kind: 'done', response: combine(outcomes.map((o) => o?.response)) };
}

/**
 * Waits for a command whose API has no `timeout` (post data, flush, update, delete): only the
 * gateway cap ends the wait early (202 with the task), so a request timeout cannot happen.
 * `combine` builds the answer from the targets' responses, as in {@link settle}.
 */
export async function awaitWithoutTimeout<T>(cmd: Pick<Command, 'command_id' | 'task_id'>, startedMs: number, combine: (responses: unknown[]) => T): Promise<Queued<T>> {
  const outcome = await awaitCommand(cmd.command_id, undefined, startedMs);
  return settle(cmd.task_id, outcome, () => new IllegalStateError('unreachable'), combine);
}
