/**
 * The document store's items (layout in `keys.ts`): indices, documents partitioned by the
 * UTC day of their time, id items, and the day list of each index. Reads are strongly
 * consistent, so a document is visible to GET, `_search` and `_count` as soon as its write
 * is acknowledged (`_refresh` has nothing to do).
 */
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { StaleStateError } from '../domain/errors.ts';
import type { Mappings } from '../domain/documents/mappings.ts';
import { batchWrite, queryAll } from './batch.ts';
import { db, isConditionFailure, tableName } from './db.ts';
import { docDay, keys } from './keys.ts';

/** An index as stored. */
export interface StoredIndex {
  name: string;
  uuid: string;
  createdMs: number;
  mappings: Mappings;
  settings: Record<string, string>;
  /** The field documents are partitioned by, fixed when the index first has a date field. */
  timeField: string | undefined;
  /** Version of the mappings, for conditional mapping updates. */
  mappingVersion: number;
}

const IndexItem = z.object({
  name: z.string(),
  uuid: z.string(),
  created_ms: z.number(),
  mappings: z.string(),
  settings: z.string(),
  time_field: z.string().optional(),
  mv: z.number(),
});

/** `<index>/<uuid>`: the part of document keys that names one incarnation of an index. */
export const scopeOf = (index: Pick<StoredIndex, 'name' | 'uuid'>): string => `${index.name}/${index.uuid}`;

function fromItem(item: Record<string, unknown>): StoredIndex {
  const i = IndexItem.parse(item);
  return {
    name: i.name,
    uuid: i.uuid,
    createdMs: i.created_ms,
    mappings: JSON.parse(i.mappings) as Mappings,
    settings: JSON.parse(i.settings) as Record<string, string>,
    timeField: i.time_field,
    mappingVersion: i.mv,
  };
}

/** Creates an index. @returns false when it exists (nothing written). */
export async function createIndex(index: StoredIndex): Promise<boolean> {
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: {
          ...keys.indexMeta(index.name),
          name: index.name,
          uuid: index.uuid,
          created_ms: index.createdMs,
          mappings: JSON.stringify(index.mappings),
          settings: JSON.stringify(index.settings),
          time_field: index.timeField,
          mv: index.mappingVersion,
          seq: 0,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

export async function getIndex(name: string): Promise<StoredIndex | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.indexMeta(name), ConsistentRead: true }));
  return out.Item ? fromItem(out.Item) : undefined;
}

/** Every index, sorted by name (one Query: a control plane's indices are few). */
export async function listIndices(): Promise<StoredIndex[]> {
  const items = await queryAll({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
    ExpressionAttributeValues: { ':pk': keys.indicesPartition, ':p': keys.indexMetaPrefix },
    ConsistentRead: true,
  });
  return items.map(fromItem);
}

/** Replaces the mappings (and sets the time field) if they are still at `expectedVersion`. @throws StaleStateError */
export async function updateMappings(name: string, mappings: Mappings, timeField: string | undefined, expectedVersion: number): Promise<void> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.indexMeta(name),
        UpdateExpression: timeField ? 'SET mappings = :m, mv = :n, time_field = :t' : 'SET mappings = :m, mv = :n',
        ConditionExpression: 'mv = :v',
        ExpressionAttributeValues: { ':m': JSON.stringify(mappings), ':n': expectedVersion + 1, ':v': expectedVersion, ...(timeField ? { ':t': timeField } : {}) },
      }),
    );
  } catch (err) {
    if (isConditionFailure(err)) throw new StaleStateError(`mappings of index [${name}] changed concurrently`);
    throw err;
  }
}

/** Reserves `n` sequence numbers of an index; @returns the first (`_seq_no` starts at 0, as in Elasticsearch). */
export async function allocateSeqNos(name: string, n: number): Promise<number> {
  const out = await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys.indexMeta(name),
      UpdateExpression: 'ADD seq :n',
      ExpressionAttributeValues: { ':n': n },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return (out.Attributes?.seq as number) - n;
}

/** Where a document is and its version. */
export interface DocLocation {
  pk: string;
  sk: string;
  version: number;
}

/** The id items of `ids` (BatchGet, 100 a call, retried for unprocessed keys). */
export async function getDocLocations(scope: string, ids: readonly string[]): Promise<Map<string, DocLocation>> {
  const out = new Map<string, DocLocation>();
  const unique = [...new Set(ids)];
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += 100) chunks.push(unique.slice(i, i + 100));
  await inLanes(chunks, 8, async (chunk) => {
    let pending: Record<string, unknown>[] = chunk.map((id) => keys.docId(scope, id));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 2 ** Math.min(attempt, 6) * 10));
      const res = await db().send(new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: pending, ConsistentRead: true } } }));
      for (const item of res.Responses?.[tableName()] ?? []) out.set(item.sk as string, { pk: item.dpk as string, sk: item.dsk as string, version: item.v as number });
      pending = (res.UnprocessedKeys?.[tableName()]?.Keys ?? []) as Record<string, unknown>[];
    }
  });
  return out;
}

/** A document to write. */
export interface DocWrite {
  id: string;
  timeMs: number | undefined;
  sourceText: string;
  version: number;
  seqNo: number;
  /** Where the previous version lives, deleted when the new one lands elsewhere. */
  previous?: DocLocation;
}

const knownDays = new Map<string, Set<string>>();

/**
 * Writes documents, their id items, and the day list entries of new days, with BatchWriteItem
 * (25 a call, at most 8 calls in flight per batch; unprocessed items are retried). Puts are
 * idempotent, so a retried request leaves the same items behind.
 */
export async function writeDocs(index: StoredIndex, docs: readonly DocWrite[]): Promise<void> {
  const days = new Set<string>();
  const puts: Record<string, unknown>[] = [];
  const deletes: { pk: string; sk: string }[] = [];
  const scope = scopeOf(index);
  for (const d of docs) {
    const day = docDay(d.timeMs);
    const pk = day ? keys.docPartition(scope, day) : keys.docUntimedPartition(scope);
    const sk = day ? keys.docTimedSk(d.timeMs as number, d.id) : d.id;
    if (day) days.add(day);
    puts.push({ pk, sk, id: d.id, src: d.sourceText, v: d.version, seq: d.seqNo });
    puts.push({ ...keys.docId(scope, d.id), dpk: pk, dsk: sk, v: d.version });
    if (d.previous && (d.previous.pk !== pk || d.previous.sk !== sk)) deletes.push({ pk: d.previous.pk, sk: d.previous.sk });
  }
  let known = knownDays.get(scope);
  if (!known) {
    known = new Set();
    knownDays.set(scope, known);
  }
  const newDays = [...days].filter((d) => !known.has(d));
  // The day list first: a search never misses a partition that holds documents.
  if (newDays.length > 0) await batchWrite(newDays.map((d) => keys.docDay(scope, d)));
  for (const d of newDays) known.add(d);
  // BatchWriteItem refuses two requests on one key: the last write of an id wins, as it would in order.
  const seen = new Set<string>();
  const uniquePuts = puts.reverse().filter((p) => {
    const k = `${p.pk as string}\u0000${p.sk as string}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  await batchWrite(
    uniquePuts.reverse(),
    deletes.filter((k) => !seen.has(`${k.pk}\u0000${k.sk}`)),
  );
}

/** A stored document. */
export interface StoredDoc {
  id: string;
  sourceText: string;
  version: number;
  seqNo: number;
}

/** One document by id. */
export async function getDoc(index: StoredIndex, id: string): Promise<StoredDoc | undefined> {
  const loc = (await getDocLocations(scopeOf(index), [id])).get(id);
  if (!loc) return undefined;
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { pk: loc.pk, sk: loc.sk }, ConsistentRead: true }));
  if (!out.Item) return undefined;
  return { id, sourceText: out.Item.src as string, version: out.Item.v as number, seqNo: out.Item.seq as number };
}

/** Deletes a document and its id item; @returns its location, or undefined when it did not exist. */
export async function deleteDoc(index: StoredIndex, id: string): Promise<DocLocation | undefined> {
  const scope = scopeOf(index);
  const loc = (await getDocLocations(scope, [id])).get(id);
  if (!loc) return undefined;
  await db().send(new DeleteCommand({ TableName: tableName(), Key: { pk: loc.pk, sk: loc.sk } }));
  await db().send(new DeleteCommand({ TableName: tableName(), Key: keys.docId(scope, id) }));
  return loc;
}

/** Deletes the documents of `deletes` (bulk deletes), with their id items. */
export async function deleteDocs(index: StoredIndex, deletes: readonly { id: string; loc: DocLocation }[]): Promise<void> {
  const scope = scopeOf(index);
  await batchWrite(
    [],
    deletes.flatMap((d) => [{ pk: d.loc.pk, sk: d.loc.sk }, keys.docId(scope, d.id)]),
  );
}

/**
 * The documents of an index whose time falls in `[fromMs, toMs]` (either open), plus every
 * untimed document, in the store's order (day, time, id; untimed last). One Query per day
 * partition in the window, with `sk` bounds on the first and last day; at most 8 in flight.
 */
export async function queryDocs(index: StoredIndex, fromMs: number | undefined, toMs: number | undefined): Promise<StoredDoc[]> {
  const fromDay = fromMs === undefined || fromMs < 0 ? undefined : docDay(fromMs);
  const toDay = toMs === undefined ? undefined : toMs < 0 ? '' : docDay(Math.min(toMs, 253_402_300_799_999));
  const scope = scopeOf(index);
  let days: string[] = [];
  if (toDay !== '') {
    const cond: string[] = ['pk = :pk'];
    const values: Record<string, unknown> = { ':pk': keys.docDaysPartition(scope) };
    if (fromDay && toDay) {
      cond.push('sk BETWEEN :a AND :b');
      Object.assign(values, { ':a': fromDay, ':b': toDay });
    } else if (fromDay) {
      cond.push('sk >= :a');
      values[':a'] = fromDay;
    } else if (toDay) {
      cond.push('sk <= :b');
      values[':b'] = toDay;
    }
    const items = await queryAll<{ sk: string }>({
      KeyConditionExpression: cond.join(' AND '),
      ExpressionAttributeValues: values,
      ProjectionExpression: 'sk',
      ConsistentRead: true,
    });
    days = items.map((i) => i.sk);
  }
  const parts: StoredDoc[][] = new Array(days.length + 1);
  await inLanes(
    days.map((d, i) => ({ d, i })),
    8,
    async ({ d, i }) => {
      const cond = ['pk = :pk'];
      const values: Record<string, unknown> = { ':pk': keys.docPartition(scope, d) };
      const lo = fromMs !== undefined && d === fromDay ? keys.docTimedSk(fromMs, '') : undefined;
      const hi = toMs !== undefined && d === toDay ? keys.docTimedSk(toMs, '\uffff') : undefined;
      if (lo && hi) {
        cond.push('sk BETWEEN :a AND :b');
        Object.assign(values, { ':a': lo, ':b': hi });
      } else if (lo) {
        cond.push('sk >= :a');
        values[':a'] = lo;
      } else if (hi) {
        cond.push('sk <= :b');
        values[':b'] = hi;
      }
      parts[i] = (await queryAll({ KeyConditionExpression: cond.join(' AND '), ExpressionAttributeValues: values, ConsistentRead: true })).map(toDoc);
    },
  );
  parts[days.length] = (await queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.docUntimedPartition(scope) }, ConsistentRead: true })).map(
    toDoc,
  );
  return parts.flat();
}

function toDoc(item: Record<string, unknown>): StoredDoc {
  return { id: item.id as string, sourceText: item.src as string, version: item.v as number, seqNo: item.seq as number };
}

/**
 * Deletes an index at once: its index item goes, and a trash marker naming `<index>/<uuid>`
 * comes, in one transaction. Its documents are invisible from then on (every document key
 * carries the uuid); {@link purgeTrash} removes them.
 * @returns false when the index was already gone (or re-created with another uuid)
 */
export async function dropIndex(index: StoredIndex): Promise<boolean> {
  try {
    await db().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Delete: {
              TableName: tableName(),
              Key: keys.indexMeta(index.name),
              ConditionExpression: '#u = :u',
              ExpressionAttributeNames: { '#u': 'uuid' },
              ExpressionAttributeValues: { ':u': index.uuid },
            },
          },
          { Put: { TableName: tableName(), Item: { ...keys.indexTrash(scopeOf(index)) } } },
        ],
      }),
    );
    knownDays.delete(scopeOf(index));
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/**
 * Removes the items of deleted indices (trash markers), partition by partition and page by
 * page (a Query page of keys, then BatchWriteItem), until done or `deadlineMs` (epoch ms);
 * a marker goes when its last item has. Idempotent: a purge cut short is resumed by the next.
 * @returns true when no trash is left
 */
export async function purgeTrash(deadlineMs: number): Promise<boolean> {
  const markers = await queryAll<{ sk: string }>({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.indexTrashPartition }, ConsistentRead: true });
  for (const { sk: scope } of markers) {
    const days = await queryAll<{ sk: string }>({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.docDaysPartition(scope) },
      ProjectionExpression: 'sk',
      ConsistentRead: true,
    });
    // The day list goes last, so a purge cut short still knows every day partition left.
    const partitions = [...days.map((d) => keys.docPartition(scope, d.sk)), keys.docUntimedPartition(scope), keys.docIdPartition(scope), keys.docDaysPartition(scope)];
    for (const pk of partitions) {
      let start: Record<string, unknown> | undefined;
      do {
        if (Date.now() >= deadlineMs) return false;
        const out = await db().send(
          new QueryCommand({
            TableName: tableName(),
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': pk },
            ProjectionExpression: 'pk, sk',
            ExclusiveStartKey: start,
            Limit: 1000,
          }),
        );
        await batchWrite([], (out.Items ?? []) as { pk: string; sk: string }[]);
        start = out.LastEvaluatedKey;
      } while (start);
    }
    await db().send(new DeleteCommand({ TableName: tableName(), Key: keys.indexTrash(scope) }));
  }
  return true;
}

async function inLanes<T>(items: readonly T[], lanes: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) await work(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
}
