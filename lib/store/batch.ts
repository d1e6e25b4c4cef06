import { BatchWriteCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '../domain/errors.ts';
import { db, tableName } from './db.ts';

type Key = { pk: string; sk: string };

/**
 * Writes (puts and deletes) in BatchWriteItem calls of 25, retrying unprocessed items
 * with exponential backoff. Puts and deletes are idempotent, so a retried or redelivered
 * batch leaves the same items behind. Throws when items stay unprocessed after 8 tries.
 */
export async function batchWrite(puts: Record<string, unknown>[], deletes: Key[] = []): Promise<void> {
  const requests = [...puts.map((Item) => ({ PutRequest: { Item } })), ...deletes.map((Key) => ({ DeleteRequest: { Key } }))];
  const table = tableName();
  const chunks: (typeof requests)[] = [];
  for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
  const writeChunk = async (chunk: (typeof chunks)[number]): Promise<void> => {
    let pending = chunk;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= 8) throw new TransientError(`BatchWriteItem left ${pending.length} items unprocessed`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, 2 ** attempt * 10));
      const out = await db().send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
    }
  };
  // At most 8 BatchWriteItem calls in flight: deleting a big job must not throttle itself.
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < chunks.length; i = next++) await writeChunk(chunks[i] as (typeof chunks)[number]);
  };
  await Promise.all(Array.from({ length: Math.min(8, chunks.length) }, lane));
}

/** Runs a Query to exhaustion (all pages) and returns the items. */
export async function queryAll<T = Record<string, unknown>>(input: Omit<QueryCommandInput, 'TableName'>): Promise<T[]> {
  const items: T[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await db().send(new QueryCommand({ ...input, TableName: tableName(), ExclusiveStartKey }));
    items.push(...((out.Items ?? []) as T[]));
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/** Keys of every item of a partition whose sort key starts with `prefix`. */
export async function keysWithPrefix(pk: string, prefix: string): Promise<Key[]> {
  // DynamoDB refuses an empty string in a key condition: no prefix means the whole partition.
  if (prefix === '') return queryAll<Key>({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ProjectionExpression: 'pk, sk' });
  return queryAll<Key>({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
    ExpressionAttributeValues: { ':pk': pk, ':p': prefix },
    ProjectionExpression: 'pk, sk',
  });
}
