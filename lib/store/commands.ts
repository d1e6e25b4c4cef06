import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import type { Command, TargetOutcome } from '../domain/command.ts';
import { batchWrite } from './batch.ts';
import { db, isConditionFailure, tableName } from './db.ts';
import { keys, MAX_CHUNK_BYTES } from './keys.ts';

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

function decodeOutcome(o: StoredOutcome): TargetOutcome {
  const out: TargetOutcome = { status: o.status, finished_ms: o.finished_ms };
  if (o.response_json !== undefined) out.response = JSON.parse(o.response_json);
  if (o.error_json !== undefined) out.error = JSON.parse(o.error_json);
  return out;
}

/**
 * Stores a new command and its payload: chunks first (under a fresh random nonce, so a
 * writer that lost an id collision leaves only unreferenced garbage that TTL removes),
 * then the command item, conditionally.
 * @returns false when the command id is taken (the caller draws another id)
 */
export async function putCommand(cmd: Command, payload?: string): Promise<boolean> {
  if (payload !== undefined) {
    cmd.payload_nonce = randomBytes(8).toString('hex');
    const bytes = Buffer.from(payload, 'utf8');
    const parts: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += MAX_CHUNK_BYTES) parts.push(bytes.subarray(i, i + MAX_CHUNK_BYTES));
    cmd.payload_chunks = parts.length;
    await batchWrite(parts.map((data, n) => ({ ...keys.commandPayloadChunk(cmd.command_id, cmd.payload_nonce as string, n), data, expires_at: cmd.expires_at })));
  }
  try {
    await db().send(new PutCommand({ TableName: tableName(), Item: { ...keys.command(cmd.command_id), ...cmd }, ConditionExpression: 'attribute_not_exists(pk)' }));
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
  const { pk: _pk, sk: _sk, outcomes, ...cmd } = out.Item;
  const decoded: Record<string, TargetOutcome> = {};
  for (const [target, o] of Object.entries((outcomes ?? {}) as Record<string, StoredOutcome>)) decoded[target] = decodeOutcome(o);
  return { ...(cmd as Omit<Command, 'outcomes'>), outcomes: decoded };
}

/** The payload of a command as a UTF-8 string ('' when it has none). */
export async function getCommandPayload(cmd: Command): Promise<string> {
  const n = cmd.payload_chunks ?? 0;
  const parts = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.commandPayloadChunk(cmd.command_id, cmd.payload_nonce ?? '', i), ConsistentRead: true }));
      if (!out.Item) throw new Error(`payload chunk ${i} of command ${cmd.command_id} is missing`);
      return Buffer.from(out.Item.data as Uint8Array);
    }),
  );
  return Buffer.concat(parts).toString('utf8');
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
 */
export async function recordOutcome(cmd: Command, target: string, outcome: TargetOutcome): Promise<void> {
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
    updated = out.Attributes as Command;
  } catch (err) {
    if (isConditionFailure(err)) return;
    throw err;
  }
  await rollUpStatus(updated);
}

/**
 * Sets a command's `status` from its outcomes once every target has one. Idempotent, so a
 * redelivery that finds its outcome already recorded (the worker died between the two
 * writes) finishes the command instead of leaving it `running` for ever.
 */
export async function rollUpStatus(cmd: Pick<Command, 'command_id' | 'targets' | 'outcomes' | 'status'>): Promise<void> {
  const outcomes = Object.values(cmd.outcomes ?? {});
  if (outcomes.length < cmd.targets.length) return;
  const status = outcomes.some((o) => o.status === 'failed') ? 'failed' : 'done';
  if (cmd.status === status) return;
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: keys.command(cmd.command_id),
      UpdateExpression: 'SET #s = :s',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': status },
    }),
  );
}
