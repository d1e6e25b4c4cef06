import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { addCapacityStats, capacityStats, createDocumentClient, resetCapacityStats } from '../../../lib/store/db.ts';

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
});
