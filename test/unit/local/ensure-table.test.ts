import { CreateTableCommand, DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient, PutItemCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ensureTable } from '../../../lib/local/dynamodb.ts';
import { keys } from '../../../lib/store/keys.ts';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'us-east-1' });

beforeEach(() => {
  ddb.reset();
  ddb.on(DescribeTimeToLiveCommand).resolves({ TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED' } });
});

describe('ensureTable', () => {
  it('marks a table it creates as having a complete index of unfinished commands, so recovery never scans it', async () => {
    ddb
      .on(DescribeTableCommand)
      .rejectsOnce(new ResourceNotFoundException({ message: 'no table', $metadata: {} }))
      .resolves({ Table: { TableStatus: 'ACTIVE' } });
    ddb.on(CreateTableCommand).resolves({});
    await ensureTable(client, 't');
    expect(ddb).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: 't',
      Item: expect.objectContaining({ pk: { S: keys.pendingIndexComplete.pk }, sk: { S: keys.pendingIndexComplete.sk } }),
    });
  });

  it('leaves an existing table as it is (its index may still need the one-time backfill)', async () => {
    ddb.on(DescribeTableCommand).resolves({ Table: { TableStatus: 'ACTIVE' } });
    await ensureTable(client, 't');
    expect(ddb).not.toHaveReceivedCommand(CreateTableCommand);
    expect(ddb).not.toHaveReceivedCommand(PutItemCommand);
  });
});
