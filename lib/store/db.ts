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
   * Write and read units per kind of item (`keyKindOf` its key: `results#…/b` for a bucket
   * part, `command#…/payload` for a payload chunk …), so a benchmark shows where the units go.
   * A request's units are shared among its items in proportion to each item's estimated units
   * ({@link estimatedWriteUnits}; DynamoDB reports only a total per table), so the kinds add
   * up to `writeUnits` and `readUnits`.
   */
  unitsByKind: Record<string, { writeUnits: number; readUnits: number; writes: number; reads: number }>;
  /**
   * Requests refused by a failed condition: DynamoDB bills their write units but returns no
   * `ConsumedCapacity` with the error, so they are counted here and not in `writeUnits`.
   */
  conditionFailures: number;
}

/** The commands that take `ReturnConsumedCapacity`, by the kind of units they consume. */
const READ_COMMANDS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand', 'TransactGetItemsCommand']);
const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);

const emptyStats = (): CapacityStats => ({ readUnits: 0, writeUnits: 0, requests: {}, unitsByCommand: {}, unitsByKind: {}, conditionFailures: 0 });
let stats = emptyStats();

/** A copy of the capacity summed so far (all zero unless a client has {@link addCapacityStats}). */
export function capacityStats(): CapacityStats {
  const unitsByKind = Object.fromEntries(Object.entries(stats.unitsByKind).map(([k, v]) => [k, { ...v }]));
  return { ...stats, requests: { ...stats.requests }, unitsByCommand: { ...stats.unitsByCommand }, unitsByKind };
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
      shareByKind(itemsOf(command, args.input), units, read);
      return out;
    },
    { step: 'initialize', name: 'mlplaneCapacityStats' },
  );
  return client;
}

/**
 * The kind of an item, from its key (layout in `keys.ts`): the partition key's prefix and the
 * sort key's, digits folded to `N` (`results#…/b`, `resultsidx#…/N`, `resultsidx#…/N#run`,
 * `job#…/model`, `command#…/payload`, `jobs/job`). Benchmark accounting only.
 */
export function keyKindOf(pk: unknown, sk: unknown): string {
  const p = String(pk ?? '?');
  const head = p.includes('#') ? `${p.slice(0, p.indexOf('#'))}#…` : p;
  const s = String(sk ?? '?');
  const tail = /^[0-9]/.test(s) ? `N${/#[a-z]+$/.exec(s)?.[0] ?? ''}` : s.split('#')[0];
  return `${head}/${tail}`;
}

/**
 * Write units DynamoDB bills for putting `item` (a document client item: strings, numbers,
 * binary, booleans, maps, lists): one per started KB of its size, computed as DynamoDB sizes
 * items (attribute names + UTF-8 strings + binary bytes + about 1 byte per 2 digits of a
 * number + 3 bytes and 1 per element of a map or list). An estimate for sharing a batch's
 * reported total among its items; the totals themselves are DynamoDB's.
 */
export function estimatedWriteUnits(item: Record<string, unknown>): number {
  return Math.max(1, Math.ceil(sizeOf(item) / 1024));
}

function sizeOf(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (typeof v === 'number' || typeof v === 'bigint') return Math.ceil(String(v).replace(/[-.]/g, '').replace(/^0+/, '').length / 2) + 1;
  if (typeof v === 'boolean' || v === null || v === undefined) return 1;
  if (v instanceof Uint8Array) return v.byteLength;
  if (v instanceof Set) return [...v].reduce((s: number, x) => s + sizeOf(x), 0);
  if (Array.isArray(v)) return 3 + v.reduce((s: number, x) => s + 1 + sizeOf(x), 0);
  if (typeof v === 'object') return 3 + Object.entries(v).reduce((s, [k, x]) => s + 1 + Buffer.byteLength(k) + sizeOf(x), 0);
  return 0;
}

/** The items a request touches, as `[kind, weight]` (weight: the item's estimated units). */
function itemsOf(command: string, input: unknown): [string, number][] {
  const i = input as Record<string, unknown>;
  const put = (item: Record<string, unknown>, twice = false): [string, number] => [keyKindOf(item.pk, item.sk), estimatedWriteUnits(item) * (twice ? 2 : 1)];
  const key = (k: Record<string, unknown> | undefined): [string, number] => [keyKindOf(k?.pk, k?.sk), 1];
  switch (command) {
    case 'PutItemCommand':
      return [put(i.Item as Record<string, unknown>)];
    case 'UpdateItemCommand':
    case 'DeleteItemCommand':
    case 'GetItemCommand':
      return [key(i.Key as Record<string, unknown>)];
    case 'BatchWriteItemCommand':
      return Object.values((i.RequestItems ?? {}) as Record<string, { PutRequest?: { Item: Record<string, unknown> }; DeleteRequest?: { Key: Record<string, unknown> } }[]>)
        .flat()
        .map((r) => (r.PutRequest ? put(r.PutRequest.Item) : key(r.DeleteRequest?.Key)));
    case 'TransactWriteItemsCommand':
      return ((i.TransactItems ?? []) as Record<string, { Item?: Record<string, unknown>; Key?: Record<string, unknown> }>[]).map((t) => {
        const op = t.Put ?? t.Update ?? t.Delete ?? t.ConditionCheck;
        return op?.Item ? put(op.Item, true) : [key(op?.Key)[0], 2];
      });
    case 'BatchGetItemCommand':
      return Object.values((i.RequestItems ?? {}) as Record<string, { Keys?: Record<string, unknown>[] }>)
        .flatMap((r) => r.Keys ?? [])
        .map(key);
    case 'QueryCommand': {
      // The partition read: the value bound to `pk` in the key condition.
      const name = /\bpk\s*=\s*(:\w+)/.exec(String(i.KeyConditionExpression ?? ''))?.[1];
      const pk = name ? (i.ExpressionAttributeValues as Record<string, unknown> | undefined)?.[name] : undefined;
      return [[`${keyKindOf(pk, '').replace(/\/$/, '')}/(query)`, 1]];
    }
    default:
      return [['(scan)', 1]];
  }
}

/** Adds `units` to the kinds of `items`, shared in proportion to their weights, and counts the items (requests of a Query). */
function shareByKind(items: [string, number][], units: number, read: boolean): void {
  const total = items.reduce((s, [, w]) => s + w, 0);
  for (const [kind, w] of items) {
    const k = (stats.unitsByKind[kind] ??= { writeUnits: 0, readUnits: 0, writes: 0, reads: 0 });
    const share = total > 0 ? (units * w) / total : 0;
    if (read) {
      k.reads++;
      k.readUnits += share;
    } else {
      k.writes++;
      k.writeUnits += share;
    }
  }
}
