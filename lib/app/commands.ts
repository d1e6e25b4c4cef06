import { randomInt } from 'node:crypto';
import type { Command, CommandAction } from '../domain/command.ts';
import { EsError, InternalError, type EsCause, type EsErrorBody } from '../domain/errors.ts';
import { enqueueCommand } from '../queue/commands.ts';
import { config } from '../runtime/config.ts';
import { getCommand, putCommand, recordOutcome } from '../store/commands.ts';

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
    if (await putCommand(cmd, input.payload)) return enqueue(cmd);
    // Two commands drew the same id in the same millisecond: draw again.
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

/**
 * Polls a command until it is `done` or `failed`, or the budget ends:
 * min(request timeout, the gateway cap `HTTP_WAIT_CAP_MS`). Which one ended first decides
 * the answer: Elasticsearch's timeout error, or a 202 with the task id (DESIGN §2.2).
 * Either way the command carries on.
 */
export async function awaitCommand(commandId: string, requestTimeoutMs: number | undefined, startedMs = Date.now()): Promise<WaitOutcome> {
  const { httpWaitCapMs, commandPollMs } = config();
  const capAt = startedMs + httpWaitCapMs;
  const timeoutAt = requestTimeoutMs === undefined ? Infinity : startedMs + requestTimeoutMs;
  let delay = 2;
  for (;;) {
    const cmd = await getCommand(commandId);
    if (cmd && (cmd.status === 'done' || cmd.status === 'failed')) return { kind: 'finished', command: cmd };
    const now = Date.now();
    if (now >= timeoutAt) return { kind: 'request_timeout' };
    if (now >= capAt) return { kind: 'gateway_cap' };
    await new Promise((r) => setTimeout(r, Math.min(delay, timeoutAt - now, capAt - now)));
    delay = Math.min(delay * 2, commandPollMs);
  }
}

/** An EsError rebuilt from a stored error body, so a worker's failure reaches the client unchanged. */
export class StoredEsError extends EsError {
  constructor(private readonly body: EsErrorBody) {
    super(body.error.type, body.status, body.error.reason);
  }
  override toBody(): EsErrorBody {
    return this.body;
  }
  override toCause(): EsCause {
    const { root_cause: _root, ...cause } = this.body.error;
    return cause;
  }
}
