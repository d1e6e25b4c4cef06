/**
 * Progress of one expired-data deletion (a `maintenance` command): the id of the last job whose
 * expired data is fully deleted. Jobs are walked in job id order, so a hand-off, a redelivery or a
 * crash resumes after that job and never runs a finished job again; the job in progress at a
 * crash runs again, and its deletes are idempotent. The item expires with its command (TTL).
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from './db.ts';
import { keys } from './keys.ts';

/** Where a deletion has got to; `cursor` is the last job id done (absent: none yet). */
export interface MaintenanceProgress {
  cursor?: string;
}

/** The progress of a maintenance command (strongly consistent), or none yet. */
export async function getMaintenanceProgress(commandId: string): Promise<MaintenanceProgress> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.maintenanceProgress(commandId), ConsistentRead: true }));
  const cursor = out.Item?.cursor;
  return typeof cursor === 'string' ? { cursor } : {};
}

/** Records that every job up to `cursor` (job id order) is done; `expiresAtS` is the TTL (epoch s). */
export async function putMaintenanceProgress(commandId: string, cursor: string, expiresAtS: number): Promise<void> {
  await db().send(new PutCommand({ TableName: tableName(), Item: { ...keys.maintenanceProgress(commandId), cursor, expires_at: expiresAtS } }));
}
