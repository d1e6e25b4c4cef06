import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ModelSnapshot } from '../domain/state.ts';
import { batchWrite, keysWithPrefix, queryAll } from './batch.ts';
import { db, tableName } from './db.ts';
import { keys } from './keys.ts';
import { chunk, join } from './model.ts';

/**
 * Persists a model snapshot: state chunks first, then the metadata item, so a snapshot
 * whose metadata exists is always complete. Same id written twice (a redelivered close)
 * overwrites the same items.
 */
export async function writeSnapshot(meta: ModelSnapshot, state: Uint8Array): Promise<void> {
  const parts = chunk(state);
  await batchWrite(parts.map((data, n) => ({ ...keys.snapshotChunk(meta.job_id, meta.snapshot_id, n), data })));
  await db().send(new PutCommand({ TableName: tableName(), Item: { ...keys.snapshot(meta.job_id, meta.snapshot_id), chunks: parts.length, doc: JSON.stringify(meta) } }));
}

/** All snapshots of a job (metadata only), in snapshot id order. */
export async function listSnapshots(jobId: string): Promise<ModelSnapshot[]> {
  const items = await queryAll<{ doc: string }>({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
    ExpressionAttributeValues: { ':pk': keys.jobPartition(jobId), ':p': keys.snapshotPrefix },
    ConsistentRead: true,
  });
  return items.map((i) => JSON.parse(i.doc) as ModelSnapshot);
}

/** A snapshot's model state, or undefined when the snapshot does not exist. */
export async function readSnapshotState(jobId: string, snapshotId: string): Promise<Uint8Array | undefined> {
  const meta = await db().send(new GetCommand({ TableName: tableName(), Key: keys.snapshot(jobId, snapshotId), ConsistentRead: true }));
  if (!meta.Item) return undefined;
  const n = meta.Item.chunks as number;
  const parts = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.snapshotChunk(jobId, snapshotId, i), ConsistentRead: true }));
      return (out.Item?.data as Uint8Array | undefined) ?? new Uint8Array(0);
    }),
  );
  return join(parts);
}

/** Deletes snapshots (metadata first, so a half-deleted snapshot is invisible) and their state. */
export async function deleteSnapshots(jobId: string, snapshotIds: string[]): Promise<void> {
  if (snapshotIds.length === 0) return;
  await batchWrite(
    [],
    snapshotIds.map((id) => keys.snapshot(jobId, id)),
  );
  const chunks = (await Promise.all(snapshotIds.map((id) => keysWithPrefix(keys.jobPartition(jobId), keys.snapshotChunkPrefix(id))))).flat();
  await batchWrite([], chunks);
}
