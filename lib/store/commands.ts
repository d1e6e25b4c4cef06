import { DeleteCommand, GetCommand, PutCommand, ScanCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress as brotliCompressCb, brotliDecompress as brotliDecompressCb, constants as zlibConstants, inflateRaw as inflateRawCb } from 'node:zlib';
import * as z from 'zod';
import { type Command, commandParamsSchema, storedCommandSchema, type TargetOutcome } from '../domain/command.ts';
import { batchWrite, queryAll } from './batch.ts';
import { db, isConditionFailure, tableName } from './db.ts';
import { keys, MAX_CHUNK_BYTES } from './keys.ts';
import { timed } from '../runtime/step-timing.ts';

const brotliCompress = promisify(brotliCompressCb);
const brotliDecompress = promisify(brotliDecompressCb);
const inflateRaw = promisify(inflateRawCb);

/**
 * Payloads are stored Brotli-compressed at quality 5 (`payload_encoding: 'br'`). Every byte
 * stored is a write unit in AWS (one per KB) and a read unit when the worker reads it, and the
 * payload chunks are the second largest item kind a lookback writes (`bench/results/cost.json`),
 * so the codec is chosen for size: a 10,000-record post of one series (`{"timestamp","value"}`
 * NDJSON, 542 KB) is 68 KB at Brotli 5 against 108 KB at raw DEFLATE level 1 (what was written
 * before) and 91 KB at DEFLATE 6. Quality 5 is where Brotli's ratio jumps (6.4× at 4, 8.0× at 5,
 * 8.2× at 6); it costs ~20 ms per MB against ~6 ms for DEFLATE 1, off the event loop (zlib's
 * thread pool), and decompresses as fast. Commands stored before stay readable: their
 * `payload_encoding` (`deflate-raw`, or none for plain bytes) says how.
 */
const PAYLOAD_BROTLI_PARAMS = { [zlibConstants.BROTLI_PARAM_QUALITY]: 5, [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT };

/** An outcome as stored: Elasticsearch bodies as JSON text, so their key order survives DynamoDB maps. */
interface StoredOutcome {
  status: TargetOutcome['status'];
  finished_ms: number;
  response_json?: string;
  error_json?: string;
}

function encodeOutcome(o: TargetOutcome): StoredOutcome {
  const out: StoredOutcome = { status: o.status, finished_ms: o.finished_ms };
  if (o.response !== undefined) out.response_json = JSON.stringify(o.response);
  if (o.error !== undefined) out.error_json = JSON.stringify(o.error);
  return out;
}

/** An outcome as read back: the encoded bodies stay text until decoded. */
const storedOutcomeSchema = z.object({
  status: z.enum(['done', 'failed']),
  finished_ms: z.number(),
  response_json: z.string().optional(),
  error_json: z.string().optional(),
});

function decodeOutcome(o: StoredOutcome): TargetOutcome {
  const out: TargetOutcome = { status: o.status, finished_ms: o.finished_ms };
  if (o.response_json !== undefined) out.response = JSON.parse(o.response_json);
  if (o.error_json !== undefined) out.error = JSON.parse(o.error_json);
  return out;
}

/** A pending-index marker (key layout in `keys.ts`): which command, and when it was made (for ordering). */
interface PendingMarker {
  pk: string;
  sk: string;
  command_id: string;
  created_ms: number;
  expires_at: number;
}

const pendingMarker = (cmd: Pick<Command, 'command_id' | 'created_ms' | 'expires_at'>): PendingMarker => ({
  ...keys.pendingCommand(cmd.command_id),
  command_id: cmd.command_id,
  created_ms: cmd.created_ms,
  // Expires with its command: a marker never outlives what it points at by more than TTL's lag.
  expires_at: cmd.expires_at,
});

/**
 * Stores a new command and its payload: chunks first (the payload compressed, under a fresh
 * random nonce, so a writer that lost an id collision leaves only unreferenced garbage that
 * TTL removes), then, in one transaction, the command item (conditionally) and its
 * pending-index marker.
 * @returns false when the command id is taken (the caller draws another id)
 */
export async function putCommand(cmd: Command, payload?: string): Promise<boolean> {
  if (payload !== undefined) {
    cmd.payload_nonce = randomBytes(8).toString('hex');
    cmd.payload_encoding = 'br';
    const raw = Buffer.from(payload, 'utf8');
    const bytes = await brotliCompress(raw, { params: { ...PAYLOAD_BROTLI_PARAMS, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: raw.length } });
    const parts: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += MAX_CHUNK_BYTES) parts.push(bytes.subarray(i, i + MAX_CHUNK_BYTES));
    cmd.payload_chunks = parts.length;
    await timed('http.payload_write', () =>
      batchWrite(parts.map((data, n) => ({ ...keys.commandPayloadChunk(cmd.command_id, cmd.payload_nonce as string, n), data, expires_at: cmd.expires_at }))),
    );
  }
  const table = tableName();
  try {
    await timed('http.command_write', () =>
      db().send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: table, Item: { ...keys.command(cmd.command_id), ...cmd }, ConditionExpression: 'attribute_not_exists(pk)' } },
            { Put: { TableName: table, Item: pendingMarker(cmd) } },
          ],
        }),
      ),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/** A command, strongly consistent, or undefined. */
export async function getCommand(commandId: string): Promise<Command | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.command(commandId), ConsistentRead: true }));
  if (!out.Item) return undefined;
  return readCommandItem(out.Item);
}

/**
 * A command item as read back, checked: the fields by `storedCommandSchema`, the params by
 * their action's schema, each outcome's shape before its bodies are decoded. This read is
 * on the HTTP wait's polling path, so the schemas stay shallow (no parse of the stored
 * Elasticsearch bodies beyond `JSON.parse`).
 * @throws ZodError for an item of another shape (written by a mismatched version)
 */
export function readCommandItem(item: Record<string, unknown>): Command {
  const { pk: _pk, sk: _sk, outcomes, ...fields } = item;
  const cmd = storedCommandSchema.parse(fields);
  commandParamsSchema.parse({ action: cmd.action, params: cmd.params });
  const decoded: Record<string, TargetOutcome> = {};
  for (const [target, o] of Object.entries(z.record(z.string(), storedOutcomeSchema).parse(outcomes ?? {}))) decoded[target] = decodeOutcome(o);
  return { ...cmd, outcomes: decoded };
}

/** The payload of a command as a UTF-8 string ('' when it has none), decompressed as its `payload_encoding` says. */
export async function getCommandPayload(cmd: Command): Promise<string> {
  const n = cmd.payload_chunks ?? 0;
  const parts = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.commandPayloadChunk(cmd.command_id, cmd.payload_nonce ?? '', i), ConsistentRead: true }));
      if (!out.Item) throw new Error(`payload chunk ${i} of command ${cmd.command_id} is missing`);
      return Buffer.from(out.Item.data as Uint8Array);
    }),
  );
  const stored = Buffer.concat(parts);
  const raw = cmd.payload_encoding === 'br' ? await brotliDecompress(stored) : cmd.payload_encoding === 'deflate-raw' ? await inflateRaw(stored) : stored;
  return raw.toString('utf8');
}

/** Marks a command `running` (only from `queued`; a no-op otherwise). */
export async function markRunning(commandId: string): Promise<void> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.command(commandId),
        UpdateExpression: 'SET #s = :running',
        ConditionExpression: '#s = :queued',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':running': 'running', ':queued': 'queued' },
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
}

/**
 * Records the outcome of one target, once: a second outcome for the same target (a
 * redelivery that raced) is ignored. When the last target's outcome lands, the command
 * becomes `done`, or `failed` if any target failed (see rollUpStatus).
 *
 * A command of one target (post data, flush, a close of one job: most commands) records its
 * outcome, its status and the removal of its pending marker in one transaction, one round
 * trip instead of two; the roll-up's idempotent repair still covers a redelivery that finds
 * an outcome written by the two-step path.
 */
export async function recordOutcome(cmd: Command, target: string, outcome: TargetOutcome): Promise<void> {
  if (cmd.targets.length === 1 && cmd.targets[0] === target) return recordOnlyOutcome(cmd, target, outcome);
  let updated: Command;
  try {
    const out = await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.command(cmd.command_id),
        UpdateExpression: 'SET outcomes.#t = :o',
        ConditionExpression: 'attribute_not_exists(outcomes.#t)',
        ExpressionAttributeNames: { '#t': target },
        ExpressionAttributeValues: { ':o': encodeOutcome(outcome) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    updated = readCommandItem(out.Attributes ?? {});
  } catch (err) {
    if (isConditionFailure(err)) return;
    throw err;
  }
  await rollUpStatus(updated);
}

/** {@link recordOutcome} for the only target of a command: outcome, status and marker in one transaction; a second outcome is ignored. */
async function recordOnlyOutcome(cmd: Command, target: string, outcome: TargetOutcome): Promise<void> {
  const table = tableName();
  try {
    await db().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: table,
              Key: keys.command(cmd.command_id),
              UpdateExpression: 'SET outcomes.#t = :o, #s = :s',
              ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(outcomes.#t)',
              ExpressionAttributeNames: { '#t': target, '#s': 'status' },
              ExpressionAttributeValues: { ':o': encodeOutcome(outcome), ':s': outcome.status },
            },
          },
          { Delete: { TableName: table, Key: keys.pendingCommand(cmd.command_id) } },
        ],
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
}

/**
 * Sets a command's `status` from its outcomes once every target has one, and removes its
 * pending-index marker in the same transaction (a finished command is never listed by
 * {@link listUnfinishedCommands}). Idempotent, so a redelivery that finds its outcome
 * already recorded (the worker died between the two writes) finishes the command instead
 * of leaving it `running` for ever. This is the one place a command becomes `done` or
 * `failed`: anything that finishes a command must come through here.
 */
export async function rollUpStatus(cmd: Pick<Command, 'command_id' | 'targets' | 'outcomes' | 'status'>): Promise<void> {
  const outcomes = Object.values(cmd.outcomes ?? {});
  if (outcomes.length < cmd.targets.length) return;
  const status = outcomes.some((o) => o.status === 'failed') ? 'failed' : 'done';
  if (cmd.status === status) return;
  const table = tableName();
  await db().send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: table,
            Key: keys.command(cmd.command_id),
            UpdateExpression: 'SET #s = :s',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':s': status },
          },
        },
        { Delete: { TableName: table, Key: keys.pendingCommand(cmd.command_id) } },
      ],
    }),
  );
}

const isUnfinished = (status: Command['status']): boolean => status === 'queued' || status === 'running';

/**
 * Writes a marker for every unfinished command of a table written before the pending
 * index existed, with one Scan (the only one: it then writes the `pending`/`index` item).
 * @returns the number of markers written
 */
async function backfillPendingIndex(): Promise<number> {
  const markers: PendingMarker[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await db().send(
      new ScanCommand({
        TableName: tableName(),
        FilterExpression: 'sk = :c AND (#s = :q OR #s = :r)',
        ProjectionExpression: 'command_id, created_ms, expires_at',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':c': 'command', ':q': 'queued', ':r': 'running' },
        ExclusiveStartKey,
      }),
    );
    for (const item of (out.Items ?? []) as Pick<Command, 'command_id' | 'created_ms' | 'expires_at'>[]) markers.push(pendingMarker(item));
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  await batchWrite(markers as unknown as Record<string, unknown>[]);
  await db().send(new PutCommand({ TableName: tableName(), Item: { ...keys.pendingIndexComplete, since_ms: Date.now() } }));
  return markers.length;
}

/** Options of {@link listUnfinishedCommands}. */
export interface ListUnfinishedOptions {
  /** Called before the one-time backfill scan of a table written before the pending index existed. */
  onBackfill?: () => void;
}

/**
 * The commands still `queued` or `running`, oldest first (by `created_ms`, then id), read
 * from the pending index: one Query per `pending#<n>` partition and one strongly
 * consistent Get per marker, whatever else the table holds. A marker whose command has
 * finished or expired is deleted on the way. On a table that predates the index, the
 * index is first backfilled with one Scan (see `keys.ts`).
 */
export async function listUnfinishedCommands(opts: ListUnfinishedOptions = {}): Promise<Command[]> {
  const complete = await db().send(new GetCommand({ TableName: tableName(), Key: keys.pendingIndexComplete, ConsistentRead: true }));
  if (!complete.Item) {
    opts.onBackfill?.();
    await backfillPendingIndex();
  }
  const markers = (
    await Promise.all(
      keys.pendingPartitions.map((pk) => queryAll<PendingMarker>({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true })),
    )
  ).flat();
  const unfinished: Command[] = [];
  for (const marker of markers) {
    const cmd = await getCommand(marker.command_id);
    if (cmd && isUnfinished(cmd.status)) {
      unfinished.push(cmd);
      continue;
    }
    // Its command finished without the roll-up (a status set by other means) or expired: a leftover.
    await db().send(new DeleteCommand({ TableName: tableName(), Key: { pk: marker.pk, sk: marker.sk } }));
  }
  return unfinished.sort((a, b) => a.created_ms - b.created_ms || a.command_id.localeCompare(b.command_id));
}
