import type { Context, SQSRecord } from 'aws-lambda';
import { commandMessageSchema, type Command, type CommandMessage } from '../domain/command.ts';
import { EsError, InternalError, WorkDeferred, WorkParked, type EsErrorBody } from '../domain/errors.ts';
import { enqueueContinuation } from '../queue/commands.ts';
import { commandQueue } from '../runtime/topology.ts';
import { logger } from '../runtime/log.ts';
import { getCommand, getCommandPayload, markRunning, recordOutcome, rollUpStatus } from '../store/commands.ts';
import { markJobFailed } from './close.ts';
import { commandFailed } from './events-out.ts';
import { applyCommand } from './command-dispatch.ts';
import { isTransientFailure } from './transient-failures.ts';
import { holdLease, park, shouldPark } from './upgrade-mode.ts';
import { timed } from '../runtime/step-timing.ts';

/*
 * The command runner (DESIGN §2.3): what a worker does with one SQS record of the commands
 * queue, whatever carries the record in (the Lambda handler's batch chain, the local
 * runtime's poller, a test). Handlers only adapt their event to these functions.
 */

/**
 * The message of a record, or undefined for a body that is not a command message. Such a
 * body fails the same way on every delivery and names no command to answer, so it is
 * logged and dropped rather than left to hold its FIFO group until the DLQ takes it.
 */
function readMessage(record: SQSRecord): CommandMessage | undefined {
  try {
    return commandMessageSchema.parse(JSON.parse(record.body));
  } catch (err) {
    logger.error('malformed command message dropped', { messageId: record.messageId, group: record.attributes?.MessageGroupId, body: record.body.slice(0, 500), err });
    return undefined;
  }
}

/**
 * One command message: `queued → running → done|failed` for its target. A message whose
 * target already has an outcome (a redelivery) is a no-op. A failure becomes the target's
 * failed outcome at once unless a later delivery can cure it ({@link isTransientFailure}):
 * an Elasticsearch error as it is, anything else permanent (an item too large, a
 * programming error) as a 500 whose text is fixed, and for a close the job is left
 * `failed`, as Elasticsearch does when closing the process throws. So a command that
 * fails the same way every time answers its client on its first delivery and the job's
 * FIFO group moves on. A transient failure leaves the message for redelivery; on the last
 * delivery before the DLQ it gets the same failed outcome.
 *
 * Work that runs short of time ({@link WorkDeferred}: a close between two steps) is handed
 * on instead of failed: a continuation message for the same command and target goes into
 * the same FIFO group and this record completes, so long work takes as many invocations
 * as it needs and never spends its redrive budget by waiting out the visibility timeout.
 *
 * Upgrade mode (lib/app/upgrade-mode.ts): the target's lease is held while the record is
 * worked on; a job or datafeed message taken while upgrade mode is on, or halted by it between
 * two steps ({@link WorkParked}), is parked instead of carried out, and the record completes.
 */
export async function processCommandRecord(record: SQSRecord, context?: Context): Promise<void> {
  const message = readMessage(record);
  if (!message) return;
  const cmd = await timed('worker.command_read', () => getCommand(message.command_id));
  if (!cmd) {
    logger.warn('command expired or unknown; message dropped', { commandId: message.command_id });
    return;
  }
  if (cmd.outcomes?.[message.target]) {
    // Redelivered after its outcome was written; the status roll-up may not have happened.
    await rollUpStatus(cmd);
    return;
  }
  // A post's body is immutable (written under its nonce before the command was queued), so
  // its read need not wait for the lease: it runs beside the next two round trips. Its failure
  // surfaces where the body is awaited (a parked command drops the read).
  const payload = cmd.action === 'data' && (cmd.payload_chunks ?? 0) > 0 ? getCommandPayload(cmd) : undefined;
  payload?.catch(() => undefined);
  // The lease is taken before upgrade mode is looked at: an enable that turns the mode on after
  // this look still sees the lease, and waits for this work to finish or park. Marking the
  // command running is independent of it, so both writes go at once (one round trip).
  const [running, lease] = await timed('worker.mark_running_and_lease', () => Promise.allSettled([markRunning(cmd.command_id), holdLease(cmd.command_id, message.target)]));
  if (running.status === 'rejected') {
    if (lease.status === 'fulfilled') await lease.value();
    throw running.reason;
  }
  if (lease.status === 'rejected') throw lease.reason;
  // Released once, by whichever comes first: the end of the work or this function's end.
  let released: Promise<void> | undefined;
  const release = (): Promise<void> => {
    if (!released) released = Promise.resolve(lease.value());
    return released;
  };
  try {
    await runHeld(cmd, message, record, release, context, payload);
  } finally {
    await release();
  }
}

/** {@link processCommandRecord} once the target's lease is held: park, or carry out and record the outcome. */
async function runHeld(cmd: Command, message: CommandMessage, record: SQSRecord, release: () => Promise<void>, context?: Context, payload?: Promise<string>): Promise<void> {
  if (await timed('worker.upgrade_mode_read', () => shouldPark(cmd, message))) {
    await park(message, 'upgrade mode is enabled');
    return;
  }
  try {
    const remainingMs = typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : undefined;
    const response = await applyCommand(cmd, message.target, payload ? { remainingMs, payload } : { remainingMs });
    // The work is committed: the lease (which upgrade mode waits on) can go while the answer is
    // recorded, one round trip instead of two; recording the outcome changes no job state.
    await timed('worker.outcome_write_and_lease_release', () =>
      Promise.all([recordOutcome(cmd, message.target, { status: 'done', response, finished_ms: Date.now() }), release()]),
    );
  } catch (err) {
    if (err instanceof WorkParked) {
      // Halted between two steps by upgrade mode: progress is saved on the entity; the message runs again when upgrade mode is disabled.
      await park(message, err.message);
      return;
    }
    if (err instanceof WorkDeferred) {
      // Progress is saved on the entity: the continuation resumes at the first unfinished step.
      await enqueueContinuation(cmd.command_id, message.target, record.messageId, message.resumed);
      logger.info('command handed on to a continuation message', { commandId: cmd.command_id, target: message.target, reason: err.message });
      return;
    }
    if (err instanceof EsError) {
      await recordFailure(cmd, message.target, err.toBody());
      return;
    }
    if (!isTransientFailure(err)) {
      logger.error('command failed permanently; its failure is recorded and it is not retried', { commandId: cmd.command_id, target: message.target, err });
      await giveUp(cmd, message.target);
      return;
    }
    const receives = Number(record.attributes?.ApproximateReceiveCount ?? '1');
    if (receives >= commandQueue.maxReceiveCount) {
      logger.error('command failed on its last delivery; it goes to the DLQ', { commandId: cmd.command_id, target: message.target, err });
      await giveUp(cmd, message.target);
    }
    throw err;
  }
}

/**
 * Records a failed outcome and publishes `ML Command Failed`. An error body that cannot itself be stored (a reason quoting a
 * huge value) is replaced by the fixed 500 of {@link giveUp}'s kind, so recording never
 * becomes the next failure that repeats on every delivery.
 */
async function recordFailure(cmd: Command, target: string, error: EsErrorBody): Promise<void> {
  let recorded = error;
  try {
    await recordOutcome(cmd, target, { status: 'failed', error, finished_ms: Date.now() });
  } catch (err) {
    if (isTransientFailure(err)) throw err;
    logger.error('failed outcome could not be stored; a generic one is stored instead', { commandId: cmd.command_id, target, err });
    recorded = new InternalError(`Exception executing ${cmd.es_action}`).toBody();
    await recordOutcome(cmd, target, { status: 'failed', error: recorded, finished_ms: Date.now() });
  }
  await commandFailed(cmd, target, recorded);
}

/**
 * Records that a command's target will not be carried out: a 500 outcome, so the client
 * waiting on it gets an answer, and for a close a `failed` job, as Elasticsearch does when
 * closing the process throws. The job's reason is public (stats, notifications), so it is
 * a fixed text; the real error is only logged.
 */
async function giveUp(cmd: Command, target: string): Promise<void> {
  const reason = cmd.action === 'close' ? 'Exception closing autodetect process' : `Exception executing ${cmd.es_action}`;
  if (cmd.action === 'close') await markJobFailed(target, reason);
  const error = new InternalError(reason).toBody();
  await recordOutcome(cmd, target, { status: 'failed', error, finished_ms: Date.now() });
  await commandFailed(cmd, target, error);
}

/** A record handed back unattempted on its last receive: its target gets the same failed outcome. */
export async function abandonCommandRecord(record: SQSRecord, why: string): Promise<void> {
  const message = readMessage(record);
  if (!message) return;
  const cmd = await getCommand(message.command_id);
  if (!cmd || cmd.outcomes?.[message.target]) return;
  logger.error('command message goes to the DLQ without being attempted', { commandId: cmd.command_id, target: message.target, why });
  await giveUp(cmd, message.target);
}

/** The worker chain's options for the commands queue: its redrive limit, and the runner's answer for records handed back unattempted on their last receive. */
export const commandWorkerOptions = { maxReceiveCount: commandQueue.maxReceiveCount, onAbandon: abandonCommandRecord };
