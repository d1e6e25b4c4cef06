import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Command } from '../domain/command.ts';
import { enqueueCommand } from '../queue/commands.ts';
import { db, tableName } from '../store/db.ts';

/**
 * Finds commands still `queued` or `running` and sends again the messages of their
 * targets that have no outcome yet. The local runtime calls it at start, because its SQS
 * emulator keeps nothing across restarts; in AWS the queue is durable and this is not
 * needed. Duplicates are harmless: a target with an outcome is a no-op for the worker, and
 * the FIFO deduplication id is the same.
 * @returns the number of messages sent
 */
export async function requeuePendingCommands(): Promise<number> {
  let sent = 0;
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  const pending: Command[] = [];
  do {
    const out = await db().send(
      new ScanCommand({
        TableName: tableName(),
        FilterExpression: 'sk = :c AND (#s = :q OR #s = :r)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':c': 'command', ':q': 'queued', ':r': 'running' },
        ExclusiveStartKey,
      }),
    );
    pending.push(...((out.Items ?? []) as Command[]));
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  pending.sort((a, b) => a.created_ms - b.created_ms || a.command_id.localeCompare(b.command_id));
  for (const cmd of pending) {
    const targets = cmd.targets.filter((t) => !cmd.outcomes?.[t]);
    if (targets.length === 0) continue;
    await enqueueCommand(cmd.command_id, targets);
    sent += targets.length;
  }
  return sent;
}
