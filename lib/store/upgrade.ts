/**
 * The records upgrade mode works with (layout in `keys.ts`):
 *
 * - **leases**: one item per command target a worker is carrying out, with an expiry the
 *   worker's heartbeat keeps pushing forward. Enabling upgrade mode waits until no live lease
 *   is left; a worker that crashed stops renewing, so its lease expires and never blocks the
 *   acknowledgement for ever.
 * - **parked messages**: command messages a worker took while upgrade mode was on. They are
 *   kept here, in the order they were parked, instead of in the queue (where every receive
 *   would count towards the DLQ), and re-queued in that order when upgrade mode is disabled.
 */
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { queryAll } from './batch.ts';
import { db, isConditionFailure, tableName } from './db.ts';
import { keys } from './keys.ts';

/** A live or expired lease: which command target, and until when (epoch ms). */
export interface Lease {
  command_id: string;
  target: string;
  until_ms: number;
}

/** Takes (or renews) the lease of one command target until `untilMs` (epoch ms). */
export async function putLease(commandId: string, target: string, untilMs: number): Promise<void> {
  await db().send(new PutCommand({ TableName: tableName(), Item: { ...keys.lease(commandId, target), command_id: commandId, target, until_ms: untilMs } }));
}

/** Pushes a held lease's expiry forward; a lease released meanwhile stays released. */
export async function renewLease(commandId: string, target: string, untilMs: number): Promise<void> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.lease(commandId, target),
        UpdateExpression: 'SET until_ms = :u',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':u': untilMs },
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
}

/** Releases the lease of one command target (idempotent). */
export async function releaseLease(commandId: string, target: string): Promise<void> {
  await db().send(new DeleteCommand({ TableName: tableName(), Key: keys.lease(commandId, target) }));
}

/** Every lease, live or expired (one strongly consistent Query of the `leases` partition). */
export async function listLeases(): Promise<Lease[]> {
  return queryAll<Lease>({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.leasePartition }, ConsistentRead: true });
}

/** A command message parked by upgrade mode, with its position in the parking order (`sk`). */
export interface ParkedMessage {
  sk: string;
  command_id: string;
  target: string;
  parked_ms: number;
}

let parkSeq = 0;

/** Parks one command message: it is kept, in order, until {@link listParked} re-queues it. */
export async function parkMessage(commandId: string, target: string, nowMs = Date.now()): Promise<void> {
  parkSeq = (parkSeq + 1) % 1_000_000;
  const key = keys.parked(nowMs, parkSeq, commandId, target);
  await db().send(new PutCommand({ TableName: tableName(), Item: { ...key, command_id: commandId, target, parked_ms: nowMs } }));
}

/** Every parked message, oldest first (one strongly consistent Query of the `parked` partition). */
export async function listParked(): Promise<ParkedMessage[]> {
  return queryAll<ParkedMessage>({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.parkedPartition }, ConsistentRead: true });
}

/** Removes a parked message once it is queued again. */
export async function deleteParked(sk: string): Promise<void> {
  await db().send(new DeleteCommand({ TableName: tableName(), Key: { pk: keys.parkedPartition, sk } }));
}
