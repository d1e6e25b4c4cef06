/**
 * Chunk items of the document store: many documents of one index and UTC day packed into one
 * item (layout in `keys.ts`). A `_bulk` of 5,000 documents is then a handful of item writes
 * instead of 5,000: DynamoDB (and DynamoDB Local above all) costs per request and per item far
 * more than per byte, so packing is what makes bulk indexing fast.
 *
 * A chunk is written once, by the batch that owns its key (the key carries the batch's random
 * nonce), so concurrent bulks never write the same chunk. Later batches only take documents
 * out of it (a re-indexed or deleted id), with a read-modify-write conditional on the chunk's
 * `cv` counter, retried on a concurrent change; an emptied chunk is deleted.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '../domain/errors.ts';
import { batchWrite, queryAll } from './batch.ts';
import { db, isConditionFailure, tableName } from './db.ts';
import { docDay, keys, MAX_TIMED_MS, ts } from './keys.ts';

/** A document inside a chunk. */
export interface ChunkDoc {
  id: string;
  /** Epoch ms of the index's time field, or undefined (untimed partition). */
  timeMs: number | undefined;
  version: number;
  seqNo: number;
  sourceText: string;
}

/** The key of a chunk item. */
export interface ChunkKey {
  pk: string;
  sk: string;
}

/**
 * Raw (uncompressed) bytes of documents a batch puts into one chunk. Compressed chunks are far
 * smaller, but the raw budget alone keeps every chunk under DynamoDB's 400 KB item limit even
 * for incompressible sources, so no chunk ever needs to be split after compression.
 */
export const CHUNK_RAW_BYTES = 256 * 1024;

/**
 * Assigns chunk keys to a batch's documents: per UTC day (or untimed), in batch order, a new
 * chunk every {@link CHUNK_RAW_BYTES}. The key is `<ts(earliest time in the chunk)>#<nonce>#<n>`
 * (untimed: `<nonce>#<n>`), so a Query with `sk <= <end of window>` and a filter on the
 * chunk's latest time (`maxt`) reads only chunks that may hold documents of the window.
 * The assignment depends only on the documents given, so documents dropped later (a `_create`
 * conflict) only leave their chunk smaller: its key's time stays a lower bound.
 */
export function assignChunks(scope: string, docs: readonly { timeMs: number | undefined; sourceText: string }[], nonce: string): ChunkKey[] {
  const groups = new Map<string, { n: number; bytes: number; members: number[]; minT: number }[]>();
  docs.forEach((d, i) => {
    const day = docDay(d.timeMs) ?? '';
    let list = groups.get(day);
    if (!list) {
      list = [];
      groups.set(day, list);
    }
    let last = list.at(-1);
    // UTF-8 bytes plus the JSON escaping and row overhead a source gets inside the chunk.
    const size = Buffer.byteLength(d.sourceText) * 1.25 + 64;
    if (!last || last.bytes + size > CHUNK_RAW_BYTES) {
      last = { n: list.length, bytes: 0, members: [], minT: Number.POSITIVE_INFINITY };
      list.push(last);
    }
    last.bytes += size;
    last.members.push(i);
    if (d.timeMs !== undefined && day !== '') last.minT = Math.min(last.minT, d.timeMs);
  });
  const out: ChunkKey[] = new Array(docs.length);
  for (const [day, list] of groups) {
    for (const c of list) {
      const key: ChunkKey =
        day === ''
          ? { pk: keys.docUntimedPartition(scope), sk: `${nonce}#${String(c.n).padStart(4, '0')}` }
          : { pk: keys.docPartition(scope, day), sk: `${ts(c.minT)}#${nonce}#${String(c.n).padStart(4, '0')}` };
      for (const i of c.members) out[i] = key;
    }
  }
  return out;
}

type Row = [id: string, timeMs: number | null, version: number, seqNo: number, sourceText: string];

function encode(docs: readonly ChunkDoc[]): Uint8Array {
  const rows: Row[] = docs.map((d) => [d.id, d.timeMs ?? null, d.version, d.seqNo, d.sourceText]);
  return deflateRawSync(JSON.stringify(rows), { level: 1 });
}

function decode(z: Uint8Array): ChunkDoc[] {
  const rows = JSON.parse(inflateRawSync(z).toString('utf8')) as Row[];
  return rows.map(([id, t, version, seqNo, sourceText]) => ({ id, timeMs: t ?? undefined, version, seqNo, sourceText }));
}

function itemOf(key: ChunkKey, nonce: string, docs: readonly ChunkDoc[], cv: number): Record<string, unknown> {
  let maxt = 0;
  for (const d of docs) if (d.timeMs !== undefined && d.timeMs > maxt) maxt = d.timeMs;
  return { ...key, nonce, maxt, n: docs.length, cv, z: encode(docs) };
}

/** The documents of a chunk item. */
export function docsOf(item: Record<string, unknown>): ChunkDoc[] {
  return decode(item.z as Uint8Array);
}

/**
 * Writes new chunks (BatchWriteItem, 25 a call). Every key belongs to this batch alone (its
 * nonce), so plain puts cannot overwrite another batch's documents, and a retried put leaves
 * the same item.
 */
export async function putChunks(chunks: ReadonlyMap<string, { key: ChunkKey; docs: ChunkDoc[] }>, nonce: string): Promise<void> {
  const items = [...chunks.values()].filter((c) => c.docs.length > 0).map((c) => itemOf(c.key, nonce, c.docs, 1));
  await batchWrite(items);
}

/** One chunk item, read strongly consistently. */
export async function getChunk(key: ChunkKey): Promise<Record<string, unknown> | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { pk: key.pk, sk: key.sk }, ConsistentRead: true }));
  return out.Item;
}

/**
 * Takes documents out of their chunks: for each chunk, the `(id, version)` pairs given are
 * removed (a newer copy of an id in the same chunk cannot exist: a chunk is written by one batch).
 * Read-modify-write conditional on `cv`, re-read and re-applied on a concurrent change; an
 * emptied chunk is deleted (conditionally too).
 * @throws TransientError when a chunk keeps changing under 20 attempts
 */
export async function removeFromChunks(removals: readonly { key: ChunkKey; id: string; version: number }[]): Promise<void> {
  const byChunk = new Map<string, { key: ChunkKey; gone: Map<string, number> }>();
  for (const r of removals) {
    const k = `${r.key.pk}\u0000${r.key.sk}`;
    let e = byChunk.get(k);
    if (!e) {
      e = { key: r.key, gone: new Map() };
      byChunk.set(k, e);
    }
    e.gone.set(r.id, r.version);
  }
  await inLanes([...byChunk.values()], 8, async ({ key, gone }) => {
    for (let attempt = 0; ; attempt++) {
      if (attempt >= 20) throw new TransientError(`chunk ${key.pk} ${key.sk} kept changing`);
      const item = await getChunk(key);
      if (!item) return;
      const docs = docsOf(item);
      const kept = docs.filter((d) => gone.get(d.id) !== d.version);
      if (kept.length === docs.length) return;
      const cv = item.cv as number;
      try {
        if (kept.length === 0) {
          await db().send(new DeleteCommand({ TableName: tableName(), Key: key, ConditionExpression: 'cv = :cv', ExpressionAttributeValues: { ':cv': cv } }));
        } else {
          await db().send(
            new PutCommand({
              TableName: tableName(),
              Item: itemOf(key, item.nonce as string, kept, cv + 1),
              ConditionExpression: 'cv = :cv',
              ExpressionAttributeValues: { ':cv': cv },
            }),
          );
        }
        return;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
  });
}

/**
 * The documents of one day partition whose time is in `[fromMs, toMs]` (either open): one
 * Query (all pages) with `sk <= <toMs>` and a filter `maxt >= fromMs`, then the documents of
 * those chunks filtered by time.
 */
export async function queryDayChunks(pk: string, fromMs: number | undefined, toMs: number | undefined): Promise<ChunkDoc[]> {
  const cond = ['pk = :pk'];
  const values: Record<string, unknown> = { ':pk': pk };
  if (toMs !== undefined) {
    cond.push('sk <= :hi');
    // Clamped: a 16-digit bound would sort before 15-digit keys.
    values[':hi'] = `${ts(Math.min(Math.max(0, toMs), MAX_TIMED_MS))}#\uffff`;
  }
  let filter: string | undefined;
  if (fromMs !== undefined) {
    filter = 'maxt >= :lo';
    values[':lo'] = fromMs;
  }
  const items = await queryAll({
    KeyConditionExpression: cond.join(' AND '),
    ExpressionAttributeValues: values,
    ConsistentRead: true,
    ...(filter ? { FilterExpression: filter } : {}),
  });
  const out: ChunkDoc[] = [];
  for (const item of items) {
    for (const d of docsOf(item)) {
      if (fromMs !== undefined && (d.timeMs === undefined || d.timeMs < fromMs)) continue;
      if (toMs !== undefined && (d.timeMs === undefined || d.timeMs > toMs)) continue;
      out.push(d);
    }
  }
  return out;
}

/** Every document of the untimed partition (one Query, all pages). */
export async function queryUntimedChunks(pk: string): Promise<ChunkDoc[]> {
  const items = await queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true });
  return items.flatMap(docsOf);
}

/**
 * The chunks of a batch (`nonce`) in one day partition up to `timeMs` (a generated id's home):
 * Query with `sk <= <timeMs>` and a filter on the nonce. Untimed: the whole untimed partition, filtered.
 */
export async function batchChunks(pk: string, nonce: string, timeMs: number | undefined): Promise<Record<string, unknown>[]> {
  const values: Record<string, unknown> = { ':pk': pk, ':n': nonce };
  let cond = 'pk = :pk';
  if (timeMs !== undefined) {
    cond += ' AND sk <= :hi';
    values[':hi'] = `${ts(timeMs)}#\uffff`;
  }
  return queryAll({ KeyConditionExpression: cond, FilterExpression: 'nonce = :n', ExpressionAttributeValues: values, ConsistentRead: true });
}

/** Runs `work` over `items` with at most `lanes` in flight. */
export async function inLanes<T>(items: readonly T[], lanes: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) await work(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
}
