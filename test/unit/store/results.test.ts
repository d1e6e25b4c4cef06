import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
const ddb = mockClient(DynamoDBDocumentClient);
const { deleteResultsBefore, newestBucketItem } = await import('../../../lib/store/results.ts');

describe('the results retention adapter', () => {
  beforeEach(() => ddb.reset());

  it('reads only the newest bucket item: one item, newest first', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ doc: JSON.stringify({ timestamp: 5, bucket_span: 3600 }) }] });
    expect(await newestBucketItem('job-a')).toEqual({ timestamp: 5, bucket_span: 3600 });
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, { ScanIndexForward: false, Limit: 1, ExpressionAttributeValues: { ':pk': 'results#job-a', ':p': 'bucket#' } });
  });

  it('has no newest bucket for a job without results', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect(await newestBucketItem('job-a')).toBeUndefined();
  });

  it('deletes buckets, records and model plot before the cutoff and counts them', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ pk: 'results#job-a', sk: 'x' }] });
    ddb.on(BatchWriteCommand).resolves({});
    expect(await deleteResultsBefore('job-a', 1000)).toBe(3);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, { ExpressionAttributeValues: { ':pk': 'results#job-a', ':b': 'bucket#000000000001000' } });
    expect(ddb).toHaveReceivedCommandTimes(BatchWriteCommand, 1);
  });
});
