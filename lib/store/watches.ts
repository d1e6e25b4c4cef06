/**
 * Watch items (`watches` / `watch#<id>`, key layout in `keys.ts`): one item per watch holding
 * its configuration, its status and Elasticsearch's document metadata (`_version`,
 * `_seq_no`, `_primary_term`), so a status write and a config write are one conditional
 * write each and guard each other.
 *
 * `_seq_no` is a per-watch counter here (0 at the first put, +1 per write), not a per-shard
 * one as in Elasticsearch's `.watches` index: what clients do with it (read it, send it back as
 * `if_seq_no`) works the same. `_primary_term` is always 1 (there is no failover). A deleted
 * and re-created watch starts again at `_version` 1 / `_seq_no` 0.
 */
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { WatchWriteConflict } from '../domain/errors.ts';
import type { WatchConfig, WatchStatus } from '../domain/watcher/types.ts';
import { queryAll } from './batch.ts';
import { db, isConditionFailure, tableName } from './db.ts';
import { keys } from './keys.ts';

/** The only primary term mlplane has. */
export const PRIMARY_TERM = 1;

/** A watch as stored. */
export interface StoredWatch {
  id: string;
  watch: WatchConfig;
  status: WatchStatus;
  /** `_version`: 1 at creation, +1 per write. */
  version: number;
  /** `_seq_no`: 0 at creation, +1 per write (per watch). */
  seqNo: number;
  primaryTerm: number;
  /**
   * Set by the execution engine while an execution holds the watch (epoch ms it started);
   * ack answers 409 while it is set and recent. Not a document change: no version bump.
   */
  runningSinceMs?: number;
}

/** What a config write expects to find. */
export type WatchWriteExpectation =
  /** Create or replace whatever is there (put without `version`/`if_seq_no`). */
  | { kind: 'any' }
  /** Only if no watch has this id (create). */
  | { kind: 'absent' }
  /** Only if the stored `_seq_no` (and primary term) still match. */
  | { kind: 'seq_no'; seqNo: number; primaryTerm: number }
  /** Only if the stored `_version` still matches (put with `?version=`). */
  | { kind: 'version'; version: number };

const itemSchema = z.looseObject({
  sk: z.string(),
  watch: z.string(),
  status: z.string(),
  version: z.number().int(),
  seq_no: z.number().int(),
  primary_term: z.number().int(),
  running_since_ms: z.number().optional(),
});

/**
 * Reads an item back. The config and status were built by the parser and the state machine
 * (JSON strings: they hold user JSON whose keys DynamoDB maps would not keep in order).
 * @throws ZodError when the item is not a watch item
 */
export function readWatchItem(item: Record<string, unknown>): StoredWatch {
  const i = itemSchema.parse(item);
  const out: StoredWatch = {
    id: i.sk.slice(keys.watchPrefix.length),
    watch: JSON.parse(i.watch) as WatchConfig,
    status: JSON.parse(i.status) as WatchStatus,
    version: i.version,
    seqNo: i.seq_no,
    primaryTerm: i.primary_term,
  };
  if (i.running_since_ms !== undefined) out.runningSinceMs = i.running_since_ms;
  return out;
}

/**
 * `_version`/`_seq_no`/`_primary_term` of the item a failed condition found. The document
 * client does not unmarshall the exception's `Item`, so numbers come as `{N: "4"}`.
 */
const currentOf = (item: Record<string, unknown> | undefined) => {
  if (!item) return undefined;
  const num = (v: unknown): number => Number(typeof v === 'object' && v !== null && 'N' in v ? (v as { N: string }).N : v);
  return { version: num(item.version), seqNo: num(item.seq_no), primaryTerm: num(item.primary_term) };
};

/** The item a failed condition found (`ReturnValuesOnConditionCheckFailure: ALL_OLD`). */
const oldItemOf = (err: unknown): Record<string, unknown> | undefined => (err as { Item?: Record<string, unknown> }).Item;

/** One watch, or undefined. Strongly consistent (Elasticsearch's realtime GET). */
export async function getWatch(id: string): Promise<StoredWatch | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.watch(id), ConsistentRead: true }));
  return out.Item ? readWatchItem(out.Item) : undefined;
}

/** Every watch, sorted by id. One Query over the `watches` partition. */
export async function listWatches(): Promise<StoredWatch[]> {
  const items = await queryAll<Record<string, unknown>>({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
    ExpressionAttributeValues: { ':pk': keys.watchPartition, ':p': keys.watchPrefix },
    ConsistentRead: true,
  });
  return items.map(readWatchItem);
}

/**
 * Writes a watch's config and status in one conditional update; `_version` and `_seq_no`
 * are incremented by the write itself, so two concurrent unconditional puts still get
 * distinct versions.
 * @returns the stored watch and whether it was created (no watch was there)
 * @throws WatchWriteConflict when `expect` does not match what is stored (`current` undefined = no watch)
 */
export async function putWatch(id: string, watch: WatchConfig, status: WatchStatus, expect: WatchWriteExpectation): Promise<{ stored: StoredWatch; created: boolean }> {
  const values: Record<string, unknown> = { ':w': JSON.stringify(watch), ':s': JSON.stringify(status), ':one': 1, ':zero': 0, ':minus1': -1, ':pt': PRIMARY_TERM };
  let condition: string | undefined;
  if (expect.kind === 'seq_no') {
    condition = 'seq_no = :eseq AND primary_term = :ept';
    values[':eseq'] = expect.seqNo;
    values[':ept'] = expect.primaryTerm;
  } else if (expect.kind === 'absent') {
    condition = 'attribute_not_exists(pk)';
  } else if (expect.kind === 'version') {
    condition = 'version = :ever';
    values[':ever'] = expect.version;
  }
  try {
    const out = await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.watch(id),
        UpdateExpression: 'SET watch = :w, #status = :s, version = if_not_exists(version, :zero) + :one, seq_no = if_not_exists(seq_no, :minus1) + :one, primary_term = :pt',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
        ...(condition ? { ConditionExpression: condition } : {}),
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    const stored = readWatchItem(out.Attributes ?? {});
    return { stored, created: stored.version === 1 };
  } catch (err) {
    if (isConditionFailure(err)) throw new WatchWriteConflict(id, currentOf(oldItemOf(err)));
    throw err;
  }
}

/**
 * Writes a watch's status (what the executor, ack and activate write) if the stored
 * `_seq_no` is still `expectedSeqNo`; bumps `_version` and `_seq_no` as Elasticsearch's
 * partial update of `.watches` does.
 * @returns the stored watch after the write
 * @throws WatchWriteConflict when the watch changed meanwhile or is gone (`current` undefined)
 */
export async function putStatus(id: string, status: WatchStatus, expectedSeqNo: number): Promise<StoredWatch> {
  try {
    const out = await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.watch(id),
        UpdateExpression: 'SET #status = :s, version = version + :one, seq_no = seq_no + :one',
        ConditionExpression: 'seq_no = :eseq',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':s': JSON.stringify(status), ':one': 1, ':eseq': expectedSeqNo },
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return readWatchItem(out.Attributes ?? {});
  } catch (err) {
    if (isConditionFailure(err)) throw new WatchWriteConflict(id, currentOf(oldItemOf(err)));
    throw err;
  }
}

/**
 * Sets (epoch ms) or clears (undefined) the running marker of a watch without bumping its
 * versions (an execution holding the watch is not a document change).
 * @returns false when the watch does not exist (nothing written)
 */
export async function setWatchRunning(id: string, sinceMs: number | undefined): Promise<boolean> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.watch(id),
        UpdateExpression: sinceMs === undefined ? 'REMOVE running_since_ms' : 'SET running_since_ms = :r',
        ConditionExpression: 'attribute_exists(pk)',
        ...(sinceMs === undefined ? {} : { ExpressionAttributeValues: { ':r': sinceMs } }),
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/**
 * Deletes a watch.
 * @returns the watch that was deleted, or undefined when there was none
 */
export async function deleteWatch(id: string): Promise<StoredWatch | undefined> {
  const out = await db().send(new DeleteCommand({ TableName: tableName(), Key: keys.watch(id), ReturnValues: 'ALL_OLD' }));
  return out.Attributes ? readWatchItem(out.Attributes) : undefined;
}
