import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';

process.env.TABLE_NAME = 'uuid-table-0';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
const ddb = mockClient(DynamoDBDocumentClient);
const { clusterUuid, randomBase64Uuid } = await import('../../../lib/store/cluster.ts');
const { resetConfig } = await import('../../../lib/runtime/config.ts');

let n = 0;
beforeEach(() => {
  ddb.reset();
  // A fresh table per test: the uuid is cached per table.
  process.env.TABLE_NAME = `uuid-table-${++n}`;
  resetConfig();
});

describe('cluster_uuid', () => {
  it('has the shape of Elasticsearch random base64 UUIDs', () => {
    const a = randomBase64Uuid();
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomBase64Uuid()).not.toBe(a);
  });

  it('writes a random one once, with a condition, when the table has none, and then keeps it', async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    const first = await clusterUuid();
    expect(first).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: `uuid-table-${n}`,
      Item: { pk: 'cluster', sk: 'uuid', uuid: first },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(await clusterUuid()).toBe(first);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
  });

  it('reads the stored one and never overwrites it', async () => {
    ddb.on(GetCommand).resolves({ Item: { pk: 'cluster', sk: 'uuid', uuid: 'kept-across-restarts-1' } });
    expect(await clusterUuid()).toBe('kept-across-restarts-1');
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
  });

  it('takes the winner uuid when another instance wrote first', async () => {
    ddb
      .on(GetCommand)
      .resolvesOnce({})
      .resolves({ Item: { uuid: 'winner-uuid-0123456789' } });
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'taken', $metadata: {} }));
    expect(await clusterUuid()).toBe('winner-uuid-0123456789');
  });
});
