import type { Context, SQSRecord } from 'aws-lambda';
import type { Command } from '../../lib/domain/command.ts';
import { executeCommand } from '../../lib/app/execute.ts';
import { commandMessageSchema } from '../../lib/domain/command.ts';
import { EsError, InternalError } from '../../lib/domain/errors.ts';
import { markJobFailed } from '../../lib/app/execute.ts';
import { commandQueue } from '../../lib/runtime/topology.ts';
import { logger } from '../../lib/runtime/log.ts';
import { getCommand, markRunning, recordOutcome, rollUpStatus } from '../../lib/store/commands.ts';
import { sqsWorker } from '../../lib/worker/chain.ts';

/**
 * One command message: `queued → running → done|failed` for its target. A message whose
 * target already has an outcome (a redelivery) is a no-op; an Elasticsearch error becomes
 * the target's failed outcome; any other error leaves the message for redelivery. On the
 * last delivery before the DLQ, the target gets a failed outcome as well (a 500, so the
 * client waiting on it gets an answer), and a close that keeps failing leaves its job
 * `failed`, as Elasticsearch does when closing the process throws.
 */
export async function processCommandRecord(record: SQSRecord, context?: Context): Promise<void> {
  const message = commandMessageSchema.parse(JSON.parse(record.body));
  const cmd = await getCommand(message.command_id);
  if (!cmd) {
    logger.warn('command expired or unknown; message dropped', { commandId: message.command_id });
    return;
  }
  if (cmd.outcomes?.[message.target]) {
    // Redelivered after its outcome was written; the status roll-up may not have happened.
    await rollUpStatus(cmd);
    return;
  }
  await markRunning(cmd.command_id);
  try {
    const remainingMs = typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : undefined;
    const response = await executeCommand(cmd, message.target, { remainingMs });
    await recordOutcome(cmd, message.target, { status: 'done', response, finished_ms: Date.now() });
  } catch (err) {
    if (err instanceof EsError) {
      await recordOutcome(cmd, message.target, { status: 'failed', error: err.toBody(), finished_ms: Date.now() });
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
 * Records that a command's target will not be carried out (its message goes to the DLQ):
 * a 500 outcome, so the client waiting on it gets an answer, and for a close a `failed`
 * job, as Elasticsearch does when closing the process throws. The job's reason is public
 * (stats, notifications), so it is a fixed text; the real error is only logged.
 */
async function giveUp(cmd: Command, target: string): Promise<void> {
  const reason = cmd.action === 'close' ? 'Exception closing autodetect process' : `Exception executing ${cmd.es_action}`;
  if (cmd.action === 'close') await markJobFailed(target, reason);
  await recordOutcome(cmd, target, { status: 'failed', error: new InternalError(reason).toBody(), finished_ms: Date.now() });
}

/** A record handed back unattempted on its last receive: its target gets the same failed outcome. */
async function abandon(record: SQSRecord, why: string): Promise<void> {
  const message = commandMessageSchema.parse(JSON.parse(record.body));
  const cmd = await getCommand(message.command_id);
  if (!cmd || cmd.outcomes?.[message.target]) return;
  logger.error('command message goes to the DLQ without being attempted', { commandId: cmd.command_id, target: message.target, why });
  await giveUp(cmd, message.target);
}

export const handler = sqsWorker(processCommandRecord, { maxReceiveCount: commandQueue.maxReceiveCount, onAbandon: abandon });
