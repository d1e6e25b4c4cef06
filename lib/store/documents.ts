/**
 * The document store's items (layout in `keys.ts`): indices, documents packed into chunk items
 * per UTC day of their time (`document-chunks.ts`), the id directory of explicit ids
 * (`document-ids.ts`), and the day list of each index. Reads are strongly
 * consistent, so a document is visible to GET, `_search` and `_count` as soon as its write
 * is acknowledged (`_refresh` has nothing to do).
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { StaleStateError } from '../domain/errors.ts';
import type { Mappings } from '../domain/documents/mappings.ts';
import { batchWrite, queryAll } from './batch.ts';
import { db, isConditionFailure, tableName } from './db.ts';
import {
  assignChunks,
  batchChunks,
  CHUNK_RAW_BYTES,
  type ChunkDoc,
  type ChunkKey,
  docsOf,
  getChunk,
  inLanes,
  putChunks,
  queryDayChunks,
  queryUntimedChunks,
  removeFromChunks,
} from './document-chunks.ts';
import {
  bucketOf,
  type DirectorySnapshot,
  type DocLocation,
  generatedHome,
  generatedId,
  locationIn,
  randomNonce,
  readBucketVersions,
  readBuckets,
  writeDirectory,
} from './document-ids.ts';
import { docDay, keys, MAX_TIMED_MS } from './keys.ts';

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

export type { DocLocation } from './document-ids.ts';

/** The location of each id (explicit ids from the directory, generated ids from their chunk), and the directory buckets read. */
export interface Lookup {
  locations: Map<string, DocLocation>;
  snapshot: DirectorySnapshot;
}

/**
 * Finds `ids`: one BatchGet of their directory buckets; an id absent there that a batch
 * generated is looked for in that batch's chunks of its day (one Query per batch and day).
 */
export async function lookupDocs(index: StoredIndex, ids: Iterable<string>): Promise<Lookup> {
  const scope = scopeOf(index);
  const unique = [...new Set(ids)];
  const snapshot = await readBuckets(scope, unique);
  const locations = new Map<string, DocLocation>();
  const homes = new Map<string, { pk: string; nonce: string; timeMs: number | undefined; ids: Set<string> }>();
  for (const id of unique) {
    const loc = locationIn(scope, snapshot, id);
    if (loc) {
      locations.set(id, loc);
      continue;
    }
    const home = generatedHome(id);
    if (!home) continue;
    const day = docDay(home.timeMs);
    const pk = day ? keys.docPartition(scope, day) : keys.docUntimedPartition(scope);
    const k = `${pk}\u0000${home.nonce}`;
    const h = homes.get(k);
    if (h) {
      h.ids.add(id);
      if (home.timeMs !== undefined && (h.timeMs === undefined || home.timeMs > h.timeMs)) h.timeMs = home.timeMs;
    } else homes.set(k, { pk, nonce: home.nonce, timeMs: day ? home.timeMs : undefined, ids: new Set([id]) });
  }
  await inLanes([...homes.values()], 8, async (h) => {
    for (const item of await batchChunks(h.pk, h.nonce, h.timeMs)) {
      for (const d of docsOf(item)) if (h.ids.has(d.id)) locations.set(d.id, { pk: item.pk as string, sk: item.sk as string, version: d.version });
    }
  });
  return { locations, snapshot };
}

/** A batch's chunk keys and nonce (`document-chunks.ts#assignChunks`). */
export function planChunks(index: StoredIndex, docs: readonly { timeMs: number | undefined; sourceText: string }[]): { nonce: string; keys: ChunkKey[] } {
  const nonce = randomNonce();
  return { nonce, keys: assignChunks(scopeOf(index), docs, nonce) };
}

/** A generated id for a document of the batch `nonce` (its home: its time, the batch, `ordinal`). */
export function newGeneratedId(timeMs: number | undefined, nonce: string, ordinal: number): string {
  return generatedId(docDay(timeMs) ? timeMs : undefined, nonce, ordinal);
}

/** The id directory bucket of an explicit id (the key of `committedDv` in {@link dropSuperseded}). */
export const idBucket = bucketOf;

/** Writes explicit ids' new locations (`null`: removed) onto the snapshot they were decided from; @returns the ids to decide again (their bucket changed concurrently). */
export async function commitIds(index: StoredIndex, snapshot: DirectorySnapshot, changes: ReadonlyMap<string, DocLocation | null>): Promise<Set<string>> {
  return writeDirectory(scopeOf(index), snapshot, changes);
}

/** A document to write, with the chunk it goes to. */
export interface DocWrite extends ChunkDoc {
  chunk: ChunkKey;
}

const knownDays = new Map<string, Set<string>>();

/**
 * Writes a batch's documents into its chunks (a few items: documents packed per day and
 * {@link CHUNK_RAW_BYTES}), after the day list entries of new days, so a search never misses
 * a partition that holds documents.
 */
export async function writeDocs(index: StoredIndex, nonce: string, docs: readonly DocWrite[]): Promise<void> {
  if (docs.length === 0) return;
  const scope = scopeOf(index);
  const days = new Set<string>();
  const chunks = new Map<string, { key: ChunkKey; docs: ChunkDoc[] }>();
  for (const d of docs) {
    const day = docDay(d.timeMs);
    if (day) days.add(day);
    const k = `${d.chunk.pk}\u0000${d.chunk.sk}`;
    const c = chunks.get(k);
    const doc: ChunkDoc = { id: d.id, timeMs: d.timeMs, version: d.version, seqNo: d.seqNo, sourceText: d.sourceText };
    if (c) c.docs.push(doc);
    else chunks.set(k, { key: d.chunk, docs: [doc] });
  }
  let known = knownDays.get(scope);
  if (!known) {
    known = new Set();
    knownDays.set(scope, known);
  }
  const newDays = [...days].filter((d) => !known.has(d));
  if (newDays.length > 0) await batchWrite(newDays.map((d) => keys.docDay(scope, d)));
  for (const d of newDays) known.add(d);
  await putChunks(chunks, nonce);
}

/** Takes superseded or deleted copies out of their chunks. */
export async function removeDocs(removals: readonly { id: string; loc: DocLocation }[]): Promise<void> {
  await removeFromChunks(removals.map((r) => ({ key: { pk: r.loc.pk, sk: r.loc.sk }, id: r.id, version: r.loc.version })));
}

/**
 * Takes out of this batch's chunks the documents another writer superseded between this
 * batch's directory commit and its chunk write. Such a writer (a re-index or delete of the
 * same explicit id) finds the chunk not written yet and removes nothing; so, after writing,
 * the batch reads the `dv` of the buckets it committed (`committedDv`: bucket → the `dv` its
 * commit left) and, only for buckets that moved since, the entries, and removes each of its
 * documents whose id no longer points at it. Either that writer's removal comes after the
 * chunk write and finds the document, or its commit came before this read and this finds it.
 */
export async function dropSuperseded(index: StoredIndex, written: readonly DocWrite[], committedDv: ReadonlyMap<number, number>): Promise<void> {
  if (written.length === 0) return;
  const scope = scopeOf(index);
  const now = await readBucketVersions(scope, committedDv.keys());
  const moved = new Set([...committedDv].filter(([b, dv]) => now.get(b) !== dv).map(([b]) => b));
  if (moved.size === 0) return;
  const suspects = written.filter((w) => moved.has(bucketOf(w.id)));
  const fresh = await readBuckets(
    scope,
    suspects.map((w) => w.id),
  );
  const stale = suspects.filter((w) => {
    const loc = locationIn(scope, fresh, w.id);
    return !loc || loc.pk !== w.chunk.pk || loc.sk !== w.chunk.sk || loc.version !== w.version;
  });
  await removeFromChunks(stale.map((w) => ({ key: w.chunk, id: w.id, version: w.version })));
}

/** A stored document. */
export interface StoredDoc {
  id: string;
  sourceText: string;
  version: number;
  seqNo: number;
}

/** One document by id: its location, then its chunk. */
export async function getDoc(index: StoredIndex, id: string): Promise<StoredDoc | undefined> {
  const loc = (await lookupDocs(index, [id])).locations.get(id);
  if (!loc) return undefined;
  const item = await getChunk(loc);
  const doc = item ? docsOf(item).find((d) => d.id === id && d.version === loc.version) : undefined;
  return doc ? { id, sourceText: doc.sourceText, version: doc.version, seqNo: doc.seqNo } : undefined;
}

/**
 * Deletes a document by id: its directory entry (re-decided on a concurrent change of its
 * bucket), then its copy in its chunk.
 * @returns its location, or undefined when it did not exist
 */
export async function deleteDoc(index: StoredIndex, id: string): Promise<DocLocation | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const { locations, snapshot } = await lookupDocs(index, [id]);
    const loc = locations.get(id);
    if (!loc) return undefined;
    if ((await commitIds(index, snapshot, new Map([[id, null]]))).size > 0) continue;
    await removeDocs([{ id, loc }]);
    return loc;
  }
  throw new StaleStateError(`document [${id}] kept changing while being deleted`);
}

/**
 * The documents of an index whose time falls in `[fromMs, toMs]` (either open), plus every
 * untimed document, in the store's order (time, id; untimed last, by id). One Query per day
 * partition in the window (chunks whose time span meets the window), at most 8 in flight.
 * An id seen twice (a re-index caught between its two writes) counts once, at its newest version.
 */
export async function queryDocs(index: StoredIndex, fromMs: number | undefined, toMs: number | undefined): Promise<StoredDoc[]> {
  const fromDay = fromMs === undefined || fromMs < 0 ? undefined : docDay(fromMs);
  const toDay = toMs === undefined ? undefined : toMs < 0 ? '' : docDay(Math.min(toMs, MAX_TIMED_MS));
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
  const parts: ChunkDoc[][] = new Array(days.length);
  await inLanes(
    days.map((d, i) => ({ d, i })),
    8,
    async ({ d, i }) => {
      parts[i] = await queryDayChunks(keys.docPartition(scope, d), d === fromDay ? fromMs : undefined, d === toDay ? toMs : undefined);
    },
  );
  const timed = parts.flat().sort((a, b) => (a.timeMs as number) - (b.timeMs as number) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const untimed = (await queryUntimedChunks(keys.docUntimedPartition(scope))).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const all = [...timed, ...untimed];
  const newest = new Map<string, number>();
  for (const d of all) newest.set(d.id, Math.max(newest.get(d.id) ?? 0, d.version));
  const out: StoredDoc[] = [];
  for (const d of all) {
    if (newest.get(d.id) !== d.version) continue;
    newest.set(d.id, -1);
    out.push({ id: d.id, sourceText: d.sourceText, version: d.version, seqNo: d.seqNo });
  }
  return out;
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
