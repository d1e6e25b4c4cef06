import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { ModelPointer } from '../domain/state.ts';
import { TransientError } from '../domain/errors.ts';
import { batchWrite, keysWithPrefix } from './batch.ts';
import { db, tableName } from './db.ts';
import { keys, MAX_CHUNK_BYTES } from './keys.ts';

/** Splits bytes into pieces of at most MAX_CHUNK_BYTES (at least one piece, possibly empty). */
export function chunk(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += MAX_CHUNK_BYTES) out.push(bytes.subarray(i, i + MAX_CHUNK_BYTES));
  if (out.length === 0) out.push(new Uint8Array(0));
  return out;
}

/** Concatenates chunks read back from the table. */
export function join(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Writes model state as generation `generation` (chunks under 400 KB an item). Writing the
 * same generation twice (a redelivery) overwrites identical keys, so it is idempotent.
 * The new generation becomes live only when the runtime item points at it.
 */
export async function writeModelState(jobId: string, generation: number, state: Uint8Array): Promise<ModelPointer> {
  const parts = chunk(state);
  await batchWrite(parts.map((data, n) => ({ ...keys.modelChunk(jobId, generation, n), data })));
  return { generation, chunks: parts.length, bytes: state.length };
}

/** Reads the model state a pointer names. */
export async function readModelState(jobId: string, ptr: ModelPointer): Promise<Uint8Array> {
  const parts = await Promise.all(
    Array.from({ length: ptr.chunks }, async (_, n) => {
      const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.modelChunk(jobId, ptr.generation, n), ConsistentRead: true }));
      // A generation being replaced may lose its chunks under a reader that read the old pointer: a retry reads the new one.
      if (!out.Item) throw new TransientError(`model state chunk ${n} of generation ${ptr.generation} of job [${jobId}] is missing`);
      return out.Item.data as Uint8Array;
    }),
  );
  return join(parts);
}

/**
 * Deletes the chunks of one superseded generation, by the pointer that named it: BatchWriteItem
 * deletes only, no Query (a batch's commit knows the generation it replaced). Deleting chunks
 * already gone is a no-op, so a redelivered commit may repeat it.
 */
export async function deleteModelGeneration(jobId: string, ptr: Pick<ModelPointer, 'generation' | 'chunks'>): Promise<void> {
  await batchWrite(
    [],
    Array.from({ length: ptr.chunks }, (_, n) => keys.modelChunk(jobId, ptr.generation, n)),
  );
}

/** Deletes every model generation except `keep` (garbage from superseded or abandoned writes). */
export async function deleteModelGenerationsExcept(jobId: string, keep: number | undefined): Promise<void> {
  const all = await keysWithPrefix(keys.jobPartition(jobId), keys.modelPrefix);
  const keepPrefix = keep === undefined ? undefined : keys.modelChunk(jobId, keep, 0).sk.slice(0, -4);
  await batchWrite(
    [],
    all.filter((k) => keepPrefix === undefined || !k.sk.startsWith(keepPrefix)),
  );
}
