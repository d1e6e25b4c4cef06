import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
const ddb = mockClient(DynamoDBDocumentClient);
const { deleteLazyOpen, listLazyOpen, markLazyOpen } = await import('../../../lib/store/lazy-open.ts');

describe('the lazy-open marker adapter', () => {
  beforeEach(() => {
    ddb.reset();
    ddb.on(BatchWriteCommand).resolves({});
  });

  it('writes a marker under the lazy partition with the time the job started waiting', async () => {
    await markLazyOpen('job-a', 1234);
    expect(ddb).toHaveReceivedCommandWith(BatchWriteCommand, { RequestItems: { 'test-table': [{ PutRequest: { Item: { pk: 'lazy', sk: 'job-a', since: 1234 } } }] } });
  });

  it('lists the markers with a strongly consistent read, as job ids and times', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ pk: 'lazy', sk: 'job-b', since: 7 }] });
    expect(await listLazyOpen()).toEqual([{ jobId: 'job-b', sinceMs: 7 }]);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, { ExpressionAttributeValues: { ':pk': 'lazy' }, ConsistentRead: true });
  });

  it('deletes the markers of the given jobs', async () => {
    await deleteLazyOpen(['job-a']);
    expect(ddb).toHaveReceivedCommandWith(BatchWriteCommand, { RequestItems: { 'test-table': [{ DeleteRequest: { Key: { pk: 'lazy', sk: 'job-a' } } }] } });
  });
});
