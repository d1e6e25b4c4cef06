import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { addCapacityStats, capacityStats, createDocumentClient, estimatedWriteUnits, keyKindOf, resetCapacityStats } from '../../../lib/store/db.ts';

/** A DynamoDB client whose requests never leave the process: each is recorded and answered with the next canned body. */
function fakeDynamoDb(answers: Array<{ status?: number; body: object }>): { client: DynamoDBClient; sent: Array<{ target: string; body: Record<string, unknown> }> } {
  const sent: Array<{ target: string; body: Record<string, unknown> }> = [];
  const requestHandler = {
    handle: async (request: { headers: Record<string, string>; body?: string | Uint8Array }) => {
      const text = typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body ?? new Uint8Array());
      sent.push({ target: request.headers['x-amz-target'] ?? '', body: JSON.parse(text || '{}') as Record<string, unknown> });
      const answer = answers.shift() ?? { body: {} };
      return {
        response: {
          statusCode: answer.status ?? 200,
          headers: { 'content-type': 'application/x-amz-json-1.0' },
          body: Buffer.from(JSON.stringify(answer.body)),
        },
      };
    },
  };
  const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1, requestHandler });
  return { client, sent };
}

afterEach(() => resetCapacityStats());

describe('DynamoDB capacity accounting (MLPLANE_CAPACITY_STATS)', () => {
  it('adds no middleware unless MLPLANE_CAPACITY_STATS=1', () => {
    const names = (c: DynamoDBDocumentClient) => c.middlewareStack.identify().join(' ');
    expect(names(createDocumentClient({}))).not.toContain('mlplaneCapacityStats');
    expect(names(createDocumentClient({ MLPLANE_CAPACITY_STATS: '0' }))).not.toContain('mlplaneCapacityStats');
    expect(names(createDocumentClient({ MLPLANE_CAPACITY_STATS: '1' }))).toContain('mlplaneCapacityStats');
  });

  it('asks for ReturnConsumedCapacity TOTAL and sums read and write units by command', async () => {
    const { client, sent } = fakeDynamoDb([
      { body: { ConsumedCapacity: { TableName: 't', CapacityUnits: 3 } } },
      { body: { Items: [], Count: 0, ScannedCount: 0, ConsumedCapacity: { TableName: 't', CapacityUnits: 0.5 } } },
      { body: { ConsumedCapacity: [{ TableName: 't', CapacityUnits: 4 }] } },
    ]);
    const doc = DynamoDBDocumentClient.from(addCapacityStats(client));
    await doc.send(new PutCommand({ TableName: 't', Item: { pk: 'a', sk: 'b' } }));
    await doc.send(new QueryCommand({ TableName: 't', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'a' } }));
    await doc.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: 't', Item: { pk: 'a', sk: 'c' } } }] }));

    expect(sent.map((s) => s.body.ReturnConsumedCapacity)).toEqual(['TOTAL', 'TOTAL', 'TOTAL']);
    expect(capacityStats()).toEqual({
      readUnits: 0.5,
      writeUnits: 7,
      requests: { PutItemCommand: 1, QueryCommand: 1, TransactWriteItemsCommand: 1 },
      unitsByCommand: { PutItemCommand: 3, QueryCommand: 0.5, TransactWriteItemsCommand: 4 },
      unitsByKind: {
        'a/b': { writeUnits: 3, readUnits: 0, writes: 1, reads: 0 },
        'a/(query)': { writeUnits: 0, readUnits: 0.5, writes: 0, reads: 1 },
        'a/c': { writeUnits: 4, readUnits: 0, writes: 1, reads: 0 },
      },
      conditionFailures: 0,
    });
  });

  it('counts a write refused by its condition, which returns no capacity', async () => {
    const { client } = fakeDynamoDb([{ status: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'failed' } }]);
    const doc = DynamoDBDocumentClient.from(addCapacityStats(client));
    await expect(doc.send(new PutCommand({ TableName: 't', Item: { pk: 'a', sk: 'b' }, ConditionExpression: 'attribute_not_exists(pk)' }))).rejects.toThrow();
    expect(capacityStats()).toMatchObject({ writeUnits: 0, conditionFailures: 1, requests: { PutItemCommand: 1 } });
  });

  it('counts nothing on a client without the accounting', async () => {
    const { client, sent } = fakeDynamoDb([{ body: { ConsumedCapacity: { TableName: 't', CapacityUnits: 3 } } }]);
    await DynamoDBDocumentClient.from(client).send(new PutCommand({ TableName: 't', Item: { pk: 'a', sk: 'b' } }));
    expect(sent[0]?.body.ReturnConsumedCapacity).toBeUndefined();
    expect(capacityStats()).toMatchObject({ readUnits: 0, writeUnits: 0, requests: {} });
  });

  it("shares a batch write's units among its item kinds in proportion to their sizes", async () => {
    const { client } = fakeDynamoDb([{ body: { UnprocessedItems: {}, ConsumedCapacity: [{ TableName: 't', CapacityUnits: 8 }] } }]);
    const doc = DynamoDBDocumentClient.from(addCapacityStats(client));
    const part = { pk: 'results#j#2026-01', sk: 'b#000001767571200000', z: new Uint8Array(5000) };
    const chunk = { pk: 'command#c1', sk: 'payload#n#0', data: new Uint8Array(1500) };
    await doc.send(
      new BatchWriteCommand({
        RequestItems: {
          t: [{ PutRequest: { Item: part } }, { PutRequest: { Item: chunk } }, { DeleteRequest: { Key: { pk: 'resultsidx#j', sk: '000001767571200000#interim' } } }],
        },
      }),
    );
    // Estimated 5 + 2 + 1 units: DynamoDB's total of 8 is shared 5:2:1.
    expect(capacityStats().unitsByKind).toEqual({
      'results#…/b': { writeUnits: 5, readUnits: 0, writes: 1, reads: 0 },
      'command#…/payload': { writeUnits: 2, readUnits: 0, writes: 1, reads: 0 },
      'resultsidx#…/N#interim': { writeUnits: 1, readUnits: 0, writes: 1, reads: 0 },
    });
  });
});

describe('item kinds and sizes (benchmark accounting)', () => {
  it('names a kind by its key prefixes, digits folded', () => {
    expect(keyKindOf('results#job-1#2026-01', 'p#000001767571200000')).toBe('results#…/p');
    expect(keyKindOf('resultsidx#job-1', '000001767571200000')).toBe('resultsidx#…/N');
    expect(keyKindOf('resultsidx#job-1', '000001767571200000#run')).toBe('resultsidx#…/N#run');
    expect(keyKindOf('job#job-1', 'model#0000000003#0001')).toBe('job#…/model');
    expect(keyKindOf('jobs', 'job#job-1')).toBe('jobs/job');
  });

  it('estimates write units as DynamoDB sizes an item: one per started KB', () => {
    expect(estimatedWriteUnits({ pk: 'a', sk: 'b' })).toBe(1);
    expect(estimatedWriteUnits({ pk: 'a', sk: 'b', z: new Uint8Array(1024) })).toBe(2);
    expect(estimatedWriteUnits({ pk: 'a', sk: 'b', s: 'x'.repeat(3000) })).toBe(3);
    expect(estimatedWriteUnits({ pk: 'a', list: Array.from({ length: 300 }, () => 123456) })).toBe(2);
  });
});
