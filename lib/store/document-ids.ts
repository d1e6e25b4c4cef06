/**
 * Where a document is, by `_id`, without an item (and a read) per document.
 *
 * - Generated ids (`POST <index>/_doc`, bulk actions without `_id`) name their own home: the
 *   20 characters encode a marker, the document's time, its batch's nonce and its place in the
 *   batch, so writing them costs no id write at all, and finding one is one Query of that
 *   batch's chunks in that day.
 * - Explicit ids live in the index's id directory: {@link BUCKETS} items (`docid#<index>/<uuid>`,
 *   sk = bucket), each a compressed map `id → [day, chunk sk, version]`. A bulk reads the
 *   buckets its ids hash to (BatchGet, 100 a call) and writes each changed bucket once,
 *   conditional on the bucket's `dv` counter; a bucket changed by a concurrent writer is
 *   reported back and its ids are decided again. The directory is consulted first for every
 *   id, so a generated id re-indexed or deleted explicitly is found there (or gone).
 *
 * Limit: a bulk with explicit ids rewrites the buckets it touches (all of them for 5,000
 * random ids), so its cost grows with the number of explicit ids in the index, and a bucket
 * over {@link MAX_BUCKET_BYTES} compressed is refused (about a million explicit ids per index).
 */
import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { BatchGetCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { EsError } from '../domain/errors.ts';
import { db, isConditionFailure, tableName } from './db.ts';
import { type ChunkKey, inLanes } from './document-chunks.ts';
import { keys } from './keys.ts';

/** Buckets of an index's id directory: few enough that a bulk writes a few dozen items, many enough that each stays far below 400 KB. */
export const BUCKETS = 64;
/** Bytes of bucket items one TransactWriteItems call carries (DynamoDB's limit is 4 MB). */
const TRANSACTION_BYTES = 3.5 * 1024 * 1024;
/** Largest compressed bucket written; DynamoDB's item limit is 400 KB. */
export const MAX_BUCKET_BYTES = 380 * 1024;

/** Where a document is: its chunk and its version. */
export interface DocLocation {
  pk: string;
  sk: string;
  version: number;
}

type Entry = [pkSuffix: string, sk: string, version: number];

/** The buckets read by a lookup: their `dv` (0 = absent) and entries, the base of a conditional write. */
export interface DirectorySnapshot {
  buckets: Map<number, { dv: number; entries: Map<string, Entry> }>;
}

/** FNV-1a of the id's UTF-16 units, modulo {@link BUCKETS}. */
export function bucketOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % BUCKETS;
}

const bucketKey = (scope: string, b: number) => ({ pk: keys.docIdPartition(scope), sk: String(b).padStart(3, '0') });

// Chunk partitions are `doc#<scope>#<day|untimed>`: the directory stores only the suffix.
const suffixOf = (scope: string, pk: string): string => pk.slice(keys.docUntimedPartition(scope).length - 'untimed'.length);
const pkOf = (scope: string, suffix: string): string => `doc#${scope}#${suffix}`;

/**
 * A bucket as stored: `{c: [[partition suffix, chunk sk], …], e: {id: [chunk index, version]}}`
 * deflated; a chunk holds thousands of documents, so naming it once per bucket rather than per
 * id makes the bucket (and the JSON work of every bulk) several times smaller.
 */
function encodeBucket(entries: ReadonlyMap<string, Entry>): Uint8Array {
  const chunks: [string, string][] = [];
  const index = new Map<string, number>();
  const e: Record<string, [number, number]> = {};
  for (const [id, [suffix, sk, version]] of entries) {
    const k = `${suffix}\u0000${sk}`;
    let i = index.get(k);
    if (i === undefined) {
      i = chunks.length;
      chunks.push([suffix, sk]);
      index.set(k, i);
    }
    e[id] = [i, version];
  }
  return deflateRawSync(JSON.stringify({ c: chunks, e }), { level: 1 });
}

function decodeBucket(z: Uint8Array): Map<string, Entry> {
  const { c, e } = JSON.parse(inflateRawSync(z).toString('utf8')) as { c: [string, string][]; e: Record<string, [number, number]> };
  const out = new Map<string, Entry>();
  for (const id in e) {
    const [i, version] = e[id] as [number, number];
    const [suffix, sk] = c[i] as [string, string];
    out.set(id, [suffix, sk, version]);
  }
  return out;
}

/** Reads the buckets of `ids` (BatchGet, 100 keys a call, unprocessed keys retried). */
export async function readBuckets(scope: string, ids: Iterable<string>): Promise<DirectorySnapshot> {
  const wanted = [...new Set([...ids].map(bucketOf))];
  const snapshot: DirectorySnapshot = { buckets: new Map(wanted.map((b) => [b, { dv: 0, entries: new Map() }])) };
  const calls: number[][] = [];
  for (let i = 0; i < wanted.length; i += 100) calls.push(wanted.slice(i, i + 100));
  await inLanes(calls, 4, async (call) => {
    let pending: Record<string, unknown>[] = call.map((b) => bucketKey(scope, b));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 2 ** Math.min(attempt, 6) * 10));
      const res = await db().send(new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: pending, ConsistentRead: true } } }));
      for (const item of res.Responses?.[tableName()] ?? []) {
        snapshot.buckets.set(Number(item.sk), { dv: item.dv as number, entries: decodeBucket(item.z as Uint8Array) });
      }
      pending = (res.UnprocessedKeys?.[tableName()]?.Keys ?? []) as Record<string, unknown>[];
    }
  });
  return snapshot;
}

/**
 * The `dv` of each bucket in `buckets` (BatchGet of the keys and `dv` only: a few bytes per
 * bucket); an absent bucket is 0.
 */
export async function readBucketVersions(scope: string, buckets: Iterable<number>): Promise<Map<number, number>> {
  const wanted = [...new Set(buckets)];
  const out = new Map<number, number>(wanted.map((b) => [b, 0]));
  for (let i = 0; i < wanted.length; i += 100) {
    let pending: Record<string, unknown>[] = wanted.slice(i, i + 100).map((b) => bucketKey(scope, b));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 2 ** Math.min(attempt, 6) * 10));
      const res = await db().send(new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: pending, ConsistentRead: true, ProjectionExpression: 'sk, dv' } } }));
      for (const item of res.Responses?.[tableName()] ?? []) out.set(Number(item.sk), item.dv as number);
      pending = (res.UnprocessedKeys?.[tableName()]?.Keys ?? []) as Record<string, unknown>[];
    }
  }
  return out;
}

/** The location of `id` in a snapshot that read its bucket. */
export function locationIn(scope: string, snapshot: DirectorySnapshot, id: string): DocLocation | undefined {
  const e = snapshot.buckets.get(bucketOf(id))?.entries.get(id);
  return e ? { pk: pkOf(scope, e[0]), sk: e[1], version: e[2] } : undefined;
}

/**
 * Writes directory changes (`id → location`, or `null` to remove the id) onto the snapshot
 * they were decided from: each changed bucket is one conditional Put (or Delete, when
 * emptied) on its `dv`, packed into TransactWriteItems calls (up to 100 items and
 * {@link TRANSACTION_BYTES} each: one request for a bulk, where 64 PutItems cost a second on
 * DynamoDB Local). A bucket whose `dv` moved (a concurrent writer) is left unwritten and its
 * ids are returned, to be decided again from a fresh read; the other buckets of a cancelled
 * transaction are written again.
 * @returns the ids whose bucket changed concurrently (nothing of theirs written)
 * @throws EsError 400 when a bucket would pass {@link MAX_BUCKET_BYTES}
 */
export async function writeDirectory(scope: string, snapshot: DirectorySnapshot, changes: ReadonlyMap<string, (ChunkKey & { version: number }) | null>): Promise<Set<string>> {
  const byBucket = new Map<number, string[]>();
  for (const id of changes.keys()) {
    const b = bucketOf(id);
    const list = byBucket.get(b);
    if (list) list.push(id);
    else byBucket.set(b, [id]);
  }
  type Write = {
    b: number;
    ids: string[];
    entries: Map<string, Entry>;
    dv: number;
    op: TransactWriteCommandInput['TransactItems'] extends (infer T)[] | undefined ? T : never;
    bytes: number;
  };
  const writes: Write[] = [];
  for (const [b, ids] of byBucket) {
    const base = snapshot.buckets.get(b);
    if (!base) throw new Error(`bucket ${b} was not read before writing`);
    const entries = new Map(base.entries);
    let changed = false;
    for (const id of ids) {
      const loc = changes.get(id);
      if (loc) {
        entries.set(id, [suffixOf(scope, loc.pk), loc.sk, loc.version]);
        changed = true;
      } else if (entries.delete(id)) changed = true;
    }
    if (!changed) continue;
    const key = bucketKey(scope, b);
    const condition = base.dv === 0 ? { ConditionExpression: 'attribute_not_exists(pk)' } : { ConditionExpression: 'dv = :dv', ExpressionAttributeValues: { ':dv': base.dv } };
    if (entries.size === 0) {
      writes.push({ b, ids, entries, dv: 0, op: { Delete: { TableName: tableName(), Key: key, ...condition } }, bytes: 100 });
      continue;
    }
    const z = encodeBucket(entries);
    if (z.length > MAX_BUCKET_BYTES) {
      throw new EsError(
        'illegal_argument_exception',
        400,
        `index holds too many documents with explicit ids for the document store (id directory bucket [${b}] would be ${z.length} bytes); use generated ids`,
      );
    }
    writes.push({ b, ids, entries, dv: base.dv + 1, op: { Put: { TableName: tableName(), Item: { ...key, dv: base.dv + 1, z }, ...condition } }, bytes: z.length + 100 });
  }
  const groups: Write[][] = [];
  for (const w of writes) {
    const last = groups.at(-1);
    if (last && last.length < 100 && last.reduce((n, x) => n + x.bytes, 0) + w.bytes <= TRANSACTION_BYTES) last.push(w);
    else groups.push([w]);
  }
  const conflicted = new Set<string>();
  await inLanes(groups, 4, async (group) => {
    let remaining = group;
    while (remaining.length > 0) {
      try {
        await db().send(new TransactWriteCommand({ TransactItems: remaining.map((w) => w.op) }));
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
        const failed = new Set(remaining.filter((_, i) => reasons[i]?.Code === 'ConditionalCheckFailed'));
        // No reason given: treat every bucket as changed, so none is written over a concurrent write.
        for (const w of failed.size > 0 ? failed : remaining) for (const id of w.ids) conflicted.add(id);
        remaining = failed.size > 0 ? remaining.filter((w) => !failed.has(w)) : [];
        continue;
      }
      for (const w of remaining) snapshot.buckets.set(w.b, { dv: w.dv, entries: w.entries });
      remaining = [];
    }
  });
  return conflicted;
}

/** First byte of a generated id: marks the encoding (any other id is explicit). */
const MARKER = 0x9a;
const UNTIMED = 2 ** 48 - 1;

/**
 * A generated id (20 URL-safe base64 characters, as Elasticsearch's): marker, document time
 * (48-bit epoch ms, all ones when untimed), batch nonce (40 bits, hex), ordinal in the batch
 * (24 bits), so the id alone finds its chunk.
 */
export function generatedId(timeMs: number | undefined, nonce: string, ordinal: number): string {
  const b = Buffer.alloc(15);
  b[0] = MARKER;
  b.writeUIntBE(timeMs === undefined ? UNTIMED : timeMs, 1, 6);
  b.writeUIntBE(Number.parseInt(nonce, 16), 7, 5);
  b.writeUIntBE(ordinal & 0xffffff, 12, 3);
  return b.toString('base64url');
}

/** The home of an id {@link generatedId} made, or undefined for any other id. Random bytes never collide with the marker and nonce of a real batch in practice. */
export function generatedHome(id: string): { timeMs: number | undefined; nonce: string } | undefined {
  if (id.length !== 20 || !/^[A-Za-z0-9_-]+$/.test(id)) return undefined;
  const b = Buffer.from(id, 'base64url');
  if (b.length !== 15 || b[0] !== MARKER) return undefined;
  const t = b.readUIntBE(1, 6);
  return { timeMs: t === UNTIMED ? undefined : t, nonce: b.readUIntBE(7, 5).toString(16).padStart(10, '0') };
}

/** 40 random bits as the hex nonce {@link generatedId} encodes. */
export const randomNonce = (): string => randomBytes(5).toString('hex');
