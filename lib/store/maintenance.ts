/**
 * Progress of one expired-data deletion (a `maintenance` command). Jobs are walked in job id
 * order, a group at a time: `cursor` is the last job of the last finished group, and `done` the
 * jobs of the current group already finished (a string set, added to atomically as each job of
 * the group finishes). A hand-off, a redelivery or a crash resumes after the cursor and skips the
 * jobs in `done`, so a finished job never runs again; a job cut off half way runs again, and its
 * deletes are idempotent. The item expires with its command (TTL).
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from './db.ts';
import { keys } from './keys.ts';

/** Where a deletion has got to: the last job id of the last finished group (absent: none yet), and the jobs done after it. */
export interface MaintenanceProgress {
  cursor?: string;
  done: ReadonlySet<string>;
}

/** The progress of a maintenance command (strongly consistent), or none yet. */
export async function getMaintenanceProgress(commandId: string): Promise<MaintenanceProgress> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.maintenanceProgress(commandId), ConsistentRead: true }));
  const cursor = out.Item?.cursor;
  const done = out.Item?.done;
  return { ...(typeof cursor === 'string' ? { cursor } : {}), done: done instanceof Set ? new Set([...done].map(String)) : new Set() };
}

/** Adds one finished job to the progress' `done` set (atomic, so the jobs of a group can finish at once); `expiresAtS` is the TTL (epoch s). */
export async function markMaintenanceJobDone(commandId: string, jobId: string, expiresAtS: number): Promise<void> {
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys.maintenanceProgress(commandId),
      UpdateExpression: 'ADD done :j SET expires_at = :e',
      ExpressionAttributeValues: { ':j': new Set([jobId]), ':e': expiresAtS },
    }),
  );
}

/** Records that every job up to `cursor` (job id order) is done, forgetting the `done` set; `expiresAtS` is the TTL (epoch s). */
export async function putMaintenanceProgress(commandId: string, cursor: string, expiresAtS: number): Promise<void> {
  await db().send(new PutCommand({ TableName: tableName(), Item: { ...keys.maintenanceProgress(commandId), cursor, expires_at: expiresAtS } }));
}
