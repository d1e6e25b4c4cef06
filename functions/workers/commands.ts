import type { SQSRecord } from 'aws-lambda';
import { executeCommand } from '../../lib/app/execute.ts';
import { commandMessageSchema } from '../../lib/domain/command.ts';
import { EsError } from '../../lib/domain/errors.ts';
import { logger } from '../../lib/runtime/log.ts';
import { getCommand, markRunning, recordOutcome } from '../../lib/store/commands.ts';
import { sqsWorker } from '../../lib/worker/chain.ts';

/**
 * One command message: `queued → running → done|failed` for its target. A message whose
 * target already has an outcome (a redelivery) is a no-op; an Elasticsearch error becomes
 * the target's failed outcome; any other error leaves the message for redelivery.
 */
export async function processCommandRecord(record: SQSRecord): Promise<void> {
  const message = commandMessageSchema.parse(JSON.parse(record.body));
  const cmd = await getCommand(message.command_id);
  if (!cmd) {
    logger.warn('command expired or unknown; message dropped', { commandId: message.command_id });
    return;
  }
  if (cmd.outcomes?.[message.target]) return;
  await markRunning(cmd.command_id);
  try {
    const response = await executeCommand(cmd, message.target);
    await recordOutcome(cmd, message.target, { status: 'done', response, finished_ms: Date.now() });
  } catch (err) {
    if (!(err instanceof EsError)) throw err;
    await recordOutcome(cmd, message.target, { status: 'failed', error: err.toBody(), finished_ms: Date.now() });
  }
}

export const handler = sqsWorker(processCommandRecord);
