/**
 * A DynamoDB table in memory behind aws-sdk-client-mock, for the results store's tests: the key
 * conditions and filters `lib/store/results.ts` and `batch.ts` use (`pk = :pk`, `sk BETWEEN`,
 * `begins_with`, filters on `t`), BatchWrite, BatchGet, Get, Put (with `attribute_exists(pk)`) and Delete, with Limit and
 * ScanIndexForward. Counts the items each request reads, as DynamoDB bills them.
 */
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClientResolvedConfig,
  GetCommand,
  PutCommand,
  QueryCommand,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/lib-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';

type Item = Record<string, unknown> & { pk: string; sk: string };

export interface MemoryTable {
  items: Map<string, Item>;
  /** Items read (a Query's scanned items, BatchGet's and Get's items) since the last reset. */
  reads: number;
  /** BatchWriteItem calls still to fail (a crash injected by a fault test), each before writing anything. */
  failBatchWrites: number;
  /** A crash injected by a fault test: a PutItem of an item this returns true for fails before writing. */
  failPut?: (item: Record<string, unknown>) => boolean;
}

const id = (pk: unknown, sk: unknown) => `${pk}\u0000${sk}`;

/** Wires an in-memory table into a mocked document client. */
export function memoryTable(stub: AwsStub<ServiceInputTypes, ServiceOutputTypes, DynamoDBDocumentClientResolvedConfig>): MemoryTable {
  const table: MemoryTable = { items: new Map(), reads: 0, failBatchWrites: 0 };
  stub.on(BatchWriteCommand).callsFake((input) => {
    if (table.failBatchWrites > 0) {
      table.failBatchWrites--;
      throw new Error('crash');
    }
    for (const reqs of Object.values(input.RequestItems ?? {})) {
      for (const r of reqs as { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]) {
        if (r.PutRequest) table.items.set(id(r.PutRequest.Item.pk, r.PutRequest.Item.sk), structuredClone(r.PutRequest.Item));
        if (r.DeleteRequest) table.items.delete(id(r.DeleteRequest.Key.pk, r.DeleteRequest.Key.sk));
      }
    }
    return {};
  });
  stub.on(PutCommand).callsFake((input) => {
    const item = input.Item as Item;
    if (table.failPut?.(item)) throw new Error('crash');
    const old = table.items.get(id(item.pk, item.sk));
    if (input.ConditionExpression?.includes('#f < :f') && old && !((old.from as number) < (input.ExpressionAttributeValues?.[':f'] as number))) {
      throw Object.assign(new Error('conditional'), { name: 'ConditionalCheckFailedException' });
    }
    if (input.ConditionExpression === 'attribute_exists(pk)' && !old) throw Object.assign(new Error('conditional'), { name: 'ConditionalCheckFailedException' });
    table.items.set(id(item.pk, item.sk), structuredClone(item));
    return {};
  });
  stub.on(DeleteCommand).callsFake((input) => {
    table.items.delete(id(input.Key?.pk, input.Key?.sk));
    return {};
  });
  stub.on(GetCommand).callsFake((input) => {
    const item = table.items.get(id(input.Key?.pk, input.Key?.sk));
    if (item) table.reads++;
    return { Item: item ? structuredClone(item) : undefined };
  });
  stub.on(BatchGetCommand).callsFake((input) => {
    const Responses: Record<string, Item[]> = {};
    for (const [name, req] of Object.entries(input.RequestItems ?? {}) as [
      string,
      { Keys?: Record<string, unknown>[]; ProjectionExpression?: string; ExpressionAttributeNames?: Record<string, string> },
    ][]) {
      Responses[name] = [];
      // A projection of `#name` placeholders (the only form the results store uses).
      const projected = req.ProjectionExpression?.split(',').map((p) => req.ExpressionAttributeNames?.[p.trim()] ?? p.trim());
      for (const k of req.Keys ?? []) {
        const item = table.items.get(id(k.pk, k.sk));
        if (item) {
          table.reads++;
          const copy = structuredClone(item);
          Responses[name].push(projected ? (Object.fromEntries(Object.entries(copy).filter(([a]) => projected.includes(a))) as Item) : copy);
        }
      }
    }
    return { Responses };
  });
  stub.on(QueryCommand).callsFake((input) => {
    const v = input.ExpressionAttributeValues ?? {};
    const cond = input.KeyConditionExpression ?? '';
    let rows = [...table.items.values()].filter((i) => i.pk === v[':pk']);
    if (cond.includes('BETWEEN')) rows = rows.filter((i) => i.sk >= (v[':lo'] as string) && i.sk <= (v[':hi'] as string));
    if (cond.includes('begins_with')) rows = rows.filter((i) => i.sk.startsWith(v[':p'] as string));
    if (cond.includes('sk < :b')) rows = rows.filter((i) => i.sk < (v[':b'] as string));
    rows.sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
    if (input.ScanIndexForward === false) rows.reverse();
    const start = input.ExclusiveStartKey ? rows.findIndex((i) => i.pk === input.ExclusiveStartKey?.pk && i.sk === input.ExclusiveStartKey?.sk) + 1 : 0;
    rows = rows.slice(start);
    const limited = input.Limit !== undefined && rows.length > input.Limit;
    if (input.Limit !== undefined) rows = rows.slice(0, input.Limit);
    table.reads += rows.length;
    const scanned = rows.length;
    const lastScanned = rows.at(-1);
    const f = input.FilterExpression ?? '';
    if (f.includes('t >= :start')) rows = rows.filter((i) => (i.t as number) >= (v[':start'] as number));
    if (f.includes('t < :end')) rows = rows.filter((i) => (i.t as number) < (v[':end'] as number));
    if (f.includes('t < :c')) rows = rows.filter((i) => (i.t as number) < (v[':c'] as number));
    const last = lastScanned;
    return {
      Items: rows.map((i) => structuredClone(i)),
      ScannedCount: scanned,
      ...(limited && last ? { LastEvaluatedKey: { pk: last.pk, sk: last.sk } } : {}),
    };
  });
  return table;
}
