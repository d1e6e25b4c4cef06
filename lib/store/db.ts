import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from '../runtime/config.ts';

let client: DynamoDBDocumentClient | undefined;

/**
 * The process-wide DynamoDB document client, created on first use (cold start) with the
 * default provider chain; `AWS_ENDPOINT_URL_DYNAMODB` points it at DynamoDB Local.
 * Undefined attributes are dropped, so optional keys of Elasticsearch documents vanish.
 * With `MLPLANE_CAPACITY_STATS=1` at creation it also sums the capacity its requests
 * consume ({@link capacityStats}); see {@link createDocumentClient}.
 */
export function db(): DynamoDBDocumentClient {
  client ??= createDocumentClient();
  return client;
}

/**
 * A new document client as {@link db} makes it. `MLPLANE_CAPACITY_STATS=1` in `env` adds
 * {@link addCapacityStats} to it; otherwise it has no accounting middleware at all, so the
 * deployed functions pay nothing for it. (Read here rather than in `config()`: it is a switch
 * of the cost benchmark, `bench/cost.ts`, not a setting of the service.)
 */
export function createDocumentClient(env: NodeJS.ProcessEnv = process.env): DynamoDBDocumentClient {
  const base = new DynamoDBClient({ maxAttempts: 5 });
  if (env.MLPLANE_CAPACITY_STATS === '1') addCapacityStats(base);
  return DynamoDBDocumentClient.from(base, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/** The table name from the runtime configuration. */
export const tableName = (): string => config().tableName;

/** True when an SDK error is a failed condition (plain or inside a transaction). */
export function isConditionFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'ConditionalCheckFailedException') return true;
  if (err.name === 'TransactionCanceledException') {
    const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    return reasons.some((r) => r.Code === 'ConditionalCheckFailed');
  }
  return false;
}

/** DynamoDB capacity consumed by this process's accounted clients since the last {@link resetCapacityStats}. */
export interface CapacityStats {
  /** Read capacity units (= on-demand read request units): 0.5 per eventually consistent 4 KB read, 2 per transactional 4 KB. */
  readUnits: number;
  /** Write capacity units (= on-demand write request units): 1 per 1 KB written, 2 per transactional 1 KB. */
  writeUnits: number;
  /** Requests per command name (`PutItemCommand`, `QueryCommand` …), answered or not. */
  requests: Record<string, number>;
  /** Capacity units per command name. */
  unitsByCommand: Record<string, number>;
  /**
   * Requests refused by a failed condition: DynamoDB bills their write units but returns no
   * `ConsumedCapacity` with the error, so they are counted here and not in `writeUnits`.
   */
  conditionFailures: number;
}

/** The commands that take `ReturnConsumedCapacity`, by the kind of units they consume. */
const READ_COMMANDS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand', 'TransactGetItemsCommand']);
const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);

const emptyStats = (): CapacityStats => ({ readUnits: 0, writeUnits: 0, requests: {}, unitsByCommand: {}, conditionFailures: 0 });
let stats = emptyStats();

/** A copy of the capacity summed so far (all zero unless a client has {@link addCapacityStats}). */
export function capacityStats(): CapacityStats {
  return { ...stats, requests: { ...stats.requests }, unitsByCommand: { ...stats.unitsByCommand } };
}

/** Starts the sums again from zero (a benchmark, after its setup). */
export function resetCapacityStats(): void {
  stats = emptyStats();
}

interface ConsumedCapacity {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

const unitsOf = (c: ConsumedCapacity): number => c.CapacityUnits ?? (c.ReadCapacityUnits ?? 0) + (c.WriteCapacityUnits ?? 0);

/**
 * Makes `client` account for the capacity its requests consume: each read or write command
 * is sent with `ReturnConsumedCapacity: 'TOTAL'` (unless the caller asked for more) and the
 * `ConsumedCapacity` of its answer (one object, or one per table for batches and
 * transactions) is added to the process-wide {@link capacityStats}. DynamoDB Local returns
 * the units DynamoDB would bill, which is what `bench/cost.ts` prices. Returns `client`.
 */
export function addCapacityStats(client: DynamoDBClient): DynamoDBClient {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      const read = READ_COMMANDS.has(command);
      if (!read && !WRITE_COMMANDS.has(command)) return next(args);
      stats.requests[command] = (stats.requests[command] ?? 0) + 1;
      const input = args.input as { ReturnConsumedCapacity?: string };
      let out: Awaited<ReturnType<typeof next>>;
      try {
        out = await next({ ...args, input: { ...input, ReturnConsumedCapacity: input.ReturnConsumedCapacity ?? 'TOTAL' } });
      } catch (err) {
        if (isConditionFailure(err)) stats.conditionFailures++;
        throw err;
      }
      const consumed = (out.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity;
      const units = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce((sum, c) => sum + unitsOf(c), 0);
      if (read) stats.readUnits += units;
      else stats.writeUnits += units;
      stats.unitsByCommand[command] = (stats.unitsByCommand[command] ?? 0) + units;
      return out;
    },
    { step: 'initialize', name: 'mlplaneCapacityStats' },
  );
  return client;
}
