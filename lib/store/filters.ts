import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { MlFilter } from '../domain/filter.ts';
import { StaleStateError } from '../domain/errors.ts';
import { queryAll } from './batch.ts';
import { db, isConditionFailure, tableName } from './db.ts';
import { keys } from './keys.ts';
import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * Filters are stored gzip-compressed: 10,000 items (Elasticsearch's limit) of long host
 * names would not fit DynamoDB's 400 KB item as JSON text.
 */
const pack = (f: MlFilter): Uint8Array => gzipSync(JSON.stringify(f));
const unpack = (b: Uint8Array): MlFilter => JSON.parse(gunzipSync(b).toString('utf8')) as MlFilter;

/** A stored filter and its optimistic-concurrency version. */
export interface StoredFilter {
  filter: MlFilter;
  version: number;
}

/** Creates a filter. @returns false when the id is taken (nothing written). */
export async function createFilter(filter: MlFilter): Promise<boolean> {
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...keys.filter(filter.filter_id), version: 1, doc: pack(filter) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

export async function getFilter(filterId: string): Promise<StoredFilter | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.filter(filterId), ConsistentRead: true }));
  return out.Item ? { filter: unpack(out.Item.doc as Uint8Array), version: out.Item.version as number } : undefined;
}

/** Every filter, sorted by id. */
export async function listFilters(): Promise<MlFilter[]> {
  const items = await queryAll<{ doc: Uint8Array }>({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
    ExpressionAttributeValues: { ':pk': keys.filterPartition, ':p': keys.filterPrefix },
    ConsistentRead: true,
  });
  return items.map((i) => unpack(i.doc));
}

/** Replaces a filter if its version is still `expectedVersion`. @throws StaleStateError */
export async function putFilter(filter: MlFilter, expectedVersion: number): Promise<void> {
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...keys.filter(filter.filter_id), version: expectedVersion + 1, doc: pack(filter) },
        ConditionExpression: 'version = :v',
        ExpressionAttributeValues: { ':v': expectedVersion },
      }),
    );
  } catch (err) {
    if (isConditionFailure(err)) throw new StaleStateError(`filter [${filter.filter_id}] changed concurrently`);
    throw err;
  }
}

export async function deleteFilter(filterId: string): Promise<void> {
  await db().send(new DeleteCommand({ TableName: tableName(), Key: keys.filter(filterId) }));
}

/** Items of the given filters (absent filters are left out), for the model's rule scopes. */
export async function filterItems(filterIds: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  await Promise.all(
    filterIds.map(async (id) => {
      const f = await getFilter(id);
      if (f) out[id] = f.filter.items;
    }),
  );
  return out;
}
